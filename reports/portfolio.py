"""The portfolio compliance report: the state of every model the reader may see, as a PDF and a workbook.

Counts by tier, business unit, lifecycle stage and model type; the models the latest compliance sweep found
non-compliant, by rule; overdue revalidations and open findings with their ageing; models whose latest bias
audit failed; the compliance trend over the last sweeps; and the EU AI Act register of high-risk systems.
:func:`portfolio_data` reads it all once through the permission gate (an owner's report counts their models
only) with grouped or set-based queries, never one query per model; the PDF and XLSX writers only lay it out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.compliance import RULES, ComplianceState
from audits.models import AuditRun, ComplianceStatus
from core.permissions import restrict
from governance.choices import OPEN_FINDING_STATUSES, FindingSeverity
from governance.models import Finding
from inventory.choices import EUAIActCategory, LifecycleStage, ModelType, RegulatoryUse, RiskTier
from inventory.models import RegisteredModel
from reports.cells import neutralise
from reports.charts import Series, count_bar_chart, trend_line_chart
from reports.monitoring import breaching_models
from reports.pdf import Section, render_pdf, user_label

DEFAULT_PERIODS = 4
MAX_PERIODS = 24
# Ages of open findings in days since they were raised: (label, lower bound inclusive, upper bound exclusive).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("Under 30 days", 0, 30),
    ("30-89 days", 30, 90),
    ("90-179 days", 90, 180),
    ("180 days or more", 180, None),
)
# Rows a PDF table prints before it says "and N more"; the workbook always has every row.
PDF_ROWS = 100
CHART_UNITS = 15
FINISHED_SWEEP = (RunStatus.PASSED, RunStatus.FAILED)
RULE_INFO = {rule.id: rule for rule in RULES}
# Regulated uses that make a system high-risk under Annex III of the EU AI Act, with the point they fall under.
ANNEX_III_USES = {
    RegulatoryUse.CREDIT_DECISION: "5(b) creditworthiness and credit scoring",
    RegulatoryUse.INSURANCE_PRICING: "5(c) life and health insurance pricing",
    RegulatoryUse.EMPLOYMENT: "4 employment and workers management",
}

SECTIONS = (
    Section("summary", "Portfolio at a glance"),
    Section("compliance", "Non-compliant models by rule"),
    Section("overdue", "Overdue validations and findings"),
    Section("bias", "Failing bias audits"),
    Section("trend", "Compliance trend"),
    Section("eu-register", "EU AI Act register of high-risk systems"),
    Section("monitoring", "Models breaching monitoring targets"),
)


@dataclass(frozen=True)
class CountRow:
    """One value of a breakdown and how many models have it."""

    label: str
    count: int


@dataclass(frozen=True)
class NonCompliance:
    """One broken rule of one model in the latest sweep."""

    key: str
    name: str
    unit: str
    rule: str
    severity: str
    reason: str


@dataclass(frozen=True)
class RuleRow:
    """A compliance rule and the models that break it."""

    rule: str
    title: str
    severity: str
    count: int
    keys: list[str]


@dataclass(frozen=True)
class OverdueValidation:
    """A model whose next validation date has passed."""

    key: str
    name: str
    unit: str
    tier: int | None
    stage: str
    owner: str
    due: dt.date
    days_overdue: int


@dataclass(frozen=True)
class OpenFinding:
    """An open finding with its age (days since raised) and, if overdue, by how many days."""

    key: str
    title: str
    severity: str
    status: str
    owner: str
    raised: dt.date
    due: dt.date
    age_days: int
    days_overdue: int


@dataclass(frozen=True)
class AgeingRow:
    """Open findings of one severity, counted by age bucket, with the overdue ones."""

    severity: str
    buckets: list[int]
    overdue: int
    total: int


@dataclass(frozen=True)
class FailingAudit:
    """A model whose latest bias audit with a verdict failed, and which metrics failed."""

    key: str
    name: str
    unit: str
    tier: int | None
    run_id: int
    version: str
    finished_at: dt.datetime | None
    failing: list[str]


@dataclass(frozen=True)
class TrendRow:
    """One compliance sweep counted over the reader's models; ``share`` is compliant / (compliant + non-compliant)."""

    run_id: int
    finished_at: dt.datetime | None
    compliant: int
    non_compliant: int
    exempt: int

    @property
    def share(self) -> float | None:
        assessed = self.compliant + self.non_compliant
        return self.compliant / assessed if assessed else None


@dataclass(frozen=True)
class HighRiskSystem:
    """A row of the EU AI Act register: a high-risk system, its purpose, owner, Annex III use and status."""

    key: str
    name: str
    purpose: str
    unit: str
    owner: str
    annex_iii: list[str]
    tier: int | None
    stage: str
    compliance: str


@dataclass
class PortfolioData:
    """Everything the portfolio report shows, for one reader."""

    generated_at: dt.datetime
    generated_by: str
    today: dt.date
    total: int
    by_tier: list[CountRow]
    by_unit: list[CountRow]
    by_stage: list[CountRow]
    by_type: list[CountRow]
    latest_sweep: AuditRun | None
    sweep_counts: dict[str, int]
    rules: list[RuleRow]
    non_compliance: list[NonCompliance]
    overdue_validations: list[OverdueValidation]
    open_findings: list[OpenFinding]
    ageing: list[AgeingRow]
    failing_bias: list[FailingAudit]
    trend: list[TrendRow]
    high_risk: list[HighRiskSystem]
    periods: int
    age_labels: list[str] = field(default_factory=lambda: [label for label, _, _ in AGE_BUCKETS])
    # Models with an open monitoring finding (drift or deterioration), each with its findings.
    breaching: list[dict[str, Any]] = field(default_factory=list)

    @property
    def overdue_findings(self) -> list[OpenFinding]:
        return [finding for finding in self.open_findings if finding.days_overdue > 0]


def _person(first: str | None, last: str | None, username: str | None) -> str:
    full = f"{first or ''} {last or ''}".strip()
    return f"{full} ({username})" if full else username or ""


def _counts(models: QuerySet[RegisteredModel], field_name: str) -> dict[Any, int]:
    return {row[field_name]: row["n"] for row in models.order_by().values(field_name).annotate(n=Count("pk"))}


def _breakdowns(models: QuerySet[RegisteredModel]) -> tuple[list[CountRow], ...]:
    tiers = _counts(models, "risk_tier")
    by_tier = [CountRow(str(label), tiers.get(value, 0)) for value, label in RiskTier.choices]
    if tiers.get(None):
        by_tier.append(CountRow("Not yet tiered", tiers[None]))
    stages = _counts(models, "lifecycle_stage")
    by_stage = [CountRow(str(label), stages.get(value, 0)) for value, label in LifecycleStage.choices]
    types = _counts(models, "model_type")
    by_type = [CountRow(str(label), types.get(value, 0)) for value, label in ModelType.choices]
    units = (
        models.order_by()
        .values("business_unit__name", "business_unit__code")
        .annotate(n=Count("pk"))
        .order_by("-n", "business_unit__name")
    )
    by_unit = [CountRow(f"{row['business_unit__name']} ({row['business_unit__code']})", row["n"]) for row in units]
    return by_tier, by_unit, by_stage, by_type


def _latest_sweep() -> AuditRun | None:
    return (
        AuditRun.objects.filter(kind=AuditKind.COMPLIANCE, status__in=FINISHED_SWEEP)
        .order_by(F("finished_at").desc(nulls_last=True), "-id")
        .first()
    )


def _non_compliance(
    models: QuerySet[RegisteredModel], sweep: AuditRun | None
) -> tuple[dict[str, int], list[NonCompliance], list[RuleRow]]:
    if sweep is None:
        return {}, [], []
    statuses = ComplianceStatus.objects.filter(run=sweep, model__in=models.values("pk"))
    counts = {row["status"]: row["n"] for row in statuses.order_by().values("status").annotate(n=Count("pk"))}
    rows: list[NonCompliance] = []
    severities = dict(FindingSeverity.choices)
    broken = (
        statuses.filter(status=ComplianceState.NON_COMPLIANT)
        .order_by("model__key")
        .values_list("model__key", "model__name", "model__business_unit__name", "broken_rules")
    )
    for key, name, unit, rules in broken.iterator(chunk_size=2000):
        for item in rules or []:
            severity = item.get("severity", "")
            rows.append(
                NonCompliance(
                    key,
                    name,
                    unit,
                    item.get("rule", ""),
                    str(severities.get(severity, severity)),
                    item.get("reason", ""),
                )
            )
    by_rule: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_rule[row.rule].append(row.key)
    rule_rows = []
    for rule_id in sorted(by_rule):
        rule = RULE_INFO.get(rule_id)
        rule_rows.append(
            RuleRow(
                rule=rule_id,
                title=rule.title if rule else rule_id,
                severity=str(FindingSeverity(rule.severity).label) if rule else "",
                count=len(by_rule[rule_id]),
                keys=by_rule[rule_id],
            )
        )
    return counts, rows, rule_rows


def _overdue_validations(models: QuerySet[RegisteredModel], today: dt.date) -> list[OverdueValidation]:
    rows = (
        models.exclude(lifecycle_stage=LifecycleStage.RETIRED)
        .filter(next_validation_due__lt=today)
        .order_by("next_validation_due", "key")
        .values(
            "key",
            "name",
            "business_unit__name",
            "risk_tier",
            "lifecycle_stage",
            "next_validation_due",
            "business_owner__first_name",
            "business_owner__last_name",
            "business_owner__username",
        )
    )
    stages = dict(LifecycleStage.choices)
    return [
        OverdueValidation(
            key=row["key"],
            name=row["name"],
            unit=row["business_unit__name"],
            tier=row["risk_tier"],
            stage=str(stages.get(row["lifecycle_stage"], row["lifecycle_stage"])),
            owner=_person(
                row["business_owner__first_name"], row["business_owner__last_name"], row["business_owner__username"]
            ),
            due=cast(dt.date, row["next_validation_due"]),
            days_overdue=(today - cast(dt.date, row["next_validation_due"])).days,
        )
        for row in rows.iterator(chunk_size=2000)
    ]


def _open_findings(user: Any, today: dt.date) -> tuple[list[OpenFinding], list[AgeingRow]]:
    findings = (
        restrict(user, "view", Finding.objects.filter(status__in=OPEN_FINDING_STATUSES))
        .order_by("due_date", "id")
        .values("model__key", "title", "severity", "status", "owner__username", "created_at", "due_date")
    )
    severities = dict(FindingSeverity.choices)
    statuses = {"open": "Open", "in_remediation": "In remediation"}
    rows = []
    for row in findings.iterator(chunk_size=2000):
        raised = timezone.localtime(row["created_at"]).date()
        rows.append(
            OpenFinding(
                key=row["model__key"],
                title=row["title"],
                severity=str(severities.get(row["severity"], row["severity"])),
                status=statuses.get(row["status"], row["status"]),
                owner=row["owner__username"],
                raised=raised,
                due=row["due_date"],
                age_days=(today - raised).days,
                days_overdue=max((today - row["due_date"]).days, 0),
            )
        )
    ageing = []
    # Most severe first: the order a risk officer reads them in.
    for _, label in reversed(FindingSeverity.choices):
        mine = [row for row in rows if row.severity == str(label)]
        buckets = [
            sum(1 for row in mine if row.age_days >= lower and (upper is None or row.age_days < upper))
            for _, lower, upper in AGE_BUCKETS
        ]
        ageing.append(
            AgeingRow(
                severity=str(label),
                buckets=buckets,
                overdue=sum(1 for row in mine if row.days_overdue > 0),
                total=len(mine),
            )
        )
    return rows, ageing


def _failing_text(run: AuditRun) -> list[str]:
    analyses = (run.result or {}).get("analyses", {})
    failing = []
    for analysis, metrics in (run.verdicts or {}).items():
        for metric, verdict in metrics.items():
            if verdict != "fail":
                continue
            item = analyses.get(analysis, {}).get("verdicts", {}).get(metric, {})
            value = item.get("value")
            shown = f" {value:.4f} ({item.get('rule', '')})" if isinstance(value, int | float) else ""
            failing.append(f"{metric} by {analysis}{shown}")
    return failing


def _failing_bias(models: QuerySet[RegisteredModel]) -> list[FailingAudit]:
    """Models whose latest bias audit with a verdict failed (an errored run is no verdict)."""
    latest = (
        AuditRun.objects.filter(model=OuterRef("pk"), kind=AuditKind.BIAS, status__in=FINISHED_SWEEP)
        .order_by(F("finished_at").desc(nulls_last=True), "-pk")
        .values("pk")[:1]
    )
    # One query: the latest verdict run of each visible model, as a subquery (never a list of ids in Python).
    latest_runs = (
        models.exclude(lifecycle_stage=LifecycleStage.RETIRED)
        .annotate(latest_run=Subquery(latest))
        .filter(latest_run__isnull=False)
        .values("latest_run")
    )
    runs = (
        AuditRun.objects.filter(pk__in=latest_runs, status=RunStatus.FAILED)
        .select_related("model__business_unit", "version")
        .order_by("model__key")
    )
    return [
        FailingAudit(
            key=run.model.key,
            name=run.model.name,
            unit=run.model.business_unit.name,
            tier=run.model.risk_tier,
            run_id=run.pk,
            version=run.version.version if run.version else "",
            finished_at=run.finished_at,
            failing=_failing_text(run),
        )
        for run in runs
        if run.model is not None
    ]


def _trend(models: QuerySet[RegisteredModel], periods: int) -> list[TrendRow]:
    sweeps = list(
        AuditRun.objects.filter(kind=AuditKind.COMPLIANCE, status__in=FINISHED_SWEEP)
        .order_by(F("finished_at").desc(nulls_last=True), "-pk")
        .values("pk", "finished_at")[:periods]
    )
    counted = {
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
    return [
        TrendRow(
            run_id=sweep["pk"],
            finished_at=sweep["finished_at"],
            compliant=counted.get(sweep["pk"], {}).get("compliant", 0),
            non_compliant=counted.get(sweep["pk"], {}).get("non_compliant", 0),
            exempt=counted.get(sweep["pk"], {}).get("exempt", 0),
        )
        for sweep in reversed(sweeps)
    ]


def _high_risk(models: QuerySet[RegisteredModel], sweep: AuditRun | None) -> list[HighRiskSystem]:
    status = ComplianceStatus.objects.filter(run=sweep, model=OuterRef("pk")).values("status")[:1]
    rows = (
        models.filter(eu_ai_act_category=EUAIActCategory.HIGH_RISK)
        .annotate(compliance=Subquery(status))
        .order_by("key")
        .values(
            "key",
            "name",
            "purpose",
            "business_unit__name",
            "business_owner__first_name",
            "business_owner__last_name",
            "business_owner__username",
            "regulatory_uses",
            "risk_tier",
            "lifecycle_stage",
            "compliance",
        )
    )
    stages = dict(LifecycleStage.choices)
    states = dict(ComplianceState.choices)
    return [
        HighRiskSystem(
            key=row["key"],
            name=row["name"],
            purpose=row["purpose"],
            unit=row["business_unit__name"],
            owner=_person(
                row["business_owner__first_name"], row["business_owner__last_name"], row["business_owner__username"]
            ),
            annex_iii=[ANNEX_III_USES[use] for use in ANNEX_III_USES if use in (row["regulatory_uses"] or [])],
            tier=row["risk_tier"],
            stage=str(stages.get(row["lifecycle_stage"], row["lifecycle_stage"])),
            compliance=str(states.get(row["compliance"], "Not assessed")) if row["compliance"] else "Not assessed",
        )
        for row in rows.iterator(chunk_size=2000)
    ]


def portfolio_data(*, user: Any, periods: int = DEFAULT_PERIODS) -> PortfolioData:
    """The portfolio as ``user`` may see it, with the trend over the last ``periods`` compliance sweeps."""
    periods = max(1, min(int(periods), MAX_PERIODS))
    now = timezone.now()
    today = timezone.localdate(now)
    models = restrict(user, "view", RegisteredModel.objects.all())
    by_tier, by_unit, by_stage, by_type = _breakdowns(models)
    sweep = _latest_sweep()
    sweep_counts, non_compliance, rule_rows = _non_compliance(models, sweep)
    open_findings, ageing = _open_findings(user, today)
    return PortfolioData(
        generated_at=now,
        generated_by=user_label(user),
        today=today,
        total=sum(row.count for row in by_stage),
        by_tier=by_tier,
        by_unit=by_unit,
        by_stage=by_stage,
        by_type=by_type,
        latest_sweep=sweep,
        sweep_counts=sweep_counts,
        rules=rule_rows,
        non_compliance=non_compliance,
        overdue_validations=_overdue_validations(models, today),
        open_findings=open_findings,
        ageing=ageing,
        failing_bias=_failing_bias(models),
        trend=_trend(models, periods),
        high_risk=_high_risk(models, sweep),
        periods=periods,
        breaching=breaching_models(models.values("pk")),
    )


# --- PDF -----------------------------------------------------------------------------------------------------------


def _trend_label(row: TrendRow) -> str:
    return f"{timezone.localtime(row.finished_at):%Y-%m-%d}" if row.finished_at else f"#{row.run_id}"


def _charts(data: PortfolioData) -> dict[str, str]:
    units = [(row.label, row.count) for row in data.by_unit[:CHART_UNITS]]
    labels = [_trend_label(row) for row in data.trend]
    return {
        "tier": count_bar_chart([(row.label, row.count) for row in data.by_tier], title="By risk tier"),
        "stage": count_bar_chart([(row.label, row.count) for row in data.by_stage], title="By lifecycle stage"),
        "type": count_bar_chart([(row.label, row.count) for row in data.by_type], title="By model type"),
        "sweep": count_bar_chart(
            [(str(label), data.sweep_counts.get(state, 0)) for state, label in ComplianceState.choices],
            title="Latest compliance sweep",
        ),
        "unit": count_bar_chart(units, title="By business unit", width=660, label_width=260),
        "rules": count_bar_chart(
            [(f"{row.rule} {row.title}", row.count) for row in data.rules],
            title="Non-compliant models by rule",
            width=660,
            label_width=260,
        ),
        "share": trend_line_chart(
            labels,
            [Series("Compliant share of assessed models", [row.share for row in data.trend])],
            title="Compliant share per sweep",
            maximum=1.0,
            percent=True,
        ),
        "counts": trend_line_chart(
            labels,
            [
                Series("Compliant", [float(row.compliant) for row in data.trend]),
                Series("Non-compliant", [float(row.non_compliant) for row in data.trend]),
                Series("Exempt", [float(row.exempt) for row in data.trend]),
            ],
            title="Models per sweep",
        ),
    }


def portfolio_pdf(*, user: Any, path: Path, periods: int = DEFAULT_PERIODS) -> None:
    """Write the portfolio compliance report for ``user`` to ``path`` as a PDF."""
    data = portfolio_data(user=user, periods=periods)
    render_pdf(
        template="reports/pdf/portfolio.html",
        context={"data": data, "charts": _charts(data), "pdf_rows": PDF_ROWS},
        path=path,
        title="Portfolio compliance report",
        subtitle=f"{data.total} models as of {data.today:%Y-%m-%d}",
        user=user,
        sections=SECTIONS,
        generated_at=data.generated_at,
    )


# --- XLSX ----------------------------------------------------------------------------------------------------------

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def _naive(value: Any) -> Any:
    # Spreadsheets have no time zones: datetimes are written in the portal's local time, as the PDF shows them.
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return value


def _sheet(workbook: Any, title: str, headers: Sequence[tuple[str, int]], rows: Iterable[Sequence[Any]]) -> None:
    """A write-only sheet with a bold frozen header, an autofilter, column widths and typed date cells."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title)
    for index, (_, width) in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="E4EBF2")
    header_cells = []
    for name, _ in headers:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.fill = bold, fill
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        cells = []
        for value in row:
            value = _naive(neutralise(value))
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"


def portfolio_xlsx(*, user: Any, path: Path, periods: int = DEFAULT_PERIODS) -> None:
    """Write the portfolio compliance report for ``user`` to ``path`` as a workbook, one sheet per table, every
    row included (the PDF shortens long tables)."""
    from openpyxl import Workbook

    data = portfolio_data(user=user, periods=periods)
    workbook = Workbook(write_only=True)
    sweep = data.latest_sweep
    summary: list[tuple[str, str, Any]] = [
        ("Report", "Generated at", _naive(data.generated_at)),
        ("Report", "Generated by", data.generated_by),
        ("Report", "Models", data.total),
        ("Report", "Latest compliance sweep", f"#{sweep.pk}" if sweep else "None yet"),
        ("Report", "Sweep finished at", _naive(sweep.finished_at) if sweep else None),
    ]
    for state, label in ComplianceState.choices:
        summary.append(("Latest sweep", str(label), data.sweep_counts.get(state, 0)))
    for group, rows in (
        ("Risk tier", data.by_tier),
        ("Lifecycle stage", data.by_stage),
        ("Model type", data.by_type),
        ("Business unit", data.by_unit),
    ):
        summary.extend((group, row.label, row.count) for row in rows)
    summary.append(("Overdue", "Validations overdue", len(data.overdue_validations)))
    summary.append(("Overdue", "Findings overdue", len(data.overdue_findings)))
    summary.append(("Bias audits", "Models whose latest bias audit failed", len(data.failing_bias)))
    summary.append(("EU AI Act", "High-risk systems", len(data.high_risk)))
    _sheet(workbook, "Summary", [("Group", 18), ("Item", 44), ("Value", 22)], summary)
    _sheet(
        workbook,
        "Non-compliant by rule",
        [("Rule", 10), ("Title", 42), ("Severity", 10), ("Models", 10), ("Model keys", 80)],
        ((row.rule, row.title, row.severity, row.count, ", ".join(row.keys)) for row in data.rules),
    )
    _sheet(
        workbook,
        "Non-compliant models",
        [("Model", 12), ("Name", 40), ("Business unit", 28), ("Rule", 10), ("Severity", 10), ("Reason", 80)],
        ((row.key, row.name, row.unit, row.rule, row.severity, row.reason) for row in data.non_compliance),
    )
    _sheet(
        workbook,
        "Overdue validations",
        [
            ("Model", 12),
            ("Name", 40),
            ("Business unit", 28),
            ("Tier", 6),
            ("Stage", 14),
            ("Business owner", 30),
            ("Due", 12),
            ("Days overdue", 13),
        ],
        (
            (row.key, row.name, row.unit, row.tier, row.stage, row.owner, row.due, row.days_overdue)
            for row in data.overdue_validations
        ),
    )
    _sheet(
        workbook,
        "Open findings",
        [
            ("Model", 12),
            ("Finding", 60),
            ("Severity", 10),
            ("Status", 15),
            ("Owner", 18),
            ("Raised", 12),
            ("Due", 12),
            ("Age (days)", 11),
            ("Days overdue", 13),
        ],
        (
            (
                row.key,
                row.title,
                row.severity,
                row.status,
                row.owner,
                row.raised,
                row.due,
                row.age_days,
                row.days_overdue,
            )
            for row in data.open_findings
        ),
    )
    _sheet(
        workbook,
        "Finding ageing",
        [("Severity", 12)] + [(label, 16) for label in data.age_labels] + [("Overdue", 10), ("Total", 10)],
        ((row.severity, *row.buckets, row.overdue, row.total) for row in data.ageing),
    )
    _sheet(
        workbook,
        "Failing bias audits",
        [
            ("Model", 12),
            ("Name", 40),
            ("Business unit", 28),
            ("Tier", 6),
            ("Run", 8),
            ("Version", 10),
            ("Finished", 17),
            ("Failing metrics", 90),
        ],
        (
            (row.key, row.name, row.unit, row.tier, row.run_id, row.version, row.finished_at, "; ".join(row.failing))
            for row in data.failing_bias
        ),
    )
    _sheet(
        workbook,
        "Compliance trend",
        [
            ("Sweep", 8),
            ("Finished", 17),
            ("Compliant", 11),
            ("Non-compliant", 14),
            ("Exempt", 9),
            ("Compliant share", 16),
        ],
        ((row.run_id, row.finished_at, row.compliant, row.non_compliant, row.exempt, row.share) for row in data.trend),
    )
    _sheet(
        workbook,
        "EU AI Act register",
        [
            ("Model", 12),
            ("Name", 40),
            ("Purpose", 70),
            ("Business unit", 28),
            ("Business owner", 30),
            ("Annex III use", 40),
            ("Tier", 6),
            ("Stage", 14),
            ("Compliance", 16),
        ],
        (
            (
                row.key,
                row.name,
                row.purpose,
                row.unit,
                row.owner,
                "; ".join(row.annex_iii) or "Not recorded",
                row.tier,
                row.stage,
                row.compliance,
            )
            for row in data.high_risk
        ),
    )
    workbook.save(str(path))
