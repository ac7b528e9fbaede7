"""Background tasks of the shared kernel."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from core.services import heartbeat_record


@shared_task(name="core.tasks.record_heartbeat", ignore_result=True, acks_late=True, soft_time_limit=25, time_limit=30)
def record_heartbeat(sent_at: str | None = None) -> None:
    """Beat schedules this; a worker running it proves beat, broker, worker and database all work."""
    heartbeat_record(
        name="scheduler",
        details={"sent_at": sent_at, "ran_at": timezone.now().isoformat()},
    )
