"""Monitoring pages: a model's charts and drift table, the portfolio of breaching models, who sees what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from monitoring.charts import metric_chart
from monitoring.services import drift_audit_execute, drift_audit_request, drift_dataset_create, metric_batch_ingest
from tests.monitoring.conftest import agreed_target, upload

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def breaching_model(personas: Any, version: Any) -> None:
    agreed_target(personas, personas.model_a, accuracy_min=0.8, consecutive_windows=1, psi_feature_max=0.1)
    metric_batch_ingest(
        actor=personas.ci_scoped,
        observations=[
            {
                "model": "RB-0001",
                "version": "1.0.0",
                "environment": "production",
                "metric": "accuracy",
                "window_start": (START + dt.timedelta(days=day)).isoformat(),
                "window_end": (START + dt.timedelta(days=day + 1)).isoformat(),
                "value": value,
            }
            for day, value in enumerate([0.9, 0.85, 0.7])
        ],
    )
    reference = drift_dataset_create(
        actor=personas.owner_a, version=version, name="Ref", upload=upload(b"x,c\n1,a\n2,b\n3,a\n4,b\n")
    )
    current = drift_dataset_create(
        actor=personas.owner_a, version=version, name="Cur", upload=upload(b"x,c\n9,a\n9,b\n9,a\n9,<b>\n")
    )
    run = drift_audit_request(actor=personas.owner_a, reference=reference, current=current, features=["x", "c"])
    drift_audit_execute(run_id=run.pk)


def test_model_page_shows_charts_against_target_and_drift(personas: Any, version_a: Any) -> None:
    breaching_model(personas, version_a)
    response = client_for(personas.owner_a).get("/monitoring/models/RB-0001/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and "target min 0.8" in page
    assert "Drift per feature" in page and "Open monitoring findings" in page


def test_model_page_is_a_404_for_who_may_not_see_the_model(personas: Any, version_a: Any) -> None:
    assert client_for(personas.owner_b).get("/monitoring/models/RB-0001/").status_code == 404
    assert client_for(personas.auditor).get("/monitoring/models/RB-0001/").status_code == 200


def test_portfolio_lists_breaching_models_the_user_may_see(personas: Any, version_a: Any) -> None:
    breaching_model(personas, version_a)
    assert "RB-0001" in client_for(personas.risk_officer).get("/monitoring/").content.decode()
    assert "RB-0001" not in client_for(personas.owner_b).get("/monitoring/").content.decode()


def test_the_chart_escapes_labels_and_draws_the_target() -> None:
    svg = metric_chart("latency<ms>", [("11-01", 120.0), ("11-02", 300.0)], {"max": 250.0})
    assert "latency&lt;ms&gt;" in svg and "target max 250" in svg
