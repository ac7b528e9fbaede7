"""The bias-audit schedule: which models are due, one request per model and day, and the schedules' services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audits import scheduling
from audits.choices import RunStatus
from audits.models import AuditRun
from audits.services import evaluation_dataset_create
from governance.models import TierPolicy
from tests.audits.conftest import GERMAN_MAPPING, bias_schedule, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(personas: Any, version_a: Any, german_csv: bytes) -> Any:
    TierPolicy.objects.filter(pack__is_active=True).update(bias_audit_cadence_days=90)
    return evaluation_dataset_create(
        actor=personas.owner_a, version=version_a, name="test split", mapping=GERMAN_MAPPING, upload=upload(german_csv)
    )


def test_a_model_never_audited_is_due_once_per_day(dataset: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        first = scheduling.request_due_bias_audits()
    again = scheduling.request_due_bias_audits()

    run = AuditRun.objects.get()
    assert first.requested == [run.pk]
    assert run.dataset == dataset and run.status == RunStatus.QUEUED
    assert run.requested_by == dataset.created_by
    assert len(callbacks) == 1
    # Still queued: nothing new the same day.
    assert again.requested == []
    assert AuditRun.objects.count() == 1


def test_an_audit_within_the_cadence_is_not_due_and_one_past_it_is(dataset: Any) -> None:
    run = scheduling.request_due_bias_audits().requested[0]
    AuditRun.objects.filter(pk=run).update(status=RunStatus.PASSED, finished_at=timezone.now() - dt.timedelta(days=89))
    assert scheduling.request_due_bias_audits().requested == []

    AuditRun.objects.filter(pk=run).update(finished_at=timezone.now() - dt.timedelta(days=91))
    later = scheduling.request_due_bias_audits(now=timezone.now() + dt.timedelta(days=1))
    assert len(later.requested) == 1
    assert AuditRun.objects.count() == 2


def test_no_cadence_or_no_data_means_not_due(personas: Any, version_a: Any, dataset: Any) -> None:
    TierPolicy.objects.update(bias_audit_cadence_days=None)
    assert scheduling.request_due_bias_audits().requested == []


def test_the_due_query_does_not_grow_with_the_number_of_models(dataset: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        list(scheduling.due_bias_audit_datasets())
    assert len(queries) == 2


def test_schedules_are_for_risk_officers(personas: Any, django_capture_on_commit_callbacks: Any) -> None:
    task = bias_schedule()
    with pytest.raises(PermissionDenied):
        scheduling.periodic_task_queryset(user=personas.owner_a)
    with pytest.raises(PermissionDenied):
        scheduling.periodic_task_set_enabled(actor=personas.auditor, task=task, enabled=False)

    assert task in list(scheduling.periodic_task_queryset(user=personas.risk_officer))
    scheduling.periodic_task_set_enabled(actor=personas.risk_officer, task=task, enabled=False)
    assert PeriodicTask.objects.get(pk=task.pk).enabled is False
