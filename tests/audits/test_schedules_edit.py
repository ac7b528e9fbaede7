"""Changing the portal's schedules: the service's checks, the edit page and the schedules API, and who is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from audits import scheduling
from tests.audits.conftest import bias_schedule

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def foreign_schedule() -> PeriodicTask:
    """A schedule beat holds that is not the portal's (Celery's own result cleanup)."""
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
    return PeriodicTask.objects.create(name="celery.backend_cleanup", task="celery.backend_cleanup", interval=interval)


def test_a_risk_officer_moves_a_schedule_to_an_interval_and_to_a_crontab(personas: Any) -> None:
    task = bias_schedule()

    changed = scheduling.schedule_update(actor=personas.risk_officer, task=task, every_minutes=30, enabled=False)
    stored = PeriodicTask.objects.get(pk=task.pk)
    assert stored.enabled is False and stored.crontab is None
    assert (stored.interval.every, stored.interval.period) == (30, IntervalSchedule.MINUTES)
    assert scheduling.interval_minutes(changed) == 30

    scheduling.schedule_update(actor=personas.risk_officer, task=task, minute="15", hour="2", day_of_week="mon-fri")
    stored = PeriodicTask.objects.get(pk=task.pk)
    assert stored.interval is None and stored.enabled is False
    assert (stored.crontab.minute, stored.crontab.hour, stored.crontab.day_of_week) == ("15", "2", "mon-fri")

    # Crontab fields not given keep their value; enabled alone leaves the timing alone.
    scheduling.schedule_update(actor=personas.risk_officer, task=task, hour="4", enabled=True)
    stored = PeriodicTask.objects.get(pk=task.pk)
    assert (stored.crontab.minute, stored.crontab.hour, stored.crontab.day_of_week) == ("15", "4", "mon-fri")
    assert stored.enabled is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"every_minutes": 0}, "every_minutes"),
        ({"minute": "61"}, "minute"),
        ({"minute": "0", "hour": "25"}, "hour"),
        ({"minute": "0", "hour": "3", "day_of_week": "someday"}, "day_of_week"),
        # From an interval, a crontab needs its minute and hour.
        ({"minute": "0"}, "hour"),
        ({"every_minutes": 5, "minute": "0"}, "__all__"),
        ({}, "__all__"),
    ],
)
def test_bad_schedules_are_refused_and_nothing_changes(personas: Any, changes: dict[str, Any], field: str) -> None:
    task = bias_schedule()
    crontabs = CrontabSchedule.objects.count()
    with pytest.raises(ValidationError) as refused:
        scheduling.schedule_update(actor=personas.risk_officer, task=task, **changes)
    # A refusal that names no field is about the whole change.
    assert field in getattr(refused.value, "error_dict", {"__all__": refused.value.messages})
    stored = PeriodicTask.objects.get(pk=task.pk)
    assert (stored.interval_id, stored.crontab_id) == (task.interval_id, None)
    assert CrontabSchedule.objects.count() == crontabs


def test_only_risk_officers_change_only_the_portals_schedules(personas: Any) -> None:
    task = bias_schedule()
    for user in (personas.owner_a, personas.auditor, personas.no_role):
        with pytest.raises(PermissionDenied):
            scheduling.schedule_update(actor=user, task=task, every_minutes=5)
    with pytest.raises(PermissionDenied):
        scheduling.schedule_update(actor=personas.risk_officer, task=foreign_schedule(), every_minutes=5)
    assert PeriodicTask.objects.get(pk=task.pk).interval == task.interval


def test_the_edit_page_changes_a_schedule_for_risk_officers_only(personas: Any) -> None:
    task = bias_schedule()
    url = reverse("audits:schedule-edit", args=[task.pk])
    body = {"enabled": "on", "kind": "crontab", "minute": "0", "hour": "5", "day_of_week": "*"}
    owner = client_for(personas.owner_a)
    assert owner.get(url).status_code == 403
    assert owner.post(url, body).status_code == 403

    client = client_for(personas.risk_officer)
    assert client.get(reverse("audits:schedules")).content.decode().count(url) == 1
    page = client.get(url)
    assert page.status_code == 200 and 'value="1440"' in page.content.decode()
    assert client.get(reverse("audits:schedule-edit", args=[foreign_schedule().pk])).status_code == 404

    refused = client.post(url, {**body, "hour": "24"})
    assert refused.status_code == 400 and PeriodicTask.objects.get(pk=task.pk).crontab is None
    assert client.post(url, {"kind": "interval", "every_minutes": ""}).status_code == 400

    assert client.post(url, body).status_code == 302
    stored = PeriodicTask.objects.get(pk=task.pk)
    assert (stored.crontab.minute, stored.crontab.hour, stored.interval) == ("0", "5", None)

    assert client.post(url, {"kind": "interval", "every_minutes": "10"}).status_code == 302
    stored = PeriodicTask.objects.get(pk=task.pk)
    assert stored.enabled is False and stored.interval.every == 10 and stored.crontab is None


def test_the_api_lists_changes_and_runs_schedules(
    personas: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    task = bias_schedule()
    client = api_client_for(personas.risk_officer)
    listed = client.get("/api/v1/schedules/")
    assert listed.status_code == 200
    assert task.name in [row["name"] for row in listed.json()["results"]]
    detail = client.get(f"/api/v1/schedules/{task.pk}/").json()
    assert (detail["kind"], detail["every_minutes"], detail["minute"]) == ("interval", 1440.0, None)
    assert client.get(f"/api/v1/schedules/{foreign_schedule().pk}/").status_code == 404

    changed = client.patch(f"/api/v1/schedules/{task.pk}/", {"minute": "30", "hour": "1"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["kind"], changed.json()["hour"], changed.json()["day_of_week"]) == ("crontab", "1", "*")
    bad = client.patch(f"/api/v1/schedules/{task.pk}/", {"every_minutes": 0}, format="json")
    assert bad.status_code == 400 and "every_minutes" in bad.json()
    assert client.patch(f"/api/v1/schedules/{task.pk}/", {"when": "now"}, format="json").status_code == 400
    assert client.put(f"/api/v1/schedules/{task.pk}/", {"enabled": False}, format="json").status_code == 405

    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(f"/api/v1/schedules/{task.pk}/run/").status_code == 202
    assert len(callbacks) == 1


def test_the_api_refuses_everyone_but_risk_officers(
    personas: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    task = bias_schedule()
    client = api_client_for(personas.owner_a)
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.get("/api/v1/schedules/").status_code == 403
        assert client.get(f"/api/v1/schedules/{task.pk}/").status_code == 403
        assert client.patch(f"/api/v1/schedules/{task.pk}/", {"enabled": False}, format="json").status_code == 403
        assert client.post(f"/api/v1/schedules/{task.pk}/run/").status_code == 403
    assert callbacks == []
    assert PeriodicTask.objects.get(pk=task.pk).enabled is True
