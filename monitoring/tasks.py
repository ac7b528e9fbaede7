"""Celery tasks of monitoring: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.models import User
from core.task_options import DATABASE_ERRORS, task_options
from inventory.mlflow.client import MlflowError
from inventory.models import RegisteredModel
from inventory.services.mlflow import mlflow_service_account
from inventory.tasks import MLFLOW_RETRY
from monitoring.services import drift_audit_execute


@shared_task(name="monitoring.tasks.run_drift_audit", **task_options(time_limit=1200))
def run_drift_audit(run_id: int) -> None:
    """Execute the queued drift audit ``run_id``; a run already finished is left as it is."""
    drift_audit_execute(run_id=run_id)


@shared_task(name="monitoring.tasks.request_due_drift_audits", **task_options(time_limit=300))
def request_due_drift_audits() -> dict[str, object]:
    """Request a drift audit of every scheduled model whose cadence has elapsed; one per model and day."""
    from monitoring.scheduling import request_due_drift_audits as request_due  # scheduling imports the services

    return request_due().as_dict()


# Retried like the MLflow sync: the import is idempotent.
@shared_task(
    name="monitoring.tasks.import_mlflow_metrics",
    **task_options(time_limit=900, retry_on=(MlflowError, *DATABASE_ERRORS), ignore_result=False, **MLFLOW_RETRY),
)
def import_mlflow_metrics(model_key: str | None = None, actor_id: int | None = None) -> dict[str, object]:
    """Import the MLflow run metrics of ``model_key`` (default: every model the actor may report for) from the
    ``MLFLOW_TRACKING_URI`` server, as ``actor_id`` (default: the ``mlflow-sync`` account)."""
    from monitoring.mlflow import mlflow_metrics_import  # imports the services, as this module does

    if not settings.MLFLOW_TRACKING_URI:
        # A configuration error, not a passing failure: no retry would fix it.
        raise ImproperlyConfigured("No MLflow tracking URI: set MLFLOW_TRACKING_URI.")
    actor = User.objects.get(pk=actor_id) if actor_id is not None else mlflow_service_account()
    model = RegisteredModel.objects.get(key=model_key) if model_key else None
    report = mlflow_metrics_import(
        actor=actor, tracking_uri=settings.MLFLOW_TRACKING_URI, token=settings.MLFLOW_TRACKING_TOKEN, model=model
    )
    return {key: value for key, value in report.as_dict().items() if key != "runs"}
