"""Work that was requested but never reached a worker is sent again.

Services queue their Celery task once the transaction that records the request commits. If the broker is down at
that moment the request itself is kept (the row is committed, its ledger event too) but the message is not: the
row would wait as "queued" forever. Every few minutes beat runs :func:`stale_work_requeue`, which asks each app,
through the :data:`stale_work_requeue_requested` signal, to send again the tasks of rows still waiting since
before ``queued_before``. The tasks are idempotent (a finished export, audit or e-mail is left as it is), so a
message that was only slow, not lost, and arrives as well costs a second look, never a second result.

The apps answer through a signal because ``core`` imports nothing above it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal
from django.utils import timezone

logger = logging.getLogger(__name__)

# How long a row may wait as queued before it counts as lost: well above the time a healthy broker and a busy
# worker take to start a task, so a backlog is not sent twice on every sweep.
REQUEUE_AFTER = dt.timedelta(minutes=10)

# Sent with ``queued_before`` (an aware datetime); each receiver re-sends the tasks of its own rows still queued
# since before then and returns how many it sent.
stale_work_requeue_requested = Signal()


def send_each_again(task: Any, ids: Iterable[Any]) -> int:
    """Queue ``task`` once for each id of a row still waiting (a receiver's work); how many were sent."""
    waiting = list(ids)
    for pk in waiting:
        task.delay(pk)
    return len(waiting)


def stale_work_requeue(*, queued_before: dt.datetime | None = None) -> dict[str, int]:
    """Send again the tasks of every row still queued since before ``queued_before`` (default: 10 minutes ago);
    returns how many each receiver sent, by its name."""
    queued_before = queued_before or timezone.now() - REQUEUE_AFTER
    sent: dict[str, int] = {}
    for receiver, count in stale_work_requeue_requested.send(sender=None, queued_before=queued_before):
        name = f"{receiver.__module__}.{receiver.__qualname__}"
        sent[name] = int(count or 0)
        if count:
            logger.warning("Sent %s queued task(s) again that never reached a worker (%s)", count, name)
    return sent
