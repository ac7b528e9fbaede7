"""Background tasks of the shared kernel."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from core.requeue import REQUEUE_AFTER, stale_work_requeue
from core.services import heartbeat_record
from core.task_options import task_options


@shared_task(name="core.tasks.record_heartbeat", **task_options(time_limit=30, retry_on=()))
def record_heartbeat(sent_at: str | None = None) -> None:
    """Beat schedules this; a worker running it proves beat, broker, worker and database all work."""
    heartbeat_record(
        name="scheduler",
        details={"sent_at": sent_at, "ran_at": timezone.now().isoformat()},
    )


@shared_task(name="core.tasks.requeue_stale_work", **task_options(time_limit=120, retry_on=()))
def requeue_stale_work(older_than_seconds: float | None = None) -> dict[str, int]:
    """Beat schedules this: tasks of rows still queued after ``older_than_seconds`` (default: ten minutes) are
    sent again; they were requested while the broker was down."""
    older_than = REQUEUE_AFTER if older_than_seconds is None else dt.timedelta(seconds=older_than_seconds)
    return stale_work_requeue(queued_before=timezone.now() - older_than)


@shared_task(name="core.tasks.prune_login_attempts", **task_options(time_limit=120, retry_on=()))
def prune_login_attempts(older_than_days: int = 90) -> int:
    """Beat schedules this daily: sign-in attempts older than ``older_than_days`` go (lockouts are kept)."""
    from core.lockout import login_attempts_prune  # lockout imports the auth forms, which need the app registry

    return login_attempts_prune(older_than_days=older_than_days)
