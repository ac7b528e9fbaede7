"""The ``audit_bias`` command and the task on a real worker: both go through the same service and task code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from typing import Any

import numpy as np
import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core.management import call_command
from django.db import OperationalError

from audits import evaluation
from audits.models import AuditRun
from audits.services import bias_audit_request, evaluation_dataset_create
from audits.tasks import run_bias_audit
from tests.audits.conftest import GERMAN_MAPPING, GERMAN_PREDICTIONS, upload
from tests.celery_apps import close_worker_thread_connections, private_queue_app
from tests.integration.embedded import STOP_SECONDS, wait_until


@pytest.mark.django_db
def test_command_stores_the_data_runs_the_audit_and_prints_the_result(personas: Any, version_a: Any) -> None:
    out = StringIO()
    call_command(
        "audit_bias",
        "--model=RB-0001",
        "--version=1.0.0",
        f"--file={GERMAN_PREDICTIONS}",
        "--label=y_true",
        "--prediction=y_pred",
        "--sensitive=age_group",
        "--as=owner_a",
        stdout=out,
    )

    printed = json.loads(out.getvalue())
    run = AuditRun.objects.get()
    assert printed["run"] == run.pk
    assert printed["status"] == run.status == "failed"
    assert printed["result"] == run.result
    assert round(printed["result"]["analyses"]["age_group"]["disparities"]["equalized_odds_difference"], 4) == 0.1388


def test_score_with_threshold_and_a_declared_positive_label() -> None:
    content = b"outcome,p,g\ngood,0.9,a\nbad,0.5,a\nbad,0.2,b\ngood,0.49,b\n"
    mapping = evaluation.mapping_clean(
        {"label": "outcome", "score": "p", "threshold": 0.5, "positive_label": "good", "sensitive": ["g"]}
    )

    table = evaluation.read_table(content, mapping, max_bytes=1000)

    assert table.y_true.tolist() == [1, 0, 0, 1]
    assert table.y_pred.tolist() == [1, 1, 0, 0]
    assert np.array_equal(table.sensitive["g"], np.array(["a", "a", "b", "b"], dtype=object))


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"label": "y", "score": "s", "sensitive": ["g"]}, "needs a 'threshold'"),
        ({"label": "y", "prediction": "p", "sensitive": []}, "at least one 'sensitive'"),
        ({"label": "y", "prediction": "y", "sensitive": ["g"]}, "must be different columns"),
        ({"label": "y", "prediction": "p", "sensitive": ["g"], "weights": "w"}, "Unknown key(s): weights"),
    ],
)
def test_mapping_problems_are_named(mapping: dict[str, Any], words: str) -> None:
    with pytest.raises(evaluation.EvaluationDataError, match=words.replace("(", r"\(").replace(")", r"\)")):
        evaluation.mapping_clean(mapping)


@pytest.fixture
def redis_app(redis_url: str) -> Iterator[Celery]:
    """A Celery app like the portal's on Redis, on a queue of its own (as in tests/integration/test_celery.py)."""
    with private_queue_app("audits-test", redis_url) as app:
        yield app


def _finished(run_id: int) -> bool:
    try:
        return AuditRun.objects.filter(pk=run_id, status__in=["passed", "failed", "error"]).exists()
    except OperationalError:
        # SQLite's shared in-memory test database answers "table is locked" while the worker thread writes.
        return False


@pytest.mark.services
def test_worker_on_redis_runs_an_uploaded_audit_end_to_end(
    redis_app: Celery, transactional_db: Any, personas: Any, version_a: Any, german_csv: bytes
) -> None:
    dataset = evaluation_dataset_create(
        actor=personas.owner_a, version=version_a, name="holdout", mapping=GERMAN_MAPPING, upload=upload(german_csv)
    )
    run = bias_audit_request(actor=personas.owner_a, dataset=dataset, enqueue=False)
    task_postrun.connect(close_worker_thread_connections, weak=False)
    try:
        with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=STOP_SECONDS):
            redis_app.send_task(run_bias_audit.name, args=[run.pk])
            finished = wait_until(lambda: _finished(run.pk))
    finally:
        task_postrun.disconnect(close_worker_thread_connections)

    assert finished, "the worker did not finish the audit"
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.attempts == 1
    assert round(run.result["analyses"]["sex"]["disparities"]["demographic_parity_difference"], 4) == 0.1121
