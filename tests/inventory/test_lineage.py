"""Lineage and "what runs where": the chain behind a model as JSON, a drawn graph and a page; the latest deployment
per model and environment judged against the approval now; visibility per persona; bounded query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import selectors, services
from inventory.choices import ArtifactKind, DeploymentStatus, VersionState
from inventory.lineage_graph import NODE_HEIGHT, Node, build_graph, edge_path
from inventory.models import Artifact, Deployment, ModelVersion
from tests.factories import BusinessUnitFactory, ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db

LINEAGE = "/api/v1/lineage/"
RUNS = "/api/v1/runs-where/"
APPROVED = "sha256:" + "a" * 64
LATE_IMAGE = "sha256:" + "b" * 64
ROGUE = "sha256:" + "c" * 64
IMAGE = "sha256:" + "d" * 64
OLD = "sha256:" + "e" * 64


def digest(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def approve(version: ModelVersion, *, by: Any, at: dt.datetime, expires: dt.datetime | None = None) -> None:
    """Mark a version approved directly: the workflow is governance's business, not the lineage's."""
    ModelVersion.objects.filter(pk=version.pk).update(
        state=VersionState.APPROVED, approved_by=by, approved_at=at, approval_expires_at=expires
    )
    version.refresh_from_db()


def artifact(
    version: ModelVersion, kind: str, identity: str, *, digest_: str = "", at: dt.datetime | None = None, name: str = ""
) -> Artifact:
    return Artifact.objects.create(
        version=version,
        kind=kind,
        identity=identity,
        name=name or identity,
        digest=digest_,
        created_at=at or timezone.now(),
    )


def deploy(
    version: ModelVersion,
    environment: str,
    digest_: str,
    *,
    at: dt.datetime,
    by: Any = None,
    status: str = DeploymentStatus.SUCCEEDED,
) -> Deployment:
    return Deployment.objects.create(
        version=version,
        environment=environment,
        digest=digest_,
        deployed_at=at,
        reported_by=by,
        status=status,
        matches_approval=digest_ in selectors.approved_digests(version),
    )


@pytest.fixture
def estate(personas):
    """Model A with three versions, evidence and deployments in four environments (one of each approval state),
    model B running an approved digest in prod, and dependencies some of which owner_a may not see."""
    now = timezone.now()
    p = personas
    v1 = ModelVersionFactory(model=p.model_a, version="1.0.0", artifact_digest=OLD)
    v2 = ModelVersionFactory(model=p.model_a, version="2.0.0", artifact_digest=APPROVED)
    v3 = ModelVersionFactory(model=p.model_a, version="3.0.0")
    approve(v1, by=p.risk_officer, at=now - dt.timedelta(days=30), expires=now - dt.timedelta(days=1))
    approve(v2, by=p.risk_officer, at=now - dt.timedelta(days=10))
    artifact(v2, ArtifactKind.GIT_COMMIT, "github.com/bank/pd@" + "1" * 40, at=now - dt.timedelta(days=12))
    for run in range(3):
        artifact(v2, ArtifactKind.CI_RUN, f"github-actions:{run}", at=now - dt.timedelta(days=12, hours=run))
    artifact(v2, ArtifactKind.CONTAINER_IMAGE, IMAGE, digest_=IMAGE, at=now - dt.timedelta(days=11))
    # Attached after the approval: never reviewed, so never approved.
    artifact(v2, ArtifactKind.CONTAINER_IMAGE, LATE_IMAGE, digest_=LATE_IMAGE, at=now - dt.timedelta(days=5))
    deploy(v1, "prod", OLD, at=now - dt.timedelta(days=25), by=p.ci_scoped)
    deploy(v1, "staging", OLD, at=now - dt.timedelta(days=20), by=p.ci_scoped)
    deploy(v2, "prod", IMAGE, at=now - dt.timedelta(days=3), by=p.ci_scoped)
    deploy(v2, "dr", LATE_IMAGE, at=now - dt.timedelta(days=2), by=p.ci_scoped)
    # A failed rollout of a rogue digest does not change what runs in prod.
    deploy(v3, "prod", ROGUE, at=now - dt.timedelta(days=1), status=DeploymentStatus.FAILED)
    deploy(v3, "dev", digest(3), at=now - dt.timedelta(hours=5), by=p.owner_a)

    vb = ModelVersionFactory(model=p.model_b, version="1.0.0", artifact_digest=digest(7))
    approve(vb, by=p.risk_officer, at=now - dt.timedelta(days=9))
    deploy(vb, "prod", digest(7), at=now - dt.timedelta(days=4), by=p.owner_b)

    upstream = RegisteredModelFactory(
        key="RB-0003",
        name="Bureau feature store",
        business_unit=p.unit,
        business_owner=p.owner_a,
        technical_owner=p.owner_a,
    )
    hidden = RegisteredModelFactory(
        key="RB-0004",
        name="Income estimator",
        business_unit=p.unit,
        business_owner=p.owner_b,
        technical_owner=p.owner_b,
    )
    far = RegisteredModelFactory(
        key="RB-0005",
        name="Payroll parser",
        business_unit=p.unit,
        business_owner=p.owner_a,
        technical_owner=p.owner_a,
    )
    downstream = RegisteredModelFactory(
        key="RB-0006",
        name="Limit setter",
        business_unit=p.unit,
        business_owner=p.owner_a,
        technical_owner=p.owner_a,
    )
    for up, down in ((upstream, p.model_a), (hidden, p.model_a), (far, hidden), (p.model_a, downstream)):
        services.model_dependency_create(actor=p.risk_officer, upstream=up, downstream=down)
    return p


def rows_by_env(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.content
    return {row["environment"]: row for row in response.json()["results"] if row["model"] == "RB-0001"}


# --- what runs where ---------------------------------------------------------------------------------------------


def test_runs_where_latest_per_environment_judged_now(estate, api_client_for):
    rows = rows_by_env(api_client_for(estate.risk_officer).get(RUNS))
    assert set(rows) == {"prod", "staging", "dr", "dev"}
    prod = rows["prod"]
    assert (prod["version"], prod["digest"], prod["matches_approval"], prod["mismatch_reason"]) == (
        "2.0.0",
        IMAGE,
        True,
        None,
    )
    assert prod["deployed_by"] == "ci_scoped" and prod["unit"] == "RETAIL"
    # Matched when reported; the approval has expired since.
    assert rows["staging"]["matched_when_reported"] is True
    assert (rows["staging"]["matches_approval"], rows["staging"]["mismatch_reason"]) == (False, "approval_expired")
    assert (rows["dr"]["matches_approval"], rows["dr"]["mismatch_reason"]) == (False, "digest_mismatch")
    assert (rows["dev"]["matches_approval"], rows["dev"]["mismatch_reason"]) == (False, "not_approved")
    assert prod["lineage_url"].endswith("/api/v1/lineage/RB-0001/")


def test_runs_where_follows_approval_changes_after_the_report(estate, api_client_for):
    client = api_client_for(estate.risk_officer)
    assert rows_by_env(client.get(RUNS))["prod"]["matches_approval"] is True
    ModelVersion.objects.filter(model=estate.model_a, version="2.0.0").update(state=VersionState.RETIRED)
    prod = rows_by_env(client.get(RUNS))["prod"]
    assert (prod["matches_approval"], prod["mismatch_reason"], prod["matched_when_reported"]) == (
        False,
        "not_approved",
        True,
    )


def test_decommission_removes_the_environment(estate, api_client_for):
    v2 = ModelVersion.objects.get(model=estate.model_a, version="2.0.0")
    deploy(v2, "dr", LATE_IMAGE, at=timezone.now(), status=DeploymentStatus.DECOMMISSIONED)
    assert "dr" not in rows_by_env(api_client_for(estate.risk_officer).get(RUNS))


def test_runs_where_filters(estate, api_client_for, personas):
    client = api_client_for(estate.risk_officer)

    def pairs(query: str) -> set[tuple[str, str]]:
        response = client.get(RUNS + query)
        assert response.status_code == 200, response.content
        return {(row["model"], row["environment"]) for row in response.json()["results"]}

    assert pairs("?model=RB-0002") == {("RB-0002", "prod")}
    assert pairs("?environment=prod") == {("RB-0001", "prod"), ("RB-0002", "prod")}
    assert pairs("?mismatch=true") == {("RB-0001", "staging"), ("RB-0001", "dr"), ("RB-0001", "dev")}
    assert pairs("?mismatch=false") == {("RB-0001", "prod"), ("RB-0002", "prod")}
    assert pairs("?mismatch=true&environment=prod") == set()
    other = BusinessUnitFactory(code="WHOLESALE", name="Wholesale")
    elsewhere = RegisteredModelFactory(business_unit=other)
    version = ModelVersionFactory(model=elsewhere, version="1.0.0")
    deploy(version, "prod", digest(9), at=timezone.now())
    assert pairs("?unit=WHOLESALE") == {(elsewhere.key, "prod")}
    assert len(pairs("?unit=RETAIL")) == 5


def test_runs_where_bad_filters_are_refused_with_the_field(estate, api_client_for):
    client = api_client_for(estate.risk_officer)
    response = client.get(RUNS + "?unit=NOPE")
    assert response.status_code == 400 and "unit" in response.json()
    response = client.get(RUNS + "?mismatch=perhaps")
    assert response.status_code == 400 and "mismatch" in response.json()
    response = client.get(RUNS + "?page_size=0")
    assert response.status_code == 400 and "page_size" in response.json()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("risk_officer", {"RB-0001", "RB-0002"}),
        ("auditor", {"RB-0001", "RB-0002"}),
        ("owner_a", {"RB-0001"}),
        ("owner_b", {"RB-0002"}),
        ("ci_scoped", {"RB-0001"}),
        ("ci_unscoped", set()),
        ("no_role", set()),
    ],
)
def test_runs_where_lists_only_visible_models(estate, api_client_for, persona, expected):
    response = api_client_for(getattr(estate, persona)).get(RUNS)
    assert response.status_code == 200
    assert {row["model"] for row in response.json()["results"]} == expected


def test_runs_where_refuses_anonymous(estate, client):
    assert client.get(RUNS).status_code in {401, 403}


def test_runs_where_query_count_does_not_grow(personas, api_client_for, django_assert_max_num_queries):
    client = api_client_for(personas.risk_officer)
    now = timezone.now()

    def add_models(n: int) -> None:
        for _ in range(n):
            model = RegisteredModelFactory(business_unit=personas.unit)
            version = ModelVersionFactory(model=model, version="1.0.0", artifact_digest=digest(1))
            approve(version, by=personas.risk_officer, at=now)
            for env in ("dev", "prod"):
                deploy(version, env, digest(1), at=now, by=personas.ci_scoped)

    add_models(2)
    client.get(RUNS)
    with CaptureQueriesContext(connection) as small:
        assert client.get(RUNS).status_code == 200
    add_models(12)
    with django_assert_max_num_queries(len(small)):
        response = client.get(RUNS)
    assert response.json()["count"] == 28


def test_sql_judgement_agrees_with_approved_digests(estate):
    rows: list[Any] = list(selectors.runs_where_queryset(user=estate.risk_officer))
    assert len(rows) == 5
    for row in rows:
        in_python = row.digest in selectors.approved_digests(row.version) and not (
            row.version.approval_expires_at and row.version.approval_expires_at <= timezone.now()
        )
        assert row.matches_now is in_python, row.environment


# --- lineage -----------------------------------------------------------------------------------------------------


def test_lineage_json_chain(estate, api_client_for):
    response = api_client_for(estate.risk_officer).get(f"{LINEAGE}RB-0001/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"]["key"] == "RB-0001"
    assert body["business_unit"]["code"] == "RETAIL"
    assert body["business_owner"]["username"] == "owner_a" and body["technical_owner"]["username"] == "owner_a"
    assert [v["version"] for v in body["versions"]] == ["3.0.0", "2.0.0", "1.0.0"]
    assert (body["versions_total"], body["versions_hidden"]) == (3, 0)
    v2 = body["versions"][1]
    assert v2["approval_status"] == "approved" and body["versions"][2]["approval_status"] == "expired"
    kinds = {group["kind"]: group["count"] for group in v2["artifacts"]}
    assert kinds == {"git_commit": 1, "ci_run": 3, "container_image": 2}
    deployments = {row["environment"]: row for row in v2["deployments"]}
    assert deployments["prod"]["matches_approval"] is True and deployments["prod"]["running_now"] is True
    assert deployments["dr"]["mismatch_reason"] == "digest_mismatch"
    replaced = {row["environment"]: row for row in body["versions"][2]["deployments"]}["prod"]
    assert replaced["running_now"] is False and replaced["digest"] == OLD
    running = {row["environment"]: row["version"] for row in body["running"]}
    assert running == {"prod": "2.0.0", "staging": "1.0.0", "dr": "2.0.0", "dev": "3.0.0"}
    assert [row["key"] for row in body["upstream"]] == ["RB-0003", "RB-0004", "RB-0005"]
    assert [row["key"] for row in body["downstream"]] == ["RB-0006"]
    assert {"upstream": "RB-0005", "downstream": "RB-0004"} in body["dependencies"]
    graph = body["graph"]
    ids = {node["id"] for node in graph["nodes"]}
    assert {"unit:RETAIL", "owner:owner_a", "model:RB-0001", "model:RB-0003", "model:RB-0006"} <= ids
    assert f"artifacts:{v2['id']}:ci_run" in ids
    statuses = {node["id"]: node["status"] for node in graph["nodes"]}
    dr = deployments["dr"]["id"]
    assert statuses[f"deployment:{dr}"] == "mismatch"
    assert all(edge["path"].startswith("M") for edge in graph["edges"])
    model_node = next(node for node in graph["nodes"] if node["id"] == "model:RB-0003")
    assert model_node["url"].endswith("/api/v1/lineage/RB-0003/")


def test_lineage_hides_models_the_user_may_not_see(estate, api_client_for):
    body = api_client_for(estate.owner_a).get(f"{LINEAGE}RB-0001/").json()
    assert [row["key"] for row in body["upstream"]] == ["RB-0003", "RB-0005"]
    assert all("RB-0004" not in (link["upstream"], link["downstream"]) for link in body["dependencies"])
    ids = {node["id"] for node in body["graph"]["nodes"]}
    assert "model:RB-0004" not in ids and "model:RB-0005" in ids
    assert "RB-0004" not in str(body)
    # RB-0005 reaches RB-0001 only through the hidden RB-0004: an indirect edge, nobody shown in between.
    indirect = [edge for edge in body["graph"]["edges"] if edge["indirect"]]
    assert [(edge["source"], edge["target"]) for edge in indirect] == [("model:RB-0005", "model:RB-0001")]


@pytest.mark.parametrize(
    ("persona", "key", "status"),
    [
        ("owner_b", "RB-0001", 404),
        ("no_role", "RB-0001", 404),
        ("ci_unscoped", "RB-0001", 404),
        ("ci_scoped", "RB-0002", 404),
        ("ci_scoped", "RB-0001", 200),
        ("auditor", "RB-0002", 200),
        ("owner_b", "RB-0002", 200),
        ("risk_officer", "NOPE-1", 404),
    ],
)
def test_lineage_visibility(estate, api_client_for, persona, key, status):
    assert api_client_for(getattr(estate, persona)).get(f"{LINEAGE}{key}/").status_code == status


def test_lineage_caps_versions_and_says_how_many_are_hidden(estate, api_client_for):
    client = api_client_for(estate.risk_officer)
    body = client.get(f"{LINEAGE}RB-0001/?versions=2").json()
    assert [v["version"] for v in body["versions"]] == ["3.0.0", "2.0.0"]
    assert (body["versions_shown"], body["versions_hidden"]) == (2, 1)
    assert any(node["id"] == "versions:hidden" for node in body["graph"]["nodes"])
    for bad in ("0", "51", "many"):
        response = client.get(f"{LINEAGE}RB-0001/?versions={bad}")
        assert response.status_code == 400 and "versions" in response.json()


def test_lineage_artifacts_are_capped_per_kind(estate, api_client_for):
    v2 = ModelVersion.objects.get(model=estate.model_a, version="2.0.0")
    for run in range(3, 12):
        artifact(v2, ArtifactKind.CI_RUN, f"github-actions:{run}")
    body = api_client_for(estate.risk_officer).get(f"{LINEAGE}RB-0001/").json()
    runs = next(group for group in body["versions"][1]["artifacts"] if group["kind"] == "ci_run")
    assert runs["count"] == 12
    assert [item["identity"] for item in runs["shown"]] == [f"github-actions:{n}" for n in range(11, 6, -1)]


def test_lineage_query_count_does_not_grow_with_versions_and_artifacts(
    personas, api_client_for, django_assert_max_num_queries
):
    client = api_client_for(personas.risk_officer)
    now = timezone.now()
    counter = iter(range(10_000))

    def add_versions(n: int, artifacts: int) -> None:
        for _ in range(n):
            version = ModelVersionFactory(model=personas.model_a, version=f"9.{next(counter)}.0")
            for a in range(artifacts):
                artifact(version, ArtifactKind.CI_RUN, f"ci:{version.pk}:{a}")
                artifact(version, ArtifactKind.CONTAINER_IMAGE, digest(version.pk * 100 + a), digest_=digest(a))
            for env in ("dev", "prod"):
                deploy(version, env, digest(1), at=now)

    add_versions(1, 1)
    client.get(f"{LINEAGE}RB-0001/")
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"{LINEAGE}RB-0001/?versions=50").status_code == 200
    add_versions(20, 8)
    with django_assert_max_num_queries(len(small)):
        body = client.get(f"{LINEAGE}RB-0001/?versions=50").json()
    assert body["versions_total"] == 21


def test_existing_model_lineage_unchanged(estate):
    lineage = selectors.model_lineage(user=estate.owner_a, model=estate.model_a)
    assert [(row["key"], row["distance"]) for row in lineage["upstream"]] == [("RB-0003", 1), ("RB-0005", 2)]
    assert [row["key"] for row in lineage["downstream"]] == ["RB-0006"]


# --- the pure graph ----------------------------------------------------------------------------------------------


def _chain(**overrides: Any) -> dict[str, Any]:
    person = {"username": "ann", "display_name": "Ann Lee", "title": ""}
    chain = {
        "model": {"key": "CR-1", "name": "Credit", "model_type": "ml", "lifecycle_stage": "production", "risk_tier": 1},
        "business_unit": {"code": "RET", "name": "Retail", "path": "RET/"},
        "business_owner": person,
        "technical_owner": {**person, "username": "bob", "display_name": "Bob Ray"},
        "versions": [
            {
                "id": n,
                "version": f"{n}.0",
                "state": "approved",
                "artifact_digest": "",
                "approval_status": "approved",
                "artifacts": [
                    {
                        "kind": "ci_run",
                        "kind_label": "CI pipeline run",
                        "count": 2,
                        "shown": [{"name": "run 2"}, {"name": "run 1"}],
                    }
                ],
                "deployments": [
                    {
                        "id": 10 + n,
                        "environment": "prod",
                        "digest": digest(n),
                        "mismatch_reason": None if n == 1 else "digest_mismatch",
                        "running_now": True,
                    }
                ],
            }
            for n in (2, 1)
        ],
        "versions_hidden": 0,
        "upstream": [{"key": "CR-9", "name": "Feeds", "distance": 1}],
        "downstream": [],
        "dependencies": [{"upstream": "CR-9", "downstream": "CR-1"}],
    }
    chain.update(overrides)
    return chain


def test_graph_layout_is_layered_and_boxes_do_not_overlap():
    graph = build_graph(_chain(), model_url=lambda key: f"/m/{key}", environment_url=lambda k, e: f"/r/{k}/{e}")
    by_id = {node.id: node for node in graph.nodes}
    columns = [
        by_id["unit:RET"].x,
        by_id["owner:ann"].x,
        by_id["model:CR-1"].x,
        by_id["version:2"].x,
        by_id["deployment:12"].x,
    ]
    assert columns == sorted(columns) and len(set(columns)) == 5
    for a in graph.nodes:
        for b in graph.nodes:
            if a is not b and a.x == b.x:
                assert a.y + a.height <= b.y or b.y + b.height <= a.y, (a.id, b.id)
    assert by_id["deployment:12"].status == "mismatch" and by_id["deployment:11"].status == "ok"
    assert by_id["model:CR-9"].url == "/m/CR-9" and by_id["deployment:11"].url == "/r/CR-1/prod"
    assert {(e.source, e.target) for e in graph.edges} >= {
        ("unit:RET", "owner:ann"),
        ("owner:bob", "model:CR-1"),
        ("model:CR-1", "version:2"),
        ("version:2", "artifacts:2:ci_run"),
        ("model:CR-9", "model:CR-1"),
    }
    assert graph.width > 0 and graph.height >= max(n.y + n.height for n in graph.nodes)
    assert by_id["artifacts:2:ci_run"].label == "CI pipeline run ×2"


def test_graph_one_owner_box_when_both_owners_are_the_same_person():
    chain = _chain(technical_owner=_chain()["business_owner"])
    owners = [node for node in build_graph(chain, model_url=str).nodes if node.kind == "owner"]
    assert len(owners) == 1 and owners[0].sublabel == "Business and technical owner"


def test_graph_labels_are_shortened_and_edges_between_columns_are_curves():
    long = "An exceptionally long model name that does not fit"
    node = Node("x", "model", long)
    assert node.short_label.endswith("…") and len(node.short_label) <= 26
    a = Node("a", "unit", "A", column=0, x=10, y=10)
    b = Node("b", "owner", "B", column=1, x=300, y=100)
    assert edge_path(a, b).startswith(f"M{10 + a.width:.0f},{10 + NODE_HEIGHT / 2:.0f} C")


# --- pages -------------------------------------------------------------------------------------------------------


def test_lineage_page_draws_the_graph_and_the_tables(estate, client):
    client.force_login(estate.risk_officer)
    response = client.get("/inventory/models/RB-0001/lineage/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg class="lineage-graph"' in html and 'data-node="model:RB-0001"' in html
    assert 'href="/inventory/models/RB-0003/lineage/"' in html
    assert "node--mismatch" in html and 'id="lineage-mismatch-alert"' in html
    assert 'id="lineage-versions"' in html and "The deployed digest is not one that was approved" in html
    assert "css/lineage.css" in html


def test_lineage_page_is_404_for_a_model_the_user_may_not_see(estate, client):
    client.force_login(estate.owner_b)
    assert client.get("/inventory/models/RB-0001/lineage/").status_code == 404
    client.force_login(estate.owner_a)
    html = client.get("/inventory/models/RB-0001/lineage/").content.decode()
    assert "RB-0004" not in html and "RB-0005" in html


def test_lineage_page_query_count_is_bounded(estate, client, django_assert_max_num_queries):
    client.force_login(estate.risk_officer)
    with django_assert_max_num_queries(30):
        assert client.get("/inventory/models/RB-0001/lineage/?versions=50").status_code == 200


def test_runs_where_page_highlights_mismatches_and_filters(estate, client):
    client.force_login(estate.risk_officer)
    response = client.get("/inventory/runs-where/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("row--mismatch") == 3 and "The approval of the deployed version has expired." in html
    assert 'href="/inventory/models/RB-0002/"' in html and 'aria-current="page">What runs where' in html
    filtered = client.get("/inventory/runs-where/?mismatch=true&environment=dr")
    assert [row.environment for row in filtered.context["page_obj"]] == ["dr"]
    bad = client.get("/inventory/runs-where/?unit=NOPE")
    assert bad.status_code == 200 and not list(bad.context["page_obj"]) and "not valid" in bad.content.decode()


def test_runs_where_page_shows_an_owner_only_their_models(estate, client):
    client.force_login(estate.owner_b)
    rows = client.get("/inventory/runs-where/").context["page_obj"]
    assert {row.version.model.key for row in rows} == {"RB-0002"}


def test_model_detail_links_lineage_and_lists_deployments_and_evidence(estate, client):
    client.force_login(estate.owner_a)
    html = client.get("/inventory/models/RB-0001/").content.decode()
    assert 'href="/inventory/models/RB-0001/lineage/"' in html
    assert "Deployments: what runs where" in html and "Approval expired" in html
    assert "CI pipeline run (3)" in html


def test_schema_documents_lineage_and_runs_where():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    lineage = paths["/api/v1/lineage/{key}/"]["get"]
    assert {"versions"} <= {parameter["name"] for parameter in lineage["parameters"]}
    assert {"200", "400", "404"} <= set(lineage["responses"])
    runs = paths["/api/v1/runs-where/"]["get"]
    assert {"model", "environment", "unit", "mismatch", "page", "page_size"} <= {
        parameter["name"] for parameter in runs["parameters"]
    }
