"""E-mail delivery of notifications through Django's mail backend (console by default, SMTP in production)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from governance.models import Notification


def notification_emails_send(*, notification_ids: Iterable[int]) -> int:
    """Send each not-yet-e-mailed notification to its recipient; returns how many were sent.

    Each row is locked while it is sent and stamped in the same transaction, so two workers handling a
    redelivered task cannot both send it.
    """
    sent = 0
    for pk in notification_ids:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update()
                .select_related("recipient")
                .filter(pk=pk, emailed_at__isnull=True)
                .first()
            )
            if notification is None or not notification.recipient.email:
                continue
            link = f"{settings.PORTAL_BASE_URL.rstrip('/')}{notification.link}" if notification.link else ""
            send_mail(
                subject=f"[{settings.PORTAL_NAME}] {notification.title}",
                message="\n\n".join(part for part in (notification.body, link) if part),
                from_email=None,
                recipient_list=[notification.recipient.email],
            )
            notification.emailed_at = timezone.now()
            notification.save(update_fields=["emailed_at"])
            sent += 1
    return sent
