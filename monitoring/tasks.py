"""Celery tasks of monitoring: thin wrappers that take a run id and call the service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from monitoring.services import drift_audit_execute


@shared_task(
    name="monitoring.tasks.run_drift_audit",
    ignore_result=True,
    acks_late=True,
    # A lost database connection or a lock timeout is worth another try; the service records nothing twice.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=1190,
    time_limit=1200,
)
def run_drift_audit(run_id: int) -> None:
    """Execute the queued drift audit ``run_id``; a run already finished is left as it is."""
    drift_audit_execute(run_id=run_id)
