"""Celery tasks of governance: thin wrappers that load ids and call services."""

from __future__ import annotations

from celery import shared_task

from core.task_options import task_options
from governance.services.mail import notification_emails_send
from governance.services.reminders import reminders_send


# An unreachable mail server is worth another try; a notification already e-mailed is not sent again.
@shared_task(name="governance.tasks.send_notification_emails", **task_options(time_limit=120, retry_on=(OSError,)))
def send_notification_emails(notification_ids: list[int]) -> None:
    """E-mail these notifications; ones already e-mailed are skipped, so a redelivered task sends nothing twice."""
    notification_emails_send(notification_ids=notification_ids)


@shared_task(name="governance.tasks.send_due_reminders", **task_options(time_limit=600, retry_on=()))
def send_due_reminders() -> None:
    """Daily: findings due soon or overdue, approvals about to expire. Each reminder goes out once per occasion."""
    reminders_send()
