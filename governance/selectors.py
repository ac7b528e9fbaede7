"""Reads of governance, each starting from the permission gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core.permissions import restrict
from governance import scoring
from governance.choices import OPEN_FINDING_STATUSES, AssessmentStatus, OverrideStatus
from governance.models import (
    ApprovalDecision,
    Finding,
    GovernanceEvent,
    Notification,
    RiskAssessment,
    TierOverride,
    VersionTransition,
)
from inventory.choices import VersionState
from inventory.models import ModelVersion, RegisteredModel


def risk_assessment_queryset(*, user: Any) -> QuerySet[RiskAssessment]:
    return restrict(user, "view", RiskAssessment.objects.all()).select_related(
        "model", "questionnaire", "assessed_by", "reviewed_by"
    )


def tier_override_queryset(*, user: Any) -> QuerySet[TierOverride]:
    return restrict(user, "view", TierOverride.objects.all()).select_related(
        "assessment__model", "requested_by", "decided_by"
    )


def finding_queryset(*, user: Any) -> QuerySet[Finding]:
    return restrict(user, "view", Finding.objects.all()).select_related(
        "model", "version", "owner", "raised_by", "resolved_by"
    )


def overdue_findings(queryset: QuerySet[Finding]) -> QuerySet[Finding]:
    return queryset.filter(status__in=OPEN_FINDING_STATUSES, due_date__lt=timezone.localdate())


def version_transitions(*, version: ModelVersion) -> QuerySet[VersionTransition]:
    """A version's workflow timeline (the caller has already checked the version is visible)."""
    return version.transitions.select_related("actor").order_by("created_at", "id")


def version_decisions(*, version: ModelVersion) -> QuerySet[ApprovalDecision]:
    return version.decisions.select_related("actor").order_by("created_at", "id")


def governance_event_queryset(*, user: Any) -> QuerySet[GovernanceEvent]:
    """Ledger entries the user may read: everything for roles that see all models (auditors, Risk Officers),
    otherwise the entries of the models they may see."""
    events = GovernanceEvent.objects.select_related("actor").order_by("-seq")
    if user.is_active and (user.is_superuser or user.has_perm("governance.view_governanceevent")):
        return events
    visible = restrict(user, "view", RegisteredModel.objects.all()).values("pk")
    return events.filter(model__in=visible)


def review_queue(*, user: Any) -> QuerySet[ModelVersion]:
    """Versions waiting for this user: validation of the models they validate, risk review for Risk Officers,
    oldest submission first; versions they may not decide (segregation of duties) are left out."""
    versions = ModelVersion.objects.select_related("model", "submitted_by").order_by("submitted_at", "id")
    waiting = Q(pk__in=[])
    validatable = restrict(user, "custom:validate_registeredmodel", RegisteredModel.objects.all()).values("pk")
    waiting |= Q(state__in=[VersionState.SUBMITTED, VersionState.IN_VALIDATION], model__in=validatable)
    if user.is_active and user.has_perm("governance.decide_approval"):
        waiting |= Q(state=VersionState.RISK_REVIEW)
    mine = Q(submitted_by=user) | Q(created_by=user) | Q(model__business_owner=user) | Q(model__technical_owner=user)
    decided = ApprovalDecision.objects.filter(version=OuterRef("pk"), actor=user, stage="risk_review")
    return (
        versions.filter(waiting)
        .exclude(mine)
        .exclude(Q(state=VersionState.RISK_REVIEW) & Q(pk__in=Subquery(decided.values("version"))))
    )


def notification_queryset(*, user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def current_assessment(*, model: RegisteredModel) -> RiskAssessment | None:
    """The model's approved assessment in force (the one its tier comes from)."""
    return (
        model.risk_assessments.filter(status=AssessmentStatus.APPROVED)
        .select_related("questionnaire", "assessed_by", "reviewed_by")
        .order_by("-reviewed_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class TierChange:
    """A model whose tier a questionnaire change would move."""

    model_key: str
    model_name: str
    current_tier: int
    new_tier: int | None
    current_category: str
    new_category: str | None
    problems: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImpactPreview:
    """What publishing a questionnaire definition would do to the models' tiers, before it is published."""

    assessed_models: int
    changes: list[TierChange]
    unanswerable: list[TierChange]


def questionnaire_impact_preview(*, definition: dict[str, Any]) -> ImpactPreview:
    """Re-score every model's approved assessment with ``definition`` and list the models whose tier or EU AI Act
    category would change; models whose answers do not fit the new questions need a reassessment."""
    overrides = TierOverride.objects.filter(assessment=OuterRef("pk"), status=OverrideStatus.APPROVED).order_by(
        "-decided_at"
    )
    current = (
        RiskAssessment.objects.filter(status=AssessmentStatus.APPROVED)
        .annotate(override_tier=Subquery(overrides.values("tier")[:1]))
        .select_related("model")
        .order_by("model__key")
    )
    changes: list[TierChange] = []
    unanswerable: list[TierChange] = []
    count = 0
    for assessment in current.iterator(chunk_size=2000):
        count += 1
        model = assessment.model
        current_tier = assessment.override_tier or assessment.computed_tier
        problems = scoring.validate_answers(definition, assessment.answers)
        if problems:
            unanswerable.append(
                TierChange(model.key, model.name, current_tier, None, assessment.eu_ai_act_category, None, problems)
            )
            continue
        result = scoring.score_answers(definition, assessment.answers)
        # An approved override stands until someone reassesses; compare what the questionnaire itself says.
        if result.tier != assessment.computed_tier or result.eu_ai_act_category != assessment.eu_ai_act_category:
            changes.append(
                TierChange(
                    model.key,
                    model.name,
                    current_tier,
                    result.tier,
                    assessment.eu_ai_act_category,
                    result.eu_ai_act_category,
                )
            )
    return ImpactPreview(assessed_models=count, changes=changes, unanswerable=unanswerable)
