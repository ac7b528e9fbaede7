"""Monitoring pages: one model's targets, metric charts and drift audits, and the portfolio of breaching models.

Views only translate HTTP: reads come from the monitoring and inventory selectors, so a model the user may not see
is a 404.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from governance.choices import OPEN_FINDING_STATUSES, FindingSource
from governance.models import Finding
from inventory.selectors import registered_model_get, registered_model_queryset
from inventory.services.artifacts import may_report
from inventory.views import signed_in
from monitoring import selectors
from monitoring.charts import metric_chart
from monitoring.choices import TargetStatus
from monitoring.mlflow import mlflow_metrics_import_request
from monitoring.services import limits_in_force

SERIES_WINDOWS = 60
DRIFT_RUNS_SHOWN = 20


@login_required
@require_safe
def model_monitoring(request: HttpRequest, key: str) -> HttpResponse:
    """A model's monitoring: target in force, each metric's recent windows against it, drift audits."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    limits = limits_in_force(model)
    bounds = limits.limits()
    rows = (
        selectors.metric_observation_queryset(user=user)
        .filter(version__model=model)
        .order_by("-window_end")
        .values_list("metric", "environment", "version__version", "window_end", "value")[: SERIES_WINDOWS * 20]
    )
    series: dict[tuple[str, str, str], list[tuple[str, float]]] = defaultdict(list)
    for metric, environment, version, window_end, value in rows:
        if len(series[metric, environment, version]) < SERIES_WINDOWS:
            series[metric, environment, version].append((window_end.strftime("%m-%d %H:%M"), value))
    charts = [
        {
            "metric": metric,
            "environment": environment,
            "version": version,
            "bounds": bounds.get(metric),
            "latest": points[0][1],
            "svg": metric_chart(metric, list(reversed(points)), bounds.get(metric)),
        }
        for (metric, environment, version), points in sorted(series.items())
    ]
    runs = list(selectors.drift_run_queryset(user=user).filter(model=model)[:DRIFT_RUNS_SHOWN])
    latest = next((run for run in runs if run.result), None)
    features: list[dict[str, Any]] = []
    if latest is not None:
        features = sorted(latest.result.get("features", []), key=lambda item: -item["psi"])
    targets = selectors.monitoring_target_queryset(user=user).filter(model=model)
    context = {
        "model": model,
        "limits": limits,
        "target": targets.filter(status=TargetStatus.AGREED).first(),
        "proposals": targets.filter(status=TargetStatus.PROPOSED),
        "bounds": sorted(bounds.items()),
        "charts": charts,
        "runs": runs,
        "latest": latest,
        "features": features,
        "findings": Finding.objects.filter(
            model=model, source=FindingSource.MONITORING, status__in=OPEN_FINDING_STATUSES
        ),
        "may_import_mlflow": bool(settings.MLFLOW_TRACKING_URI) and may_report(user, model),
    }
    return render(request, "monitoring/model.html", context)


@login_required
@require_POST
def mlflow_import(request: HttpRequest, key: str) -> HttpResponse:
    """Queue the import of the model's MLflow run metrics (those who may report for it)."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    try:
        mlflow_metrics_import_request(actor=user, model=model)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Import of the MLflow run metrics of {model.key} queued; reload in a moment.")
    return redirect("monitoring:model", key=model.key)


@login_required
@require_safe
def portfolio(request: HttpRequest) -> HttpResponse:
    """The models the user may see that breach a target: those with an open monitoring finding (drift or
    deterioration), each with its findings."""
    user = signed_in(request)
    visible = registered_model_queryset(user=user).values("pk")
    findings = (
        Finding.objects.filter(model__in=visible, source=FindingSource.MONITORING, status__in=OPEN_FINDING_STATUSES)
        .select_related("model")
        .order_by("model__key", "-id")
    )
    by_model: dict[str, dict[str, Any]] = {}
    for finding in findings:
        entry = by_model.setdefault(finding.model.key, {"model": finding.model, "findings": []})
        entry["findings"].append(finding)
    return render(request, "monitoring/portfolio.html", {"rows": list(by_model.values())})
