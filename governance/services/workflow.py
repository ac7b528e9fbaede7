"""The approval workflow of model versions, with segregation of duties enforced here, in the services.

    draft → submitted → in validation → risk review → approved | approved with conditions | rejected
    approved (with conditions) → deployed → retired;  submitted / in validation / risk review → withdrawn

Stages follow the tier's policy (Tier 3 may skip independent validation) and Tier 1 needs as many distinct
approvers as its policy says. Every transition locks the version row first, so two people deciding at the same
moment cannot both succeed, and writes its ledger event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.history import save_with_history
from core.models import User
from core.permissions import restrict, user_can
from governance.choices import ApprovalStage, Decision, EventType, FindingSource, NotificationKind, WorkflowAction
from governance.ledger import ledger_append, ledger_lock
from governance.models import ApprovalDecision, TierPolicy, VersionTransition
from governance.services.common import clean_comment, require_role_permission
from governance.services.findings import finding_raise
from governance.services.notifications import notify, risk_officers
from governance.services.policies import active_policy
from inventory.choices import LifecycleStage, VersionState
from inventory.models import ModelVersion, RegisteredModel

OPEN_STATES = frozenset({VersionState.SUBMITTED, VersionState.IN_VALIDATION, VersionState.RISK_REVIEW})
APPROVED_STATES = frozenset({VersionState.APPROVED, VersionState.APPROVED_WITH_CONDITIONS})

# Which states each action may start from; the target state is decided by the service.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    WorkflowAction.SUBMIT: frozenset({VersionState.DRAFT}),
    WorkflowAction.START_VALIDATION: frozenset({VersionState.SUBMITTED}),
    WorkflowAction.VALIDATE: frozenset({VersionState.IN_VALIDATION}),
    WorkflowAction.APPROVE: frozenset({VersionState.RISK_REVIEW}),
    WorkflowAction.REJECT: frozenset({VersionState.IN_VALIDATION, VersionState.RISK_REVIEW}),
    WorkflowAction.DEPLOY: APPROVED_STATES,
    WorkflowAction.RETIRE: APPROVED_STATES | {VersionState.DEPLOYED},
    WorkflowAction.WITHDRAW: OPEN_STATES,
}


def _lock(version: ModelVersion) -> ModelVersion:
    ledger_lock()
    return ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)


def _check_state(version: ModelVersion, action: str) -> None:
    allowed = ALLOWED_FROM[action]
    if version.state not in allowed:
        names = ", ".join(sorted(VersionState(state).label.lower() for state in allowed))
        raise ValidationError(
            {
                "state": [
                    f"Cannot {WorkflowAction(action).label.lower()} {version.model.key} v{version.version}: it is "
                    f"{version.get_state_display().lower()}; this needs a version that is {names}."
                ]
            }
        )


def segregation_conflicts(*, actor: User, version: ModelVersion, stage: str) -> list[str]:
    """The segregation-of-duties rules that forbid ``actor`` from deciding ``stage`` of ``version``.

    SOD-1 the submitter, SOD-2 the model's owners and SOD-3 the version's developer cannot validate or approve
    it; SOD-4 a validator of the version cannot also be its approver. (SOD-5, distinct approvers, is enforced
    where decisions are recorded; SOD-6, nobody reviews their own assessment or override, in the assessments.)
    """
    model = version.model
    conflicts = []
    if version.submitted_by_id == actor.pk:
        conflicts.append("SOD-1: the submitter of a version cannot validate or approve it.")
    if actor.pk in {model.business_owner_id, model.technical_owner_id}:
        conflicts.append("SOD-2: an owner of the model cannot validate or approve its versions.")
    if version.created_by_id == actor.pk:
        conflicts.append("SOD-3: the developer of a version cannot validate or approve it.")
    if (
        stage == ApprovalStage.RISK_REVIEW
        and version.decisions.filter(stage=ApprovalStage.VALIDATION, actor=actor).exists()
    ):
        conflicts.append("SOD-4: the validator of a version cannot also be its approver.")
    return conflicts


def _refuse_conflicts(actor: User, version: ModelVersion, stage: str) -> None:
    conflicts = segregation_conflicts(actor=actor, version=version, stage=stage)
    if conflicts:
        raise PermissionDenied(" ".join(conflicts))


def _transition(
    *, version: ModelVersion, action: str, to_state: str, actor: User, comment: str, **version_fields: Any
) -> VersionTransition:
    """Move the version, keep its field history, and record the transition row."""
    from_state = version.state
    version.state = to_state
    for field, value in version_fields.items():
        setattr(version, field, value)
    save_with_history(
        version,
        actor=actor,
        reason=f"{WorkflowAction(action).label}: {comment}" if comment else WorkflowAction(action).label,
        update_fields=["state", "updated_at", *version_fields],
    )
    return VersionTransition.objects.create(
        version=version,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        comment=comment,
        created_at=timezone.now(),
    )


def _link(version: ModelVersion) -> str:
    return reverse("governance:model", args=[version.model.key])


def _label(version: ModelVersion) -> str:
    return f"{version.model.key} v{version.version}"


def _people_who_may_validate(model: RegisteredModel) -> list[User]:
    return list(model.validators.filter(is_active=True))


def _record(event_type: EventType, actor: User, version: ModelVersion, summary: str, **payload: Any) -> None:
    ledger_append(
        event_type=event_type,
        actor=actor,
        model=version.model,
        subject=version,
        summary=summary,
        payload={"version": version.version, "state": version.state, **payload},
    )


@transaction.atomic
def version_submit(*, actor: User, version: ModelVersion, comment: str = "") -> ModelVersion:
    """The owners submit a draft for approval. Its stages come from the tier's policy: with independent
    validation it waits for a validator, otherwise it goes straight to risk review."""
    version = _lock(version)
    if not user_can(actor, "change", version.model):
        raise PermissionDenied(f"You may not submit versions of {version.model.key}.")
    comment = clean_comment(comment)
    _check_state(version, WorkflowAction.SUBMIT)
    policy = active_policy(version.model.risk_tier)
    needs_validation = ApprovalStage.VALIDATION in policy.required_stages
    to_state = VersionState.SUBMITTED if needs_validation else VersionState.RISK_REVIEW
    _transition(
        version=version,
        action=WorkflowAction.SUBMIT,
        to_state=to_state,
        actor=actor,
        comment=comment,
        submitted_by=actor,
        submitted_at=timezone.now(),
    )
    _record(
        EventType.VERSION_SUBMITTED,
        actor,
        version,
        f"{_label(version)} submitted for approval",
        tier=version.model.risk_tier,
        policy=f"{policy.pack.code} rev. {policy.revision}",
        stages=policy.required_stages,
        comment=comment,
    )
    recipients = _people_who_may_validate(version.model) if needs_validation else risk_officers()
    notify(
        recipients=recipients,
        exclude=[actor],
        kind=NotificationKind.ACTION_REQUIRED,
        title=f"{_label(version)} waits for {'validation' if needs_validation else 'risk review'}",
        body=comment,
        link=_link(version),
    )
    return version


def _require_validator(actor: User, version: ModelVersion) -> None:
    may_validate = restrict(
        actor, "custom:validate_registeredmodel", RegisteredModel.objects.filter(pk=version.model_id)
    )
    if not may_validate.exists():
        raise PermissionDenied(f"Only a validator assigned to {version.model.key} may validate its versions.")


@transaction.atomic
def version_start_validation(*, actor: User, version: ModelVersion, comment: str = "") -> ModelVersion:
    """An assigned, independent validator takes up a submitted version."""
    version = _lock(version)
    _refuse_conflicts(actor, version, ApprovalStage.VALIDATION)
    _require_validator(actor, version)
    _check_state(version, WorkflowAction.START_VALIDATION)
    comment = clean_comment(comment)
    _transition(
        version=version,
        action=WorkflowAction.START_VALIDATION,
        to_state=VersionState.IN_VALIDATION,
        actor=actor,
        comment=comment,
    )
    _record(EventType.VALIDATION_STARTED, actor, version, f"Validation of {_label(version)} started", comment=comment)
    return version


def _raise_findings(
    *, actor: User, version: ModelVersion, items: Iterable[Mapping[str, Any]], source: str
) -> list[Any]:
    findings = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValidationError({"findings": [f"Item {index + 1}: give title, severity and due_date."]})
        findings.append(
            finding_raise(
                actor=actor,
                model=version.model,
                version=version,
                source=source,
                title=item.get("title", ""),
                description=item.get("description", ""),
                severity=item.get("severity", ""),
                due_date=item.get("due_date"),
                owner=item.get("owner") or version.model.business_owner,
                check_permission=False,
            )
        )
    return findings


def _decision(version: ModelVersion, stage: str, decision: str, actor: User, comment: str, policy: TierPolicy) -> None:
    if ApprovalDecision.objects.filter(version=version, stage=stage, actor=actor).exists():
        raise ValidationError(
            {"decision": ["SOD-5: each person decides a stage of a version once; another approver must decide."]}
        )
    ApprovalDecision.objects.create(
        version=version,
        stage=stage,
        decision=decision,
        actor=actor,
        comment=comment,
        policy_revision=f"{policy.pack.code} rev. {policy.revision}",
        created_at=timezone.now(),
    )


@transaction.atomic
def version_validate(
    *,
    actor: User,
    version: ModelVersion,
    passed: bool,
    comment: str,
    findings: Iterable[Mapping[str, Any]] = (),
) -> ModelVersion:
    """The validator records the outcome: passed (on to risk review) or failed (rejected). Issues found become
    findings on the model either way."""
    version = _lock(version)
    _refuse_conflicts(actor, version, ApprovalStage.VALIDATION)
    _require_validator(actor, version)
    _check_state(version, WorkflowAction.VALIDATE if passed else WorkflowAction.REJECT)
    comment = clean_comment(comment, required=True)
    policy = active_policy(version.model.risk_tier)
    _decision(
        version, ApprovalStage.VALIDATION, Decision.APPROVE if passed else Decision.REJECT, actor, comment, policy
    )
    raised = _raise_findings(actor=actor, version=version, items=findings, source=FindingSource.VALIDATION)
    to_state = VersionState.RISK_REVIEW if passed else VersionState.REJECTED
    _transition(
        version=version,
        action=WorkflowAction.VALIDATE if passed else WorkflowAction.REJECT,
        to_state=to_state,
        actor=actor,
        comment=comment,
    )
    model = RegisteredModel.objects.select_for_update().get(pk=version.model_id)
    model.last_validated_on = timezone.localdate()
    save_with_history(
        model,
        actor=actor,
        reason=f"Validation of v{version.version}",
        update_fields=["last_validated_on", "updated_at"],
    )
    _record(
        EventType.VERSION_VALIDATED if passed else EventType.VERSION_REJECTED,
        actor,
        version,
        f"Validation of {_label(version)} {'passed' if passed else 'failed'}",
        stage=ApprovalStage.VALIDATION,
        comment=comment,
        findings=[finding.pk for finding in raised],
    )
    told: list[User | None] = [*risk_officers()] if passed else [version.submitted_by, version.model.business_owner]
    notify(
        recipients=told,
        exclude=[actor],
        kind=NotificationKind.ACTION_REQUIRED if passed else NotificationKind.DECISION,
        title=f"{_label(version)} {'waits for risk review' if passed else 'failed validation'}",
        body=comment,
        link=_link(version),
    )
    return version


@transaction.atomic
def version_decide(
    *,
    actor: User,
    version: ModelVersion,
    approve: bool,
    comment: str,
    conditions: Iterable[Mapping[str, Any]] = (),
) -> ModelVersion:
    """A Risk Officer approves or rejects at risk review. With fewer approvals than the tier's policy needs, an
    approval is recorded and the version stays in review; the last one approves it. Conditions become findings
    with due dates; the approval expires when revalidation is due."""
    version = _lock(version)
    # Segregation of duties is checked first, so a conflicted person hears the rule, not a lesser reason.
    _refuse_conflicts(actor, version, ApprovalStage.RISK_REVIEW)
    require_role_permission(actor, ApprovalDecision, "decide_approval", "decide risk reviews")
    _check_state(version, WorkflowAction.APPROVE if approve else WorkflowAction.REJECT)
    comment = clean_comment(comment, required=True)
    policy = active_policy(version.model.risk_tier)
    _decision(
        version, ApprovalStage.RISK_REVIEW, Decision.APPROVE if approve else Decision.REJECT, actor, comment, policy
    )
    raised = _raise_findings(actor=actor, version=version, items=conditions, source=FindingSource.APPROVAL_CONDITION)
    if not approve:
        _transition(
            version=version, action=WorkflowAction.REJECT, to_state=VersionState.REJECTED, actor=actor, comment=comment
        )
        _record(
            EventType.VERSION_REJECTED,
            actor,
            version,
            f"{_label(version)} rejected at risk review",
            stage=ApprovalStage.RISK_REVIEW,
            comment=comment,
        )
        notify(
            recipients=[version.submitted_by, version.model.business_owner, version.model.technical_owner],
            exclude=[actor],
            kind=NotificationKind.DECISION,
            title=f"{_label(version)} rejected",
            body=comment,
            link=_link(version),
        )
        return version
    approvals = version.decisions.filter(stage=ApprovalStage.RISK_REVIEW, decision=Decision.APPROVE)
    approvers = sorted(approvals.values_list("actor__username", flat=True))
    if len(approvers) < policy.required_approvers:
        _record(
            EventType.APPROVAL_RECORDED,
            actor,
            version,
            f"{_label(version)}: approval {len(approvers)} of {policy.required_approvers} recorded",
            approvers=approvers,
            required_approvers=policy.required_approvers,
            comment=comment,
            conditions=[finding.pk for finding in raised],
        )
        notify(
            recipients=risk_officers(),
            exclude=[
                version.submitted_by,
                version.model.business_owner,
                version.model.technical_owner,
                *approvals.values_list("actor", flat=True),
            ],
            kind=NotificationKind.ACTION_REQUIRED,
            title=f"{_label(version)} needs another approver ({len(approvers)} of {policy.required_approvers})",
            body=comment,
            link=_link(version),
        )
        return version
    now = timezone.now()
    expires = now + dt.timedelta(days=policy.revalidation_interval_days) if policy.revalidation_interval_days else None
    with_conditions = version.findings.filter(source=FindingSource.APPROVAL_CONDITION).exists()
    _transition(
        version=version,
        action=WorkflowAction.APPROVE,
        to_state=VersionState.APPROVED_WITH_CONDITIONS if with_conditions else VersionState.APPROVED,
        actor=actor,
        comment=comment,
        approved_by=actor,
        approved_at=now,
        approval_expires_at=expires,
    )
    model = RegisteredModel.objects.select_for_update().get(pk=version.model_id)
    model.next_validation_due = expires.date() if expires else None
    save_with_history(
        model, actor=actor, reason=f"v{version.version} approved", update_fields=["next_validation_due", "updated_at"]
    )
    _record(
        EventType.VERSION_APPROVED,
        actor,
        version,
        f"{_label(version)} approved" + (" with conditions" if with_conditions else ""),
        approvers=approvers,
        policy=f"{policy.pack.code} rev. {policy.revision}",
        approval_expires_at=expires,
        comment=comment,
        conditions=[finding.pk for finding in raised],
    )
    notify(
        recipients=[version.submitted_by, version.model.business_owner, version.model.technical_owner],
        exclude=[actor],
        kind=NotificationKind.DECISION,
        title=f"{_label(version)} approved",
        body=comment,
        link=_link(version),
    )
    return version


@transaction.atomic
def version_withdraw(*, actor: User, version: ModelVersion, comment: str) -> ModelVersion:
    """The submitter or the model's owners take a version out of an open review."""
    version = _lock(version)
    if version.submitted_by_id != actor.pk and not user_can(actor, "change", version.model):
        raise PermissionDenied(f"You may not withdraw versions of {version.model.key}.")
    _check_state(version, WorkflowAction.WITHDRAW)
    comment = clean_comment(comment, required=True)
    _transition(
        version=version, action=WorkflowAction.WITHDRAW, to_state=VersionState.WITHDRAWN, actor=actor, comment=comment
    )
    _record(EventType.VERSION_WITHDRAWN, actor, version, f"{_label(version)} withdrawn", comment=comment)
    return version


@transaction.atomic
def version_deploy(*, actor: User, version: ModelVersion, comment: str = "") -> ModelVersion:
    """Mark an approved version as deployed; an expired approval must be renewed first."""
    version = _lock(version)
    may_report = restrict(actor, "custom:report_registeredmodel", RegisteredModel.objects.filter(pk=version.model_id))
    if not (user_can(actor, "change", version.model) or may_report.exists()):
        raise PermissionDenied(f"You may not deploy versions of {version.model.key}.")
    _check_state(version, WorkflowAction.DEPLOY)
    if version.approval_expires_at and version.approval_expires_at <= timezone.now():
        raise ValidationError({"state": [f"The approval of {_label(version)} expired: revalidate before deploying."]})
    comment = clean_comment(comment)
    _transition(
        version=version, action=WorkflowAction.DEPLOY, to_state=VersionState.DEPLOYED, actor=actor, comment=comment
    )
    model = RegisteredModel.objects.select_for_update().get(pk=version.model_id)
    if model.lifecycle_stage != LifecycleStage.PRODUCTION:
        model.lifecycle_stage = LifecycleStage.PRODUCTION
        save_with_history(
            model, actor=actor, reason=f"v{version.version} deployed", update_fields=["lifecycle_stage", "updated_at"]
        )
    _record(EventType.VERSION_DEPLOYED, actor, version, f"{_label(version)} deployed", comment=comment)
    return version


@transaction.atomic
def version_retire(*, actor: User, version: ModelVersion, comment: str) -> ModelVersion:
    """Take an approved or deployed version out of use for good."""
    version = _lock(version)
    if not user_can(actor, "change", version.model):
        raise PermissionDenied(f"You may not retire versions of {version.model.key}.")
    _check_state(version, WorkflowAction.RETIRE)
    comment = clean_comment(comment, required=True)
    _transition(
        version=version, action=WorkflowAction.RETIRE, to_state=VersionState.RETIRED, actor=actor, comment=comment
    )
    _record(EventType.VERSION_RETIRED, actor, version, f"{_label(version)} retired", comment=comment)
    return version
