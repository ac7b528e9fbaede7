"""Every portal task is acknowledged late and time-limited, from the one set of shared options."""

from __future__ import annotations

from config.celery import app
from core.task_options import DATABASE_ERRORS, task_options

PORTAL_APPS = ("core.", "inventory.", "governance.", "audits.", "gate.", "monitoring.", "reports.")


def test_options_retry_database_errors_and_end_softly_before_the_hard_limit() -> None:
    options = task_options(time_limit=600)
    assert options["acks_late"] and options["ignore_result"]
    assert options["autoretry_for"] == DATABASE_ERRORS and options["retry_kwargs"] == {"max_retries": 5}
    assert options["soft_time_limit"] == 590
    assert task_options(time_limit=30)["soft_time_limit"] == 25
    assert task_options(time_limit=1800)["soft_time_limit"] == 1770


def test_no_retry_when_nothing_is_worth_one_and_extra_options_win() -> None:
    options = task_options(time_limit=120, retry_on=())
    assert "autoretry_for" not in options
    assert task_options(time_limit=120, retry_kwargs={"max_retries": 2})["retry_kwargs"] == {"max_retries": 2}


def test_every_portal_task_is_late_acknowledged_and_time_limited() -> None:
    app.loader.import_default_modules()
    tasks = {name: task for name, task in app.tasks.items() if name.startswith(PORTAL_APPS)}
    assert len(tasks) >= 12, sorted(tasks)
    for name, task in tasks.items():
        assert task.acks_late, name
        assert task.time_limit and task.soft_time_limit and task.soft_time_limit < task.time_limit, name
