"""Notifications: who is told, e-mail after commit and only once, daily reminders once per occasion."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from governance.models import Notification
from governance.services import findings, workflow
from governance.services.mail import notification_emails_send
from governance.services.reminders import reminders_send
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db


def test_submission_tells_the_validators_and_mail_goes_once(
    personas, tier1_model_a, django_capture_on_commit_callbacks
):
    version = ModelVersionFactory(model=tier1_model_a, version="3.0.0", actor=personas.owner_a)
    personas.validator_assigned.email = "validator@bank.example"
    personas.validator_assigned.save()
    with django_capture_on_commit_callbacks() as callbacks:
        workflow.version_submit(actor=personas.owner_a, version=version)
    notes = Notification.objects.filter(title__contains="waits for validation")
    assert [n.recipient for n in notes] == [personas.validator_assigned]
    assert callbacks, "e-mail is queued only once the transaction commits"
    ids = list(notes.values_list("pk", flat=True))
    assert notification_emails_send(notification_ids=ids) == 1
    assert notification_emails_send(notification_ids=ids) == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["validator@bank.example"]
    assert "/governance/models/RB-0001/" in mail.outbox[0].body


def test_reminders_once_per_occasion(personas):
    today = dt.date.today()
    findings.finding_raise(
        actor=personas.risk_officer,
        model=personas.model_a,
        title="Overdue thing",
        severity="high",
        due_date=today + dt.timedelta(days=3),
    )
    assert reminders_send(today=today) == 1
    assert reminders_send(today=today) == 0
    assert reminders_send(today=today + dt.timedelta(days=5)) == 1  # now overdue: a new occasion
    kinds = sorted(
        Notification.objects.filter(recipient=personas.owner_a, kind__startswith="finding").values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["finding_due", "finding_overdue"]


def test_muted_imports_tell_nobody(personas):
    from governance.services.notifications import notifications_muted

    with notifications_muted():
        findings.finding_raise(
            actor=personas.risk_officer,
            model=personas.model_a,
            title="Imported",
            severity="low",
            due_date=dt.date.today(),
        )
    assert not Notification.objects.exists()
    findings.finding_raise(
        actor=personas.risk_officer, model=personas.model_a, title="New", severity="low", due_date=dt.date.today()
    )
    assert Notification.objects.count() == 1
