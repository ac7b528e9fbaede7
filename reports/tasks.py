"""Celery tasks of reports: thin wrappers that take an export id (or nothing, for the schedule) and call a service."""

from __future__ import annotations

from celery import shared_task

from core.task_options import task_options
from reports.services import export_execute, export_schedule_monthly


@shared_task(name="reports.tasks.run_export", **task_options(time_limit=1800))
def run_export(export_id: int) -> None:
    """Produce the file of the queued export ``export_id``; an export already finished is left as it is."""
    export_execute(export_id=export_id)


@shared_task(name="reports.tasks.monthly_portfolio_report", **task_options(time_limit=60))
def monthly_portfolio_report() -> list[int]:
    """Request this month's portfolio report (PDF and XLSX); once per month however often the schedule fires."""
    return [export.pk for export in export_schedule_monthly()]
