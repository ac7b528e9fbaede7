"""The MLflow import of run metrics, against a real MLflow tracking server (tests/inventory/mlflow/conftest.py)."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from inventory.services.mlflow import mlflow_service_account, mlflow_sync
from monitoring.mlflow import metric_name, mlflow_metrics_import
from monitoring.models import MetricObservation
from tests.inventory.mlflow.conftest import MlflowContent

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(personas: Any, mlflow_content: MlflowContent, sync_account_reports_for_a: None) -> MlflowContent:
    """Model A's MLflow versions imported by the sync: 1 (run 1: auc 0.81, gini 0.58, loss NaN) and 2.0.0 (run 2:
    auc 0.84)."""
    mlflow_sync(actor=mlflow_service_account(), tracking_uri=mlflow_content.url)
    return mlflow_content


def _observed() -> dict[tuple[str, str], float]:
    rows = MetricObservation.objects.values_list("version__version", "metric", "value", "environment", "source")
    assert {environment for *_, environment, _source in rows} <= {"mlflow"}
    return {(version, metric): value for version, metric, value, _env, _source in rows}


def test_the_runs_metrics_become_observations_once(synced: MlflowContent) -> None:
    account = mlflow_service_account()
    report = mlflow_metrics_import(actor=account, tracking_uri=synced.url)

    assert _observed() == {("1", "auc"): 0.81, ("1", "gini"): 0.58, ("2.0.0", "auc"): 0.84}
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    first = next(run for run in report.runs if run.version == "1")
    assert first.run_id == synced.credit_run_ids[0] and first.metrics == ["auc", "gini"]
    assert any("'loss'" in note and "finite" in note for note in first.notes)
    row = MetricObservation.objects.get(version__version="1", metric="auc")
    assert row.source == f"mlflow:{synced.credit_run_ids[0]}" and row.window_start < row.window_end
    assert row.recorded_by == account

    again = mlflow_metrics_import(actor=account, tracking_uri=synced.url)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert MetricObservation.objects.count() == 3


def test_a_model_the_actor_may_not_report_for_is_refused_or_left_out(personas: Any, synced: MlflowContent) -> None:
    with pytest.raises(PermissionDenied):
        mlflow_metrics_import(actor=personas.owner_b, tracking_uri=synced.url, model=personas.model_a)
    report = mlflow_metrics_import(actor=personas.owner_b, tracking_uri=synced.url)
    assert report.runs == [] and not MetricObservation.objects.exists()
    # The owner may import their own model, into another environment.
    mine = mlflow_metrics_import(
        actor=personas.owner_a, tracking_uri=synced.url, model=personas.model_a, environment="validation"
    )
    assert mine.created == 3
    assert set(MetricObservation.objects.values_list("environment", flat=True)) == {"validation"}


def test_the_command_prints_what_it_imported(synced: MlflowContent) -> None:
    out = StringIO()
    call_command("import_mlflow_metrics", "--tracking-uri", synced.url, "--model", "RB-0001", stdout=out)
    assert "observations 3 created, 0 updated, 0 unchanged" in out.getvalue()
    assert f"RB-0001 1  run {synced.credit_run_ids[0]}: auc, gini" in out.getvalue()
    out = StringIO()
    call_command("import_mlflow_metrics", "--tracking-uri", synced.url, "--json", stdout=out)
    assert json.loads(out.getvalue())["unchanged"] == 3
    with pytest.raises(CommandError, match="No model"):
        call_command("import_mlflow_metrics", "--tracking-uri", synced.url, "--model", "XX-9")


def test_the_api_action_and_the_button_queue_the_task(
    personas: Any, synced: MlflowContent, settings: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from monitoring.tasks import import_mlflow_metrics

    settings.MLFLOW_TRACKING_URI = synced.url
    api = api_client_for(personas.owner_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/v1/metrics/mlflow-import/", {"model": "RB-0001"}, format="json")
    assert response.status_code == 202 and response.json() == {"model": "RB-0001", "queued": True}
    assert len(callbacks) == 1
    result = import_mlflow_metrics.apply(kwargs={"model_key": "RB-0001", "actor_id": personas.owner_a.pk}).get()
    assert result["created"] == 3
    assert (
        api_client_for(personas.auditor)
        .post("/api/v1/metrics/mlflow-import/", {"model": "RB-0001"}, format="json")
        .status_code
        == 403
    )
    assert (
        api_client_for(personas.owner_b)
        .post("/api/v1/metrics/mlflow-import/", {"model": "RB-0001"}, format="json")
        .status_code
        == 400
    )

    client = Client()
    client.force_login(personas.owner_a)
    page = client.get(reverse("monitoring:model", args=["RB-0001"]))
    assert b"Import MLflow run metrics" in page.content
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("monitoring:mlflow-import", args=["RB-0001"]))
    assert response.status_code == 302 and len(callbacks) == 1
    client = Client()
    client.force_login(personas.auditor)
    assert b"Import MLflow run metrics" not in client.get(reverse("monitoring:model", args=["RB-0001"])).content
    assert client.post(reverse("monitoring:mlflow-import", args=["RB-0001"])).status_code == 403


def test_metric_names_are_made_portal_names() -> None:
    assert metric_name("val/AUC") == "val_auc"
    assert metric_name("Accuracy") == "accuracy"
    assert metric_name("1st-loss") == "st-loss"
    assert metric_name("???") == ""
