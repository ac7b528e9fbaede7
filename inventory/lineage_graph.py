"""The lineage of a model as a drawable graph: nodes, edges and a layered left-to-right layout.

Pure code: it takes the plain data of ``inventory.selectors.model_lineage_chain`` and returns coordinates and
SVG path data, so the page draws the graph server-side (readable without JavaScript) and the API hands the same
layout to other clients. No ORM and no URL reversing here: the caller passes functions that build links.

Columns, left to right: business unit, owners, the model, its versions, each version's evidence (artifacts by
kind) and deployments. Upstream models sit left of the model (directly used ones under the owners, further ones
under the unit), downstream models right of it (direct users under the versions, further ones under the
evidence), so every edge spans at most one column and no edge is drawn across a box.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

NODE_WIDTH = 196
NODE_HEIGHT = 46
COLUMN_GAP = 64
ROW_GAP = 12
GROUP_GAP = 24
MARGIN = 16
HEADER = 30
LABEL_MAX = 26
SUBLABEL_MAX = 25  # hex digests run wide even in the smaller type of the second line

COLUMN_HEADINGS = ("Business unit", "Owners", "Model", "Versions", "Evidence and deployments")
UNIT, OWNERS, MODEL, VERSIONS, EVIDENCE = range(5)
# Column of a dependency by direction and whether it is further than one hop: (direct, further).
PLACES = {"upstream": (OWNERS, UNIT), "downstream": (VERSIONS, EVIDENCE)}

MISMATCH_LABELS = {
    "not_approved": "not approved",
    "approval_expired": "expired",
    "digest_mismatch": "unapproved",
}


@dataclass
class Node:
    """A box of the graph; ``status`` (ok, mismatch, warning, muted or empty) selects its colours."""

    id: str
    kind: str
    label: str
    sublabel: str = ""
    title: str = ""
    url: str = ""
    status: str = ""
    column: int = 0
    x: float = 0
    y: float = 0
    width: float = NODE_WIDTH
    height: float = NODE_HEIGHT

    @property
    def short_label(self) -> str:
        """The label cut to fit the box; the full text is in ``title``."""
        return shorten(self.label)

    @property
    def short_sublabel(self) -> str:
        """The second line cut to fit the box."""
        return shorten(self.sublabel, SUBLABEL_MAX)


@dataclass
class Edge:
    """A line from ``source`` to ``target``; ``indirect`` when it stands for links through hidden models."""

    source: str
    target: str
    kind: str
    indirect: bool = False
    path: str = ""


@dataclass
class Graph:
    """Laid-out nodes and edges, the drawing's size and the x of each column heading."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: float = 0
    height: float = 0
    columns: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The graph as JSON-ready data."""
        return {
            "nodes": [asdict(node) for node in self.nodes],
            "edges": [asdict(edge) for edge in self.edges],
            "width": self.width,
            "height": self.height,
            "columns": self.columns,
        }


def shorten(text: str, limit: int = LABEL_MAX) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def short_digest(digest: str) -> str:
    """``sha256:01234567`` for a full digest: enough to tell digests apart at a glance."""
    return digest[:15] if digest else ""


def column_x(column: int) -> float:
    """Left edge of a column."""
    return MARGIN + column * (NODE_WIDTH + COLUMN_GAP)


def edge_path(source: Node, target: Node) -> str:
    """SVG path data of a curve from the right side of ``source`` to the left side of ``target``.

    Two nodes in one column (a chain of upstream models further than one hop) are joined by a curve that bulges
    out to the left of the column, so it never crosses the boxes between them.
    """
    sy = source.y + source.height / 2
    ty = target.y + target.height / 2
    if source.column == target.column:
        x = source.x
        bulge = x - COLUMN_GAP / 2
        return f"M{x:.0f},{sy:.0f} C{bulge:.0f},{sy:.0f} {bulge:.0f},{ty:.0f} {x:.0f},{ty:.0f}"
    sx = source.x + source.width
    tx = target.x
    mid = (sx + tx) / 2
    return f"M{sx:.0f},{sy:.0f} C{mid:.0f},{sy:.0f} {mid:.0f},{ty:.0f} {tx:.0f},{ty:.0f}"


def _stack(nodes: Sequence[Node], top: float) -> float:
    """Place ``nodes`` one under the other from ``top``; returns the bottom of the last one."""
    y = top
    bottom = top
    for node in nodes:
        node.y = y
        bottom = y + node.height
        y = bottom + ROW_GAP
    return bottom


def build_graph(
    chain: Mapping[str, Any],
    *,
    model_url: Callable[[str], str],
    environment_url: Callable[[str, str], str] | None = None,
    more_versions_url: str = "",
) -> Graph:
    """Nodes, edges and layout of the lineage ``chain`` (see ``model_lineage_chain``).

    ``model_url(key)`` links model boxes to their pages; ``environment_url(key, environment)`` links deployment
    boxes (to "what runs where"); ``more_versions_url`` links the box that counts the versions not drawn.
    """
    model = chain["model"]
    key = model["key"]
    columns: list[list[Node]] = [[] for _ in COLUMN_HEADINGS]
    edges: list[Edge] = []

    def add(node: Node) -> Node:
        columns[node.column].append(node)
        return node

    unit = chain["business_unit"]
    add(Node(f"unit:{unit['code']}", "unit", unit["name"], unit["code"], f"Business unit {unit['name']}", column=UNIT))
    owners = [("business", chain["business_owner"]), ("technical", chain["technical_owner"])]
    if owners[0][1]["username"] == owners[1][1]["username"]:
        owners = [("business and technical", owners[0][1])]
    for role, person in owners:
        node = add(
            Node(
                f"owner:{person['username']}",
                "owner",
                person["display_name"],
                f"{role.capitalize()} owner",
                f"{role.capitalize()} owner: {person['display_name']} ({person['username']})",
                column=OWNERS,
            )
        )
        edges.append(Edge(f"unit:{unit['code']}", node.id, "owns"))
        edges.append(Edge(node.id, f"model:{key}", "owns"))
    center = add(
        Node(
            f"model:{key}",
            "model",
            key,
            model["name"],
            f"{key} {model['name']}",
            url=model_url(key),
            status="current",
            column=MODEL,
        )
    )

    children_by_version: dict[str, list[Node]] = {}
    version_nodes: list[Node] = []
    for version in chain["versions"]:
        vid = f"version:{version['id']}"
        status = {"approved": "ok", "expired": "warning"}.get(version["approval_status"], "")
        version_node = add(
            Node(
                vid,
                "version",
                f"v{version['version']}",
                version["state"].replace("_", " "),
                f"Version {version['version']}: {version['state'].replace('_', ' ')}"
                + (f", digest {version['artifact_digest']}" if version["artifact_digest"] else ""),
                status=status,
                column=VERSIONS,
            )
        )
        version_nodes.append(version_node)
        edges.append(Edge(center.id, vid, "version"))
        children: list[Node] = []
        for group in version["artifacts"]:
            latest = group["shown"][0]["name"] if group["shown"] else ""
            count = group["count"]
            label = group["kind_label"] + (f" ×{count}" if count > 1 else "")
            children.append(
                Node(
                    f"artifacts:{version['id']}:{group['kind']}",
                    "artifact",
                    label,
                    latest,
                    f"{group['kind_label']} ({count}), latest: {latest}",
                    column=EVIDENCE,
                )
            )
        for deployment in version["deployments"]:
            reason = deployment["mismatch_reason"]
            verdict = "approved" if reason is None else MISMATCH_LABELS.get(reason, reason)
            state = "running" if deployment.get("running_now") else "replaced"
            children.append(
                Node(
                    f"deployment:{deployment['id']}",
                    "deployment",
                    f"{'✓' if reason is None else '✗'} {deployment['environment']}",
                    f"{short_digest(deployment['digest'])} · {verdict}",
                    f"Deployed to {deployment['environment']} ({state}): {deployment['digest']}, {verdict}",
                    url=environment_url(key, deployment["environment"]) if environment_url else "",
                    status=("ok" if reason is None else "mismatch") if deployment.get("running_now") else "muted",
                    column=EVIDENCE,
                )
            )
        for child in children:
            add(child)
            edges.append(Edge(vid, child.id, "deployment" if child.kind == "deployment" else "evidence"))
        children_by_version[vid] = children
    if chain["versions_hidden"]:
        hidden = chain["versions_hidden"]
        add(
            Node(
                "versions:hidden",
                "summary",
                f"+{hidden} older version{'s' if hidden != 1 else ''}",
                "not drawn",
                f"{hidden} older versions are not drawn",
                url=more_versions_url,
                status="muted",
                column=VERSIONS,
            )
        )

    # Dependencies: visible links are drawn as they are; a model reached only through models the user may not
    # see is joined to this model by a dashed "indirect" edge, so the drawing never shows who is in between.
    linked = {(link["upstream"], link["downstream"]) for link in chain["dependencies"]}
    for direction in ("upstream", "downstream"):
        for row in chain[direction]:
            column = PLACES[direction][row["distance"] > 1]
            node = add(
                Node(
                    f"model:{row['key']}",
                    direction,
                    row["key"],
                    row["name"],
                    f"{direction.capitalize()} {row['key']} {row['name']}, "
                    + ("direct" if row["distance"] == 1 else f"{row['distance']} links away"),
                    url=model_url(row["key"]),
                    column=column,
                )
            )
            has_link = any(row["key"] in pair for pair in linked)
            if not has_link:
                source, target = (node.id, center.id) if direction == "upstream" else (center.id, node.id)
                edges.append(Edge(source, target, "dependency", indirect=True))
    for upstream, downstream in sorted(linked):
        edges.append(Edge(f"model:{upstream}", f"model:{downstream}", "dependency"))

    _layout(columns, version_nodes, children_by_version)
    nodes = [node for column in columns for node in column]
    by_id = {node.id: node for node in nodes}
    edges = [edge for edge in edges if edge.source in by_id and edge.target in by_id]
    for edge in edges:
        edge.path = edge_path(by_id[edge.source], by_id[edge.target])
    width = column_x(len(COLUMN_HEADINGS) - 1) + NODE_WIDTH + MARGIN
    height = max((node.y + node.height for node in nodes), default=HEADER) + MARGIN
    headings = [{"title": title, "x": column_x(index)} for index, title in enumerate(COLUMN_HEADINGS)]
    return Graph(nodes=nodes, edges=edges, width=width, height=height, columns=headings)


def _layout(columns: list[list[Node]], versions: list[Node], children: Mapping[str, list[Node]]) -> None:
    """Give every node its coordinates: each version level with the middle of its own evidence block, the model
    level with the middle of its versions, owners and unit level with the model, dependencies under them."""
    for index, column in enumerate(columns):
        for node in column:
            node.x = column_x(index)
    top: float = MARGIN + HEADER

    # Evidence column first: one block per version, blocks apart; a version without evidence keeps a slot.
    y: float = top
    for version in versions:
        block = children.get(version.id, [])
        block_top = y
        block_bottom = _stack(block, y) if block else y + NODE_HEIGHT
        version.y = max(block_top, (block_top + block_bottom) / 2 - NODE_HEIGHT / 2)
        y = block_bottom + GROUP_GAP
    evidence_bottom = y - GROUP_GAP if versions else top
    placed = {node.id for block in children.values() for node in block}
    rest = [node for node in columns[EVIDENCE] if node.id not in placed]
    _stack(rest, evidence_bottom + GROUP_GAP if versions else top)

    others = [node for node in columns[VERSIONS] if node.kind != "version"]
    versions_bottom = max((node.y + node.height for node in versions), default=top - GROUP_GAP)
    _stack(others, versions_bottom + GROUP_GAP if versions else top)

    model = columns[MODEL][0]
    model.y = (versions[0].y + versions[-1].y) / 2 if versions else top

    def centred(column: list[Node], kinds: set[str]) -> None:
        head = [node for node in column if node.kind in kinds]
        tail = [node for node in column if node.kind not in kinds]
        span = len(head) * NODE_HEIGHT + (len(head) - 1) * ROW_GAP
        bottom = _stack(head, max(top, model.y + NODE_HEIGHT / 2 - span / 2))
        _stack(tail, bottom + GROUP_GAP)

    centred(columns[OWNERS], {"owner"})
    centred(columns[UNIT], {"unit"})
