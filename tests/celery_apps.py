"""A Celery app for tests that run a real worker on Redis, on a queue of its own.

Configured like the portal's app, but every task goes to one fresh queue, so a test's messages never reach
another worker on the same Redis (a developer's, or a parallel run). The embedded worker makes its app the
process-wide current app; the portal's is put back afterwards, and the queue's keys are removed from Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from celery import Celery
from django.db import connections

from config.celery import app as portal_app


@contextmanager
def private_queue_app(name: str, broker_url: str) -> Iterator[Celery]:
    """A Celery app named ``name`` on ``broker_url`` whose every task goes to a queue made for this test."""
    app = Celery(name, set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    queue = f"test-{name}-{uuid.uuid4().hex}"
    app.conf.update(
        broker_url=broker_url,
        result_backend=broker_url,
        broker_transport_options={},
        task_default_queue=queue,
        # Every task on the test's own queue: the portal's queues and routes (celery, audits) are shared.
        task_queues=None,
        task_routes=None,
        task_create_missing_queues=True,
    )
    try:
        yield app
    finally:
        portal_app.set_current()
        portal_app.set_default()
        app.close()
        # kombu keeps the queue's bindings in Redis; a queue made for one run leaves none behind.
        client = redis.Redis.from_url(broker_url)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)


def close_worker_thread_connections(**kwargs: Any) -> None:
    """``task_postrun`` handler: the embedded worker's thread opens its own database connection, and PostgreSQL
    refuses to drop the test database while it lives, so the thread closes it after each task."""
    connections.close_all()
