"""A persistent connection is health-checked before a request only when it sat idle (core/db_health.py)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, close_old_connections, connection

from tests.markers import postgresql_only

pytestmark = [pytest.mark.django_db(transaction=True), postgresql_only]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def kill(pid: int) -> None:
    """End the connection's server process, as a PostgreSQL restart or failover does."""
    params = connection.get_connection_params()
    dsn = {key: value for key, value in params.items() if key in {"host", "port", "user", "password", "dbname"}}
    with psycopg.connect(**dsn, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        # The server process ends a moment after the call returns: wait until it has.
        deadline = time.monotonic() + 10
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is not None:
            assert time.monotonic() < deadline, f"backend {pid} still running 10 s after pg_terminate_backend"
            time.sleep(0.01)


def a_request_served() -> None:
    next_request_starts()
    request_finished.send(sender=None)
    close_old_connections()


def next_request_starts() -> None:
    # As a web process runs it: Django's close_old_connections first (it resets the health check), then the
    # portal's receiver. Django's test client reconnects close_old_connections behind other receivers, so the order
    # is set here; test_the_portals_receiver_runs_after_djangos checks it in a fresh process.
    request_started.disconnect(close_old_connections)
    try:
        close_old_connections()
        request_started.send(sender=None)
    finally:
        request_started.connect(close_old_connections)


@pytest.fixture
def persistent(settings: Any) -> Any:
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 600
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
    yield settings
    connection.close()


@pytest.mark.parametrize(
    ("idle_setting", "idle_for"),
    [
        (1, 2),  # idle for two seconds, longer than the setting
        (0, 0),  # the setting at zero: every request checks its connection
    ],
)
def test_a_connection_idle_longer_than_the_setting_is_checked_and_replaced(
    persistent: Any, idle_setting: int, idle_for: int
) -> None:
    persistent.DB_HEALTH_CHECK_IDLE_SECONDS = idle_setting
    pid = backend_pid()
    a_request_served()
    connection.portal_used_at -= idle_for  # type: ignore[attr-defined]
    kill(pid)

    next_request_starts()

    assert backend_pid() != pid  # the dead connection was found and replaced, and the request went on


def test_a_connection_used_a_moment_ago_is_not_checked_again(persistent: Any) -> None:
    persistent.DB_HEALTH_CHECK_IDLE_SECONDS = 60
    pid = backend_pid()
    a_request_served()
    kill(pid)

    next_request_starts()

    # No SELECT 1 went first: the request meets the dead connection, as one in flight during a restart does...
    with pytest.raises(OperationalError):
        backend_pid()
    # ...and Django replaces it when that request ends.
    request_finished.send(sender=None)
    close_old_connections()
    next_request_starts()
    assert backend_pid() != pid


def test_the_portals_receiver_runs_after_djangos() -> None:
    import subprocess
    import sys

    from django.conf import settings

    script = (
        "import django; django.setup(); from django.core.signals import request_started; "
        "print(' '.join(getattr(ref() if callable(ref) else ref, '__name__', '?') "
        "for _, ref, *_ in request_started.receivers))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    names = completed.stdout.split()
    assert names.index("close_old_connections") < names.index("skip_recent_health_checks"), names
