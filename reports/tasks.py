"""Celery tasks of reports: thin wrappers that take an export id (or nothing, for the schedule) and call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from reports.services import export_execute, export_schedule_monthly


@shared_task(
    name="reports.tasks.run_export",
    ignore_result=True,
    acks_late=True,
    # A lost database connection or a lock timeout is worth another try; the service stores one file only.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=1750,
    time_limit=1800,
)
def run_export(export_id: int) -> None:
    """Produce the file of the queued export ``export_id``; an export already finished is left as it is."""
    export_execute(export_id=export_id)


@shared_task(
    name="reports.tasks.monthly_portfolio_report",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
    soft_time_limit=50,
    time_limit=60,
)
def monthly_portfolio_report() -> list[int]:
    """Request this month's portfolio report (PDF and XLSX); once per month however often the schedule fires."""
    return [export.pk for export in export_schedule_monthly()]
