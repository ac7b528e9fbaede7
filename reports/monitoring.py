"""Monitoring in the exports: the register's monitoring columns, the model report's monitoring section, the
portfolio's models breaching targets, and what the evidence pack holds of drift audits and observations.

Reads only: targets, observations and drift runs are written by ``monitoring.services``. The register reads its
monitoring columns as two correlated subqueries on the register's own query (no query per row or per chunk),
so it keeps streaming on 100,000 models: "breaching targets" is an open monitoring finding (a drift or
deterioration breach that a person has not closed), and the latest drift audit with a verdict comes back as one
small JSON object (status, when, top mover and its PSI), not its whole result.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import JSONObject

from audits.choices import RunStatus
from core.permissions import restrict
from governance.choices import OPEN_FINDING_STATUSES, FindingSource
from governance.models import Finding
from monitoring.choices import TargetStatus
from monitoring.models import THRESHOLD_FIELDS, DriftRun, MetricObservation, MonitoringTarget
from monitoring.services import limits_in_force

VERDICT_STATUSES = (RunStatus.PASSED, RunStatus.FAILED)
# Latest observations shown per model in its report: enough for every metric and environment of one model.
REPORT_OBSERVATIONS = 400
REPORT_DRIFT_RUNS = 10
# Observations an evidence pack holds per model (newest first); the total is stated next to them.
EVIDENCE_OBSERVATIONS = 50_000


def monitoring_breaches(when: datetime.datetime | None = None) -> QuerySet[Finding]:
    """Monitoring findings open now, or raised by ``when`` and not resolved by then."""
    findings = Finding.objects.filter(source=FindingSource.MONITORING)
    if when is None:
        return findings.filter(status__in=OPEN_FINDING_STATUSES)
    return findings.filter(created_at__lte=when).filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=when))


def with_monitoring(queryset: QuerySet[Any], when: datetime.datetime | None = None) -> QuerySet[Any]:
    """``queryset`` of models (current rows, or historical ones whose ``id`` is the model's) annotated with
    ``monitoring_breach`` (bool) and ``last_drift`` (``{"status", "finished", "feature", "psi"}`` or None)."""
    runs = DriftRun.objects.filter(model=OuterRef("id"), status__in=VERDICT_STATUSES)
    if when is not None:
        runs = runs.filter(finished_at__lte=when)
    latest = runs.order_by("-finished_at", "-id").values(
        summary=JSONObject(
            status="status",
            finished="finished_at",
            feature=KT("result__top_movers__0__name"),
            psi=KT("result__top_movers__0__psi"),
        )
    )[:1]
    return queryset.annotate(
        monitoring_breach=Exists(monitoring_breaches(when).filter(model=OuterRef("id"))),
        last_drift=Subquery(latest, output_field=JSONField()),
    )


def _finished(value: Any) -> datetime.datetime | None:
    """The run's finish as JSON carried it: ISO text from PostgreSQL, the stored text from SQLite (UTC)."""
    if not value:
        return None
    moment = datetime.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def register_cells(record: dict[str, Any], tz: datetime.tzinfo) -> list[Any]:
    """The register's monitoring cells of an annotated row: breaching targets, last drift verdict, top mover."""
    summary = record.get("last_drift") or None
    if summary is None:
        verdict, mover = "", ""
    else:
        finished = _finished(summary.get("finished"))
        when = f" {finished.astimezone(tz).date().isoformat()}" if finished else ""
        verdict = f"{'drift' if summary.get('status') == RunStatus.FAILED else 'stable'}{when}"
        mover = summary.get("feature") or ""
        if mover and summary.get("psi") not in (None, ""):
            mover = f"{mover} (PSI {float(summary['psi']):.3f})"
    return ["Yes" if record.get("monitoring_breach") else "No", verdict, mover]


def model_monitoring(model: Any) -> dict[str, Any]:
    """The model report's monitoring section: the limits in force, each series' latest observation against its
    limit, the latest drift audits (top movers of the newest), and the open monitoring findings."""
    limits = limits_in_force(model)
    bounds = limits.limits()
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    rows = (
        MetricObservation.objects.filter(version__model=model)
        .order_by("-window_end")
        .values("metric", "environment", "version__version", "window_end", "value")[:REPORT_OBSERVATIONS]
    )
    for row in rows:
        key = (row["metric"], row["environment"], row["version__version"])
        if key in latest:
            continue
        limit = bounds.get(row["metric"]) or {}
        breached = ("min" in limit and row["value"] < limit["min"]) or ("max" in limit and row["value"] > limit["max"])
        latest[key] = {**row, "limit": _limit_text(limit), "breached": breached}
    runs = list(
        DriftRun.objects.filter(model=model, status__in=(*VERDICT_STATUSES, RunStatus.ERROR))
        .select_related("version", "reference", "current")
        .order_by("-finished_at", "-id")[:REPORT_DRIFT_RUNS]
    )
    newest = next((run for run in runs if run.result), None)
    return {
        "target": MonitoringTarget.objects.filter(model=model, status=TargetStatus.AGREED).first(),
        "limits": limits,
        "bounds": [(metric, _limit_text(limit)) for metric, limit in sorted(bounds.items())],
        "observations": [latest[key] for key in sorted(latest)],
        "drift_runs": [drift_run_row(run) for run in runs],
        "top_movers": (newest.result.get("top_movers") or []) if newest else [],
        "findings": list(monitoring_breaches().filter(model=model).order_by("-id")),
    }


def _limit_text(limit: dict[str, float] | None) -> str:
    if not limit:
        return ""
    return ", ".join(f"{'≥' if key == 'min' else '≤'} {value:g}" for key, value in sorted(limit.items()))


def drift_run_row(run: DriftRun) -> dict[str, Any]:
    """One drift audit as the report tables and the evidence pack's CSV show it."""
    result = run.result or {}
    movers = result.get("top_movers") or []
    return {
        "id": run.pk,
        "version": run.version.version,
        "status": run.status,
        "finished_at": run.finished_at,
        "reference": run.reference.name,
        "reference_sha256": run.reference.sha256,
        "current": run.current.name,
        "current_sha256": run.current.sha256,
        "overall_psi": (result.get("overall") or {}).get("psi"),
        "drifted_features": ", ".join(result.get("drifted_features") or []),
        "top_mover": f"{movers[0]['name']} (PSI {movers[0]['psi']:.3f})" if movers else "",
        "findings": ", ".join(str(pk) for pk in run.findings or []),
        "error": run.error,
    }


def breaching_models(model_ids: QuerySet[Any] | list[int]) -> list[dict[str, Any]]:
    """Among ``model_ids``, the models with an open monitoring finding, each with its findings' titles."""
    by_model: dict[int, dict[str, Any]] = {}
    findings = (
        monitoring_breaches()
        .filter(model__in=model_ids)
        .select_related("model", "model__business_unit")
        .order_by("model__key", "-id")
    )
    for finding in findings:
        entry = by_model.setdefault(finding.model_id, {"model": finding.model, "findings": []})
        entry["findings"].append(finding)
    return list(by_model.values())


def monitoring_document(user: Any, model: Any) -> dict[str, Any]:
    """The evidence pack's record of a model's monitoring, as ``user`` may see it: target revisions, every
    metric observation (newest first, at most ``EVIDENCE_OBSERVATIONS``) and every finished drift audit with its
    full result and the SHA-256 of both tables."""
    targets = restrict(user, "view", MonitoringTarget.objects.filter(model=model)).select_related(
        "proposed_by", "agreed_by"
    )
    observations = restrict(user, "view", MetricObservation.objects.filter(version__model=model)).order_by(
        "-window_end", "metric", "environment", "id"
    )
    runs = (
        restrict(user, "view", DriftRun.objects.filter(model=model, status__in=(*VERDICT_STATUSES, RunStatus.ERROR)))
        .select_related("version", "reference", "current", "target", "requested_by")
        .order_by("-finished_at", "-id")
    )
    total = observations.count()
    return {
        "targets": [
            {
                "revision": target.revision,
                "status": target.status,
                "limits": target.limits(),
                **{name: getattr(target, name) for name in THRESHOLD_FIELDS if name != "custom_limits"},
                "business_kpi": target.business_kpi,
                "reason": target.reason,
                "proposed_by": target.proposed_by.username,
                "proposed_at": target.proposed_at,
                "agreed_by": target.agreed_by.username if target.agreed_by else None,
                "agreed_at": target.agreed_at,
            }
            for target in targets
        ],
        "observations_total": total,
        "observations": list(
            observations.values(
                "version__version",
                "environment",
                "metric",
                "window_start",
                "window_end",
                "value",
                "observed_at",
                "source",
                "recorded_at",
            )[:EVIDENCE_OBSERVATIONS]
        ),
        "drift_audits": [
            {
                **drift_run_row(run),
                "requested_by": run.requested_by.username if run.requested_by else None,
                "requested_at": run.requested_at,
                "target_revision": run.target.revision if run.target else None,
                "parameters": run.parameters,
                "library_versions": run.library_versions,
                "result": run.result,
            }
            for run in runs
        ],
    }
