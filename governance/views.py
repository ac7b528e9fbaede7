"""Governance pages: a model's risk tier and approval workflow, the review queue, findings, the ledger, policies and
notifications.

Views only translate HTTP, as in the inventory: reads come from the governance selectors (which start from the
permission gate, so an object the user may not see is a 404), every write is one governance service call, a
service's ValidationError is shown on the form that was sent, and its PermissionDenied becomes the 403 page with
the service's message (the segregation-of-duties rule it applied). A form view asks the service module's permission
check (``require_<service>``) before it reads the form, so a refused user gets the 403 page whatever they sent.
Which buttons a page offers comes from the same checks, so a user is not shown a step the service would refuse; the
service refuses a forged request anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import roles
from core.models import User
from core.permissions import has_model_permission, restrict, user_can
from governance.choices import (
    OPEN_FINDING_STATUSES,
    AssessmentStatus,
    FindingStatus,
    OverrideStatus,
    QuestionnaireStatus,
)
from governance.filtersets import FindingFilterSet, GovernanceEventFilterSet, NotificationFilterSet
from governance.forms import (
    AcceptRiskForm,
    AssessmentForm,
    Button,
    CloseFindingForm,
    DecideForm,
    FindingItemFormSet,
    MarkReadForm,
    OptionalCommentForm,
    OverrideRequestForm,
    PackActivateForm,
    PublishForm,
    ReopenFindingForm,
    RequiredCommentForm,
    ReviewForm,
    StartRemediationForm,
    StepForm,
    TierPolicyForm,
    ValidateForm,
    finding_items,
)
from governance.models import (
    Finding,
    GovernanceEvent,
    PolicyPack,
    Questionnaire,
    RiskAssessment,
    TierOverride,
    TierPolicy,
)
from governance.selectors import (
    current_assessment,
    finding_list_queryset,
    governance_event_queryset,
    ledger_verification,
    notification_queryset,
    policy_pack_queryset,
    questionnaire_impact,
    questionnaire_queryset,
    review_queue,
    risk_assessment_list_queryset,
    risk_assessment_queryset,
    tier_override_queryset,
    tier_policy_queryset,
    version_workflow,
)
from governance.services import assessments, bulk, findings, notifications, policies, workflow
from inventory.choices import VersionState
from inventory.forms import add_service_errors, person_label
from inventory.models import ModelVersion, RegisteredModel
from inventory.selectors import (
    model_version_queryset,
    object_history,
    registered_model_get,
    registered_model_queryset,
)
from inventory.views import PAGE_SIZE_CHOICES, page_size, signed_in

# Newest ledger entries and findings shown on a model's page; the full lists are a link away.
MODEL_PAGE_LEDGER_ROWS = 25
MODEL_PAGE_FINDING_ROWS = 50
# Workflow steps offered in the review queue: the reviewing ones (withdrawing is done from the model's page).
# The queue only lists versions this user may act on next (review_queue applies the permissions and
# segregation of duties in one query), so each row's step follows from its state alone.
QUEUE_STEP_BY_STATE = {
    VersionState.SUBMITTED: "start_validation",
    VersionState.IN_VALIDATION: "validate",
    VersionState.RISK_REVIEW: "decide",
}
FINDINGS_PREFIX = "findings"


# --- helpers ---------------------------------------------------------------------------------------------------


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a step: the page the form was on, if it is one of ours."""
    candidate = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _page(request: HttpRequest, rows: QuerySet[Any]) -> dict[str, Any]:
    """A page of ``rows`` as the pagination include expects it, with the rows-per-page choice."""
    per_page = page_size(request.GET.get("per_page"))
    page: Page[Any] = Paginator(rows, per_page).get_page(request.GET.get("page"))
    return {
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "per_page": per_page,
        "page_size_choices": sorted({*PAGE_SIZE_CHOICES, per_page}),
    }


def _checkbox_filters(form: forms.Form, *names: str) -> None:
    """Show multiple-choice filters as groups of checkboxes; the fields, and so the validation, stay the API's."""
    for name in names:
        choices = list(form.fields[name].choices)  # type: ignore[attr-defined]
        form.fields[name].widget = forms.CheckboxSelectMultiple(choices=choices)


def _action_page(
    request: HttpRequest,
    *,
    title: str,
    subject: str,
    back_url: str,
    action_url: str,
    form: forms.Form,
    formset: forms.BaseFormSet | None = None,
    formset_label: str = "",
) -> HttpResponse:
    """A refused step shown again on a page of its own, with the service's or the form's errors (status 400)."""
    context = {
        "title": title,
        "subject": subject,
        "back_url": back_url,
        "action_url": action_url,
        "form": form,
        "formset": formset,
        "formset_label": formset_label,
        "next_url": _next_url(request, back_url),
    }
    return render(request, "governance/action_page.html", context, status=400)


@dataclass
class StepView:
    """A step the user may take, with its form ready to render."""

    name: str
    label: str
    url: str
    form: StepForm
    formset: forms.BaseFormSet | None = None
    formset_label: str = ""


# --- version workflow steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionStep:
    """How one workflow step is asked for on a page and which service takes it."""

    label: str
    done: str
    form_class: type[StepForm]
    run: Callable[[User, ModelVersion, dict[str, Any], list[dict[str, Any]]], ModelVersion]
    findings_label: str = ""


def _submit(actor: User, version: ModelVersion, data: dict[str, Any], items: list[dict[str, Any]]) -> ModelVersion:
    return workflow.version_submit(actor=actor, version=version, comment=data["comment"])


def _start_validation(
    actor: User, version: ModelVersion, data: dict[str, Any], items: list[dict[str, Any]]
) -> ModelVersion:
    return workflow.version_start_validation(actor=actor, version=version, comment=data["comment"])


def _validate(actor: User, version: ModelVersion, data: dict[str, Any], items: list[dict[str, Any]]) -> ModelVersion:
    passed = data["outcome"] == "passed"
    return workflow.version_validate(
        actor=actor, version=version, passed=passed, comment=data["comment"], findings=items
    )


def _decide(actor: User, version: ModelVersion, data: dict[str, Any], items: list[dict[str, Any]]) -> ModelVersion:
    approve = data["outcome"] == "approve"
    return workflow.version_decide(
        actor=actor, version=version, approve=approve, comment=data["comment"], conditions=items
    )


def _withdraw(actor: User, version: ModelVersion, data: dict[str, Any], items: list[dict[str, Any]]) -> ModelVersion:
    return workflow.version_withdraw(actor=actor, version=version, comment=data["comment"])


def _deploy(actor: User, version: ModelVersion, data: dict[str, Any], items: list[dict[str, Any]]) -> ModelVersion:
    return workflow.version_deploy(actor=actor, version=version, comment=data["comment"])


def _retire(actor: User, version: ModelVersion, data: dict[str, Any], items: list[dict[str, Any]]) -> ModelVersion:
    return workflow.version_retire(actor=actor, version=version, comment=data["comment"])


VERSION_STEPS: dict[str, VersionStep] = {
    "submit": VersionStep("Submit for approval", "Submitted.", OptionalCommentForm, _submit),
    "start_validation": VersionStep("Start validation", "Validation started.", OptionalCommentForm, _start_validation),
    "validate": VersionStep(
        "Record the validation outcome",
        "Validation outcome recorded.",
        ValidateForm,
        _validate,
        findings_label="Issues found (optional): each becomes a finding owned by the business owner",
    ),
    "decide": VersionStep(
        "Approve or reject",
        "Decision recorded.",
        DecideForm,
        _decide,
        findings_label="Conditions of approval (optional): each becomes a finding with its due date",
    ),
    "withdraw": VersionStep("Withdraw", "Withdrawn.", RequiredCommentForm, _withdraw),
    "deploy": VersionStep("Mark deployed", "Marked deployed.", OptionalCommentForm, _deploy),
    "retire": VersionStep("Retire", "Retired.", RequiredCommentForm, _retire),
}


def _version_step_view(version: ModelVersion, name: str, data: Any = None) -> StepView:
    step = VERSION_STEPS[name]
    # Ids carry the step and the version: a page shows the forms of several versions and steps at once.
    auto_id = f"id_{name}_{version.pk}_%s"
    form = step.form_class(data, auto_id=auto_id, buttons=(Button(step.label),))
    formset = None
    if step.findings_label:
        # Finding rows are optional: a request without them (from a script, say) simply raises none.
        rows = data if data is None or f"{FINDINGS_PREFIX}-TOTAL_FORMS" in data else None
        formset = FindingItemFormSet(rows, prefix=FINDINGS_PREFIX, auto_id=auto_id)
    url = reverse("governance:version-step", args=[version.pk, name])
    return StepView(name, step.label, url, form, formset, step.findings_label)


@login_required
@require_POST
def version_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Take one workflow step on a version (submit, validate, decide, withdraw, deploy, retire...)."""
    user = signed_in(request)
    if step not in VERSION_STEPS:
        raise Http404("No such workflow step.")
    version = get_object_or_404(model_version_queryset(user=user).select_related("model"), pk=pk)
    view = _version_step_view(version, step, request.POST)
    back_url = reverse("governance:model", args=[version.model.key])
    rows = view.formset if view.formset is not None and view.formset.is_bound else None
    if view.form.is_valid() and (rows is None or rows.is_valid()):
        items = finding_items(rows) if rows is not None else []
        try:
            version = VERSION_STEPS[step].run(user, version, view.form.cleaned_data, items)
        except ValidationError as error:
            add_service_errors(view.form, error)
        else:
            messages.success(
                request,
                f"{VERSION_STEPS[step].done} {version.model.key} v{version.version} is now "
                f"{version.get_state_display().lower()}.",
            )
            return redirect(_next_url(request, back_url))
    return _action_page(
        request,
        title=f"{view.label}: {version.model.key} v{version.version}",
        subject=f"{version.model.name}, version {version.version} ({version.get_state_display().lower()})",
        back_url=back_url,
        action_url=view.url,
        form=view.form,
        formset=view.formset,
        formset_label=view.formset_label,
    )


# --- assessments and overrides ---------------------------------------------------------------------------------


def _may_review(user: User, requester_id: int) -> bool:
    """Whether the user may decide an assessment or override that someone else asked for: a Risk Officer's review
    permission, and not their own request (the services' SOD-6 check)."""
    return user.is_active and user.has_perm("governance.review_riskassessment") and user.pk != requester_id


def _may_request_override(user: User, assessment: RiskAssessment) -> bool:
    """Whether the page offers an override request on this assessment: the user may change the model, the
    assessment is current and no request on it waits for a decision (as ``tier_override_request`` checks)."""
    pending = any(override.status == OverrideStatus.PENDING for override in assessment.overrides.all())
    current = assessment.status in {AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED}
    return current and not pending and user_can(user, "change", assessment.model)


@dataclass
class AssessmentRow:
    """An assessment with the forms the user may send about it: review it, request an override of its tier, or
    decide the override request waiting on it (there is at most one)."""

    assessment: RiskAssessment
    review: ReviewForm | None = None
    override_request: OverrideRequestForm | None = None
    pending_override: TierOverride | None = None
    override_decision: ReviewForm | None = None

    @property
    def override_url(self) -> str:
        """Where an override request on this assessment is sent."""
        return reverse("governance:override-request", args=[self.assessment.pk])

    @property
    def awaiting(self) -> bool:
        """Whether a Risk Officer's decision is awaited: on the assessment itself or on an override of it."""
        return self.assessment.status == AssessmentStatus.SUBMITTED or self.pending_override is not None


def _assessment_row(user: User, assessment: RiskAssessment) -> AssessmentRow:
    row = AssessmentRow(assessment)
    if assessment.status == AssessmentStatus.SUBMITTED and _may_review(user, assessment.assessed_by_id):
        row.review = ReviewForm(auto_id=f"id_review_{assessment.pk}_%s")
    if _may_request_override(user, assessment):
        row.override_request = OverrideRequestForm(auto_id=f"id_override_{assessment.pk}_%s")
    row.pending_override = next(
        (override for override in assessment.overrides.all() if override.status == OverrideStatus.PENDING), None
    )
    if row.pending_override is not None and _may_review(user, row.pending_override.requested_by_id):
        row.override_decision = ReviewForm(auto_id=f"id_override_decide_{row.pending_override.pk}_%s")
    return row


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assessment_create(request: HttpRequest, key: str) -> HttpResponse:
    """Answer the published questionnaire for a model (its owners and Risk Officers)."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    if not user_can(user, "change", model):
        raise PermissionDenied(f"You may read {model.key} but not assess it: its owners and Risk Officers do.")
    questionnaire = questionnaire_queryset(user=user).filter(status=QuestionnaireStatus.PUBLISHED).first()
    form = AssessmentForm(request.POST or None, questionnaire=questionnaire) if questionnaire else None
    context = {"model": model, "questionnaire": questionnaire, "form": form}
    if request.method == "POST":
        if form is not None and form.is_valid():
            try:
                assessment = assessments.risk_assessment_create(
                    actor=user, model=model, answers=form.answers(), rationale=form.cleaned_data["rationale"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Assessment of {model.key} recorded: score {assessment.score}, Tier {assessment.computed_tier}. "
                    "It takes effect when a Risk Officer approves it.",
                )
                return redirect("governance:model", key=model.key)
        return render(request, "governance/assessment_form.html", context, status=400)
    return render(request, "governance/assessment_form.html", context)


@login_required
@require_POST
def assessment_review(request: HttpRequest, pk: int) -> HttpResponse:
    """A Risk Officer approves or rejects a risk assessment."""
    user = signed_in(request)
    assessment = get_object_or_404(risk_assessment_queryset(user=user), pk=pk)
    assessments.require_risk_assessment_review(user, assessment)
    model = assessment.model
    back_url = reverse("governance:model", args=[model.key])
    form = ReviewForm(request.POST, auto_id=f"id_review_{assessment.pk}_%s")
    if form.is_valid():
        approve = form.cleaned_data["outcome"] == "approve"
        try:
            assessments.risk_assessment_review(
                actor=user, assessment=assessment, approve=approve, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            verdict = "approved" if approve else "rejected"
            messages.success(request, f"The risk assessment of {model.key} is {verdict}.")
            return redirect(_next_url(request, back_url))
    return _action_page(
        request,
        title=f"Review the risk assessment of {model.key}",
        subject=f"Assessed by {assessment.assessed_by.username}: score {assessment.score}, "
        f"Tier {assessment.computed_tier}",
        back_url=back_url,
        action_url=reverse("governance:assessment-review", args=[assessment.pk]),
        form=form,
    )


@login_required
@require_POST
def override_request(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for another tier than an assessment computed, with a justification."""
    user = signed_in(request)
    assessment = get_object_or_404(risk_assessment_queryset(user=user), pk=pk)
    assessments.require_tier_override_request(user, assessment)
    model = assessment.model
    back_url = reverse("governance:model", args=[model.key])
    form = OverrideRequestForm(request.POST, auto_id=f"id_override_{assessment.pk}_%s")
    if form.is_valid():
        try:
            assessments.tier_override_request(
                actor=user,
                assessment=assessment,
                tier=form.cleaned_data["tier"],
                justification=form.cleaned_data["justification"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Tier override for {model.key} requested; a Risk Officer decides it.")
            return redirect(_next_url(request, back_url))
    return _action_page(
        request,
        title=f"Request a tier override for {model.key}",
        subject=f"Assessment #{assessment.pk} computed Tier {assessment.computed_tier}",
        back_url=back_url,
        action_url=reverse("governance:override-request", args=[assessment.pk]),
        form=form,
    )


@login_required
@require_POST
def override_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A Risk Officer approves or rejects a tier override request."""
    user = signed_in(request)
    override = get_object_or_404(tier_override_queryset(user=user), pk=pk)
    assessments.require_tier_override_decide(user, override)
    model = override.assessment.model
    back_url = reverse("governance:model", args=[model.key])
    form = ReviewForm(request.POST, auto_id=f"id_override_decide_{override.pk}_%s")
    if form.is_valid():
        approve = form.cleaned_data["outcome"] == "approve"
        try:
            assessments.tier_override_decide(
                actor=user, override=override, approve=approve, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            verdict = "approved" if approve else "rejected"
            messages.success(request, f"The tier override for {model.key} is {verdict}.")
            return redirect(_next_url(request, back_url))
    return _action_page(
        request,
        title=f"Decide the tier override for {model.key}",
        subject=f"Tier {override.tier} requested by {override.requested_by.username}",
        back_url=back_url,
        action_url=reverse("governance:override-decide", args=[override.pk]),
        form=form,
    )


# --- a model's governance page ---------------------------------------------------------------------------------


@dataclass
class VersionPanel:
    """A version's workflow and the steps the user may take on it."""

    workflow: Any
    steps: list[StepView]


@login_required
@require_safe
def model_governance(request: HttpRequest, key: str) -> HttpResponse:
    """A model's governance: tier and reasons, assessment history, versions with their workflow, findings, and
    the model's ledger entries."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    history = risk_assessment_list_queryset(user=user).filter(model=model).order_by("-assessed_at", "-id")
    rows = [_assessment_row(user, assessment) for assessment in history]
    in_force = current_assessment(model=model)
    current_row = next((row for row in rows if in_force is not None and row.assessment.pk == in_force.pk), None)
    versions = (
        model_version_queryset(user=user)
        .filter(model=model)
        .select_related("model", "created_by", "submitted_by", "approved_by")
        .order_by("-created_at", "-id")
    )
    panels = []
    for version in versions:
        flow = version_workflow(user=user, version=version)
        panels.append(VersionPanel(flow, [_version_step_view(version, name) for name in flow.available_actions]))
    model_findings = finding_list_queryset(user=user).filter(model=model).order_by("due_date", "id")
    context = {
        "model": model,
        "current_row": current_row,
        "assessment_rows": rows,
        "pending_rows": [row for row in rows if row.awaiting],
        "can_assess": user_can(user, "change", model),
        "versions": panels,
        "findings": model_findings[:MODEL_PAGE_FINDING_ROWS],
        "finding_count": model_findings.count(),
        "events": governance_event_queryset(user=user).filter(model=model)[:MODEL_PAGE_LEDGER_ROWS],
        "today": timezone.localdate(),
    }
    return render(request, "governance/model_governance.html", context)


# --- review queue ----------------------------------------------------------------------------------------------


@dataclass
class QueueRow:
    """A version waiting for the user, with the reviewing steps they may take on it."""

    version: ModelVersion
    steps: list[StepView]


@login_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    """What waits for me: versions to validate or decide, oldest submission first; and, for Risk Officers, the
    risk assessments and tier overrides awaiting a decision."""
    user = signed_in(request)
    paging = _page(request, review_queue(user=user))
    rows = []
    for version in paging["page_obj"]:
        rows.append(QueueRow(version, [_version_step_view(version, QUEUE_STEP_BY_STATE[version.state])]))
    reviewer = user.has_perm("governance.review_riskassessment")
    waiting_assessments: list[AssessmentRow] = []
    waiting_overrides: list[tuple[TierOverride, ReviewForm | None]] = []
    if reviewer:
        submitted = risk_assessment_list_queryset(user=user).filter(status=AssessmentStatus.SUBMITTED)
        waiting_assessments = [_assessment_row(user, row) for row in submitted.order_by("assessed_at", "id")]
        pending = tier_override_queryset(user=user).filter(status=OverrideStatus.PENDING)
        waiting_overrides = [
            (
                override,
                ReviewForm(auto_id=f"id_override_decide_{override.pk}_%s")
                if _may_review(user, override.requested_by_id)
                else None,
            )
            for override in pending.order_by("requested_at", "id")
        ]
    context = {
        **paging,
        "rows": rows,
        "reviewer": reviewer,
        "waiting_assessments": waiting_assessments,
        "waiting_overrides": waiting_overrides,
        "now": timezone.now(),
    }
    return render(request, "governance/queue.html", context)


# --- findings --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingStep:
    """How one finding step is asked for and which service takes it."""

    label: str
    done: str
    form_class: type[StepForm]
    run: Callable[[User, Finding, dict[str, Any]], Finding]


FINDING_STEPS: dict[str, FindingStep] = {
    "start_remediation": FindingStep(
        "Start remediation",
        "Remediation started.",
        StartRemediationForm,
        lambda actor, finding, data: findings.finding_start_remediation(actor=actor, finding=finding, **data),
    ),
    "close": FindingStep(
        "Close",
        "Finding closed.",
        CloseFindingForm,
        lambda actor, finding, data: findings.finding_close(actor=actor, finding=finding, **data),
    ),
    "accept_risk": FindingStep(
        "Accept the risk",
        "Risk accepted.",
        AcceptRiskForm,
        lambda actor, finding, data: findings.finding_accept_risk(actor=actor, finding=finding, **data),
    ),
    "reopen": FindingStep(
        "Reopen",
        "Finding reopened.",
        ReopenFindingForm,
        lambda actor, finding, data: findings.finding_reopen(actor=actor, finding=finding, **data),
    ),
}


def _finding_steps(user: User, finding: Finding) -> list[str]:
    """The finding steps the user may take now, by the checks the findings services make: the finding's owner
    or the model's owners remediate; the second line (a Risk Officer or a validator of the model, never its
    owner) closes and reopens; a Risk Officer who does not own the model accepts a risk."""
    model = finding.model
    owns_model = user.pk in {model.business_owner_id, model.technical_owner_id}
    may_validate = restrict(user, "custom:validate_registeredmodel", RegisteredModel.objects.filter(pk=model.pk))
    second_line = not owns_model and (user.has_perm("governance.change_finding") or may_validate.exists())
    is_open = finding.status in OPEN_FINDING_STATUSES
    steps = []
    if finding.status == FindingStatus.OPEN and (finding.owner_id == user.pk or user_can(user, "change", model)):
        steps.append("start_remediation")
    if is_open and second_line:
        steps.append("close")
    if is_open and not owns_model and user.has_perm("governance.accept_risk_finding"):
        steps.append("accept_risk")
    if not is_open and second_line:
        steps.append("reopen")
    return steps


def _finding_step_view(finding: Finding, name: str, data: Any = None) -> StepView:
    step = FINDING_STEPS[name]
    form = step.form_class(data, auto_id=f"id_{name}_{finding.pk}_%s", buttons=(Button(step.label),))
    return StepView(name, step.label, reverse("governance:finding-step", args=[finding.pk, name]), form)


@login_required
@require_safe
def finding_list(request: HttpRequest) -> HttpResponse:
    """Findings the user may see, filtered (status, severity, source, overdue, model, owner) and paged."""
    user = signed_in(request)
    filterset = FindingFilterSet(request.GET, queryset=finding_list_queryset(user=user), request=request)
    _checkbox_filters(filterset.form, "status", "severity", "source")
    filterset.form.fields["overdue"].widget = forms.Select(
        choices=[("", "Any"), ("true", "Overdue only"), ("false", "Not overdue")]
    )
    valid = filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    context = {
        **_page(request, rows),
        "form": filterset.form,
        "filters_valid": valid,
        "today": timezone.localdate(),
    }
    return render(request, "governance/finding_list.html", context)


@login_required
@require_safe
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A finding with its field history, its ledger entries and the steps the user may take."""
    user = signed_in(request)
    finding = get_object_or_404(finding_list_queryset(user=user), pk=pk)
    events = governance_event_queryset(user=user).filter(subject_type="finding", subject_id=str(finding.pk))
    context = {
        "finding": finding,
        "history": object_history(obj=finding),
        "events": events,
        "steps": [_finding_step_view(finding, name) for name in _finding_steps(user, finding)],
    }
    return render(request, "governance/finding_detail.html", context)


@login_required
@require_POST
def finding_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Take one step on a finding: start remediation, close, accept the risk, reopen."""
    user = signed_in(request)
    if step not in FINDING_STEPS:
        raise Http404("No such finding step.")
    finding = get_object_or_404(finding_list_queryset(user=user), pk=pk)
    view = _finding_step_view(finding, step, request.POST)
    back_url = reverse("governance:finding-detail", args=[finding.pk])
    if view.form.is_valid():
        try:
            FINDING_STEPS[step].run(user, finding, view.form.cleaned_data)
        except ValidationError as error:
            add_service_errors(view.form, error)
        else:
            messages.success(request, FINDING_STEPS[step].done)
            return redirect(_next_url(request, back_url))
    return _action_page(
        request,
        title=f"{view.label}: finding #{finding.pk}",
        subject=f"{finding.model.key}: {finding.title} ({finding.get_status_display().lower()})",
        back_url=back_url,
        action_url=view.url,
        form=view.form,
    )


# --- ledger ----------------------------------------------------------------------------------------------------


@login_required
@require_safe
def ledger(request: HttpRequest) -> HttpResponse:
    """The ledger, newest first, filtered by model and event type: all of it for Auditors and Risk Officers, the
    entries of their own models for everyone else. ``?verify=1`` re-computes the whole chain."""
    user = signed_in(request)
    filterset = GovernanceEventFilterSet(request.GET, queryset=governance_event_queryset(user=user), request=request)
    _checkbox_filters(filterset.form, "event_type")
    valid = filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    verification = ledger_verification(user=user) if request.GET.get("verify") else None
    context = {
        **_page(request, rows),
        "form": filterset.form,
        "filters_valid": valid,
        "can_verify": has_model_permission(user, GovernanceEvent, "view"),
        "verification": verification,
    }
    return render(request, "governance/ledger.html", context)


# --- policies and questionnaires -------------------------------------------------------------------------------


def _policies_context(user: User, pack_form: PackActivateForm | None = None) -> dict[str, Any]:
    packs = list(policy_pack_queryset(user=user))
    can_switch = has_model_permission(user, PolicyPack, "change")
    inactive = policy_pack_queryset(user=user).filter(is_active=False)
    return {
        "active_pack": next((pack for pack in packs if pack.is_active), None),
        "other_packs": [pack for pack in packs if not pack.is_active],
        "can_edit_policies": has_model_permission(user, TierPolicy, "change"),
        "pack_form": (pack_form or PackActivateForm(packs=inactive)) if can_switch else None,
        "questionnaires": questionnaire_queryset(user=user),
    }


@login_required
@require_safe
def policy_list(request: HttpRequest) -> HttpResponse:
    """The active rule pack and each tier's policy, the other packs, and the questionnaire versions."""
    return render(request, "governance/policies.html", _policies_context(signed_in(request)))


@login_required
@require_POST
def pack_activate(request: HttpRequest) -> HttpResponse:
    """Switch the installation's rule pack (Risk Officers)."""
    user = signed_in(request)
    policies.require_policy_pack_activate(user)
    form = PackActivateForm(request.POST, packs=policy_pack_queryset(user=user))
    if form.is_valid():
        try:
            pack = policies.policy_pack_activate(
                actor=user, pack=form.cleaned_data["pack"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{pack.name} is now the active rule pack.")
            return redirect("governance:policies")
    return render(request, "governance/policies.html", _policies_context(user, form), status=400)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tier_policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a tier policy with a reason (Risk Officers); the revision goes up and the ledger keeps old and new."""
    user = signed_in(request)
    policy = get_object_or_404(tier_policy_queryset(user=user), pk=pk)
    if not has_model_permission(user, TierPolicy, "change"):
        raise PermissionDenied("You may read tier policies but not change them: Risk Officers do.")
    form = TierPolicyForm(request.POST or None, policy=policy)
    context = {"policy": policy, "form": form, "history": object_history(obj=policy, limit=10)}
    if request.method == "POST":
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, "Nothing was changed, so nothing was recorded.")
                return redirect("governance:policies")
            try:
                policy = policies.tier_policy_update(
                    actor=user, policy=policy, changes=changes, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{policy} saved; the ledger records the change and your reason.")
                return redirect("governance:policies")
        return render(request, "governance/tier_policy_form.html", context, status=400)
    return render(request, "governance/tier_policy_form.html", context)


@login_required
@require_safe
def questionnaire_detail(request: HttpRequest, version: int) -> HttpResponse:
    """A questionnaire version's questions, options and rules; for a draft, the models whose tier it would change
    and, for Risk Officers, the publish button."""
    user = signed_in(request)
    questionnaire = get_object_or_404(questionnaire_queryset(user=user), version=version)
    draft = questionnaire.status == QuestionnaireStatus.DRAFT
    context = {
        "questionnaire": questionnaire,
        "impact": questionnaire_impact(user=user, questionnaire=questionnaire) if draft else None,
        "can_publish": draft and has_model_permission(user, Questionnaire, "change"),
    }
    return render(request, "governance/questionnaire.html", context)


@login_required
@require_POST
def questionnaire_publish(request: HttpRequest, version: int) -> HttpResponse:
    """Publish a draft questionnaire (Risk Officers): new assessments answer it from now on."""
    user = signed_in(request)
    questionnaire = get_object_or_404(questionnaire_queryset(user=user), version=version)
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            assessments.questionnaire_publish(actor=user, questionnaire=questionnaire)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Questionnaire v{questionnaire.version} is published.")
            return redirect("governance:questionnaire", version=questionnaire.version)
    back_url = reverse("governance:questionnaire", args=[questionnaire.version])
    return _action_page(
        request,
        title=f"Publish questionnaire v{questionnaire.version}",
        subject=questionnaire.title,
        back_url=back_url,
        action_url=reverse("governance:questionnaire-publish", args=[questionnaire.version]),
        form=form,
    )


# --- notifications ---------------------------------------------------------------------------------------------


@login_required
@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
    """My notifications, newest first; ``?unread=true`` shows only the unread ones."""
    user = signed_in(request)
    filterset = NotificationFilterSet(request.GET, queryset=notification_queryset(user=user), request=request)
    valid = filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    context = {**_page(request, rows), "form": filterset.form, "filters_valid": valid}
    return render(request, "governance/notifications.html", context)


@login_required
@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    """Mark some of my notifications, or all of them, as read."""
    user = signed_in(request)
    form = MarkReadForm(request.POST)
    back_url = reverse("governance:notifications")
    if form.is_valid():
        mine = notification_queryset(user=user).filter(read_at__isnull=True)
        ids = list(mine.values_list("pk", flat=True)) if form.cleaned_data["all"] else form.cleaned_data["ids"]
        marked = notifications.notification_mark_read(actor=user, notification_ids=ids)
        messages.success(request, f"{marked} notification{'' if marked == 1 else 's'} marked as read.")
        return redirect(_next_url(request, back_url))
    return _action_page(
        request,
        title="Mark notifications as read",
        subject="Your notifications",
        back_url=back_url,
        action_url=reverse("governance:notifications-read"),
        form=form,
    )


# --- bulk actions from the inventory ---------------------------------------------------------------------------


BULK_ASSIGN = "assign_validator"
BULK_REASSESS = "request_reassessment"


class BulkActionForm(forms.Form):
    """A bulk action on models selected in the inventory. The models offered are those the user may see, so a
    key they may not see is refused like one that does not exist; the validator is someone with the Validator
    role. The rules (segregation of duties, the reason) are the bulk services'."""

    buttons = (
        Button("Assign validator", BULK_ASSIGN),
        Button("Request reassessment", BULK_REASSESS, secondary=True),
    )

    models = forms.MultipleChoiceField(
        label="Selected models",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select at least one model.",
            "invalid_choice": "%(value)s is not a model you may act on.",
        },
    )
    validator = forms.ModelChoiceField(
        label="Validator",
        queryset=User.objects.none(),
        required=False,
        empty_label="Choose a validator",
        help_text="Needed to assign a validator; must not own the model.",
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in each model's history or ledger entry; business owners see it.",
    )
    outcome = forms.ChoiceField(
        choices=[(BULK_ASSIGN, "Assign validator"), (BULK_REASSESS, "Request reassessment")],
        widget=forms.HiddenInput,
        error_messages={"required": "Choose an action.", "invalid_choice": "Choose an action."},
    )

    def __init__(self, *args: Any, user: User, visible: list[RegisteredModel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.visible = {model.key: model for model in visible}
        self.fields["models"].choices = [(model.key, str(model)) for model in visible]  # type: ignore[attr-defined]
        self.fields["validator"].queryset = bulk_validator_choices(user=user)  # type: ignore[attr-defined]
        self.fields["validator"].label_from_instance = person_label  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        """A validator is needed to assign one."""
        cleaned = super().clean() or {}
        if cleaned.get("outcome") == BULK_ASSIGN and not cleaned.get("validator"):
            self.add_error("validator", "Choose the validator to assign.")
        return cleaned

    def selected(self) -> list[RegisteredModel]:
        """The selected models, in key order."""
        return [self.visible[key] for key in sorted(self.cleaned_data["models"])]


def bulk_validator_choices(*, user: User) -> QuerySet[User]:
    """Active people with the Validator role whom the user may see, by username."""
    return (
        restrict(user, "view", User.objects.all())
        .filter(groups__name=roles.VALIDATOR, is_active=True, is_service_account=False)
        .order_by("username")
        .distinct()
    )


@login_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """A Risk Officer assigns a validator to, or requests a reassessment of, the models ticked in the inventory.

    Anyone else is refused (403) before the input is read; models the user may not see are refused like unknown
    ones. All or nothing: the page comes back with every model's problem and nothing is written.
    """
    user = signed_in(request)
    if not bulk.may_use_bulk_actions(user):
        raise PermissionDenied("Only Risk Officers may act on many models at once.")
    back_url = reverse("inventory:model-list")
    keys = request.POST.getlist("models")[: bulk.BULK_MAX + 1]
    visible = list(registered_model_queryset(user=user).filter(key__in=keys).prefetch_related(None).order_by("key"))
    form = BulkActionForm(request.POST, user=user, visible=visible)
    if form.is_valid():
        models = form.selected()
        reason = form.cleaned_data["reason"]
        try:
            if form.cleaned_data["outcome"] == BULK_ASSIGN:
                validator = form.cleaned_data["validator"]
                changed = bulk.bulk_validator_assign(actor=user, models=models, validator=validator, reason=reason)
                messages.success(
                    request,
                    f"{validator.username} now validates {len(changed)} more model{'' if len(changed) == 1 else 's'}"
                    f" ({len(models) - len(changed)} already had them).",
                )
            else:
                bulk.bulk_reassessment_request(actor=user, models=models, reason=reason)
                messages.success(
                    request,
                    f"Reassessment requested for {len(models)} model{'' if len(models) == 1 else 's'}; "
                    "their business owners are notified.",
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(_next_url(request, back_url))
    return _action_page(
        request,
        title="Act on the selected models",
        subject=f"{len(visible)} model{'' if len(visible) == 1 else 's'} selected",
        back_url=_next_url(request, back_url),
        action_url=reverse("governance:bulk-action"),
        form=form,
    )
