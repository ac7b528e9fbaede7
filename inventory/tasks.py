"""Celery tasks of the inventory: thin wrappers that call a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError

from inventory.mlflow.client import MlflowError
from inventory.services.mlflow import mlflow_service_account, mlflow_sync


@shared_task(
    name="inventory.sync_mlflow",
    ignore_result=False,
    acks_late=True,
    # An MLflow server restarting or a lost database connection is worth another try; the sync is idempotent,
    # so a retried or re-delivered run records nothing twice.
    autoretry_for=(MlflowError, OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=900,
    retry_jitter=True,
    retry_kwargs={"max_retries": 4},
    soft_time_limit=1750,
    time_limit=1800,
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
