"""Risk assessments, tier overrides and questionnaire versions.

An assessment is never edited: a reassessment is a new row. A Risk Officer other than the assessor approves it;
its tier (or an approved override's) then becomes the model's tier, and every step is in the ledger.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from core.history import save_with_history
from core.models import User
from core.permissions import user_can
from governance import scoring
from governance.choices import AssessmentStatus, EventType, NotificationKind, OverrideStatus, QuestionnaireStatus
from governance.ledger import ledger_append, ledger_lock
from governance.models import Questionnaire, RiskAssessment, TierOverride
from governance.services.common import clean_comment, require_role_permission
from governance.services.notifications import notify, risk_officers
from inventory.choices import RiskTier
from inventory.models import RegisteredModel

JUSTIFICATION_MIN = 20


def current_questionnaire() -> Questionnaire:
    """The published questionnaire every new assessment answers."""
    questionnaire = Questionnaire.objects.filter(status=QuestionnaireStatus.PUBLISHED).order_by("-version").first()
    if questionnaire is None:
        raise ValidationError({"questionnaire": ["No questionnaire is published yet."]})
    return questionnaire


def _model_link(model: RegisteredModel) -> str:
    return reverse("governance:model", args=[model.key])


@transaction.atomic
def risk_assessment_create(
    *, actor: User, model: RegisteredModel, answers: dict[str, Any], rationale: str = ""
) -> RiskAssessment:
    """Answer the current questionnaire for a model; the result awaits a Risk Officer's review.

    The model's owners and Risk Officers may assess (change permission on the model).
    """
    if not user_can(actor, "change", model):
        raise PermissionDenied(f"You may not assess model {model.key}.")
    rationale = clean_comment(rationale, field="rationale")
    questionnaire = current_questionnaire()
    problems = scoring.validate_answers(questionnaire.definition, answers)
    if problems:
        raise ValidationError({"answers": [f"{question}: {problem}" for question, problem in problems.items()]})
    result = scoring.score_answers(questionnaire.definition, answers)
    now = timezone.now()
    assessment = RiskAssessment.objects.create(
        model=model,
        questionnaire=questionnaire,
        answers=answers,
        score=result.score,
        computed_tier=result.tier,
        eu_ai_act_category=result.eu_ai_act_category,
        reasons=result.reasons_as_data(),
        rationale=rationale,
        assessed_by=actor,
        assessed_at=now,
    )
    ledger_append(
        event_type=EventType.ASSESSMENT_SUBMITTED,
        actor=actor,
        model=model,
        subject=assessment,
        summary=(
            f"{model.key} assessed: score {result.score}, Tier {result.tier}, EU AI Act {result.eu_ai_act_category}"
        ),
        payload={
            "questionnaire_version": questionnaire.version,
            "answers": answers,
            "score": result.score,
            "tier": result.tier,
            "eu_ai_act_category": result.eu_ai_act_category,
            "reasons": [reason.text for reason in result.reasons],
        },
    )
    notify(
        recipients=risk_officers(),
        exclude=[actor],
        kind=NotificationKind.ACTION_REQUIRED,
        title=f"Review the risk assessment of {model.key}",
        body=f"{actor.display_name} assessed {model.key} {model.name}: Tier {result.tier} (score {result.score}).",
        link=_model_link(model),
    )
    return assessment


def effective_tier(assessment: RiskAssessment) -> int:
    """The tier an assessment gives the model: its approved override's, otherwise the computed one."""
    override = assessment.overrides.filter(status=OverrideStatus.APPROVED).order_by("-decided_at").first()
    return override.tier if override else assessment.computed_tier


def _apply_to_model(*, actor: User, assessment: RiskAssessment, reason: str) -> None:
    model = RegisteredModel.objects.select_for_update().get(pk=assessment.model_id)
    model.risk_tier = effective_tier(assessment)
    model.eu_ai_act_category = assessment.eu_ai_act_category
    save_with_history(
        model, actor=actor, reason=reason, update_fields=["risk_tier", "eu_ai_act_category", "updated_at"]
    )


def _check_reviewer(actor: User, requester_id: int, what: str) -> None:
    require_role_permission(actor, RiskAssessment, "review_riskassessment", f"review {what}")
    if actor.pk == requester_id:
        raise PermissionDenied(f"SOD-6: nobody reviews their own {what}; another Risk Officer must decide.")


# Permission checks: each raises PermissionDenied unless ``actor`` may call the service of that name. The service
# makes it first; the pages and the API make it before they read the form or body, so a refused caller gets a 403
# whatever it sent.


def require_risk_assessment_review(actor: User, assessment: RiskAssessment) -> None:
    """Deciding an assessment: a Risk Officer's review permission, and not their own assessment (SOD-6)."""
    _check_reviewer(actor, assessment.assessed_by_id, "risk assessment")


def require_tier_override_request(actor: User, assessment: RiskAssessment) -> None:
    """Asking for another tier: change permission on the assessed model (its owners, Risk Officers)."""
    if not user_can(actor, "change", assessment.model):
        raise PermissionDenied(f"You may not request a tier override for {assessment.model.key}.")


def require_tier_override_decide(actor: User, override: TierOverride) -> None:
    """Deciding an override request: a Risk Officer's review permission, and not their own request (SOD-6)."""
    _check_reviewer(actor, override.requested_by_id, "tier override request")


def require_questionnaire_draft_create(actor: User) -> None:
    """Drafting questionnaire versions: Risk Officers and Admins (the role's add permission)."""
    require_role_permission(actor, Questionnaire, "add_questionnaire", "draft questionnaires")


@transaction.atomic
def risk_assessment_review(
    *, actor: User, assessment: RiskAssessment, approve: bool, comment: str = ""
) -> RiskAssessment:
    """A Risk Officer (not the assessor) approves or rejects an assessment. Approval supersedes the previous
    approved assessment and sets the model's tier and EU AI Act category."""
    ledger_lock()
    assessment = RiskAssessment.objects.select_for_update().select_related("model").get(pk=assessment.pk)
    require_risk_assessment_review(actor, assessment)
    comment = clean_comment(comment, required=not approve)
    if assessment.status != AssessmentStatus.SUBMITTED:
        raise ValidationError(
            {"status": [f"The assessment is already {assessment.get_status_display().lower()}; decide it once."]}
        )
    now = timezone.now()
    model = assessment.model
    if approve:
        RiskAssessment.objects.filter(model=model, status=AssessmentStatus.APPROVED).update(
            status=AssessmentStatus.SUPERSEDED
        )
        assessment.status = AssessmentStatus.APPROVED
    else:
        assessment.status = AssessmentStatus.REJECTED
    assessment.reviewed_by, assessment.reviewed_at, assessment.review_comment = actor, now, comment
    assessment.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    tier = effective_tier(assessment)
    if approve:
        _apply_to_model(actor=actor, assessment=assessment, reason=f"Risk assessment #{assessment.pk} approved")
    ledger_append(
        event_type=EventType.ASSESSMENT_APPROVED if approve else EventType.ASSESSMENT_REJECTED,
        actor=actor,
        model=model,
        subject=assessment,
        summary=f"Assessment of {model.key} {'approved' if approve else 'rejected'}"
        + (f": Tier {tier}, EU AI Act {assessment.eu_ai_act_category}" if approve else ""),
        payload={"tier": tier, "computed_tier": assessment.computed_tier, "comment": comment},
    )
    notify(
        recipients=[assessment.assessed_by, model.business_owner, model.technical_owner],
        exclude=[actor],
        kind=NotificationKind.DECISION,
        title=f"Risk assessment of {model.key} {'approved' if approve else 'rejected'}",
        body=comment,
        link=_model_link(model),
    )
    return assessment


@transaction.atomic
def tier_override_request(*, actor: User, assessment: RiskAssessment, tier: int, justification: str) -> TierOverride:
    """Ask for a tier other than the computed one; needs a written justification and a Risk Officer's approval."""
    ledger_lock()
    assessment = RiskAssessment.objects.select_for_update().select_related("model").get(pk=assessment.pk)
    require_tier_override_request(actor, assessment)
    justification = clean_comment(justification, field="justification", required=True, minimum=JUSTIFICATION_MIN)
    if tier not in RiskTier.values:
        raise ValidationError({"tier": ["Choose tier 1, 2 or 3."]})
    if assessment.status not in {AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED}:
        raise ValidationError({"assessment": ["Only a current assessment can be overridden; reassess the model."]})
    if tier == effective_tier(assessment):
        raise ValidationError({"tier": [f"The assessment already gives Tier {tier}."]})
    if assessment.overrides.filter(status=OverrideStatus.PENDING).exists():
        raise ValidationError({"assessment": ["An override request is already waiting for a decision."]})
    override = TierOverride.objects.create(
        assessment=assessment, tier=tier, justification=justification, requested_by=actor, requested_at=timezone.now()
    )
    model = assessment.model
    ledger_append(
        event_type=EventType.OVERRIDE_REQUESTED,
        actor=actor,
        model=model,
        subject=override,
        summary=f"Tier override requested for {model.key}: Tier {assessment.computed_tier} → Tier {tier}",
        payload={
            "assessment": assessment.pk,
            "from_tier": effective_tier(assessment),
            "to_tier": tier,
            "justification": justification,
        },
    )
    notify(
        recipients=risk_officers(),
        exclude=[actor],
        kind=NotificationKind.ACTION_REQUIRED,
        title=f"Decide a tier override for {model.key}",
        body=justification,
        link=_model_link(model),
    )
    return override


@transaction.atomic
def tier_override_decide(*, actor: User, override: TierOverride, approve: bool, comment: str = "") -> TierOverride:
    """A Risk Officer (not the requester) approves or rejects a tier override; an approved override on the
    model's current assessment changes the model's tier at once."""
    ledger_lock()
    override = TierOverride.objects.select_for_update().select_related("assessment__model").get(pk=override.pk)
    require_tier_override_decide(actor, override)
    comment = clean_comment(comment, required=not approve)
    if override.status != OverrideStatus.PENDING:
        raise ValidationError({"status": [f"The override is already {override.get_status_display().lower()}."]})
    override.status = OverrideStatus.APPROVED if approve else OverrideStatus.REJECTED
    override.decided_by, override.decided_at, override.decision_comment = actor, timezone.now(), comment
    override.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    assessment = override.assessment
    model = assessment.model
    if approve and assessment.status == AssessmentStatus.APPROVED:
        _apply_to_model(actor=actor, assessment=assessment, reason=f"Tier override #{override.pk} approved")
    ledger_append(
        event_type=EventType.OVERRIDE_APPROVED if approve else EventType.OVERRIDE_REJECTED,
        actor=actor,
        model=model,
        subject=override,
        summary=f"Tier override for {model.key} to Tier {override.tier} {'approved' if approve else 'rejected'}",
        payload={"assessment": assessment.pk, "tier": override.tier, "comment": comment},
    )
    notify(
        recipients=[override.requested_by],
        exclude=[actor],
        kind=NotificationKind.DECISION,
        title=f"Tier override for {model.key} {'approved' if approve else 'rejected'}",
        body=comment,
        link=_model_link(model),
    )
    return override


@transaction.atomic
def questionnaire_draft_create(
    *, actor: User, definition: dict[str, Any], title: str = "", notes: str = ""
) -> Questionnaire:
    """Start a new questionnaire version from a definition (questions, options, weights, thresholds, rules)."""
    require_questionnaire_draft_create(actor)
    problems = scoring.validate_definition(definition)
    if problems:
        raise ValidationError({"definition": problems})
    notes = clean_comment(notes, field="notes")
    version = (Questionnaire.objects.aggregate(highest=Max("version"))["highest"] or 0) + 1
    questionnaire = Questionnaire.objects.create(
        version=version,
        title=(title or definition.get("title") or f"Questionnaire v{version}")[:200],
        definition=definition,
        notes=notes,
        created_by=actor,
    )
    ledger_append(
        event_type=EventType.QUESTIONNAIRE_DRAFTED,
        actor=actor,
        subject=questionnaire,
        summary=f"Questionnaire v{version} drafted",
        payload={"version": version, "definition": definition},
    )
    return questionnaire


@transaction.atomic
def questionnaire_publish(*, actor: User, questionnaire: Questionnaire) -> Questionnaire:
    """Publish a draft: new assessments answer it from now on; the previous version is retired. Existing
    assessments keep their version, so nobody's tier moves until they are reassessed."""
    from governance.selectors import questionnaire_impact_preview

    require_role_permission(actor, Questionnaire, "change_questionnaire", "publish questionnaires")
    ledger_lock()
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if questionnaire.status != QuestionnaireStatus.DRAFT:
        raise ValidationError({"status": [f"Questionnaire v{questionnaire.version} is not a draft."]})
    impact = questionnaire_impact_preview(definition=questionnaire.definition)
    Questionnaire.objects.filter(status=QuestionnaireStatus.PUBLISHED).update(status=QuestionnaireStatus.RETIRED)
    questionnaire.status = QuestionnaireStatus.PUBLISHED
    questionnaire.published_by, questionnaire.published_at = actor, timezone.now()
    questionnaire.save(update_fields=["status", "published_by", "published_at", "updated_at"])
    ledger_append(
        event_type=EventType.QUESTIONNAIRE_PUBLISHED,
        actor=actor,
        subject=questionnaire,
        summary=f"Questionnaire v{questionnaire.version} published; {len(impact.changes)} model(s) would change tier",
        payload={
            "version": questionnaire.version,
            "would_change_tier": [change.model_key for change in impact.changes],
            "needs_reassessment": [change.model_key for change in impact.unanswerable],
        },
    )
    return questionnaire
