"""``GET /health/``: is this web process able to serve, and are the broker and the scheduler alive?

Load balancers and container orchestrators call it without signing in, so it answers anonymously and says
nothing about the inventory, the configuration or the infrastructure: each check reports ``ok`` or ``error``,
and the reason for an error goes to the log, never into the response. The HTTP status follows the database
alone (200 when it answers, 503 when not): a web process without its database cannot serve a single page,
while a broker or scheduler outage only delays background work and must not take the web tier out of
rotation.
"""

from __future__ import annotations

import logging
import os
import tomllib
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

from core.models import ServiceHeartbeat

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"
# A check must answer well within a load balancer's own timeout (commonly 2-5 s).
BROKER_TIMEOUT_SECONDS = 1
# Beat schedules the heartbeat every HEARTBEAT_SECONDS; missing a few in a row means beat or every worker is down.
STALE_AFTER_BEATS = 3


@cache
def portal_version() -> str:
    """The version in ``pyproject.toml``; the project is not installed as a package, so there is no metadata."""
    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def check_database() -> str:
    """``ok`` when the default database answers a trivial query."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database is not reachable")
        return ERROR
    return OK


def check_broker() -> str:
    """``ok`` when a connection to the Celery broker opens within a second.

    The URL comes from the settings, not from the Celery app, so it is the broker this process would send to.
    """
    options: dict[str, Any] = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {})
    # Redis accepts a connection and then may still hang; bound both steps.
    options.setdefault("socket_timeout", BROKER_TIMEOUT_SECONDS)
    options.setdefault("socket_connect_timeout", BROKER_TIMEOUT_SECONDS)
    try:
        with Connection(
            settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=options
        ) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
            if broker.transport_cls == "filesystem":
                _check_filesystem_queue(options)
    except Exception:
        # Every transport raises its own errors (redis, amqp, OSError...); all of them mean "cannot send tasks".
        logger.warning("Health check: the Celery broker is not reachable", exc_info=True)
        return ERROR
    return OK


def _check_filesystem_queue(options: dict[str, Any]) -> None:
    """The filesystem broker "connects" to anything; what matters is that its queue folder is writable."""
    for key in ("data_folder_in", "data_folder_out"):
        folder = options.get(key)
        if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            raise OSError(f"broker queue folder {key} is missing or not writable")


def scheduler_status() -> dict[str, Any]:
    """When beat and a worker last proved alive together, how long ago, and whether that is too long."""
    try:
        heartbeat = ServiceHeartbeat.objects.filter(name="scheduler").only("last_seen").first()
    except DatabaseError:
        logger.warning("Health check: cannot read the scheduler heartbeat", exc_info=True)
        return {"status": ERROR, "last_heartbeat": None, "age_seconds": None}
    if heartbeat is None:
        return {"status": "never", "last_heartbeat": None, "age_seconds": None}
    age = max(0, round((timezone.now() - heartbeat.last_seen).total_seconds()))
    stale = age > STALE_AFTER_BEATS * settings.HEARTBEAT_SECONDS
    return {
        "status": "stale" if stale else OK,
        "last_heartbeat": heartbeat.last_seen.isoformat(),
        "age_seconds": age,
    }


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """The health report; see the module docstring for what it promises."""
    database = check_database()
    broker = check_broker()
    if database == OK:
        scheduler = scheduler_status()
    else:
        scheduler = {"status": "unknown", "last_heartbeat": None, "age_seconds": None}
    if database != OK:
        status = ERROR
    elif broker == OK and scheduler["status"] == OK:
        status = OK
    else:
        status = "degraded"
    body = {
        "status": status,
        "database": database,
        "broker": broker,
        "scheduler": scheduler,
        "version": portal_version(),
    }
    return JsonResponse(body, status=200 if database == OK else 503)
