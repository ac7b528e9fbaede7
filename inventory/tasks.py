"""Celery tasks of the inventory: thin wrappers that call a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.task_options import DATABASE_ERRORS, task_options
from inventory.mlflow.client import MlflowError
from inventory.services.mlflow import mlflow_service_account, mlflow_sync

# An MLflow server restarting or a lost database connection is worth another try; the sync is idempotent, so a
# retried or re-delivered run records nothing twice. MLflow gets longer pauses than the database.
MLFLOW_RETRY = {"retry_backoff": 30, "retry_backoff_max": 900, "retry_jitter": True, "retry_kwargs": {"max_retries": 4}}


@shared_task(
    name="inventory.sync_mlflow",
    **task_options(time_limit=1800, retry_on=(MlflowError, *DATABASE_ERRORS), ignore_result=False, **MLFLOW_RETRY),
)
def sync_mlflow(tracking_uri: str | None = None) -> dict[str, Any]:
    """Import from ``tracking_uri`` (default: the ``MLFLOW_TRACKING_URI`` setting) as the ``mlflow-sync`` account.

    Returns the sync report's totals; a server that cannot be read fails the task with the client's message
    after the retries.
    """
    uri = tracking_uri or settings.MLFLOW_TRACKING_URI
    if not uri:
        # A configuration error, not a passing failure: no retry would fix it.
        raise ImproperlyConfigured("No MLflow tracking URI: pass one or set MLFLOW_TRACKING_URI.")
    report = mlflow_sync(actor=mlflow_service_account(), tracking_uri=uri, token=settings.MLFLOW_TRACKING_TOKEN)
    return {"tracking_uri": report.tracking_uri, "changed": report.changed, "totals": report.totals}
