"""Serializers of the governance API.

Input serializers (``*Input``) check the shape of a body and resolve references among what the caller may see
(models by key, versions and assessments by id, people by username); the governance services then decide, and
their refusals (segregation of duties, illegal transitions) reach the client as they were worded. Output
serializers (``*Output``) render what the selectors loaded, without further queries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import (
    InputSerializer,
    PersonSerializer,
    StrictCharField,
    VisibleSlugRelatedField,
    detail_url,
    list_url,
)
from core.models import User
from core.selectors import user_queryset
from governance.choices import (
    ApprovalStage,
    AssessmentStatus,
    Decision,
    EventType,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    NotificationKind,
    OverrideStatus,
    QuestionnaireStatus,
    WorkflowAction,
)
from governance.ledger import plain
from governance.models import (
    Finding,
    GovernanceEvent,
    PolicyPack,
    Questionnaire,
    RiskAssessment,
    TierOverride,
    TierPolicy,
)
from governance.selectors import TierChange, VersionWorkflow, risk_assessment_queryset
from inventory.api.serializers import ModelRefSerializer, long_text
from inventory.choices import EUAIActCategory, RiskTier, VersionState
from inventory.models import ModelVersion, RegisteredModel
from inventory.selectors import model_version_queryset, registered_model_queryset
from inventory.validators import LONG_TEXT_MAX

MAX_FINDINGS_PER_STEP = 50
MAX_EVIDENCE_LINKS = 50


def tier_field(**kwargs: Any) -> serializers.IntegerField:
    """A risk tier, 1 (highest risk) to 3.

    Documented as a bounded integer rather than an enum: the schema gives each choice set one name, the
    inventory's ``risk_tier`` already names the tier's, and these fields are called otherwise (``tier``,
    ``computed_tier``, ``effective_tier``).
    """
    kwargs.setdefault("help_text", "1 (highest model risk), 2 or 3.")
    return serializers.IntegerField(min_value=min(RiskTier.values), max_value=max(RiskTier.values), **kwargs)


def api_step_name(step: str) -> str:
    """A workflow step as its endpoint names it: ``start_validation`` is ``.../start-validation/``."""
    return step.replace("_", "-")


# --- building blocks --------------------------------------------------------------------------------------------


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` and nothing else: a decision is never read from ``"yes"``, ``1`` or ``"false"``."""

    default_error_messages = {"invalid": "Give true or false."}

    def to_internal_value(self, data: Any) -> bool:
        """The boolean itself, or a 400 naming the field."""
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class VisibleIdRelatedField(VisibleSlugRelatedField):
    """A reference by id (a version, an assessment), resolved only among the objects the caller may see."""

    default_error_messages = {"invalid": "Give the {noun_lower}'s {slug_name} as a whole number."}

    def __init__(self, model: type[Model], *, selector: Callable[..., QuerySet[Any]], **kwargs: Any) -> None:
        super().__init__(model, selector=selector, slug_field="id", **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        """The visible object with this id, or a 'does not exist' error."""
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid", noun_lower=str(self.model._meta.verbose_name), slug_name="id")
        return super().to_internal_value(str(data))


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JSONObjectField(serializers.DictField):
    """A JSON object whose content a service checks (answers to a questionnaire, a questionnaire definition)."""

    child = serializers.JSONField()


def evidence_links_field(help_text: str) -> serializers.ListField:
    """Optional evidence URLs; the service checks each is an http(s) URL."""
    return serializers.ListField(
        child=StrictCharField(max_length=2000), required=False, max_length=MAX_EVIDENCE_LINKS, help_text=help_text
    )


class GovernanceInput(InputSerializer):
    """Base of every governance body. Governance facts carry their own reason (a comment, a justification, a
    rationale) into the ledger, so the inventory's ``change_reason`` is not accepted here."""

    # Removes the inherited field: DRF drops a parent's declared field that a subclass sets to None.
    change_reason = None  # type: ignore[assignment]


# --- output: questionnaires --------------------------------------------------------------------------------------


class QuestionnaireLinksSerializer(serializers.Serializer):
    """Where to go from a questionnaire version."""

    self = serializers.URLField(read_only=True)
    impact_preview = serializers.URLField(read_only=True)


class QuestionnaireOutputSerializer(serializers.Serializer):
    """A questionnaire version: its questions, options, weights, thresholds and rules, and where it stands."""

    version = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=QuestionnaireStatus.choices, read_only=True)
    definition = serializers.JSONField(
        read_only=True, help_text="Questions with options and points, thresholds, rules."
    )
    notes = serializers.CharField(read_only=True)
    created_by = PersonSerializer(read_only=True, allow_null=True)
    published_by = PersonSerializer(read_only=True, allow_null=True)
    published_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(QuestionnaireLinksSerializer)
    def get_links(self, questionnaire: Questionnaire) -> dict[str, str]:
        """API links of the questionnaire version."""
        return {
            "self": detail_url(self.context, "questionnaire-detail", questionnaire.version),
            "impact_preview": detail_url(self.context, "questionnaire-impact-preview", questionnaire.version),
        }


class TierResultSerializer(serializers.Serializer):
    """A tier with its EU AI Act category."""

    tier = tier_field(read_only=True)
    eu_ai_act_category = serializers.ChoiceField(choices=EUAIActCategory.choices, read_only=True)


class TierChangeSerializer(serializers.Serializer):
    """A model whose tier or EU AI Act category the questionnaire would move, or that must be reassessed."""

    model_key = serializers.CharField(read_only=True)
    model_name = serializers.CharField(read_only=True)
    current = serializers.SerializerMethodField()
    new = serializers.SerializerMethodField()
    problems = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Per question, why the answers no longer fit."
    )

    @extend_schema_field(TierResultSerializer)
    def get_current(self, change: TierChange) -> dict[str, Any]:
        """The model's tier and category now (its effective tier: an approved override counts)."""
        return {"tier": change.current_tier, "eu_ai_act_category": change.current_category}

    @extend_schema_field(TierResultSerializer(allow_null=True))
    def get_new(self, change: TierChange) -> dict[str, Any] | None:
        """What the questionnaire version would give; null when the answers must be given again."""
        if change.new_tier is None:
            return None
        return {"tier": change.new_tier, "eu_ai_act_category": change.new_category}


class ImpactPreviewSerializer(serializers.Serializer):
    """What publishing a questionnaire version would do to the tiers of the models the caller may see."""

    questionnaire_version = serializers.IntegerField(read_only=True)
    assessed_models = serializers.IntegerField(read_only=True, help_text="Models with an approved assessment.")
    would_change_tier = TierChangeSerializer(
        source="changes", many=True, read_only=True, help_text="Models whose tier or EU AI Act category would change."
    )
    needs_reassessment = TierChangeSerializer(
        source="unanswerable", many=True, read_only=True, help_text="Models whose answers do not fit the new questions."
    )


# --- output: assessments and overrides ---------------------------------------------------------------------------


class ReasonSerializer(serializers.Serializer):
    """One thing that drove a tier: an answer's points, the score band, a tier floor or an EU AI Act rule."""

    kind = serializers.CharField(read_only=True, help_text="score, floor, eu_ai_act or answer.")
    text = serializers.CharField(read_only=True)
    question = serializers.CharField(read_only=True, allow_null=True)
    answer = serializers.ListField(child=serializers.CharField(), read_only=True, allow_null=True)
    points = serializers.IntegerField(read_only=True)


class TierOverrideLinksSerializer(serializers.Serializer):
    """Where to go from an override request."""

    self = serializers.URLField(read_only=True)
    assessment = serializers.URLField(read_only=True)


class TierOverrideOutputSerializer(serializers.Serializer):
    """A request to set a tier other than the computed one, with its justification and decision."""

    id = serializers.IntegerField(read_only=True)
    assessment = serializers.IntegerField(source="assessment_id", read_only=True)
    model = ModelRefSerializer(source="assessment.model", read_only=True)
    computed_tier = tier_field(
        source="assessment.computed_tier", read_only=True, help_text="The tier the answers give."
    )
    tier = tier_field(read_only=True, help_text="The tier asked for.")
    status = serializers.ChoiceField(choices=OverrideStatus.choices, read_only=True)
    justification = serializers.CharField(read_only=True)
    requested_by = PersonSerializer(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    decided_by = PersonSerializer(read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decision_comment = serializers.CharField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(TierOverrideLinksSerializer)
    def get_links(self, override: TierOverride) -> dict[str, str]:
        """API links of the override and of its assessment."""
        return {
            "self": detail_url(self.context, "tieroverride-detail", override.pk),
            "assessment": detail_url(self.context, "riskassessment-detail", override.assessment_id),
        }


class RiskAssessmentLinksSerializer(serializers.Serializer):
    """Where to go from an assessment."""

    self = serializers.URLField(read_only=True)
    model = serializers.URLField(read_only=True)
    questionnaire = serializers.URLField(read_only=True)


class RiskAssessmentOutputSerializer(serializers.Serializer):
    """An answered questionnaire: the tier, the EU AI Act category and the reasons, shown together."""

    id = serializers.IntegerField(read_only=True)
    model = ModelRefSerializer(read_only=True)
    questionnaire_version = serializers.IntegerField(source="questionnaire.version", read_only=True)
    answers = serializers.JSONField(read_only=True, help_text="Question id: chosen option value(s).")
    score = serializers.IntegerField(read_only=True)
    computed_tier = tier_field(read_only=True, help_text="The tier the answers give (1 is the highest risk).")
    effective_tier = tier_field(read_only=True, help_text="The computed tier, or an approved override's.")
    eu_ai_act_category = serializers.ChoiceField(choices=EUAIActCategory.choices, read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True, help_text="What drove the result, most important first.")
    rationale = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=AssessmentStatus.choices, read_only=True)
    assessed_by = PersonSerializer(read_only=True)
    assessed_at = serializers.DateTimeField(read_only=True)
    reviewed_by = PersonSerializer(read_only=True, allow_null=True)
    reviewed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    review_comment = serializers.CharField(read_only=True)
    overrides = TierOverrideOutputSerializer(many=True, read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(RiskAssessmentLinksSerializer)
    def get_links(self, assessment: RiskAssessment) -> dict[str, str]:
        """API links of the assessment, its model and its questionnaire version."""
        return {
            "self": detail_url(self.context, "riskassessment-detail", assessment.pk),
            "model": detail_url(self.context, "registeredmodel-detail", assessment.model.key),
            "questionnaire": detail_url(self.context, "questionnaire-detail", assessment.questionnaire.version),
        }


# --- output: policies ---------------------------------------------------------------------------------------------


class PolicyRefSerializer(serializers.Serializer):
    """A tier policy as its pack lists it."""

    id = serializers.IntegerField(read_only=True)
    tier = tier_field(read_only=True)
    revision = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, policy: TierPolicy) -> str:
        """API URL of the policy."""
        return detail_url(self.context, "tierpolicy-detail", policy.pk)


class PolicyPackOutputSerializer(serializers.Serializer):
    """A rule pack (SR 11-7 calendar revalidation, SR 26-2 trigger-based review) and its tier policies."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True, help_text="The installation's rule pack; one is active.")
    tier_policies = PolicyRefSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, pack: PolicyPack) -> str:
        """API URL of the pack."""
        return detail_url(self.context, "policypack-detail", pack.code)


class PackRefSerializer(serializers.Serializer):
    """A rule pack as its policies refer to it."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class TierPolicyLinksSerializer(serializers.Serializer):
    """Where to go from a tier policy."""

    self = serializers.URLField(read_only=True)
    history = serializers.URLField(read_only=True)
    pack = serializers.URLField(read_only=True)


class TierPolicyOutputSerializer(serializers.Serializer):
    """What a model of one tier must go through under one rule pack; ``revision`` rises with every change."""

    id = serializers.IntegerField(read_only=True)
    pack = PackRefSerializer(read_only=True)
    tier = tier_field(read_only=True)
    required_stages = serializers.ListField(
        child=serializers.ChoiceField(choices=ApprovalStage.choices), read_only=True
    )
    required_approvers = serializers.IntegerField(read_only=True)
    revalidation_interval_days = serializers.IntegerField(read_only=True, allow_null=True)
    review_triggers = serializers.ListField(child=serializers.CharField(), read_only=True)
    required_evidence = serializers.ListField(child=serializers.CharField(), read_only=True)
    bias_audit_cadence_days = serializers.IntegerField(read_only=True, allow_null=True)
    bias_thresholds = serializers.DictField(child=serializers.FloatField(), read_only=True)
    revision = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(TierPolicyLinksSerializer)
    def get_links(self, policy: TierPolicy) -> dict[str, str]:
        """API links of the policy, its history and its pack."""
        return {
            "self": detail_url(self.context, "tierpolicy-detail", policy.pk),
            "history": detail_url(self.context, "tierpolicy-history", policy.pk),
            "pack": detail_url(self.context, "policypack-detail", policy.pack.code),
        }


# --- output: findings -----------------------------------------------------------------------------------------------


class VersionRefSerializer(serializers.Serializer):
    """A version as a finding refers to it."""

    id = serializers.IntegerField(read_only=True)
    version = serializers.CharField(read_only=True)


class FindingLinksSerializer(serializers.Serializer):
    """Where to go from a finding."""

    self = serializers.URLField(read_only=True)
    history = serializers.URLField(read_only=True)
    model = serializers.URLField(read_only=True)


class FindingOutputSerializer(serializers.Serializer):
    """A problem or condition on a model, tracked from raised to closed or risk-accepted."""

    id = serializers.IntegerField(read_only=True)
    model = ModelRefSerializer(read_only=True)
    version = VersionRefSerializer(read_only=True, allow_null=True)
    # Declared fields live in the serializer's field map, not as attributes, so this name may shadow DRF's
    # ``Field.source`` without clashing at run time (as the inventory's ``validators`` does).
    source = serializers.ChoiceField(choices=FindingSource.choices, read_only=True)  # type: ignore[assignment]
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    severity = serializers.ChoiceField(choices=FindingSeverity.choices, read_only=True)
    status = serializers.ChoiceField(choices=FindingStatus.choices, read_only=True)
    owner = PersonSerializer(read_only=True)
    due_date = serializers.DateField(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, help_text="Still open and past its due date.")
    evidence_links = serializers.ListField(child=serializers.CharField(), read_only=True)
    raised_by = PersonSerializer(read_only=True, allow_null=True)
    resolution = serializers.CharField(read_only=True, help_text="How it was closed, or why its risk was accepted.")
    resolved_by = PersonSerializer(read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(FindingLinksSerializer)
    def get_links(self, finding: Finding) -> dict[str, str]:
        """API links of the finding, its history and its model."""
        return {
            "self": detail_url(self.context, "finding-detail", finding.pk),
            "history": detail_url(self.context, "finding-history", finding.pk),
            "model": detail_url(self.context, "registeredmodel-detail", finding.model.key),
        }


# --- output: the version workflow ------------------------------------------------------------------------------


class WorkflowVersionSerializer(serializers.Serializer):
    """The version a workflow belongs to, with the tier of its model."""

    id = serializers.IntegerField(read_only=True)
    model = ModelRefSerializer(read_only=True)
    risk_tier = serializers.ChoiceField(
        source="model.risk_tier", choices=RiskTier.choices, read_only=True, allow_null=True
    )
    version = serializers.CharField(read_only=True)
    submitted_by = PersonSerializer(read_only=True, allow_null=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    approved_by = PersonSerializer(read_only=True, allow_null=True)
    approved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    approval_expires_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When revalidation is due; deploying needs a live approval."
    )


class TransitionSerializer(serializers.Serializer):
    """One step of the version through the workflow."""

    action = serializers.ChoiceField(choices=WorkflowAction.choices, read_only=True)
    from_state = serializers.CharField(read_only=True, help_text="A version state, as `state` lists them.")
    to_state = serializers.CharField(read_only=True, help_text="A version state, as `state` lists them.")
    actor = PersonSerializer(read_only=True)
    comment = serializers.CharField(read_only=True)
    at = serializers.DateTimeField(source="created_at", read_only=True)


class DecisionSerializer(serializers.Serializer):
    """A person's decision at one approval stage, with the policy revision it applied."""

    stage = serializers.CharField(read_only=True, help_text="validation or risk_review.")
    decision = serializers.ChoiceField(choices=Decision.choices, read_only=True)
    actor = PersonSerializer(read_only=True)
    comment = serializers.CharField(read_only=True)
    policy_revision = serializers.CharField(read_only=True)
    at = serializers.DateTimeField(source="created_at", read_only=True)


class AppliedPolicySerializer(serializers.Serializer):
    """The active rule pack's policy for the model's tier: the stages and approvers the version needs."""

    pack = serializers.CharField(source="pack.code", read_only=True)
    pack_name = serializers.CharField(source="pack.name", read_only=True)
    tier = tier_field(read_only=True)
    revision = serializers.IntegerField(read_only=True)
    required_stages = serializers.ListField(
        child=serializers.ChoiceField(choices=ApprovalStage.choices), read_only=True
    )
    required_approvers = serializers.IntegerField(read_only=True)
    revalidation_interval_days = serializers.IntegerField(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, policy: TierPolicy) -> str:
        """API URL of the policy (readable by the roles that read policies)."""
        return detail_url(self.context, "tierpolicy-detail", policy.pk)


class ApprovalsSerializer(serializers.Serializer):
    """Risk-review approvals recorded so far against the number the policy requires."""

    so_far = serializers.IntegerField(read_only=True)
    # May shadow DRF's ``Field.required``: declared fields live in the field map, not as attributes.
    required = serializers.IntegerField(read_only=True, allow_null=True)  # type: ignore[assignment]
    approvers = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="Usernames, in order.")


class AvailableActionSerializer(serializers.Serializer):
    """A step the caller may take now, and where to POST it."""

    name = serializers.ChoiceField(
        choices=["submit", "start-validation", "validate", "decide", "withdraw", "deploy", "retire"], read_only=True
    )
    url = serializers.URLField(read_only=True)


class VersionWorkflowLinksSerializer(serializers.Serializer):
    """Where to go from a version's workflow."""

    self = serializers.URLField(read_only=True)
    version = serializers.URLField(read_only=True)
    ledger = serializers.URLField(read_only=True, help_text="The model's ledger entries.")


class VersionWorkflowSerializer(serializers.Serializer):
    """Where a version stands: state, timeline, decisions, findings, the policy, approvals, and what the caller
    may do next (segregation of duties applied: nobody is offered the approval of their own work)."""

    version = WorkflowVersionSerializer(read_only=True)
    state = serializers.ChoiceField(source="version.state", choices=VersionState.choices, read_only=True)
    policy = AppliedPolicySerializer(read_only=True, allow_null=True, help_text="Null while the model has no tier.")
    approvals = serializers.SerializerMethodField()
    timeline = TransitionSerializer(source="transitions", many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    findings = FindingOutputSerializer(many=True, read_only=True)
    available_actions = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    @extend_schema_field(ApprovalsSerializer)
    def get_approvals(self, workflow: VersionWorkflow) -> dict[str, Any]:
        """Approvals so far and required."""
        approvers = workflow.approvers
        return {"so_far": len(approvers), "required": workflow.required_approvers, "approvers": approvers}

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_available_actions(self, workflow: VersionWorkflow) -> list[dict[str, str]]:
        """The caller's next steps with the URL of each."""
        steps = []
        for step in workflow.available_actions:
            name = api_step_name(step)
            steps.append(
                {"name": name, "url": detail_url(self.context, f"versionworkflow-{name}", workflow.version.pk)}
            )
        return steps

    @extend_schema_field(VersionWorkflowLinksSerializer)
    def get_links(self, workflow: VersionWorkflow) -> dict[str, str]:
        """API links of the workflow, the version and the model's ledger."""
        version = workflow.version
        return {
            "self": detail_url(self.context, "versionworkflow-detail", version.pk),
            "version": detail_url(self.context, "modelversion-detail", version.pk),
            "ledger": list_url(self.context, "ledger-list", model=version.model.key),
        }


class ReviewQueueItemSerializer(serializers.Serializer):
    """A version waiting for the caller's validation or risk review."""

    id = serializers.IntegerField(read_only=True)
    model = ModelRefSerializer(read_only=True)
    risk_tier = serializers.ChoiceField(
        source="model.risk_tier", choices=RiskTier.choices, read_only=True, allow_null=True
    )
    version = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=VersionState.choices, read_only=True)
    submitted_by = PersonSerializer(read_only=True, allow_null=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    workflow = serializers.SerializerMethodField()

    def get_workflow(self, version: ModelVersion) -> str:
        """API URL of the version's workflow, where the caller acts."""
        return detail_url(self.context, "versionworkflow-detail", version.pk)


# --- output: ledger, notifications ------------------------------------------------------------------------------------


class LedgerEntrySerializer(serializers.Serializer):
    """One ledger event with every field its hash covers, as they were hashed, so anyone can re-check the chain:
    ``hash`` is SHA-256 over the canonical JSON of the fields from ``seq`` to ``prev_hash``."""

    seq = serializers.IntegerField(read_only=True)
    event_type = serializers.ChoiceField(choices=EventType.choices, read_only=True)
    event_label = serializers.CharField(source="get_event_type_display", read_only=True)
    occurred_at = serializers.SerializerMethodField()
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)
    actor_username = serializers.CharField(read_only=True, help_text="Who did it; empty for the system.")
    model_key = serializers.CharField(read_only=True, help_text="Empty for facts about no one model (a policy).")
    subject_type = serializers.CharField(read_only=True)
    subject_id = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    payload = serializers.JSONField(read_only=True)
    prev_hash = serializers.CharField(read_only=True)
    hash = serializers.CharField(read_only=True)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_occurred_at(self, event: GovernanceEvent) -> str:
        """The time exactly as hashed: UTC with microseconds (``2026-06-30T12:00:00.000000Z``)."""
        value: str = plain(event.occurred_at)
        return value


class LedgerVerificationSerializer(serializers.Serializer):
    """The result of re-computing the whole chain."""

    intact = serializers.BooleanField(read_only=True)
    checked = serializers.IntegerField(read_only=True, help_text="Rows whose hash and link were re-computed.")
    head_seq = serializers.IntegerField(read_only=True)
    head_hash = serializers.CharField(read_only=True)
    first_broken_seq = serializers.IntegerField(read_only=True, allow_null=True)
    problem = serializers.CharField(read_only=True)


class NotificationOutputSerializer(serializers.Serializer):
    """A message to the caller: something to act on, or a decision to know about."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(NotificationKind.values)}.")
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    link = serializers.CharField(read_only=True, help_text="Path of the portal page to act on.")
    created_at = serializers.DateTimeField(read_only=True)
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)


class MarkReadResultSerializer(serializers.Serializer):
    """How many of the given notifications were unread and are now read."""

    marked = serializers.IntegerField(read_only=True)


# --- input ---------------------------------------------------------------------------------------------------------


class EmptyInput(GovernanceInput):
    """A step that needs nothing but the object in the URL; any field given is refused."""


class QuestionnaireCreateInput(GovernanceInput):
    """A new questionnaire version, as data; the service checks the definition and numbers the version."""

    definition = JSONObjectField(
        help_text="questions (id, text, kind, options with value, label, points), tier_thresholds, tier_floors, "
        "eu_ai_act rules."
    )
    title = StrictCharField(required=False, allow_blank=True, max_length=200)
    notes = long_text(help_text="What changed and why.")


class RiskAssessmentCreateInput(GovernanceInput):
    """Answers to the published questionnaire for a model the caller may change."""

    model = VisibleSlugRelatedField(
        RegisteredModel, selector=registered_model_queryset, slug_field="key", help_text="Key of the model."
    )
    answers = JSONObjectField(
        help_text="Question id: option value, or a list of values for multiple-choice questions, e.g. "
        '{"materiality": "high", "annex_iii_areas": ["creditworthiness"]}.'
    )
    rationale = long_text(help_text="The assessor's notes.")


class ReviewInput(GovernanceInput):
    """A Risk Officer's decision comment; rejecting needs one."""

    comment = long_text()


class TierOverrideCreateInput(GovernanceInput):
    """A request to set another tier on an assessment, with a written justification."""

    assessment = VisibleIdRelatedField(
        RiskAssessment, selector=risk_assessment_queryset, help_text="Id of the assessment to override."
    )
    tier = tier_field(help_text="The tier asked for: 1 (highest model risk), 2 or 3.")
    justification = StrictCharField(max_length=LONG_TEXT_MAX, help_text="Why; at least 20 characters.")


class ReasonInput(GovernanceInput):
    """Why the change is made; kept in the ledger."""

    reason = StrictCharField(max_length=LONG_TEXT_MAX)


class TierPolicyUpdateInput(GovernanceInput):
    """Changes to a tier policy (only the fields given change) and the reason, which the ledger keeps."""

    required_stages = serializers.ListField(
        child=serializers.ChoiceField(choices=ApprovalStage.choices),
        required=False,
        max_length=len(ApprovalStage),
        help_text="In order: validation (optional for low tiers), then risk_review.",
    )
    required_approvers = serializers.IntegerField(required=False, help_text="Distinct approvers at risk review.")
    revalidation_interval_days = serializers.IntegerField(required=False, allow_null=True)
    review_triggers = serializers.ListField(child=StrictCharField(), required=False, max_length=50)
    required_evidence = serializers.ListField(child=StrictCharField(), required=False, max_length=50)
    bias_audit_cadence_days = serializers.IntegerField(required=False, allow_null=True)
    bias_thresholds = JSONObjectField(required=False, help_text='Threshold name: number, e.g. {"min_group_size": 30}.')
    reason = StrictCharField(max_length=LONG_TEXT_MAX, help_text="Why the policy changes; kept in the ledger.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A change must change something besides giving a reason."""
        if not set(attrs) - {"reason"}:
            raise serializers.ValidationError({"non_field_errors": ["Give at least one field to change."]})
        return attrs


class CommentInput(GovernanceInput):
    """An optional comment, kept with the transition and in the ledger."""

    comment = long_text()


class RequiredCommentInput(GovernanceInput):
    """A comment that is required: why the version is withdrawn or retired."""

    comment = StrictCharField(max_length=LONG_TEXT_MAX)


class FindingItemInput(GovernanceInput):
    """An issue found at a workflow step; it becomes a finding on the model (owner: the business owner unless
    another person is named)."""

    title = StrictCharField(max_length=200)
    severity = serializers.ChoiceField(choices=FindingSeverity.choices)
    due_date = serializers.DateField(help_text="YYYY-MM-DD")
    description = long_text()
    owner = VisibleSlugRelatedField(
        User, selector=user_queryset, slug_field="username", required=False, help_text="Username of who fixes it."
    )


class ValidateInput(GovernanceInput):
    """The validator's outcome: passed (on to risk review) or failed (rejected), with the issues found."""

    passed = StrictBooleanField()
    comment = StrictCharField(max_length=LONG_TEXT_MAX, help_text="The validation conclusion.")
    findings: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=FindingItemInput(), required=False, max_length=MAX_FINDINGS_PER_STEP
    )


class DecideInput(GovernanceInput):
    """A Risk Officer's decision at risk review; conditions of an approval become findings with due dates."""

    approve = StrictBooleanField()
    comment = StrictCharField(max_length=LONG_TEXT_MAX)
    conditions: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=FindingItemInput(), required=False, max_length=MAX_FINDINGS_PER_STEP
    )


class FindingCreateInput(GovernanceInput):
    """A finding raised by hand on a model the caller may see (Risk Officers and the model's validators)."""

    model = VisibleSlugRelatedField(
        RegisteredModel, selector=registered_model_queryset, slug_field="key", help_text="Key of the model."
    )
    version = VisibleIdRelatedField(
        ModelVersion,
        selector=model_version_queryset,
        required=False,
        allow_null=True,
        help_text="Id of the version it concerns.",
    )
    title = StrictCharField(max_length=200)
    severity = serializers.ChoiceField(choices=FindingSeverity.choices)
    due_date = serializers.DateField(help_text="YYYY-MM-DD")
    description = long_text()
    owner = VisibleSlugRelatedField(
        User,
        selector=user_queryset,
        slug_field="username",
        required=False,
        help_text="Username of who fixes it; the model's business owner when left out.",
    )
    evidence_links = evidence_links_field("http(s) URLs of what shows the problem.")


class StartRemediationInput(GovernanceInput):
    """The owner starts fixing a finding."""

    comment = long_text()
    evidence_links = evidence_links_field("http(s) URLs added to the finding's evidence.")


class CloseInput(GovernanceInput):
    """The second line closes a finding, saying how it was resolved."""

    resolution = StrictCharField(max_length=LONG_TEXT_MAX)
    evidence_links = evidence_links_field("http(s) URLs added to the finding's evidence.")


class AcceptRiskInput(GovernanceInput):
    """A Risk Officer accepts the risk instead of requiring a fix."""

    justification = StrictCharField(max_length=LONG_TEXT_MAX, help_text="Why; at least 20 characters.")


class ReopenInput(GovernanceInput):
    """The second line reopens a closed or accepted finding."""

    reason = StrictCharField(max_length=LONG_TEXT_MAX)


class MarkReadInput(GovernanceInput):
    """Notifications of the caller to mark read; ids of anyone else's are ignored."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=500)
