"""Findings: problems and conditions on a model, tracked from raised to closed (or risk-accepted).

The model's owners remediate; closing is the second line's call (a Risk Officer or an assigned validator), and
accepting a risk needs a Risk Officer who does not own the model, with a written justification.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from core.history import save_with_history
from core.models import User
from core.permissions import restrict, user_can
from governance.choices import (
    OPEN_FINDING_STATUSES,
    EventType,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    NotificationKind,
)
from governance.ledger import ledger_append, ledger_lock
from governance.models import Finding
from governance.services.common import clean_comment, require_role_permission
from governance.services.notifications import notify
from inventory.models import ModelVersion, RegisteredModel

JUSTIFICATION_MIN = 20
MAX_EVIDENCE_LINKS = 50


def _due_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        value = parse_date(value.strip()) if value.strip() else None
    if not isinstance(value, dt.date):
        raise ValidationError({"due_date": ["Give a due date as YYYY-MM-DD."]})
    return value


def _evidence(links: Iterable[Any]) -> list[str]:
    cleaned = []
    validate = URLValidator(schemes=["http", "https"])
    for link in links:
        try:
            validate(link)
        except ValidationError:
            raise ValidationError({"evidence_links": [f"Not an http(s) URL: {str(link)[:100]!r}."]}) from None
        cleaned.append(link)
    if len(cleaned) > MAX_EVIDENCE_LINKS:
        raise ValidationError({"evidence_links": [f"At most {MAX_EVIDENCE_LINKS} links."]})
    return cleaned


def _link(finding: Finding) -> str:
    return reverse("governance:finding-detail", args=[finding.pk])


def _ledger(event_type: EventType, actor: User | None, finding: Finding, summary: str, **payload: Any) -> None:
    ledger_append(
        event_type=event_type,
        actor=actor,
        model=finding.model,
        subject=finding,
        summary=summary,
        payload={"finding": finding.pk, "severity": finding.severity, "status": finding.status, **payload},
    )


@transaction.atomic
def finding_raise(
    *,
    actor: User | None,
    model: RegisteredModel,
    title: str,
    severity: str,
    due_date: Any,
    source: str = FindingSource.MANUAL,
    description: str = "",
    owner: User | None = None,
    version: ModelVersion | None = None,
    evidence_links: Iterable[str] = (),
    dedup_key: str | None = None,
    check_permission: bool = True,
) -> Finding:
    """Raise a finding on a model. With ``dedup_key`` an automated source raises it once: if a live finding
    (open, in remediation or risk-accepted) with that key exists, it is returned unchanged; a problem that
    recurs after its finding was closed as fixed is raised anew.

    By hand, findings are raised by Risk Officers and by the model's validators; workflow and audit services
    raise them as part of their own, already authorised, step (``check_permission=False``).
    """
    if check_permission:
        allowed = actor is not None and (
            actor.has_perm("governance.add_finding")
            or restrict(actor, "custom:validate_registeredmodel", RegisteredModel.objects.filter(pk=model.pk)).exists()
        )
        if not allowed:
            raise PermissionDenied(f"You may not raise findings on {model.key}.")
    if dedup_key:
        existing = Finding.objects.filter(dedup_key=dedup_key).exclude(status=FindingStatus.CLOSED).first()
        if existing is not None:
            return existing
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["This field is required."]
    elif len(title) > 200:
        errors["title"] = ["At most 200 characters."]
    if severity not in FindingSeverity.values:
        errors["severity"] = [f"Choose one of {', '.join(FindingSeverity.values)}."]
    if source not in FindingSource.values:
        errors["source"] = [f"Choose one of {', '.join(FindingSource.values)}."]
    if version is not None and version.model_id != model.pk:
        errors["version"] = [f"Version {version.version} belongs to another model."]
    try:
        due = _due_date(due_date)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    owner = owner or model.business_owner
    if not owner.is_active or owner.is_service_account:
        raise ValidationError({"owner": [f"{owner.username} is not an active person."]})
    finding = Finding(
        model=model,
        version=version,
        source=source,
        title=title,
        description=clean_comment(description, field="description"),
        severity=severity,
        owner=owner,
        due_date=due,
        evidence_links=_evidence(evidence_links),
        raised_by=actor,
        dedup_key=dedup_key or None,
    )
    try:
        with transaction.atomic():
            save_with_history(finding, actor=actor, reason=f"Raised ({finding.get_source_display()})")
    except IntegrityError:
        # Raised concurrently by another run of the same automated check: keep the one that won.
        if dedup_key:
            return Finding.objects.exclude(status=FindingStatus.CLOSED).get(dedup_key=dedup_key)
        raise
    _ledger(
        EventType.FINDING_RAISED,
        actor,
        finding,
        f"Finding on {model.key}: {title} ({severity})",
        source=source,
        due_date=due,
        owner=owner.username,
        version=version.version if version else None,
    )
    notify(
        recipients=[owner],
        exclude=[actor] if actor else [],
        kind=NotificationKind.ACTION_REQUIRED,
        title=f"New {severity} finding on {model.key}: {title}",
        body=f"Due {due.isoformat()}. {finding.description}".strip(),
        link=_link(finding),
    )
    return finding


def _lock(finding: Finding) -> Finding:
    ledger_lock()
    return Finding.objects.select_for_update().select_related("model").get(pk=finding.pk)


def _require_open(finding: Finding) -> None:
    if finding.status not in OPEN_FINDING_STATUSES:
        raise ValidationError({"status": [f"The finding is {finding.get_status_display().lower()}."]})


@transaction.atomic
def finding_start_remediation(
    *, actor: User, finding: Finding, comment: str = "", evidence_links: Iterable[str] = ()
) -> Finding:
    """The finding's owner (or the model's owners) start fixing it, optionally adding evidence."""
    finding = _lock(finding)
    if finding.owner_id != actor.pk and not user_can(actor, "change", finding.model):
        raise PermissionDenied("Only the finding's owner or the model's owners remediate it.")
    if finding.status != FindingStatus.OPEN:
        raise ValidationError({"status": [f"The finding is {finding.get_status_display().lower()}, not open."]})
    comment = clean_comment(comment)
    finding.status = FindingStatus.IN_REMEDIATION
    finding.evidence_links = _evidence([*finding.evidence_links, *evidence_links])
    save_with_history(finding, actor=actor, reason=comment or "Remediation started")
    _ledger(
        EventType.FINDING_REMEDIATION_STARTED,
        actor,
        finding,
        f"Remediation of finding #{finding.pk} started",
        comment=comment,
    )
    return finding


def _require_second_line(actor: User, finding: Finding) -> None:
    may_validate = restrict(
        actor, "custom:validate_registeredmodel", RegisteredModel.objects.filter(pk=finding.model_id)
    ).exists()
    if not (actor.has_perm("governance.change_finding") or may_validate):
        raise PermissionDenied("Only a Risk Officer or a validator of the model closes findings.")
    if actor.pk in {finding.model.business_owner_id, finding.model.technical_owner_id}:
        raise PermissionDenied("SOD-2: an owner of the model cannot close its findings.")


@transaction.atomic
def finding_close(*, actor: User, finding: Finding, resolution: str, evidence_links: Iterable[str] = ()) -> Finding:
    """The second line confirms the remediation and closes the finding, saying how it was resolved."""
    finding = _lock(finding)
    _require_second_line(actor, finding)
    _require_open(finding)
    resolution = clean_comment(resolution, field="resolution", required=True)
    finding.status = FindingStatus.CLOSED
    finding.resolution, finding.resolved_by, finding.resolved_at = resolution, actor, timezone.now()
    finding.evidence_links = _evidence([*finding.evidence_links, *evidence_links])
    save_with_history(finding, actor=actor, reason="Closed")
    _ledger(
        EventType.FINDING_CLOSED,
        actor,
        finding,
        f"Finding #{finding.pk} on {finding.model.key} closed",
        resolution=resolution,
    )
    notify(
        recipients=[finding.owner],
        exclude=[actor],
        kind=NotificationKind.DECISION,
        title=f"Finding closed on {finding.model.key}: {finding.title}",
        body=resolution,
        link=_link(finding),
    )
    return finding


@transaction.atomic
def finding_accept_risk(*, actor: User, finding: Finding, justification: str) -> Finding:
    """A Risk Officer who does not own the model accepts the risk instead of requiring a fix."""
    finding = _lock(finding)
    require_role_permission(actor, Finding, "accept_risk_finding", "accept risks")
    if actor.pk in {finding.model.business_owner_id, finding.model.technical_owner_id}:
        raise PermissionDenied("SOD-2: an owner of the model cannot accept the risk of its findings.")
    _require_open(finding)
    justification = clean_comment(justification, field="justification", required=True, minimum=JUSTIFICATION_MIN)
    finding.status = FindingStatus.RISK_ACCEPTED
    finding.resolution, finding.resolved_by, finding.resolved_at = justification, actor, timezone.now()
    save_with_history(finding, actor=actor, reason="Risk accepted")
    _ledger(
        EventType.FINDING_RISK_ACCEPTED,
        actor,
        finding,
        f"Risk of finding #{finding.pk} on {finding.model.key} accepted",
        justification=justification,
    )
    notify(
        recipients=[finding.owner],
        exclude=[actor],
        kind=NotificationKind.DECISION,
        title=f"Risk accepted on {finding.model.key}: {finding.title}",
        body=justification,
        link=_link(finding),
    )
    return finding


@transaction.atomic
def finding_reopen(*, actor: User, finding: Finding, reason: str) -> Finding:
    """The second line reopens a closed or accepted finding (the fix did not hold, the acceptance lapsed)."""
    finding = _lock(finding)
    _require_second_line(actor, finding)
    if finding.status in OPEN_FINDING_STATUSES:
        raise ValidationError({"status": ["The finding is still open."]})
    reason = clean_comment(reason, field="reason", required=True)
    if finding.dedup_key:
        live = Finding.objects.filter(dedup_key=finding.dedup_key).exclude(status=FindingStatus.CLOSED)
        newer = live.exclude(pk=finding.pk).first()
        if newer is not None:
            raise ValidationError({"status": [f"Finding #{newer.pk} already tracks this problem again."]})
    finding.status = FindingStatus.OPEN
    finding.resolution, finding.resolved_by, finding.resolved_at = "", None, None
    save_with_history(finding, actor=actor, reason=reason)
    _ledger(
        EventType.FINDING_REOPENED,
        actor,
        finding,
        f"Finding #{finding.pk} on {finding.model.key} reopened",
        reason=reason,
    )
    return finding
