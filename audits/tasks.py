"""Celery tasks of audits: thin wrappers that take a run id and call the service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from audits.services import bias_audit_execute


@shared_task(
    name="audits.tasks.run_bias_audit",
    ignore_result=True,
    acks_late=True,
    # A lost database connection or a lock timeout is worth another try; the service records nothing twice.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=590,
    time_limit=600,
)
def run_bias_audit(run_id: int) -> None:
    """Execute the queued bias audit ``run_id``; a run already finished is left as it is."""
    bias_audit_execute(run_id=run_id)
