"""Metric ingestion (idempotent, all or nothing, by who may report) and deterioration findings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from governance.choices import FindingSource, FindingStatus
from governance.models import Finding
from monitoring.models import MetricObservation
from tests.monitoring.conftest import agreed_target

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/"
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def observation(day: int, value: float, metric: str = "accuracy", **extra: Any) -> dict[str, Any]:
    start = START + dt.timedelta(days=day)
    return {
        "model": "RB-0001",
        "version": "1.0.0",
        "environment": "production",
        "metric": metric,
        "window_start": start.isoformat(),
        "window_end": (start + dt.timedelta(days=1)).isoformat(),
        "value": value,
        "source": "prometheus",
        **extra,
    }


def push(client: Any, observations: list[Any]) -> Any:
    return client.post(URL, {"observations": observations}, format="json")


def test_the_same_batch_twice_stores_once(personas: Any, version_a: Any, api_client_for: Any) -> None:
    client = api_client_for(personas.ci_scoped)
    batch = [observation(day, 0.9) for day in range(5)] + [observation(0, 120.0, "latency_ms")]
    first = push(client, batch)
    assert first.status_code == 200, first.json()
    assert first.json() == {"created": 6, "updated": 0, "unchanged": 0, "findings": []}
    second = push(client, batch)
    assert second.json() == {"created": 0, "updated": 0, "unchanged": 6, "findings": []}
    assert MetricObservation.objects.count() == 6


def test_a_changed_value_updates_and_the_history_keeps_the_old_one(
    personas: Any, version_a: Any, api_client_for: Any
) -> None:
    client = api_client_for(personas.ci_scoped)
    push(client, [observation(0, 0.9)])
    response = push(client, [observation(0, 0.85)])
    assert response.json()["updated"] == 1
    row = MetricObservation.objects.get()
    assert row.value == 0.85
    assert [record.value for record in row.history.order_by("history_id")] == [0.9, 0.85]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"value": "NaN"}, "[1].value"),
        ({"value": None}, "[1].value"),
        ({"environment": "Prod Env"}, "[1].environment"),
        ({"metric": "Accuracy %"}, "[1].metric"),
        ({"window_start": "2026-11-01T00:00:00"}, "[1].window_start"),
        ({"window_end": "2026-10-01T00:00:00+00:00"}, "[1].window_end"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_a_malformed_batch_is_refused_whole_with_messages(
    personas: Any, version_a: Any, api_client_for: Any, bad: dict[str, Any], message: str
) -> None:
    response = push(api_client_for(personas.ci_scoped), [observation(0, 0.9), {**observation(1, 0.9), **bad}])
    assert response.status_code == 400
    assert any(message in text for text in response.json()["observations"]), response.json()
    assert not MetricObservation.objects.exists()


def test_batch_shape_and_size_are_checked(personas: Any, version_a: Any, api_client_for: Any) -> None:
    client = api_client_for(personas.ci_scoped)
    assert push(client, []).status_code == 400
    assert push(client, ["x"]).status_code == 400
    too_many = push(client, [observation(day, 0.9) for day in range(1001)])
    assert too_many.status_code == 400 and "At most 1000" in too_many.json()["observations"][0]
    twice = push(client, [observation(0, 0.9), observation(0, 0.8)])
    assert twice.status_code == 400 and "[1]" in twice.json()["observations"][0]
    unknown_version = push(client, [observation(0, 0.9, version="9.9.9")])
    assert unknown_version.status_code == 400 and "9.9.9" in unknown_version.json()["observations"][0]
    assert not MetricObservation.objects.exists()


def test_who_may_push(personas: Any, version_a: Any, api_client_for: Any) -> None:
    assert push(api_client_for(personas.owner_a), [observation(0, 0.9)]).status_code == 200
    assert push(api_client_for(personas.ci_unscoped), [observation(1, 0.9)]).status_code == 404
    assert push(api_client_for(personas.owner_b), [observation(1, 0.9)]).status_code == 404
    assert push(api_client_for(personas.no_role), [observation(1, 0.9)]).status_code == 404
    # Sees every model, may report for none.
    assert push(api_client_for(personas.auditor), [observation(1, 0.9)]).status_code == 403
    assert MetricObservation.objects.count() == 1


def test_reads_are_restricted(personas: Any, version_a: Any, api_client_for: Any) -> None:
    push(api_client_for(personas.ci_scoped), [observation(0, 0.9)])
    assert api_client_for(personas.auditor).get(URL, {"model": "RB-0001"}).json()["count"] == 1
    assert api_client_for(personas.owner_b).get(URL).json()["count"] == 0


def test_a_breach_for_n_consecutive_windows_raises_one_finding(
    personas: Any, version_a: Any, api_client_for: Any
) -> None:
    agreed_target(personas, personas.model_a, accuracy_min=0.8, consecutive_windows=3)
    client = api_client_for(personas.ci_scoped)
    assert push(client, [observation(0, 0.7), observation(1, 0.7)]).json()["findings"] == []
    # A good window breaks the run: two bad windows after it are not yet three.
    push(client, [observation(2, 0.85), observation(3, 0.7), observation(4, 0.7)])
    assert not Finding.objects.exists()
    raised = push(client, [observation(5, 0.75)]).json()["findings"]
    assert len(raised) == 1
    finding = Finding.objects.get()
    assert finding.source == FindingSource.MONITORING and "accuracy" in finding.title
    # Still breaching: the same finding, no second one.
    push(client, [observation(6, 0.6)])
    # Recovering closes nothing.
    push(client, [observation(day, 0.95) for day in range(7, 12)])
    assert Finding.objects.count() == 1
    assert Finding.objects.get().status == FindingStatus.OPEN


def test_a_max_limit_and_a_metric_without_limit(personas: Any, version_a: Any, api_client_for: Any) -> None:
    agreed_target(personas, personas.model_a, latency_ms_max=200, consecutive_windows=1)
    client = api_client_for(personas.ci_scoped)
    push(client, [observation(0, 5000.0, "throughput")])
    assert not Finding.objects.exists()
    push(client, [observation(0, 250.0, "latency_ms")])
    assert Finding.objects.filter(title__contains="latency_ms").count() == 1


def test_ingestion_query_count_does_not_grow_with_the_batch(
    personas: Any, version_a: Any, api_client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = api_client_for(personas.ci_scoped)
    with django_assert_max_num_queries(60):
        assert push(client, [observation(day, 0.9) for day in range(500)]).status_code == 200
