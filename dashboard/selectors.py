"""Reads behind the dashboard: what a risk officer (or any user, within what they may see) needs each morning.

Every figure starts from the permission gate, so an owner's dashboard counts only the models they may see.
Each figure costs one grouped query whatever the inventory's size; none loops over models.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.compliance import ComplianceState
from audits.models import AuditRun, ComplianceStatus
from core.permissions import restrict
from dashboard.charts import Bar, TrendChart, TrendPoint, bars, trend_chart
from governance.choices import OPEN_FINDING_STATUSES, FindingSeverity
from governance.models import Finding
from governance.selectors import review_queue
from inventory.choices import LifecycleStage, ModelType, RiskTier
from inventory.models import RegisteredModel

TOP_UNITS = 10
TREND_SWEEPS = 12
# Ages of open findings, in days since they were raised: (label, lower bound inclusive, upper bound exclusive).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("Under 30 days", 0, 30),
    ("30-89 days", 30, 90),
    ("90 days or more", 90, None),
)


def _url(name: str, params: list[tuple[str, Any]] | None = None) -> str:
    query = urlencode(params or [])
    return reverse(name) + (f"?{query}" if query else "")


def _inventory_url(*params: tuple[str, Any]) -> str:
    return _url("inventory:model-list", list(params))


@dataclass(frozen=True)
class FindingAgeRow:
    """Open findings of one severity, counted by age, with the overdue ones and links to each list."""

    severity: str
    label: str
    buckets: list[int]
    overdue: int
    total: int
    url: str
    overdue_url: str


@dataclass
class Dashboard:
    """Everything the dashboard page shows, already counted and linked."""

    total_models: int
    by_tier: list[Bar]
    by_stage: list[Bar]
    by_type: list[Bar]
    by_unit: list[Bar]
    units_not_shown: int
    overdue_revalidations: int
    overdue_revalidations_url: str
    failing_bias_models: list[RegisteredModel]
    failing_bias_count: int
    waiting_for_me: int
    waiting_for_me_url: str
    findings: list[FindingAgeRow]
    age_labels: list[str]
    trend: list[TrendPoint]
    trend_chart: TrendChart
    latest_sweep: TrendPoint | None
    generated_at: dt.datetime = field(default_factory=timezone.now)


def _count_by(models: QuerySet[RegisteredModel], field_name: str) -> dict[Any, int]:
    return {row[field_name]: row["n"] for row in models.order_by().values(field_name).annotate(n=Count("pk"))}


def _portfolio_bars(models: QuerySet[RegisteredModel]) -> tuple[list[Bar], list[Bar], list[Bar]]:
    tiers = _count_by(models, "risk_tier")
    tier_rows = [(label, tiers.get(value, 0), _inventory_url(("tier", value))) for value, label in RiskTier.choices]
    if tiers.get(None):
        tier_rows.append(("Not yet tiered", tiers[None], ""))
    stages = _count_by(models, "lifecycle_stage")
    stage_rows = [
        (label, stages.get(value, 0), _inventory_url(("stage", value))) for value, label in LifecycleStage.choices
    ]
    types = _count_by(models, "model_type")
    type_rows = [
        (label, types.get(value, 0), _inventory_url(("model_type", value))) for value, label in ModelType.choices
    ]
    return bars(tier_rows), bars(stage_rows), bars(type_rows)


def _unit_bars(models: QuerySet[RegisteredModel]) -> tuple[list[Bar], int]:
    rows = list(
        models.order_by()
        .values("business_unit__code", "business_unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "business_unit__name")
    )
    shown = rows[:TOP_UNITS]
    unit_rows = [
        (row["business_unit__name"], row["n"], _inventory_url(("unit", row["business_unit__code"]))) for row in shown
    ]
    return bars(unit_rows), len(rows) - len(shown)


def _failing_bias(models: QuerySet[RegisteredModel]) -> tuple[list[RegisteredModel], int]:
    """Models whose latest bias audit with a verdict failed (an errored run is no verdict)."""
    latest_verdict = (
        AuditRun.objects.filter(
            model=OuterRef("pk"), kind=AuditKind.BIAS, status__in=[RunStatus.PASSED, RunStatus.FAILED]
        )
        .order_by("-finished_at", "-pk")
        .values("status")[:1]
    )
    failing = (
        models.exclude(lifecycle_stage=LifecycleStage.RETIRED)
        .annotate(latest_bias=Subquery(latest_verdict))
        .filter(latest_bias=RunStatus.FAILED)
        .select_related("business_unit")
        .order_by("key")
    )
    listed: list[RegisteredModel] = list(failing[:10])
    return listed, (failing.count() if len(listed) == 10 else len(listed))


def _finding_rows(user: Any, today: dt.date) -> list[FindingAgeRow]:
    open_findings = restrict(user, "view", Finding.objects.filter(status__in=OPEN_FINDING_STATUSES))
    aggregates: dict[str, Any] = {"total": Count("pk"), "overdue": Count("pk", filter=Q(due_date__lt=today))}
    now = timezone.now()
    for index, (_, lower, upper) in enumerate(AGE_BUCKETS):
        age = Q(created_at__lte=now - dt.timedelta(days=lower))
        if upper is not None:
            age &= Q(created_at__gt=now - dt.timedelta(days=upper))
        aggregates[f"age{index}"] = Count("pk", filter=age)
    counted = {row["severity"]: row for row in open_findings.order_by().values("severity").annotate(**aggregates)}
    open_params = [("status", status) for status in OPEN_FINDING_STATUSES]
    rows = []
    # Most severe first: the order a risk officer reads them in.
    for value, label in reversed(FindingSeverity.choices):
        row = counted.get(value, {})
        rows.append(
            FindingAgeRow(
                severity=value,
                label=label,
                buckets=[row.get(f"age{index}", 0) for index in range(len(AGE_BUCKETS))],
                overdue=row.get("overdue", 0),
                total=row.get("total", 0),
                url=_url("governance:finding-list", [("severity", value), *open_params]),
                overdue_url=_url("governance:finding-list", [("severity", value), ("overdue", "true")]),
            )
        )
    return rows


def _compliance_trend(models: QuerySet[RegisteredModel]) -> list[TrendPoint]:
    """The last sweeps, oldest first, counting only the models the user may see."""
    sweeps = list(
        AuditRun.objects.filter(kind=AuditKind.COMPLIANCE, status__in=[RunStatus.PASSED, RunStatus.FAILED])
        .order_by("-finished_at", "-pk")
        .values("pk", "finished_at")[:TREND_SWEEPS]
    )
    if not sweeps:
        return []
    counts = {
        row["run"]: row
        for row in ComplianceStatus.objects.filter(
            run__in=[sweep["pk"] for sweep in sweeps], model__in=models.values("pk")
        )
        .order_by()
        .values("run")
        .annotate(
            compliant=Count("pk", filter=Q(status=ComplianceState.COMPLIANT)),
            non_compliant=Count("pk", filter=Q(status=ComplianceState.NON_COMPLIANT)),
            exempt=Count("pk", filter=Q(status=ComplianceState.EXEMPT)),
        )
    }
    points = []
    for sweep in reversed(sweeps):
        row = counts.get(sweep["pk"], {})
        finished = timezone.localtime(sweep["finished_at"]) if sweep["finished_at"] else None
        points.append(
            TrendPoint(
                run_id=sweep["pk"],
                label=f"{finished:%Y-%m-%d %H:%M}" if finished else f"Run {sweep['pk']}",
                compliant=row.get("compliant", 0),
                non_compliant=row.get("non_compliant", 0),
                exempt=row.get("exempt", 0),
            )
        )
    return points


def dashboard_for(*, user: Any) -> Dashboard:
    """The dashboard of ``user``: portfolio counts, what is overdue or failing, what waits for them, the trend."""
    today = timezone.localdate()
    models = restrict(user, "view", RegisteredModel.objects.all())
    by_tier, by_stage, by_type = _portfolio_bars(models)
    by_unit, units_not_shown = _unit_bars(models)
    overdue = (
        models.exclude(lifecycle_stage=LifecycleStage.RETIRED).filter(next_validation_due__lt=today).order_by().count()
    )
    failing, failing_count = _failing_bias(models)
    trend = _compliance_trend(models)
    return Dashboard(
        total_models=sum(bar.value for bar in by_stage),
        by_tier=by_tier,
        by_stage=by_stage,
        by_type=by_type,
        by_unit=by_unit,
        units_not_shown=units_not_shown,
        overdue_revalidations=overdue,
        overdue_revalidations_url=_inventory_url(("validation_overdue", "true")),
        failing_bias_models=failing,
        failing_bias_count=failing_count,
        waiting_for_me=review_queue(user=user).count(),
        waiting_for_me_url=reverse("governance:queue"),
        findings=_finding_rows(user, today),
        age_labels=[label for label, _, _ in AGE_BUCKETS],
        trend=trend,
        trend_chart=trend_chart(trend),
        latest_sweep=trend[-1] if trend else None,
    )
