"""Default beat schedules: installed after migrate, never overwritten, not reset when beat starts."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from config.celery import app
from core.schedules import default_schedules, install_default_schedules

pytestmark = pytest.mark.django_db


def test_defaults_exist_after_migrate():
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {schedule.name for schedule in default_schedules()} <= names
    sweep = PeriodicTask.objects.get(name="audits-compliance-sweep")
    assert (sweep.task, sweep.crontab.hour, sweep.crontab.minute) == ("audits.tasks.run_compliance_sweep", "2", "0")


def test_a_changed_schedule_survives_reinstall_and_beat_start():
    # Beat's database scheduler rewrites only the entries of app.conf.beat_schedule when it starts; the portal's
    # defaults are not among them, so what people set stays.
    assert not set(app.conf.beat_schedule or {}) & {schedule.name for schedule in default_schedules()}
    sweep = PeriodicTask.objects.get(name="audits-compliance-sweep")
    sweep.crontab.hour = "4"
    sweep.crontab.save()
    sweep.enabled = False
    sweep.save()
    assert install_default_schedules() == 0
    sweep.refresh_from_db()
    assert (sweep.crontab.hour, sweep.enabled) == ("4", False)


def test_a_deleted_default_comes_back_on_the_next_migrate():
    PeriodicTask.objects.filter(name="portal-heartbeat").delete()
    assert install_default_schedules() == 1
    assert PeriodicTask.objects.get(name="portal-heartbeat").interval.every > 0
