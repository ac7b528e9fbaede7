"""Work requested while the broker is down: the request is recorded and answered, and the requeue sweep sends its
task again later (core/requeue.py). The end-to-end version, with a real Redis stopped and started, is in
tests/integration/test_service_faults.py; these run on both databases without any broker."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from audits.choices import AuditKind, RunStatus
from audits.models import AuditRun
from audits.tasks import run_bias_audit, run_compliance_sweep
from core.requeue import stale_work_requeue
from core.tasks import requeue_stale_work
from governance.choices import EventType
from governance.models import GovernanceEvent, Notification
from governance.tasks import send_notification_emails
from reports.choices import ExportStatus
from reports.models import Export
from reports.tasks import run_export

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(seconds=1)


@pytest.fixture
def sent(monkeypatch: Any) -> list[tuple[str, Any]]:
    """The tasks sent, by name and argument, instead of going to a broker."""
    messages: list[tuple[str, Any]] = []
    for task in (run_export, run_bias_audit, run_compliance_sweep, send_notification_emails):
        monkeypatch.setattr(task, "delay", lambda argument, name=task.name: messages.append((name, argument)))
    return messages


def _broker_down(monkeypatch: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for task in (run_export, send_notification_emails):
        monkeypatch.setattr(task, "delay", refuse)


def test_a_request_made_while_the_broker_is_down_is_recorded_answered_and_sent_again_later(
    personas: Any, api_client_for: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = api_client_for(personas.risk_officer)
    _broker_down(monkeypatch)
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        export = client.post("/api/v1/exports/", {"kind": "register_csv"}, format="json")
        finding = client.post(
            "/api/v1/findings/",
            {"model": "RB-0001", "title": "Broker down", "severity": "low", "due_date": due},
            format="json",
        )
    assert (export.status_code, finding.status_code) == (202, 201), (export.content, finding.content)
    assert Export.objects.get().status == ExportStatus.QUEUED
    assert GovernanceEvent.objects.filter(event_type=EventType.REPORT_EXPORTED).count() == 1
    notification = Notification.objects.get(recipient=personas.owner_a)
    assert notification.emailed_at is None

    messages: list[tuple[str, Any]] = []
    monkeypatch.setattr(run_export, "delay", lambda pk: messages.append(("export", pk)))
    monkeypatch.setattr(send_notification_emails, "delay", lambda ids: messages.append(("emails", ids)))
    # Not yet: within the grace period the message may just be waiting for a busy worker.
    assert sum(stale_work_requeue().values()) == 0
    assert messages == []
    stale_work_requeue(queued_before=timezone.now() + LATER)
    assert sorted(messages, key=str) == [("emails", [notification.pk]), ("export", export.json()["id"])]


def test_only_rows_still_waiting_are_sent_again(personas: Any, sent: list[tuple[str, Any]]) -> None:
    long_ago = timezone.now() - dt.timedelta(hours=1)
    queued = Export.objects.create(kind="register_csv", params={}, requested_by=personas.owner_a, requested_at=long_ago)
    Export.objects.create(
        kind="register_csv", params={}, requested_by=personas.owner_a, requested_at=long_ago, status=ExportStatus.DONE
    )
    sweep = AuditRun.objects.create(kind=AuditKind.COMPLIANCE, requested_at=long_ago, idempotency_key="sweep")
    AuditRun.objects.create(
        kind=AuditKind.COMPLIANCE, requested_at=long_ago, idempotency_key="running", status=RunStatus.RUNNING
    )
    unsent = Notification.objects.create(
        recipient=personas.owner_a, kind="decision", title="Unsent", created_at=long_ago
    )
    Notification.objects.create(
        recipient=personas.owner_b, kind="decision", title="Sent", created_at=long_ago, emailed_at=long_ago
    )
    Notification.objects.create(
        recipient=personas.owner_a, kind="decision", title="Too old", created_at=long_ago - dt.timedelta(days=3)
    )

    counts = requeue_stale_work(older_than_seconds=60)

    assert sorted(sent, key=str) == sorted(
        [
            ("audits.tasks.run_compliance_sweep", sweep.pk),
            ("governance.tasks.send_notification_emails", [unsent.pk]),
            ("reports.tasks.run_export", queued.pk),
        ],
        key=str,
    )
    assert sorted(counts.values()) == [0, 1, 1, 1]  # no drift audit is waiting
    assert counts["monitoring.services.drift_runs_requeue_stale"] == 0
