"""Celery for real: a worker on Redis runs the heartbeat task, and the embedded set-up of ``make demo`` (worker
and beat on the filesystem broker, SQLite) records heartbeats on its own.

No eager mode anywhere: a task only counts as run when a worker took it off a broker and wrote to the database.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import OperationalError

from core.models import ServiceHeartbeat
from core.tasks import record_heartbeat
from tests.celery_apps import close_worker_thread_connections, private_queue_app
from tests.integration.embedded import (
    STOP_SECONDS,
    embedded_environ,
    log_tails,
    read_heartbeat,
    stop,
    wait_until,
)


@pytest.fixture
def redis_app(redis_url: str) -> Iterator[Celery]:
    """A Celery app configured like the portal's, but on Redis and on a queue of its own.

    Importing ``core.tasks`` above registers the shared task with this app too. The own queue keeps this test's
    message away from any other worker on the same Redis (a developer's, or a parallel run). The embedded worker
    makes its app the process-wide current app; the portal's is put back.
    """
    with private_queue_app("portal-test", redis_url) as app:
        yield app


def _heartbeat_in_test_database() -> bool:
    try:
        return ServiceHeartbeat.objects.filter(name="scheduler").exists()
    except OperationalError:
        # SQLite's shared in-memory test database answers "table is locked" while the worker thread writes.
        return False


@pytest.mark.services
def test_worker_on_redis_runs_the_heartbeat_task(redis_app: Celery, transactional_db: Any) -> None:
    assert not ServiceHeartbeat.objects.exists()
    task_postrun.connect(close_worker_thread_connections, weak=False)
    try:
        with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=STOP_SECONDS):
            redis_app.send_task(record_heartbeat.name, kwargs={"sent_at": "from-the-test"})
            recorded = wait_until(_heartbeat_in_test_database)
    finally:
        task_postrun.disconnect(close_worker_thread_connections)

    assert recorded, "the worker did not record a heartbeat"
    heartbeat = ServiceHeartbeat.objects.get(name="scheduler")
    assert heartbeat.details["sent_at"] == "from-the-test"
    assert heartbeat.details["ran_at"]


@pytest.mark.single_pass
def test_embedded_worker_and_beat_record_heartbeats_in_sqlite(embedded_var_dir: Path, tmp_path: Path) -> None:
    # The processes run from an empty folder, so anything written outside VAR_DIR would show up in it.
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    environ = embedded_environ(embedded_var_dir, HEARTBEAT_SECONDS="1")
    database = embedded_var_dir / "portal.sqlite3"
    assert read_heartbeat(database) is None

    celery = [sys.executable, "-m", "celery", "-A", "config"]
    worker_log, beat_log = embedded_var_dir / "worker.log", embedded_var_dir / "beat.log"
    with ExitStack() as stack:
        worker = subprocess.Popen(
            [*celery, "worker", "--pool=solo", "--loglevel=INFO", f"--logfile={worker_log}"],
            cwd=workdir,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(stop, worker)
        beat = subprocess.Popen(
            [*celery, "beat", "--scheduler=django", "--loglevel=INFO", f"--logfile={beat_log}"],
            cwd=workdir,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(stop, beat)

        recorded = wait_until(
            lambda: read_heartbeat(database) is not None or worker.poll() is not None or beat.poll() is not None
        )
        alive = (worker.poll(), beat.poll())

    logs = log_tails(worker_log, beat_log)
    assert alive == (None, None), f"worker/beat exited early (codes {alive})\n{logs}"
    assert recorded and read_heartbeat(database) is not None, f"no heartbeat within the wait\n{logs}"
    assert (embedded_var_dir / "celery" / "queue").is_dir(), "the filesystem broker's messages belong under VAR_DIR"
    assert sorted(p.name for p in workdir.iterdir()) == [], "worker or beat wrote files outside VAR_DIR"
