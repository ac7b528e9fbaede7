"""Governance API v1: questionnaires, risk assessments and overrides, rule packs and tier policies, the version
workflow, findings, the ledger, notifications and the review queue.

Each viewset reads through the governance selectors (what the caller may not see is a 404) and writes through the
governance services, whose refusals keep their wording: a segregation-of-duties refusal is a 403 naming the rule,
an illegal transition a 400 naming the state. Nothing here decides who may do what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import schema
from core.api.serializers import InputSerializer, detail_url
from core.api.viewsets import PortalReadOnlyViewSet, PortalViewSet
from governance import selectors
from governance.api.serializers import (
    AcceptRiskInput,
    CloseInput,
    CommentInput,
    DecideInput,
    EmptyInput,
    FindingCreateInput,
    FindingOutputSerializer,
    ImpactPreviewSerializer,
    LedgerEntrySerializer,
    LedgerVerificationSerializer,
    MarkReadInput,
    MarkReadResultSerializer,
    NotificationOutputSerializer,
    PolicyPackOutputSerializer,
    QuestionnaireCreateInput,
    QuestionnaireOutputSerializer,
    ReasonInput,
    ReopenInput,
    RequiredCommentInput,
    ReviewInput,
    ReviewQueueItemSerializer,
    RiskAssessmentCreateInput,
    RiskAssessmentOutputSerializer,
    StartRemediationInput,
    TierOverrideCreateInput,
    TierOverrideOutputSerializer,
    TierPolicyOutputSerializer,
    TierPolicyUpdateInput,
    ValidateInput,
    VersionWorkflowSerializer,
)
from governance.filtersets import (
    FindingFilterSet,
    GovernanceEventFilterSet,
    NotificationFilterSet,
    RiskAssessmentFilterSet,
    TierOverrideFilterSet,
    TierPolicyFilterSet,
)
from governance.models import (
    Finding,
    GovernanceEvent,
    Notification,
    PolicyPack,
    Questionnaire,
    RiskAssessment,
    TierOverride,
    TierPolicy,
)
from governance.services import assessments, findings, notifications, policies, workflow
from inventory.api.views import HistoryMixin
from inventory.models import ModelVersion
from inventory.selectors import model_version_queryset

REFUSED_BY_SERVICE = "The service's refusal, as worded, in `detail` (for example a segregation-of-duties rule)."


def _created(viewset: PortalViewSet, instance: Model, lookup: Any) -> Response:
    """201 with the new object as a read shows it, and its URL in ``Location``."""
    fresh = viewset.reload(instance)
    url = detail_url(viewset.get_serializer_context(), f"{viewset.basename}-detail", lookup)
    return Response(viewset.output(fresh), status=status.HTTP_201_CREATED, headers={"Location": url})


def _step_responses(output: Any) -> dict[int, Any]:
    """Documented answers of a step on an object: the object after the step, or a refusal."""
    responses = schema.error_responses(*schema.CHANGE_ERRORS)
    responses[403] = OpenApiResponse(response=schema.ErrorSerializer, description=REFUSED_BY_SERVICE)
    return {200: output, **responses}


# --- questionnaires -------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List questionnaire versions",
        description="Newest first. Risk Officers and Auditors see drafts too; anyone who may see a model sees the "
        "published version (the one new assessments answer) and the retired ones.",
        responses={200: QuestionnaireOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One questionnaire version",
        responses={200: QuestionnaireOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Draft a new questionnaire version",
        description="Risk Officers. The definition is checked and the version numbered; publish it to use it.",
        request=QuestionnaireCreateInput,
        responses={
            201: QuestionnaireOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"definition": ["The definition must ..."]}),
        },
    ),
)
class QuestionnaireViewSet(PortalReadOnlyViewSet):
    """Versions of the risk tiering questionnaire, looked up by version number."""

    lookup_field = "version"
    output_serializer_class = QuestionnaireOutputSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Questionnaire]:
        """Versions the caller may read."""
        return selectors.questionnaire_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Draft a version through the service (403 before the body is read for who may not draft)."""
        assessments.require_questionnaire_draft_create(self.actor)
        data = self.read_input(QuestionnaireCreateInput)
        questionnaire = assessments.questionnaire_draft_create(actor=self.actor, **data)
        return _created(self, questionnaire, questionnaire.version)

    @extend_schema(
        summary="Impact preview",
        description="Every approved assessment re-scored with this version: the models whose tier or EU AI Act "
        "category would change, and those whose answers no longer fit (they need a reassessment). Lists only models "
        "the caller may see.",
        responses={200: ImpactPreviewSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    )
    @action(detail=True, methods=["get"], url_path="impact-preview", filter_backends=[], pagination_class=None)
    def impact_preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """What publishing this version would change."""
        questionnaire = self.get_object()
        preview = selectors.questionnaire_impact(user=request.user, questionnaire=questionnaire)
        data = {
            "questionnaire_version": questionnaire.version,
            "assessed_models": preview.assessed_models,
            "changes": preview.changes,
            "unanswerable": preview.unanswerable,
        }
        return Response(ImpactPreviewSerializer(data, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Publish a draft",
        description="Risk Officers. New assessments answer it from now on; the previous version is retired. Existing "
        "tiers stay until their models are reassessed. The body is empty.",
        request=EmptyInput,
        responses=_step_responses(QuestionnaireOutputSerializer),
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Publish through the service."""
        questionnaire = self.get_object()
        self.read_input(EmptyInput)
        published = assessments.questionnaire_publish(actor=self.actor, questionnaire=questionnaire)
        return Response(self.output(self.reload(published)))


# --- risk assessments and tier overrides -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List risk assessments",
        description="Assessments of the models the caller may see, newest first. Filters: `model` (key), `status` "
        "(repeatable).",
        responses={200: RiskAssessmentOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One risk assessment",
        description="With the answers, the reasons for the tier, the questionnaire version and the effective tier.",
        responses={200: RiskAssessmentOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Assess a model",
        description="The model's owners or a Risk Officer answer the published questionnaire; the result waits for "
        "a Risk Officer other than the assessor (SOD-6).",
        request=RiskAssessmentCreateInput,
        responses={
            201: RiskAssessmentOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"answers": ["materiality: Not answered."]}),
        },
    ),
)
class RiskAssessmentViewSet(PortalReadOnlyViewSet):
    """Risk assessments, looked up by id; never edited, a reassessment is a new one."""

    filterset_class = RiskAssessmentFilterSet
    output_serializer_class = RiskAssessmentOutputSerializer

    def get_queryset(self) -> QuerySet[RiskAssessment]:
        """Assessments the caller may see, with their effective tier."""
        return selectors.risk_assessment_list_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Assess through the service."""
        data = self.read_input(RiskAssessmentCreateInput)
        assessment = assessments.risk_assessment_create(actor=self.actor, **data)
        return _created(self, assessment, assessment.pk)

    def _review(self, *, approve: bool) -> Response:
        assessment = self.get_object()
        assessments.require_risk_assessment_review(self.actor, assessment)
        comment = self.read_input(ReviewInput).get("comment", "")
        reviewed = assessments.risk_assessment_review(
            actor=self.actor, assessment=assessment, approve=approve, comment=comment
        )
        return Response(self.output(self.reload(reviewed)))

    @extend_schema(
        summary="Approve an assessment",
        description="A Risk Officer other than the assessor (SOD-6). The model takes the assessment's tier and EU AI "
        "Act category; the previous approved assessment is superseded.",
        request=ReviewInput,
        responses=_step_responses(RiskAssessmentOutputSerializer),
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Approve through the service."""
        return self._review(approve=True)

    @extend_schema(
        summary="Reject an assessment",
        description="A Risk Officer other than the assessor (SOD-6), with a comment saying why.",
        request=ReviewInput,
        responses=_step_responses(RiskAssessmentOutputSerializer),
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reject through the service."""
        return self._review(approve=False)


@extend_schema_view(
    list=extend_schema(
        summary="List tier override requests",
        description="Requests on the assessments the caller may see. Filters: `model` (key), `status` (repeatable; "
        "`pending` is what waits for a Risk Officer).",
        responses={200: TierOverrideOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One tier override request",
        responses={200: TierOverrideOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Request a tier override",
        description="Whoever may change the model asks for another tier with a justification (at least 20 "
        "characters); a Risk Officer other than the requester decides (SOD-6).",
        request=TierOverrideCreateInput,
        responses={201: TierOverrideOutputSerializer, **schema.error_responses(*schema.WRITE_ERRORS)},
    ),
)
class TierOverrideViewSet(PortalReadOnlyViewSet):
    """Tier override requests, looked up by id."""

    filterset_class = TierOverrideFilterSet
    output_serializer_class = TierOverrideOutputSerializer

    def get_queryset(self) -> QuerySet[TierOverride]:
        """Requests the caller may see."""
        return selectors.tier_override_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Request through the service."""
        data = self.read_input(TierOverrideCreateInput)
        override = assessments.tier_override_request(actor=self.actor, **data)
        return _created(self, override, override.pk)

    def _decide(self, *, approve: bool) -> Response:
        override = self.get_object()
        assessments.require_tier_override_decide(self.actor, override)
        comment = self.read_input(ReviewInput).get("comment", "")
        decided = assessments.tier_override_decide(
            actor=self.actor, override=override, approve=approve, comment=comment
        )
        return Response(self.output(self.reload(decided)))

    @extend_schema(
        summary="Approve a tier override",
        description="A Risk Officer other than the requester (SOD-6). On an approved assessment the model's tier "
        "changes at once.",
        request=ReviewInput,
        responses=_step_responses(TierOverrideOutputSerializer),
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Approve through the service."""
        return self._decide(approve=True)

    @extend_schema(
        summary="Reject a tier override",
        description="A Risk Officer other than the requester (SOD-6), with a comment saying why.",
        request=ReviewInput,
        responses=_step_responses(TierOverrideOutputSerializer),
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reject through the service."""
        return self._decide(approve=False)


# --- rule packs and tier policies --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List rule packs",
        description="The packs shipped with the portal (SR 11-7, SR 26-2) and which one is active.",
        responses={200: PolicyPackOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One rule pack by code",
        responses={200: PolicyPackOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
)
class PolicyPackViewSet(PortalReadOnlyViewSet):
    """Rule packs, looked up by code (``sr-11-7``)."""

    lookup_field = "code"
    output_serializer_class = PolicyPackOutputSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[PolicyPack]:
        """Packs the caller may read."""
        return selectors.policy_pack_queryset(user=self.request.user)

    @extend_schema(
        summary="Make this the active rule pack",
        description="Risk Officers, with a reason the ledger keeps. Versions submitted from now on follow its "
        "policies.",
        request=ReasonInput,
        responses=_step_responses(PolicyPackOutputSerializer),
    )
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Activate through the service."""
        pack = self.get_object()
        policies.require_policy_pack_activate(self.actor)
        data = self.read_input(ReasonInput)
        activated = policies.policy_pack_activate(actor=self.actor, pack=pack, reason=data["reason"])
        return Response(self.output(self.reload(activated)))


@extend_schema_view(
    list=extend_schema(
        summary="List tier policies",
        description="Filters: `pack` (code), `tier` (repeatable).",
        responses={200: TierPolicyOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One tier policy",
        responses={200: TierPolicyOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Change a tier policy",
        description="Risk Officers. Only the fields given change; `reason` is required. The revision goes up and "
        "the ledger records the old and new values.",
        request=TierPolicyUpdateInput,
        responses={
            200: TierPolicyOutputSerializer,
            **schema.error_responses(*schema.CHANGE_ERRORS, example={"reason": ["This field is required."]}),
        },
    ),
)
class TierPolicyViewSet(HistoryMixin, PortalReadOnlyViewSet):
    """Tier policies of the rule packs, looked up by id."""

    filterset_class = TierPolicyFilterSet
    output_serializer_class = TierPolicyOutputSerializer

    def get_queryset(self) -> QuerySet[TierPolicy]:
        """Policies the caller may read."""
        return selectors.tier_policy_queryset(user=self.request.user)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change through the service, which checks the whole policy after the change."""
        policy = self.get_object()
        changes = self.read_input(TierPolicyUpdateInput)
        reason = changes.pop("reason")
        updated = policies.tier_policy_update(actor=self.actor, policy=policy, changes=changes, reason=reason)
        return Response(self.output(self.reload(updated)))


# --- the version workflow -------------------------------------------------------------------------------------------


def _workflow_step(summary: str, description: str, request: type[InputSerializer]) -> Callable[[Any], Any]:
    """Schema of a workflow step: its body and the workflow it leaves behind, or the service's refusal."""
    return extend_schema(
        summary=summary,
        description=description + " Answers the version's workflow after the step.",
        request=request,
        responses=_step_responses(VersionWorkflowSerializer),
    )


@extend_schema_view(
    retrieve=extend_schema(
        summary="A version's workflow",
        description="State, timeline of transitions, decisions, findings raised on the version, the policy that "
        "applies to the model's tier, approvals so far and required, and the steps the caller may take now "
        "(segregation of duties applied).",
        responses={200: VersionWorkflowSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
)
class VersionWorkflowViewSet(PortalViewSet):
    """The approval workflow of one model version, looked up by the version's id."""

    lookup_url_kwarg = "version_id"
    output_serializer_class = VersionWorkflowSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ModelVersion]:
        """Versions the caller may see."""
        return model_version_queryset(user=self.request.user)

    def workflow_response(self, version: ModelVersion) -> Response:
        """The version's workflow as the caller sees it, read afresh."""
        fresh = self.get_queryset().get(pk=version.pk)
        flow = selectors.version_workflow(user=self.request.user, version=fresh)
        return Response(self.get_serializer(flow).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The workflow of a visible version (404 otherwise)."""
        return self.workflow_response(self.get_object())

    def step(self, service: Callable[..., Any], input_class: type[InputSerializer]) -> Response:
        """Read the body, call the workflow service on the visible version, answer the workflow after it."""
        version = self.get_object()
        data = self.read_input(input_class)
        service(actor=self.actor, version=version, **data)
        return self.workflow_response(version)

    @_workflow_step(
        "Submit a draft",
        "The model's owners. The model needs an approved tier; the tier's policy decides whether independent "
        "validation comes first.",
        CommentInput,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Submit through the service."""
        return self.step(workflow.version_submit, CommentInput)

    @_workflow_step(
        "Start validation",
        "An independent validator assigned to the model (not its submitter, owners or developer: SOD-1 to SOD-3).",
        CommentInput,
    )
    @action(detail=True, methods=["post"], url_path="start-validation")
    def start_validation(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start validation through the service."""
        return self.step(workflow.version_start_validation, CommentInput)

    @_workflow_step(
        "Record the validation outcome",
        "The validator: `passed` true moves the version to risk review, false rejects it. Each item of `findings` "
        "becomes a finding on the model.",
        ValidateInput,
    )
    @action(detail=True, methods=["post"])
    def validate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Validate through the service."""
        return self.step(workflow.version_validate, ValidateInput)

    @_workflow_step(
        "Decide at risk review",
        "A Risk Officer who is not the submitter, an owner, the developer or the validator (SOD-1 to SOD-4). "
        "Until the policy's number of distinct approvers is reached, an approval is recorded and the version stays "
        "in risk review; nobody decides twice. Each item of `conditions` becomes a finding with its due date.",
        DecideInput,
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Decide through the service."""
        return self.step(workflow.version_decide, DecideInput)

    @_workflow_step(
        "Withdraw from review",
        "The submitter or the model's owners take a submitted, in-validation or in-review version out, saying why.",
        RequiredCommentInput,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Withdraw through the service."""
        return self.step(workflow.version_withdraw, RequiredCommentInput)

    @_workflow_step(
        "Mark deployed",
        "The model's owners or a pipeline scoped to the model; the approval must not have expired.",
        CommentInput,
    )
    @action(detail=True, methods=["post"])
    def deploy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Deploy through the service."""
        return self.step(workflow.version_deploy, CommentInput)

    @_workflow_step(
        "Retire",
        "Whoever may change the model takes an approved or deployed version out of use for good, saying why.",
        RequiredCommentInput,
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Retire through the service."""
        return self.step(workflow.version_retire, RequiredCommentInput)


@extend_schema_view(
    list=extend_schema(
        summary="The caller's review queue",
        description="Versions waiting for the caller: validation of the models they validate, risk review for Risk "
        "Officers; oldest submission first. Versions the caller may not decide (segregation of duties) and those "
        "they already decided are left out.",
        responses={200: ReviewQueueItemSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
)
class ReviewQueueViewSet(mixins.ListModelMixin, PortalViewSet):
    """What waits for the caller's validation or decision."""

    output_serializer_class = ReviewQueueItemSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ModelVersion]:
        """The caller's queue."""
        return selectors.review_queue(user=self.request.user)


# --- findings ------------------------------------------------------------------------------------------------------


def _finding_step(summary: str, description: str, request: type[InputSerializer]) -> Callable[[Any], Any]:
    """Schema of a finding step: its body and the finding after it, or the service's refusal."""
    return extend_schema(
        summary=summary, description=description, request=request, responses=_step_responses(FindingOutputSerializer)
    )


@extend_schema_view(
    list=extend_schema(
        summary="List findings",
        description="Findings on the models the caller may see, soonest due first. Filters: `model` (key), `status`, "
        "`severity`, `source` (each repeatable), `owner` (username), `overdue` (true: open and past due); "
        "`ordering` by due_date, created or updated.",
        responses={200: FindingOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One finding",
        responses={200: FindingOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Raise a finding",
        description="Risk Officers and the model's validators. The owner is the model's business owner unless "
        "another person is named.",
        request=FindingCreateInput,
        responses={
            201: FindingOutputSerializer,
            **schema.error_responses(*schema.WRITE_ERRORS, example={"severity": ['"urgent" is not a valid choice.']}),
        },
    ),
)
class FindingViewSet(HistoryMixin, PortalReadOnlyViewSet):
    """Findings, looked up by id."""

    filterset_class = FindingFilterSet
    output_serializer_class = FindingOutputSerializer

    def get_queryset(self) -> QuerySet[Finding]:
        """Findings the caller may see, each with whether it is overdue."""
        return selectors.finding_list_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Raise through the service."""
        data = self.read_input(FindingCreateInput)
        finding = findings.finding_raise(actor=self.actor, **data)
        return _created(self, finding, finding.pk)

    def step(self, service: Callable[..., Finding], input_class: type[InputSerializer]) -> Response:
        """Read the body, call the finding service on the visible finding, answer the finding after it."""
        finding = self.get_object()
        data = self.read_input(input_class)
        changed = service(actor=self.actor, finding=finding, **data)
        return Response(self.output(self.reload(changed)))

    @_finding_step(
        "Start remediation",
        "The finding's owner or the model's owners, optionally adding evidence links.",
        StartRemediationInput,
    )
    @action(detail=True, methods=["post"], url_path="start-remediation")
    def start_remediation(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start remediation through the service."""
        return self.step(findings.finding_start_remediation, StartRemediationInput)

    @_finding_step(
        "Close",
        "A Risk Officer or a validator of the model, not its owner (SOD-2), saying how it was resolved.",
        CloseInput,
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Close through the service."""
        return self.step(findings.finding_close, CloseInput)

    @_finding_step(
        "Accept the risk",
        "A Risk Officer who does not own the model (SOD-2), with a justification of at least 20 characters.",
        AcceptRiskInput,
    )
    @action(detail=True, methods=["post"], url_path="accept-risk")
    def accept_risk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Accept the risk through the service."""
        return self.step(findings.finding_accept_risk, AcceptRiskInput)

    @_finding_step(
        "Reopen",
        "A Risk Officer or a validator of the model reopens a closed or risk-accepted finding, saying why.",
        ReopenInput,
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reopen through the service."""
        return self.step(findings.finding_reopen, ReopenInput)


# --- ledger, notifications -----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Read the ledger",
        description="Governance events, newest first: everything for Auditors and Risk Officers, the events of the "
        "models they may see for everyone else. Filters: `model` (key), `event_type` (repeatable). Each entry "
        "carries every hashed field, so the chain can be re-checked outside the portal.",
        responses={200: LedgerEntrySerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One ledger event by sequence number",
        responses={200: LedgerEntrySerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
)
class LedgerViewSet(PortalReadOnlyViewSet):
    """The hash-chained ledger of governance facts, looked up by sequence number."""

    lookup_field = "seq"
    filterset_class = GovernanceEventFilterSet
    output_serializer_class = LedgerEntrySerializer

    def get_queryset(self) -> QuerySet[GovernanceEvent]:
        """Events the caller may read, newest first."""
        return selectors.governance_event_queryset(user=self.request.user)

    @extend_schema(
        summary="Verify the chain",
        description="Re-computes every hash and link, as `python manage.py verify_ledger` does. Auditors and Risk "
        "Officers; others get 403.",
        responses={200: LedgerVerificationSerializer, **schema.error_responses(401, 403)},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def verify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Whether the chain is intact and, if not, the first broken row."""
        result = selectors.ledger_verification(user=request.user)
        return Response(LedgerVerificationSerializer(result).data)


@extend_schema_view(
    list=extend_schema(
        summary="The caller's notifications",
        description="Newest first. `unread=true` for what is still unread.",
        responses={200: NotificationOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
)
class NotificationViewSet(mixins.ListModelMixin, PortalViewSet):
    """The caller's own in-app notifications."""

    filterset_class = NotificationFilterSet
    output_serializer_class = NotificationOutputSerializer
    # The schema generator reads the model from here (it calls no selector); requests use get_queryset.
    queryset = Notification.objects.none()

    def get_queryset(self) -> QuerySet[Notification]:
        """The caller's inbox."""
        return selectors.notification_queryset(user=self.request.user)

    @extend_schema(
        summary="Mark notifications read",
        description="Ids of the caller's notifications; ids of anyone else's, or already read, are left alone.",
        request=MarkReadInput,
        responses={200: MarkReadResultSerializer, **schema.error_responses(400, 401)},
    )
    @action(detail=False, methods=["post"], url_path="mark-read", filter_backends=[], pagination_class=None)
    def mark_read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark read through the service."""
        data = self.read_input(MarkReadInput)
        marked = notifications.notification_mark_read(actor=self.actor, notification_ids=data["ids"])
        return Response(MarkReadResultSerializer({"marked": marked}).data)
