"""Persistent database connections are health-checked before a request only when they sat idle.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` on every request's first query, so a connection that
PostgreSQL closed (a restart, a failover, an idle timeout) is replaced instead of failing the request. On a busy
web process that round trip was 0.3 ms of a 5 ms list request, for connections that answered a moment before.
A connection that served a request less than ``DB_HEALTH_CHECK_IDLE_SECONDS`` ago is taken as it is; an idle one
is checked as Django checks it. A connection that failed is closed by Django at the end of its request either way.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connections


def connections_used(**kwargs: Any) -> None:
    """``request_finished``: note when each open connection last served a request."""
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            connection.portal_used_at = now  # type: ignore[attr-defined]


def skip_recent_health_checks(**kwargs: Any) -> None:
    """``request_started``, after Django's own receiver has reset each connection's health check: mark as checked
    the connections that served a request a moment ago."""
    idle = settings.DB_HEALTH_CHECK_IDLE_SECONDS
    if idle <= 0:
        return
    now = time.monotonic()
    connection: Any  # Django's wrapper keeps its health-check flags outside the stubs' type
    for connection in connections.all(initialized_only=True):
        used_at = getattr(connection, "portal_used_at", None)
        if (
            connection.connection is not None
            and connection.health_check_enabled
            and not connection.errors_occurred
            and used_at is not None
            and now - used_at < idle
        ):
            connection.health_check_done = True
