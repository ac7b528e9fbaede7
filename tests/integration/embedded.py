"""Helpers for tests that run the portal's own processes (manage.py, Celery, the demo server) as subprocesses."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from django.conf import settings

# Generous bounds for a loaded two-core CI machine; every wait ends as soon as its condition holds.
WAIT_SECONDS = 90
STOP_SECONDS = 30


def wait_until(condition: Callable[[], object], *, seconds: float = WAIT_SECONDS, every: float = 0.25) -> bool:
    """Poll ``condition`` until it is true or the time is up; returns whether it became true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def embedded_environ(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of an embedded portal in ``var_dir``: SQLite and the filesystem broker, debug on.

    No database, Redis or broker variable may leak in from the test run (CI sets them): the embedded default is
    what these tests are about.
    """
    service_settings = ("DATABASE_", "REDIS_", "CELERY_")
    environ = {key: value for key, value in os.environ.items() if not key.startswith(service_settings)}
    environ.update(
        {
            "DEBUG": "1",
            "VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(settings.BASE_DIR),
            **extra,
        }
    )
    return environ


def read_heartbeat(database: Path) -> tuple[str, str] | None:
    """The scheduler heartbeat as the embedded database file holds it, read without Django."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
        try:
            row = db.execute("SELECT name, last_seen FROM core_serviceheartbeat WHERE name = 'scheduler'").fetchone()
        except sqlite3.OperationalError:
            return None  # locked by a writer this instant; the next poll reads it
    return row


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Ask a process to stop (warm shutdown, like Ctrl-C or ``docker stop``), then kill it if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def is_running(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie waiting for its parent."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def log_tails(*logs: Path, characters: int = 3000) -> str:
    """The ends of the given log files, for an assertion message."""
    return "\n".join(f"--- {log.name}\n{log.read_text()[-characters:]}" for log in logs if log.exists())
