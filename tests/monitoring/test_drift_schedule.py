"""The drift schedule: which models are due, one request per model and day, and the task on a real worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audits.choices import FINISHED_STATUSES, RunStatus
from monitoring import scheduling
from monitoring.models import DriftRun, DriftSchedule
from monitoring.services import drift_audit_execute, drift_dataset_create, drift_schedule_set
from monitoring.tasks import request_due_drift_audits
from tests.celery_apps import close_worker_thread_connections, private_queue_app
from tests.integration.embedded import STOP_SECONDS, wait_until
from tests.monitoring.conftest import agreed_target, upload

pytestmark = pytest.mark.django_db


def table(personas: Any, version: Any, content: bytes, name: str) -> Any:
    return drift_dataset_create(actor=personas.owner_a, version=version, name=name, upload=upload(content))


@pytest.fixture
def scheduled(personas: Any, version_a: Any) -> Any:
    """Model A (tier 1: weekly) with a reference table, a schedule on it, and one current window."""
    reference = table(personas, version_a, b"x,c\n1,a\n2,b\n3,a\n4,b\n", "Reference")
    schedule = drift_schedule_set(actor=personas.owner_a, reference=reference, features=["x", "c"])
    table(personas, version_a, b"x,c\n1,a\n2,b\n3,b\n4,b\n", "Week 1")
    return schedule


def _finish(run_id: int, days_ago: float) -> None:
    DriftRun.objects.filter(pk=run_id).update(
        status=RunStatus.PASSED, finished_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def test_the_default_schedule_is_installed() -> None:
    task = PeriodicTask.objects.get(name="monitoring-due-drift-audits")
    assert task.task == request_due_drift_audits.name == "monitoring.tasks.request_due_drift_audits"
    assert task.crontab is not None and task.enabled


def test_a_scheduled_model_is_audited_once_per_day(
    personas: Any, scheduled: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        first = scheduling.request_due_drift_audits()
    again = scheduling.request_due_drift_audits()

    run = DriftRun.objects.get()
    assert first.requested == [run.pk] and first.skipped == {}
    assert run.idempotency_key == f"drift-schedule:{personas.model_a.pk}:{timezone.localdate().isoformat()}"
    assert (run.reference, run.current.name, run.requested_by) == (scheduled.reference, "Week 1", personas.owner_a)
    assert run.parameters["features"] == ["x", "c"] and run.status == RunStatus.QUEUED
    assert len(callbacks) == 1
    # Still queued: nothing new the same day.
    assert again.requested == [] and DriftRun.objects.count() == 1


def test_the_tier_cadence_decides_and_a_window_is_compared_once(personas: Any, version_a: Any, scheduled: Any) -> None:
    run = scheduling.request_due_drift_audits().requested[0]
    _finish(run, days_ago=6)
    assert scheduling.request_due_drift_audits().requested == []

    _finish(run, days_ago=8)
    waiting = scheduling.request_due_drift_audits()
    assert waiting.requested == [] and "already compared" in waiting.skipped["RB-0001"]

    table(personas, version_a, b"x,c\n9,a\n9,b\n9,b\n9,b\n", "Week 2")
    later = scheduling.request_due_drift_audits(now=timezone.now() + dt.timedelta(days=1))
    assert len(later.requested) == 1
    assert DriftRun.objects.get(pk=later.requested[0]).current.name == "Week 2"


def test_the_agreed_target_cadence_overrides_the_tier(personas: Any, scheduled: Any) -> None:
    agreed_target(personas, personas.model_a, drift_cadence_days=None)
    assert scheduling.request_due_drift_audits().requested == []

    agreed = agreed_target(personas, personas.model_a, drift_cadence_days=30)
    assert agreed.drift_cadence_days == 30
    run = scheduling.request_due_drift_audits().requested[0]
    _finish(run, days_ago=8)
    DriftRun.objects.filter(pk=run).update(current=scheduled.reference)  # a new window would not change the answer
    assert scheduling.request_due_drift_audits().requested == []


def test_a_paused_schedule_or_one_without_a_current_table_requests_nothing(personas: Any, version_a: Any) -> None:
    reference = table(personas, version_a, b"x\n1\n2\n", "Reference")
    drift_schedule_set(actor=personas.owner_a, reference=reference, features=["x"])
    alone = scheduling.request_due_drift_audits()
    assert alone.requested == [] and "No current table" in alone.skipped["RB-0001"]

    drift_schedule_set(actor=personas.owner_a, reference=reference, features=["x"], enabled=False)
    table(personas, version_a, b"x\n5\n6\n", "Week 1")
    assert scheduling.request_due_drift_audits().as_dict() == {"requested": [], "skipped": {}}
    assert DriftSchedule.objects.count() == 1 and DriftSchedule.objects.get().history.count() == 2


def test_a_current_table_without_the_columns_is_skipped_by_name(personas: Any, version_a: Any, scheduled: Any) -> None:
    table(personas, version_a, b"x\n1\n", "Narrow")
    summary = scheduling.request_due_drift_audits()
    assert summary.requested == [] and "has no column(s): c" in summary.skipped["RB-0001"]
    assert not DriftRun.objects.exists()


def test_the_due_query_does_not_grow_with_the_number_of_models(scheduled: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        states = list(scheduling.drift_schedule_states())
    assert len(states) == 1 and len(queries) == 1


def test_setting_a_schedule_checks_who_and_which_columns(personas: Any, version_a: Any) -> None:
    reference = table(personas, version_a, b"x,y\n1,2\n", "Reference")
    with pytest.raises(ValidationError) as error:
        drift_schedule_set(actor=personas.owner_a, reference=reference, features=["x", "z"])
    assert "reference" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        drift_schedule_set(actor=personas.owner_a, reference=reference, features=["x"], categorical=["y"])
    assert "categorical" in error.value.message_dict
    for outsider in (personas.owner_b, personas.auditor, personas.ci_scoped):
        with pytest.raises(PermissionDenied):
            drift_schedule_set(actor=outsider, reference=reference, features=["x"])
    assert not DriftSchedule.objects.exists()


def test_api_sets_and_reads_the_schedule(personas: Any, version_a: Any, api_client_for: Any) -> None:
    reference = table(personas, version_a, b"x,c\n1,a\n", "Reference")
    client = api_client_for(personas.owner_a)
    bad = client.post("/api/v1/drift-schedules/", {"reference": reference.pk, "features": ["nope"]}, format="json")
    assert bad.status_code == 400 and "reference" in bad.json()
    for features in (["x"], ["x", "c"]):
        response = client.post(
            "/api/v1/drift-schedules/", {"reference": reference.pk, "features": features}, format="json"
        )
        assert response.status_code == 200, response.json()
    body = response.json()
    assert body["model"] == "RB-0001" and body["parameters"]["features"] == ["x", "c"] and body["enabled"]
    assert client.get("/api/v1/drift-schedules/?model=RB-0001").json()["count"] == 1
    outsider = api_client_for(personas.owner_b)
    assert outsider.get(f"/api/v1/drift-schedules/{body['id']}/").status_code == 404
    hidden = outsider.post("/api/v1/drift-schedules/", {"reference": reference.pk, "features": ["x"]}, format="json")
    assert hidden.status_code == 400 and "reference" in hidden.json()
    target = client.post(
        "/api/v1/monitoring-targets/", {"model": "RB-0001", "drift_cadence_days": 0, "reason": "x"}, format="json"
    )
    assert target.status_code == 400 and "drift_cadence_days" in target.json()


@pytest.fixture
def redis_app(redis_url: str) -> Iterator[Celery]:
    """A Celery app like the portal's on Redis, on a queue of its own (tests/celery_apps.py)."""
    with private_queue_app("drift-schedule-test", redis_url) as app:
        yield app


def _finished(run_id: int) -> bool:
    try:
        return DriftRun.objects.filter(pk=run_id, status__in=FINISHED_STATUSES).exists()
    except OperationalError:
        # SQLite's shared in-memory test database answers "table is locked" while the worker thread writes.
        return False


def _requested() -> list[int]:
    try:
        return list(DriftRun.objects.values_list("pk", flat=True))
    except OperationalError:
        return []


@pytest.mark.services
def test_the_scheduled_task_requests_the_audit_and_a_worker_runs_it(
    redis_app: Celery, transactional_db: Any, personas: Any, scheduled: Any
) -> None:
    task_postrun.connect(close_worker_thread_connections, weak=False)
    try:
        with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=STOP_SECONDS):
            redis_app.send_task(request_due_drift_audits.name)
            assert wait_until(lambda: bool(_requested())), "the schedule's task requested no audit"
            run_id = _requested()[0]
            finished = wait_until(lambda: _finished(run_id))
    finally:
        task_postrun.disconnect(close_worker_thread_connections)

    assert finished, "the worker did not finish the scheduled drift audit"
    run = DriftRun.objects.get()
    assert run.status in {RunStatus.PASSED, RunStatus.FAILED} and run.attempts == 1, run.error
    assert run.idempotency_key.startswith("drift-schedule:")
    # A second pass the same day (as a re-delivered message would) changes nothing.
    assert scheduling.request_due_drift_audits().requested == []
    assert drift_audit_execute(run_id=run.pk).finished_at == run.finished_at
