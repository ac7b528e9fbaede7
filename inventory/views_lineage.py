"""Lineage pages: a model's chain drawn as a server-rendered SVG graph with a table beside it, and "what runs
where" across the inventory.

Both read through the inventory's selectors (a model the user may not see is a 404, or absent from the list)
and the graph layout comes from the pure ``inventory.lineage_graph``; the views only translate HTTP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from inventory import selectors
from inventory.choices import VersionState
from inventory.filtersets import RunsWhereFilterSet
from inventory.lineage_graph import build_graph
from inventory.views import page_size, signed_in


def _versions_asked(raw: str | None) -> int:
    """How many versions the page draws: the query's ``versions`` kept within bounds, the default otherwise."""
    try:
        value = int(raw or "")
    except ValueError:
        return selectors.LINEAGE_VERSIONS_DEFAULT
    return min(max(value, 1), selectors.LINEAGE_VERSIONS_MAX)


def _runs_where_url(key: str, environment: str) -> str:
    return f"{reverse('inventory:runs-where')}?{urlencode({'model': key, 'environment': environment})}"


def _add_labels(chain: dict[str, Any]) -> None:
    """Words for the codes the tables show: version states, approval mismatches, artifacts not listed."""
    reasons = selectors.MismatchReason.MESSAGES
    for version in chain["versions"]:
        version["state_label"] = VersionState(version["state"]).label
        for group in version["artifacts"]:
            group["hidden"] = group["count"] - len(group["shown"])
        for row in version["deployments"]:
            row["mismatch_text"] = reasons.get(row["mismatch_reason"] or "", "")
    for row in chain["running"]:
        row["mismatch_text"] = reasons.get(row["mismatch_reason"] or "", "")


@login_required
@require_safe
def lineage(request: HttpRequest, key: str) -> HttpResponse:
    """A model's lineage: the drawn graph, then the same facts as tables for screen readers and copying."""
    user = signed_in(request)
    max_versions = _versions_asked(request.GET.get("versions"))
    chain = selectors.model_lineage_chain(user=user, key=key, max_versions=max_versions)
    page_url = reverse("inventory:lineage", args=[key])
    graph = build_graph(
        chain,
        model_url=lambda other: reverse("inventory:lineage", args=[other]),
        environment_url=_runs_where_url,
        more_versions_url=f"{page_url}?versions={selectors.LINEAGE_VERSIONS_MAX}",
    )
    _add_labels(chain)
    context = {
        "chain": chain,
        "graph": graph,
        "max_versions": max_versions,
        "versions_max": selectors.LINEAGE_VERSIONS_MAX,
        "mismatches": [row for row in chain["running"] if not row["matches_approval"]],
        "dependency_sections": [
            {"direction": "upstream", "title": "Upstream: models this one uses", "rows": chain["upstream"]},
            {"direction": "downstream", "title": "Downstream: models that use this one", "rows": chain["downstream"]},
        ],
    }
    return render(request, "inventory/lineage.html", context)


@login_required
@require_safe
def runs_where(request: HttpRequest) -> HttpResponse:
    """Every environment's running version and digest per model, with approval mismatches highlighted."""
    user = signed_in(request)
    filterset = RunsWhereFilterSet(request.GET, queryset=selectors.runs_where_queryset(user=user), request=request)
    valid = filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    page = Paginator(rows, page_size(request.GET.get("per_page"))).get_page(request.GET.get("page"))
    for deployment in page:
        reason = selectors.mismatch_reason(deployment)
        deployment.mismatch = reason
        deployment.mismatch_text = selectors.MismatchReason.MESSAGES.get(reason or "", "")
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "filters_valid": valid,
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }
    return render(request, "inventory/runs_where.html", context)
