"""Ledger events of the audits app: stored evaluation data and changed schedules, chained and verifiable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from audits import scheduling
from audits.models import EvaluationDataset
from audits.services import evaluation_dataset_create
from governance.choices import EventType
from governance.ledger import verify_ledger
from governance.models import GovernanceEvent
from tests.audits.conftest import GERMAN_MAPPING, bias_schedule, upload

pytestmark = pytest.mark.django_db


def events(event_type: str) -> list[GovernanceEvent]:
    return list(GovernanceEvent.objects.filter(event_type=event_type).order_by("seq"))


def test_storing_an_upload_writes_one_event_with_its_hash(personas: Any, version_a: Any, german_csv: bytes) -> None:
    dataset = evaluation_dataset_create(
        actor=personas.owner_a, version=version_a, name="German", mapping=GERMAN_MAPPING, upload=upload(german_csv)
    )

    (event,) = events(EventType.AUDIT_DATASET_STORED)
    assert event.actor_id == personas.owner_a.pk
    assert event.model_key == personas.model_a.key
    assert (event.subject_type, event.subject_id) == ("evaluationdataset", str(dataset.pk))
    assert event.payload["sha256"] == dataset.sha256
    assert event.payload["rows"] == 300
    assert event.payload["source"] == "upload"
    assert event.payload["mapping"] == dataset.mapping
    assert verify_ledger().intact


def test_storing_a_reference_writes_its_location(
    personas: Any, version_a: Any, german_csv: bytes, settings: Any, tmp_path: Path
) -> None:
    (tmp_path / "preds.csv").write_bytes(german_csv)
    settings.EVALUATION_DATA_ROOTS = [tmp_path]

    evaluation_dataset_create(
        actor=personas.validator_assigned,
        version=version_a,
        name="logged",
        mapping=GERMAN_MAPPING,
        reference_path=str(tmp_path / "preds.csv"),
    )

    (event,) = events(EventType.AUDIT_DATASET_STORED)
    assert event.payload["source"] == "reference"
    assert event.payload["reference"] == str((tmp_path / "preds.csv").resolve())
    assert event.actor_id == personas.validator_assigned.pk
    assert verify_ledger().intact


def test_refused_data_writes_no_event(personas: Any, version_a: Any, german_csv: bytes) -> None:
    with pytest.raises(ValidationError):
        evaluation_dataset_create(
            actor=personas.owner_a,
            version=version_a,
            name="bad",
            mapping={**GERMAN_MAPPING, "label": "missing"},
            upload=upload(german_csv),
        )
    with pytest.raises(PermissionDenied):
        evaluation_dataset_create(
            actor=personas.owner_b, version=version_a, name="d", mapping=GERMAN_MAPPING, upload=upload(german_csv)
        )

    assert not EvaluationDataset.objects.exists()
    assert events(EventType.AUDIT_DATASET_STORED) == []


def test_changing_pausing_and_resuming_a_schedule_write_events(personas: Any) -> None:
    task = bias_schedule()

    scheduling.schedule_update(actor=personas.risk_officer, task=task, every_minutes=30)
    scheduling.periodic_task_set_enabled(actor=personas.risk_officer, task=task, enabled=False)
    scheduling.periodic_task_set_enabled(actor=personas.risk_officer, task=task, enabled=True)
    scheduling.schedule_update(actor=personas.risk_officer, task=task, minute="0", hour="3")

    changed = events(EventType.AUDIT_SCHEDULE_CHANGED)
    assert len(changed) == 4
    assert all(event.actor_id == personas.risk_officer.pk for event in changed)
    assert all((event.subject_type, event.subject_id) == ("periodictask", str(task.pk)) for event in changed)
    timing, pause, resume, crontab = (event.payload for event in changed)
    assert timing["before"]["schedule"] != timing["after"]["schedule"]
    assert "30" in timing["after"]["schedule"]
    assert (pause["before"]["enabled"], pause["after"]["enabled"]) == (True, False)
    assert (resume["before"]["enabled"], resume["after"]["enabled"]) == (False, True)
    assert crontab["after"]["schedule"].startswith("0 3 ")
    assert "paused" in changed[1].summary and "resumed" in changed[2].summary
    assert verify_ledger().intact


def test_a_no_op_or_refused_change_writes_no_event(personas: Any) -> None:
    task = bias_schedule()

    scheduling.periodic_task_set_enabled(actor=personas.risk_officer, task=task, enabled=True)
    with pytest.raises(ValidationError):
        scheduling.schedule_update(actor=personas.risk_officer, task=task, every_minutes=0)
    with pytest.raises(PermissionDenied):
        scheduling.periodic_task_set_enabled(actor=personas.owner_a, task=task, enabled=False)

    assert events(EventType.AUDIT_SCHEDULE_CHANGED) == []


def test_pausing_from_the_page_writes_an_event(personas: Any) -> None:
    task = bias_schedule()
    client = Client()
    client.force_login(personas.risk_officer)

    response = client.post(reverse("audits:schedule-step", args=[task.pk, "pause"]))

    assert response.status_code == 302
    (event,) = events(EventType.AUDIT_SCHEDULE_CHANGED)
    assert event.payload["after"]["enabled"] is False
    assert verify_ledger().intact
