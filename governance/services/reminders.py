"""Daily reminders: findings due soon or overdue, approvals about to expire. Each goes out once per occasion."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.choices import OPEN_FINDING_STATUSES, NotificationKind
from governance.models import Finding
from governance.services.notifications import notify
from inventory.choices import VersionState
from inventory.models import ModelVersion

FINDING_DUE_SOON_DAYS = 7
APPROVAL_EXPIRY_WARNING_DAYS = 30


@transaction.atomic
def reminders_send(*, today: dt.date | None = None) -> int:
    """Notify finding owners of findings due within a week or overdue (once per finding and state), and model
    owners of approvals expiring within 30 days (once per version). Returns the notifications created."""
    today = today or timezone.localdate()
    created = 0
    open_findings = Finding.objects.filter(
        status__in=OPEN_FINDING_STATUSES, due_date__lte=today + dt.timedelta(days=FINDING_DUE_SOON_DAYS)
    ).select_related("model", "owner")
    for finding in open_findings:
        overdue = finding.due_date < today
        created += len(
            notify(
                recipients=[finding.owner],
                kind=NotificationKind.FINDING_OVERDUE if overdue else NotificationKind.FINDING_DUE,
                title=f"Finding on {finding.model.key} {'is overdue' if overdue else 'is due soon'}: {finding.title}",
                body=f"Due {finding.due_date.isoformat()}.",
                link=reverse("governance:finding-detail", args=[finding.pk]),
                dedup_key=f"finding:{finding.pk}:{'overdue' if overdue else 'due'}",
            )
        )
    horizon = timezone.now() + dt.timedelta(days=APPROVAL_EXPIRY_WARNING_DAYS)
    expiring = ModelVersion.objects.filter(
        state__in=[VersionState.APPROVED, VersionState.APPROVED_WITH_CONDITIONS, VersionState.DEPLOYED],
        approval_expires_at__lte=horizon,
    ).select_related("model__business_owner", "model__technical_owner")
    for version in expiring:
        model = version.model
        created += len(
            notify(
                recipients=[model.business_owner, model.technical_owner],
                kind=NotificationKind.APPROVAL_EXPIRING,
                title=f"Approval of {model.key} v{version.version} expires {version.approval_expires_at:%Y-%m-%d}",
                body="Plan the revalidation before the approval lapses.",
                link=reverse("governance:model", args=[model.key]),
                dedup_key=f"approval-expiry:{version.pk}:{version.approval_expires_at:%Y-%m-%d}",
            )
        )
    return created
