"""A persistent connection is health-checked before a request only when it sat idle (core/db_health.py)."""

from __future__ import annotations

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


def a_request_served() -> None:
    # What Django's handler sends around a request; close_old_connections is connected to both in production.
    request_started.send(sender=None)
    close_old_connections()
    request_finished.send(sender=None)
    close_old_connections()


def next_request_starts() -> None:
    # Django's receiver resets the health check, then the portal's skips it for a connection used just now.
    close_old_connections()
    request_started.send(sender=None)


@pytest.fixture
def persistent(settings: Any) -> Any:
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 600
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
    yield settings
    connection.close()


def test_a_connection_idle_longer_than_the_setting_is_checked_and_replaced(persistent: Any) -> None:
    persistent.DB_HEALTH_CHECK_IDLE_SECONDS = 1
    pid = backend_pid()
    a_request_served()
    connection.portal_used_at -= 2  # type: ignore[attr-defined]  # idle for two seconds
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


def test_with_the_setting_at_zero_every_request_checks_its_connection(persistent: Any) -> None:
    persistent.DB_HEALTH_CHECK_IDLE_SECONDS = 0
    pid = backend_pid()
    a_request_served()
    kill(pid)

    next_request_starts()

    assert backend_pid() != pid
