"""Reads behind the dashboard: what a risk officer (or any user, within what they may see) needs each morning.

Every figure starts from the permission gate, so an owner's dashboard counts only the models they may see.
Each figure costs one grouped query whatever the inventory's size; none loops over models.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.compliance import ComplianceState
from audits.models import AuditRun, ComplianceStatus
from core.permissions import restrict, sees_every_row
from dashboard.charts import Bar, TrendChart, TrendPoint, bars, trend_chart
from governance.choices import OPEN_FINDING_STATUSES, FindingSeverity
from governance.models import Finding
from governance.selectors import review_queue
from inventory.choices import LifecycleStage, ModelType, RiskTier
from inventory.models import BusinessUnit, RegisteredModel

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


@dataclass(frozen=True)
class _ModelCounts:
    by_tier: dict[Any, int]
    by_stage: dict[Any, int]
    by_type: dict[Any, int]
    by_unit: dict[int, int]
    overdue: int


def _model_counts(models: QuerySet[RegisteredModel], today: dt.date) -> _ModelCounts:
    """Models by tier, stage, type and business unit, and the overdue revalidations: one pass over the models.

    Grouping by the four columns together gives a few thousand rows at most, summed here; a query per figure
    read every visible model again (100,000 for a Risk Officer) five times.
    """
    rows = (
        models.order_by()
        .values_list("risk_tier", "lifecycle_stage", "model_type", "business_unit_id")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=Q(next_validation_due__lt=today) & ~Q(lifecycle_stage=LifecycleStage.RETIRED)),
        )
    )
    tiers: Counter[Any] = Counter()
    stages: Counter[Any] = Counter()
    types: Counter[Any] = Counter()
    units: Counter[int] = Counter()
    overdue = 0
    for tier, stage, model_type, unit, n, overdue_here in rows:
        tiers[tier] += n
        stages[stage] += n
        types[model_type] += n
        units[unit] += n
        overdue += overdue_here
    return _ModelCounts(dict(tiers), dict(stages), dict(types), dict(units), overdue)


def _portfolio_bars(counts: _ModelCounts) -> tuple[list[Bar], list[Bar], list[Bar]]:
    tiers = counts.by_tier
    tier_rows = [(label, tiers.get(value, 0), _inventory_url(("tier", value))) for value, label in RiskTier.choices]
    if tiers.get(None):
        tier_rows.append(("Not yet tiered", tiers[None], ""))
    stage_rows = [
        (label, counts.by_stage.get(value, 0), _inventory_url(("stage", value)))
        for value, label in LifecycleStage.choices
    ]
    type_rows = [
        (label, counts.by_type.get(value, 0), _inventory_url(("model_type", value)))
        for value, label in ModelType.choices
    ]
    return bars(tier_rows), bars(stage_rows), bars(type_rows)


def _unit_bars(counts: _ModelCounts) -> tuple[list[Bar], int]:
    names = {unit.pk: unit for unit in BusinessUnit.objects.filter(pk__in=counts.by_unit).only("code", "name")}
    ranked = sorted(counts.by_unit.items(), key=lambda item: (-item[1], names[item[0]].name))
    shown = ranked[:TOP_UNITS]
    unit_rows = [(names[pk].name, n, _inventory_url(("unit", names[pk].code))) for pk, n in shown]
    return bars(unit_rows), len(ranked) - len(shown)


def _failing_bias(models: QuerySet[RegisteredModel]) -> tuple[list[RegisteredModel], int]:
    """Models whose latest bias audit with a verdict failed (an errored run is no verdict)."""
    latest_verdict = (
        AuditRun.objects.filter(
            model=OuterRef("pk"), kind=AuditKind.BIAS, status__in=[RunStatus.PASSED, RunStatus.FAILED]
        )
        .order_by("-finished_at", "-pk")
        .values("status")[:1]
    )
    # Only a model with a failed run can have a failed latest verdict: starting from those few runs spares the
    # latest-verdict subquery for every other model (100,000 for a Risk Officer).
    failed_once = AuditRun.objects.filter(kind=AuditKind.BIAS, status=RunStatus.FAILED).values("model")
    failing = (
        models.exclude(lifecycle_stage=LifecycleStage.RETIRED)
        .filter(pk__in=failed_once)
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


def _compliance_trend(models: QuerySet[RegisteredModel], *, sees_every_model: bool) -> list[TrendPoint]:
    """The last sweeps, oldest first, counting only the models the user may see.

    A sweep records its counts by status when it finishes (``result["by_status"]``), and its statuses never
    change afterwards: whoever sees every model reads those instead of counting 100,000 rows per sweep again.
    Everyone else, and any sweep without recorded counts, is counted over the statuses of the visible models.
    """
    sweeps = list(
        AuditRun.objects.filter(kind=AuditKind.COMPLIANCE, status__in=[RunStatus.PASSED, RunStatus.FAILED])
        .order_by("-finished_at", "-pk")
        .values("pk", "finished_at", by_status=F("result__by_status"))[:TREND_SWEEPS]
    )
    if not sweeps:
        return []
    counts: dict[int, dict[str, int]] = {}
    if sees_every_model:
        counts = {
            sweep["pk"]: {state: int(sweep["by_status"].get(state, 0)) for state in ComplianceState}
            for sweep in sweeps
            if isinstance(sweep["by_status"], dict)
        }
    to_count = [sweep["pk"] for sweep in sweeps if sweep["pk"] not in counts]
    if to_count:
        statuses = ComplianceStatus.objects.filter(run__in=to_count)
        if not sees_every_model:
            statuses = statuses.filter(model__in=models.values("pk"))
        for row in (
            statuses.order_by()
            .values("run")
            .annotate(
                compliant=Count("pk", filter=Q(status=ComplianceState.COMPLIANT)),
                non_compliant=Count("pk", filter=Q(status=ComplianceState.NON_COMPLIANT)),
                exempt=Count("pk", filter=Q(status=ComplianceState.EXEMPT)),
            )
        ):
            counts[row["run"]] = {
                ComplianceState.COMPLIANT: row["compliant"],
                ComplianceState.NON_COMPLIANT: row["non_compliant"],
                ComplianceState.EXEMPT: row["exempt"],
            }
    points = []
    for sweep in reversed(sweeps):
        row = counts.get(sweep["pk"], {})
        finished = timezone.localtime(sweep["finished_at"]) if sweep["finished_at"] else None
        points.append(
            TrendPoint(
                run_id=sweep["pk"],
                label=f"{finished:%Y-%m-%d %H:%M}" if finished else f"Run {sweep['pk']}",
                compliant=row.get(ComplianceState.COMPLIANT, 0),
                non_compliant=row.get(ComplianceState.NON_COMPLIANT, 0),
                exempt=row.get(ComplianceState.EXEMPT, 0),
            )
        )
    return points


def dashboard_for(*, user: Any) -> Dashboard:
    """The dashboard of ``user``: portfolio counts, what is overdue or failing, what waits for them, the trend."""
    today = timezone.localdate()
    models = restrict(user, "view", RegisteredModel.objects.all())
    counts = _model_counts(models, today)
    by_tier, by_stage, by_type = _portfolio_bars(counts)
    by_unit, units_not_shown = _unit_bars(counts)
    failing, failing_count = _failing_bias(models)
    trend = _compliance_trend(models, sees_every_model=sees_every_row(user, RegisteredModel))
    return Dashboard(
        total_models=sum(counts.by_stage.values()),
        by_tier=by_tier,
        by_stage=by_stage,
        by_type=by_type,
        by_unit=by_unit,
        units_not_shown=units_not_shown,
        overdue_revalidations=counts.overdue,
        overdue_revalidations_url=_inventory_url(("validation_overdue", "true")),
        failing_bias_models=failing,
        failing_bias_count=failing_count,
        waiting_for_me=review_queue(user=user).count(),
        waiting_for_me_url=reverse("governance:queue"),
        findings=_finding_rows(user, today),
        age_labels=[label for label, _, _ in AGE_BUCKETS],
        trend=trend,
        trend_chart=trend_chart(trend, width=640, height=220, gutter=36, band=24),
        latest_sweep=trend[-1] if trend else None,
    )
