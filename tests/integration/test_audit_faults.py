"""Audits on real Celery processes against Redis and PostgreSQL: beat fires a scheduled audit that a worker runs,
and an audit whose worker is killed (``SIGKILL``) mid-run is completed, once, by the next worker.

The worker and beat are subprocesses on the pytest-django test database, so these tests run in the PostgreSQL pass
only: SQLite's in-memory test database cannot be shared with another process. Their broker is a Redis database
of their own (kombu's record of unacknowledged messages is per database: with the short visibility timeout used
here, a worker on the shared one would hand other suites' running tasks out again), and each test sends to a queue
of its own, so no other worker takes its messages.

"Mid-run" is made deterministic without any hook in the product: the test holds the ledger's head row locked, so
the worker computes the audit and then waits inside the transaction that would store its result, findings and
ledger event. That is where it is killed; PostgreSQL rolls the transaction back, and only the message that Redis
hands out again (after ``CELERY_VISIBILITY_TIMEOUT``, a few seconds here) gets the audit done.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from audits.choices import FINISHED_STATUSES, RunStatus
from audits.models import AuditRun
from audits.services import bias_audit_request, evaluation_dataset_create
from governance.choices import EventType, FindingSource
from governance.models import Finding, GovernanceEvent, LedgerHead
from tests.audits.conftest import GERMAN_MAPPING, GERMAN_PREDICTIONS, upload
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_1_ANSWERS, approve_tier
from tests.integration.embedded import log_tails, stop, wait_until
from tests.markers import postgresql_only

pytestmark = [pytest.mark.services, postgresql_only]

# Each wait ends as soon as its condition holds; together they keep a test well under a minute.
WAIT_SECONDS = 40
# Seconds before Redis hands the killed worker's message to another worker (production default: an hour).
VISIBILITY_TIMEOUT = 2
# The Redis database (of the server that ``redis_url`` names) that these tests' processes use as their broker.
REDIS_DATABASE = 13
DEFAULT_QUEUE = "celery"
AUDIT_TASK = "audits.tasks.run_bias_audit"


@pytest.fixture
def postgres_url(transactional_db: Any) -> str:
    """The test database as a ``DATABASE_URL``: committed rows are what the worker subprocesses see."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def broker_url(redis_url: str) -> str:
    """``redis_url`` with the database number replaced by :data:`REDIS_DATABASE`."""
    return urlsplit(redis_url)._replace(path=f"/{REDIS_DATABASE}").geturl()


@pytest.fixture
def queue(broker_url: str) -> Iterator[str]:
    """A Redis queue of this test alone; its keys are removed afterwards, and so are the messages the worker sent
    to the default queue (the e-mail notification of a finding), which no worker on this database consumes."""
    name = f"test-faults-{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(broker_url)
    for key in [*client.scan_iter(match=f"*{name}*"), DEFAULT_QUEUE]:
        client.delete(key)


@pytest.fixture
def worker_environ(postgres_url: str, broker_url: str, tmp_path: Path, settings: Any) -> dict[str, str]:
    """The environment of this test's worker and beat: the test database, Redis with a short visibility timeout,
    and the test's own media folder (where the uploaded evaluation data is stored)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    service_settings = ("DATABASE_", "REDIS_", "CELERY_")
    environ = {key: value for key, value in os.environ.items() if not key.startswith(service_settings)}
    environ.update(
        {
            "DEBUG": "1",
            "DATABASE_URL": postgres_url,
            "REDIS_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "MEDIA_ROOT": settings.MEDIA_ROOT,
            "VAR_DIR": str(tmp_path / "var"),
            # Beat copies the portal's default schedules into the database; none of them may fire during a test.
            "HEARTBEAT_SECONDS": "3600",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(settings.BASE_DIR),
        }
    )
    return environ


def _queued_audit(personas: Any) -> AuditRun:
    """A queued bias audit of the German Credit predictions for a Tier 1 version (it fails on equalized odds)."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    version = ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)
    dataset = evaluation_dataset_create(
        actor=personas.owner_a,
        version=version,
        name="German test split",
        mapping=GERMAN_MAPPING,
        upload=upload(GERMAN_PREDICTIONS.read_bytes()),
    )
    # The test sends the task itself, to its own queue.
    return bias_audit_request(actor=personas.owner_a, dataset=dataset, enqueue=False)


def _celery(command: list[str], environ: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *command, "--loglevel=INFO", f"--logfile={log}"],
        cwd=cwd,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _worker(name: str, queue: str, environ: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """A worker on ``queue`` that runs one task at a time in its own process, so ``SIGKILL`` stops the task."""
    options = ["--pool=solo", "-Q", queue, "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
    return _celery(["worker", *options], environ, cwd, cwd / f"{name}.log")


def _finished(run_pk: int) -> bool:
    return AuditRun.objects.filter(pk=run_pk, status__in=FINISHED_STATUSES).exists()


def _assert_recorded_once(run: AuditRun) -> None:
    """The run failed on equalized odds; its result, one finding per failing metric and one ledger event exist."""
    assert AuditRun.objects.count() == 1
    assert run.status == RunStatus.FAILED, run.error
    assert run.result["verdict"] == "failed"
    failing = [
        (analysis, metric)
        for analysis, verdicts in run.verdicts.items()
        for metric, v in verdicts.items()
        if v == "fail"
    ]
    assert ("sex", "equalized_odds_difference") in failing
    assert Finding.objects.filter(source=FindingSource.AUDIT).count() == len(failing)
    events = GovernanceEvent.objects.filter(event_type__in=(EventType.AUDIT_FAILED, EventType.AUDIT_PASSED))
    assert [event.payload["run"] for event in events] == [run.pk]


def test_beat_fires_a_scheduled_audit_that_a_worker_runs(
    personas: Any, worker_environ: dict[str, str], queue: str, tmp_path: Path
) -> None:
    run = _queued_audit(personas)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="audit-now",
        task=AUDIT_TASK,
        interval=every_second,
        args=json.dumps([run.pk]),
        queue=queue,
        one_off=True,
    )

    with ExitStack() as stack:
        worker = _worker("worker", queue, worker_environ, tmp_path)
        stack.callback(stop, worker)
        beat = _celery(["beat", "--scheduler=django"], worker_environ, tmp_path, tmp_path / "beat.log")
        stack.callback(stop, beat)
        done = wait_until(
            lambda: _finished(run.pk) or worker.poll() is not None or beat.poll() is not None, seconds=WAIT_SECONDS
        )
        alive = (worker.poll(), beat.poll())

    logs = log_tails(tmp_path / "worker.log", tmp_path / "beat.log")
    assert alive == (None, None), f"worker/beat exited early (codes {alive})\n{logs}"
    assert done and _finished(run.pk), f"the scheduled audit did not finish\n{logs}"
    run.refresh_from_db()
    assert run.attempts == 1
    _assert_recorded_once(run)


def _waiting_for_a_lock(database: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", [database]
        )
        (waiting,) = cursor.fetchone()
    return bool(waiting)


def test_an_audit_whose_worker_is_killed_is_completed_once_by_the_next_worker(
    personas: Any, worker_environ: dict[str, str], queue: str, broker_url: str, tmp_path: Path
) -> None:
    run = _queued_audit(personas)
    sender = Celery("faults-test", set_as_current=False, broker=broker_url)
    logs = (tmp_path / "first.log", tmp_path / "second.log")
    with ExitStack() as stack:
        stack.callback(sender.close)
        ledger = stack.enter_context(closing(psycopg.connect(worker_environ["DATABASE_URL"])))
        # Held until the first worker is dead: it computes the audit, then waits to append to the ledger.
        ledger.execute(f"SELECT seq FROM {LedgerHead._meta.db_table} WHERE id = 1 FOR UPDATE")

        first = _worker("first", queue, worker_environ, tmp_path)
        stack.callback(stop, first)
        sender.send_task(AUDIT_TASK, args=[run.pk], queue=queue)
        database = settings.DATABASES["default"]["NAME"]
        blocked = wait_until(
            lambda: (
                first.poll() is not None
                or (
                    AuditRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).exists()
                    and _waiting_for_a_lock(database)
                )
            ),
            seconds=WAIT_SECONDS,
        )
        assert blocked and first.poll() is None, f"the first worker did not reach the result\n{log_tails(*logs)}"
        first.send_signal(signal.SIGKILL)
        first.wait(WAIT_SECONDS)
        ledger.rollback()

        run.refresh_from_db()
        assert (run.status, run.attempts, run.result) == (RunStatus.RUNNING, 1, {}), "the killed run kept a result"
        assert not Finding.objects.filter(source=FindingSource.AUDIT).exists()

        second = _worker("second", queue, worker_environ, tmp_path)
        stack.callback(stop, second)
        done = wait_until(lambda: _finished(run.pk) or second.poll() is not None, seconds=WAIT_SECONDS)
        assert done and _finished(run.pk), f"the second worker did not complete the audit\n{log_tails(*logs)}"

    run.refresh_from_db()
    assert run.attempts == 2, "the audit ran once more, on the second worker"
    _assert_recorded_once(run)
