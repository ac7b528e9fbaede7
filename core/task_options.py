"""The options every portal task shares, so that a task's decorator says only its name, its time limit and what
is worth a retry.

Every task is acknowledged late: a worker killed mid-task leaves the message for another worker, which is safe
because every service a task calls records nothing twice (idempotency keys; finished work is left as it is). The
soft time limit comes a little before the hard one, so the task can end cleanly and the run be marked failed.
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

# A lost database connection or a lock timeout passes; another try is worth it.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def task_options(
    *,
    time_limit: int,
    retry_on: tuple[type[Exception], ...] = DATABASE_ERRORS,
    ignore_result: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """``shared_task`` options: late acknowledgement, hard and soft time limits (``time_limit`` seconds), and up to
    five retries with exponential backoff on ``retry_on`` (none when it is empty); ``extra`` overrides any of them."""
    options: dict[str, Any] = {
        "ignore_result": ignore_result,
        "acks_late": True,
        "time_limit": time_limit,
        "soft_time_limit": time_limit - min(50, max(5, time_limit // 60)),
    }
    if retry_on:
        options.update(autoretry_for=retry_on, retry_backoff=True, retry_kwargs={"max_retries": 5})
    options.update(extra)
    return options
