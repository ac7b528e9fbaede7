"""Notifications: an in-app inbox for each person, e-mailed by a Celery task once the transaction commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import User
from core.roles import RISK_OFFICER
from governance.choices import NotificationKind
from governance.models import Notification

_muted: ContextVar[bool] = ContextVar("notifications_muted", default=False)


@contextmanager
def notifications_muted() -> Iterator[None]:
    """Tell nobody while a bulk import replays past decisions (the demo seed, a migration from another tool):
    the facts, their history and the ledger are written as usual; only the in-app and e-mail notices, which
    would ask people to act on things long decided, are left out."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def notify(
    *,
    recipients: Iterable[Any | None],
    kind: NotificationKind | str,
    title: str,
    body: str = "",
    link: str = "",
    dedup_key: str | None = None,
    exclude: Iterable[Any] = (),
) -> list[Notification]:
    """Create one notification per distinct active recipient and queue their e-mails after commit.

    With ``dedup_key``, a person who already got this notification does not get it again (periodic reminders).
    """
    if _muted.get():
        return []
    excluded = {getattr(person, "pk", person) for person in exclude}
    people: dict[int, Any] = {}
    for person in recipients:
        if person is not None and person.is_active and not person.is_service_account and person.pk not in excluded:
            people[person.pk] = person
    if not people:
        return []
    now = timezone.now()
    created: list[Notification] = []
    for person in people.values():
        notification = Notification(
            recipient=person,
            kind=kind,
            title=title[:200],
            body=body,
            link=link,
            created_at=now,
            dedup_key=dedup_key,
        )
        if dedup_key is None:
            created.append(notification)
            continue
        try:
            with transaction.atomic():
                notification.save()
        except IntegrityError:
            continue  # already told this person about this occasion
        created.append(notification)
    if dedup_key is None:
        created = Notification.objects.bulk_create(created)
    ids = [notification.pk for notification in created]
    if ids:
        from governance.tasks import send_notification_emails

        # Robust: with the broker down the notifications are still recorded (and shown in the inbox); their
        # e-mails go out when the requeue sweep sends the task again (core/requeue.py).
        transaction.on_commit(lambda: send_notification_emails.delay(ids), robust=True)
    return created


# Unsent e-mails older than this are not sent any more: a notice days late asks people to act on the past.
EMAIL_REQUEUE_WINDOW = dt.timedelta(days=2)


def notification_emails_requeue_stale(*, queued_before: dt.datetime, **kwargs: Any) -> int:
    """Send again the e-mail task of notifications created before ``queued_before`` (and within the last two
    days) that were never e-mailed; a receiver of ``core.requeue.stale_work_requeue_requested``."""
    from governance.tasks import send_notification_emails

    ids = list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__lt=queued_before,
            created_at__gte=timezone.now() - EMAIL_REQUEUE_WINDOW,
        )
        .exclude(recipient__email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if ids:
        send_notification_emails.delay(ids)
    return len(ids)


def risk_officers() -> list[User]:
    """Everyone holding the Risk Officer role (the second line who reviews and approves)."""
    return list(User.objects.filter(groups__name=RISK_OFFICER, is_active=True).distinct())


def notification_mark_read(*, actor: User, notification_ids: Iterable[int]) -> int:
    """Mark the actor's own notifications read; returns how many changed."""
    return Notification.objects.filter(recipient=actor, pk__in=list(notification_ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )
