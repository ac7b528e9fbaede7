"""The model governance report: one model's record, decisions, evidence and ledger entries as a PDF.

What an examiner or internal auditor asks for about one model, on paper: ownership and purpose, the risk
assessment and its reasons, every version's approval history with approvers and comments, conditions and
findings, the latest bias audits with per-group rates and their confidence intervals, lineage (commits, CI
runs, images, data), deployments and whether they match the approval, and the model's ledger entries with
their hashes so they can be checked against the live ledger. Everything is read through the same selectors as
the web pages, so the report shows what its reader may see, no more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from audits.choices import FINISHED_STATUSES, RATE_METRICS, AuditKind
from audits.models import AuditRun, ComplianceStatus
from audits.selectors import audit_run_queryset
from audits.sweep import compliance_status_queryset
from core.models import User
from core.permissions import restrict
from governance.choices import FindingSource
from governance.models import (
    ApprovalDecision,
    Finding,
    GovernanceEvent,
    LedgerHead,
    RiskAssessment,
    TierOverride,
    VersionTransition,
)
from governance.selectors import (
    current_assessment,
    finding_list_queryset,
    governance_event_queryset,
    risk_assessment_queryset,
)
from inventory.choices import RegulatoryUse
from inventory.models import Deployment, ModelVersion, RegisteredModel
from inventory.selectors import (
    MismatchReason,
    deployment_approval_annotations,
    mismatch_reason,
    model_lineage_chain,
)
from reports.charts import GroupValue, interval_bar_chart
from reports.monitoring import model_monitoring
from reports.pdf import Section, render_pdf

# Bounds that keep one report readable and its rendering time flat for a model with a long history; what is
# left out is counted in the report, and the portal holds the rest.
REPORT_AUDITS = 3
REPORT_VERSIONS = 10
REPORT_DEPLOYMENTS = 50
REPORT_ASSESSMENTS = 5
CHART_GROUPS = 24
# The rates drawn per analysis (all six are in the table): who is selected, and who is correctly selected.
CHARTED_RATES = (("selection_rate", "Selection rate"), ("tpr", "True positive rate"))
METRIC_LABELS = {
    "selection_rate": "Selection rate",
    "tpr": "TPR",
    "fpr": "FPR",
    "fnr": "FNR",
    "accuracy": "Accuracy",
    "precision": "Precision",
}

APPROVAL_LABELS = {"approved": "approved", "expired": "approval expired", "not_approved": "not approved"}
MISMATCH_LABELS = {
    MismatchReason.NOT_APPROVED: "version not approved",
    MismatchReason.APPROVAL_EXPIRED: "approval expired",
    MismatchReason.DIGEST_MISMATCH: "digest not approved",
}

SECTIONS = (
    Section("ownership", "Ownership and purpose"),
    Section("risk", "Risk assessment"),
    Section("approvals", "Approval history"),
    Section("findings", "Conditions and findings"),
    Section("audits", "Audits"),
    Section("lineage", "Lineage"),
    Section("deployments", "Deployments"),
    Section("ledger", "Ledger entries"),
    Section("monitoring", "Monitoring"),
)


@dataclass(frozen=True)
class GroupFigures:
    """One group of an analysis: size, whether it is too small to rank, and each rate with its interval."""

    name: str
    count: int
    small: bool
    rates: list[tuple[float | None, float | None, float | None]]


@dataclass(frozen=True)
class AnalysisView:
    """One analysis of a bias audit (a sensitive feature or an intersection) ready to print."""

    name: str
    charts: list[str]
    groups: list[GroupFigures]
    groups_not_charted: int
    verdicts: list[dict[str, Any]]
    disparities: list[tuple[str, float | None, float | None, float | None, float | None]]
    small_groups: list[str]
    min_group_size: int


@dataclass(frozen=True)
class AuditView:
    """A finished bias audit run with its analyses."""

    run: AuditRun
    analyses: list[AnalysisView]


@dataclass(frozen=True)
class VersionHistory:
    """A version with its workflow steps and approval decisions, oldest first."""

    version: ModelVersion
    transitions: list[VersionTransition]
    decisions: list[ApprovalDecision]


@dataclass
class ModelReport:
    """Everything the model report prints, read for one user."""

    model: RegisteredModel
    validators: list[User]
    tags: list[str]
    regulatory_uses: list[str]
    assessment: RiskAssessment | None
    assessments: list[RiskAssessment]
    overrides: list[TierOverride]
    versions: list[VersionHistory]
    versions_total: int
    conditions: list[Finding]
    findings: list[Finding]
    compliance: ComplianceStatus | None
    audits: list[AuditView]
    audits_total: int
    lineage: dict[str, Any]
    deployments: list[dict[str, Any]]
    deployments_total: int
    ledger: list[GovernanceEvent]
    ledger_head_seq: int
    ledger_head_hash: str
    generated_at: dt.datetime = field(default_factory=timezone.now)
    monitoring: dict[str, Any] = field(default_factory=dict)


def _visible_model(user: Any, model: RegisteredModel) -> RegisteredModel:
    found = (
        restrict(user, "view", RegisteredModel.objects.filter(pk=model.pk))
        .select_related("business_unit", "business_owner", "technical_owner")
        .first()
    )
    if found is None:
        # The same answer for a model that does not exist and one the user may not see: no existence leak.
        raise Http404(f"No model {model.key} visible to you.")
    return found


def _analysis_view(name: str, figures: dict[str, Any]) -> AnalysisView:
    intervals = figures.get("intervals", {})
    group_intervals = intervals.get("by_group", {})
    groups = []
    for group, values in figures.get("by_group", {}).items():
        bounds = group_intervals.get(group, {})
        groups.append(
            GroupFigures(
                name=group,
                count=int(values.get("count", 0)),
                small=bool(values.get("small", False)),
                rates=[(values.get(metric), *(bounds.get(metric) or [None, None])) for metric in RATE_METRICS],
            )
        )
    # The largest groups are charted; a table lists all of them.
    charted = sorted(groups, key=lambda group: (-group.count, group.name))[:CHART_GROUPS]
    charted.sort(key=lambda group: group.name)
    charts = []
    for metric, label in CHARTED_RATES:
        index = RATE_METRICS.index(metric)
        charts.append(
            interval_bar_chart(
                [
                    GroupValue(
                        group.name, group.rates[index][0], group.rates[index][1], group.rates[index][2], group.small
                    )
                    for group in charted
                ],
                title=f"{label} by {name} (95% interval)",
            )
        )
    disparity_intervals = intervals.get("disparities", {})
    adequate = figures.get("disparities_adequate_groups", {})
    return AnalysisView(
        name=name,
        charts=charts,
        groups=groups,
        groups_not_charted=len(groups) - len(charted),
        verdicts=[{"metric": metric, **item} for metric, item in figures.get("verdicts", {}).items()],
        disparities=[
            (metric, value, adequate.get(metric), *(disparity_intervals.get(metric) or [None, None])[:2])
            for metric, value in figures.get("disparities", {}).items()
        ],
        small_groups=list(figures.get("small_groups", [])),
        min_group_size=int(figures.get("min_group_size", 0)),
    )


def _audits(user: Any, model: RegisteredModel) -> tuple[list[AuditView], int]:
    runs = audit_run_queryset(user=user).filter(model=model, kind=AuditKind.BIAS, status__in=FINISHED_STATUSES)
    latest = list(runs.order_by("-finished_at", "-id")[:REPORT_AUDITS])
    views = [
        AuditView(
            run=run, analyses=[_analysis_view(name, item) for name, item in run.result.get("analyses", {}).items()]
        )
        for run in latest
    ]
    return views, runs.count()


def _versions(user: Any, model: RegisteredModel) -> tuple[list[VersionHistory], int]:
    versions = restrict(user, "view", ModelVersion.objects.filter(model=model)).select_related(
        "submitted_by", "approved_by"
    )
    shown = versions.order_by("-created_at", "-id").prefetch_related(
        Prefetch(
            "transitions", queryset=VersionTransition.objects.select_related("actor").order_by("created_at", "id")
        ),
        Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("actor").order_by("created_at", "id")),
    )[:REPORT_VERSIONS]
    history = [
        VersionHistory(
            version=version, transitions=list(version.transitions.all()), decisions=list(version.decisions.all())
        )
        for version in shown
    ]
    return history, versions.count()


def _deployments(user: Any, model: RegisteredModel, now: dt.datetime) -> tuple[list[dict[str, Any]], int]:
    deployments = restrict(user, "view", Deployment.objects.filter(version__model=model))
    rows = []
    annotated = (
        deployments.annotate(**deployment_approval_annotations(now=now))
        .select_related("version", "reported_by")
        .order_by("-deployed_at", "-id")[:REPORT_DEPLOYMENTS]
    )
    for deployment in annotated:
        rows.append(
            {
                "version": deployment.version.version,
                "environment": deployment.environment,
                "target": deployment.target,
                "digest": deployment.digest,
                "status": deployment.get_status_display(),
                "deployed_at": deployment.deployed_at,
                "reported_by": deployment.reported_by.username if deployment.reported_by else "",
                "matched_when_reported": deployment.matches_approval,
                "mismatch_now": MISMATCH_LABELS.get(mismatch_reason(deployment) or "", ""),
            }
        )
    return rows, deployments.count()


def model_report_data(*, user: Any, model: RegisteredModel) -> ModelReport:
    """Read everything the report on ``model`` prints, as ``user`` may see it; Http404 if they may not see it."""
    now = timezone.now()
    model = _visible_model(user, model)
    assessments = list(risk_assessment_queryset(user=user).filter(model=model).order_by("-assessed_at", "-id"))
    overrides = list(
        TierOverride.objects.filter(assessment__in=[assessment.pk for assessment in assessments])
        .select_related("assessment", "requested_by", "decided_by")
        .order_by("requested_at", "id")
    )
    findings = list(finding_list_queryset(user=user).filter(model=model).order_by("-created_at", "-id"))
    versions, versions_total = _versions(user, model)
    audits, audits_total = _audits(user, model)
    deployments, deployments_total = _deployments(user, model, now)
    ledger = list(governance_event_queryset(user=user).filter(model=model).order_by("seq"))
    head = LedgerHead.objects.filter(pk=1).first()
    lineage = model_lineage_chain(user=user, key=model.key)
    for version in lineage["versions"]:
        version["approval_label"] = APPROVAL_LABELS.get(version["approval_status"], version["approval_status"])
    for running in lineage["running"]:
        running["mismatch_label"] = MISMATCH_LABELS.get(running["mismatch_reason"] or "", "")
    uses = dict(RegulatoryUse.choices)
    return ModelReport(
        model=model,
        validators=list(model.validators.order_by("username")),
        tags=list(model.tags.order_by("name").values_list("name", flat=True)),
        regulatory_uses=[str(uses.get(use, use)) for use in model.regulatory_uses or []],
        assessment=current_assessment(model=model) if assessments else None,
        assessments=assessments[:REPORT_ASSESSMENTS],
        overrides=overrides,
        versions=versions,
        versions_total=versions_total,
        conditions=[finding for finding in findings if finding.source == FindingSource.APPROVAL_CONDITION],
        findings=[finding for finding in findings if finding.source != FindingSource.APPROVAL_CONDITION],
        compliance=compliance_status_queryset(user=user).filter(model=model).select_related("run").first(),
        audits=audits,
        audits_total=audits_total,
        lineage=lineage,
        deployments=deployments,
        deployments_total=deployments_total,
        ledger=ledger,
        ledger_head_seq=head.seq if head else 0,
        ledger_head_hash=head.hash if head else "",
        generated_at=now,
        monitoring=model_monitoring(model),
    )


def model_report_pdf(*, user: Any, model: RegisteredModel, path: Path) -> None:
    """Write the governance report on ``model`` to ``path`` as a PDF; Http404 if ``user`` may not see the model."""
    report = model_report_data(user=user, model=model)
    render_pdf(
        template="reports/pdf/model_report.html",
        context={"report": report, "metric_labels": [METRIC_LABELS[metric] for metric in RATE_METRICS]},
        path=path,
        title="Model governance report",
        subtitle=f"{report.model.key} {report.model.name}",
        user=user,
        sections=SECTIONS,
        generated_at=report.generated_at,
    )
