"""The portal's default beat schedules, installed once into django-celery-beat's tables.

They are not declared in ``CELERY_BEAT_SCHEDULE``: the database scheduler rewrites those from settings every time
beat starts, which would undo what a Risk Officer changed on the schedules page. Installing them after
``migrate`` with get-or-create leaves an existing schedule exactly as people set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class DefaultSchedule:
    """One default schedule: every ``every_seconds`` seconds, or at ``hour``:``minute`` every day (or only on
    ``day_of_month``)."""

    name: str
    task: str
    description: str
    every_seconds: int | None = None
    hour: int | None = None
    minute: int = 0
    day_of_month: str = "*"


def default_schedules() -> tuple[DefaultSchedule, ...]:
    return (
        DefaultSchedule(
            "portal-heartbeat",
            "core.tasks.record_heartbeat",
            "Proves to /health/ that beat, the broker and a worker are alive.",
            every_seconds=settings.HEARTBEAT_SECONDS,
        ),
        DefaultSchedule(
            "portal-requeue-stale-work",
            "core.tasks.requeue_stale_work",
            "Sends again exports, audits and e-mails requested while the broker was down (docs/faults.md).",
            every_seconds=300,
        ),
        DefaultSchedule(
            "portal-prune-login-attempts",
            "core.tasks.prune_login_attempts",
            "Deletes sign-in attempts older than 90 days; lockouts stay for the record.",
            hour=2,
        ),
        DefaultSchedule(
            "audits-compliance-sweep",
            "audits.tasks.run_compliance_sweep",
            "Nightly compliance sweep of every model.",
            hour=2,
        ),
        DefaultSchedule(
            "audits-due-bias-audits",
            "audits.tasks.request_due_bias_audits",
            "Requests a bias audit of every model whose tier's cadence has elapsed.",
            hour=3,
        ),
        DefaultSchedule(
            "monitoring-due-drift-audits",
            "monitoring.tasks.request_due_drift_audits",
            "Requests a drift audit of every scheduled model whose monitoring cadence has elapsed.",
            hour=4,
        ),
        DefaultSchedule(
            "governance-due-reminders",
            "governance.tasks.send_due_reminders",
            "Reminds owners of findings due or overdue and approvals about to expire.",
            hour=6,
        ),
        DefaultSchedule(
            "reports-monthly-portfolio",
            "reports.tasks.monthly_portfolio_report",
            "Produces the portfolio compliance report (PDF and XLSX) on the 1st of each month, for Downloads.",
            hour=5,
            day_of_month="1",
        ),
        *mlflow_schedules(),
    )


def mlflow_schedules() -> tuple[DefaultSchedule, ...]:
    """The hourly MLflow imports, only on a site that names its tracking server (``MLFLOW_TRACKING_URI``): the
    registry, then the run metrics of the versions it links to runs (the next hour catches runs the registry import
    of the same hour has only just linked; both imports are idempotent)."""
    if not settings.MLFLOW_TRACKING_URI:
        return ()
    return (
        DefaultSchedule(
            "inventory-sync-mlflow",
            "inventory.sync_mlflow",
            "Imports registered models, versions and runs from the MLflow tracking server (MLFLOW_TRACKING_URI).",
            every_seconds=3600,
        ),
        DefaultSchedule(
            "monitoring-import-mlflow-metrics",
            "monitoring.tasks.import_mlflow_metrics",
            "Imports the metrics of the MLflow runs linked to model versions as monitoring observations.",
            every_seconds=3600,
        ),
    )


def install_default_schedules(using: str = "default") -> int:
    """Create the default schedules that do not exist yet; returns how many were created."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created = 0
    for schedule in default_schedules():
        if PeriodicTask.objects.using(using).filter(name=schedule.name).exists():
            continue
        timing: dict[str, Any]
        if schedule.every_seconds is not None:
            interval, _ = IntervalSchedule.objects.using(using).get_or_create(
                every=schedule.every_seconds, period=IntervalSchedule.SECONDS
            )
            timing = {"interval": interval}
        else:
            crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
                minute=str(schedule.minute),
                hour=str(schedule.hour),
                day_of_week="*",
                day_of_month=schedule.day_of_month,
                month_of_year="*",
                timezone=settings.CELERY_TIMEZONE,
            )
            timing = {"crontab": crontab}
        PeriodicTask.objects.using(using).create(
            name=schedule.name, task=schedule.task, description=schedule.description, **timing
        )
        created += 1
    return created


def install_default_schedules_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate hook (also sent after ``flush``)."""
    if sender.name == "core":
        install_default_schedules(using)
