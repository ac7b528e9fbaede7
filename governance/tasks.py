"""Celery tasks of governance: thin wrappers that load ids and call services."""

from __future__ import annotations

from celery import shared_task

from governance.services.mail import notification_emails_send
from governance.services.reminders import reminders_send


@shared_task(
    name="governance.tasks.send_notification_emails",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=110,
    time_limit=120,
)
def send_notification_emails(notification_ids: list[int]) -> None:
    """E-mail these notifications; ones already e-mailed are skipped, so a redelivered task sends nothing twice."""
    notification_emails_send(notification_ids=notification_ids)


@shared_task(
    name="governance.tasks.send_due_reminders", ignore_result=True, acks_late=True, soft_time_limit=590, time_limit=600
)
def send_due_reminders() -> None:
    """Daily: findings due soon or overdue, approvals about to expire. Each reminder goes out once per occasion."""
    reminders_send()
