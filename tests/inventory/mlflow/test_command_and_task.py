"""``manage.py sync_mlflow``, the Celery task and the schedule; and what happens when the server cannot be read."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from core.schedules import default_schedules
from inventory.mlflow.client import MlflowError
from inventory.models import ExternalRegistryModel, ModelVersion
from inventory.services.mlflow import mlflow_service_account, mlflow_sync
from inventory.tasks import sync_mlflow
from tests.inventory.mlflow.conftest import MlflowContent

pytestmark = pytest.mark.django_db


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("sync_mlflow", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the socket is closed


class _Garbage(BaseHTTPRequestHandler):
    """A web server that is not MLflow: answers HTML to everything, or broken JSON under /broken."""

    def do_GET(self) -> None:
        if self.path.startswith("/broken"):
            body, kind = b'{"registered_models": [{"tags": 7}]}', "application/json"
        elif self.path.startswith("/slow"):
            threading.Event().wait(3)
            body, kind = b"{}", "application/json"
        else:
            body, kind = b"<html><body>Welcome to the intranet</body></html>", "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def garbage_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_command_prints_a_readable_summary(personas: Any, mlflow_content: MlflowContent) -> None:
    output = run_command("--tracking-uri", mlflow_content.url)
    assert f"MLflow {mlflow_content.url}" in output
    assert "4 found: 0 linked, 2 unregistered, 0 ignored, 2 skipped" in output
    assert "unregistered  fraud-gbm" in output
    assert "unknown owner 'ghost.user' named by fraud-gbm" in output

    again = run_command("--tracking-uri", mlflow_content.url)
    assert "nothing changed" in again


def test_command_json_and_dry_run(
    personas: Any, mlflow_content: MlflowContent, sync_account_reports_for_a: None
) -> None:
    report = json.loads(run_command("--tracking-uri", mlflow_content.url, "--json", "--dry-run"))
    assert report["dry_run"] is True
    assert report["changed"] is True
    assert report["totals"]["versions_created"] == 2
    assert {model["name"]: model["status"] for model in report["models"]}["credit-pd"] == "linked"
    assert not ModelVersion.objects.exists()
    assert not ExternalRegistryModel.objects.exists()


def test_command_acts_as_the_named_actor(personas: Any, mlflow_content: MlflowContent) -> None:
    report = json.loads(run_command("--tracking-uri", mlflow_content.url, "--actor", "risk_officer", "--json"))
    assert report["totals"]["linked"] == 2
    assert ModelVersion.objects.get(model=personas.model_a, version="1").created_by == personas.risk_officer
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run_command("--tracking-uri", mlflow_content.url, "--actor", "nobody")
    with pytest.raises(CommandError, match="Risk Officer"):
        run_command("--tracking-uri", mlflow_content.url, "--actor", "owner_a")


def test_command_needs_a_tracking_uri(db: Any, settings: Any) -> None:
    settings.MLFLOW_TRACKING_URI = ""
    with pytest.raises(CommandError, match="--tracking-uri or set MLFLOW_TRACKING_URI"):
        run_command()
    with pytest.raises(CommandError, match="not an http"):
        run_command("--tracking-uri", "databricks")


def test_unreachable_server_is_a_clean_error_and_writes_nothing(db: Any) -> None:
    url = closed_port_url()
    with pytest.raises(CommandError, match=f"MLflow at {url} .* is unreachable"):
        run_command("--tracking-uri", url)
    with pytest.raises(MlflowError, match="unreachable"):
        mlflow_sync(actor=mlflow_service_account(), tracking_uri=url)
    assert not ExternalRegistryModel.objects.exists()


def test_a_server_that_is_not_mlflow_is_a_clean_error(db: Any, garbage_server: str) -> None:
    with pytest.raises(CommandError, match="did not answer with JSON; is this an MLflow tracking server"):
        run_command("--tracking-uri", garbage_server)
    with pytest.raises(CommandError, match="unexpected record: name is missing"):
        run_command("--tracking-uri", f"{garbage_server}/broken")
    with pytest.raises(CommandError, match="did not answer within 1 s"):
        run_command("--tracking-uri", f"{garbage_server}/slow", "--timeout", "1")
    assert not ExternalRegistryModel.objects.exists()


def test_task_wraps_the_service_as_the_sync_account(
    personas: Any, mlflow_content: MlflowContent, settings: Any, sync_account_reports_for_a: None
) -> None:
    settings.MLFLOW_TRACKING_URI = mlflow_content.url
    result = sync_mlflow.run()
    assert result["tracking_uri"] == mlflow_content.url
    assert result["totals"]["versions_created"] == 2
    assert ModelVersion.objects.get(model=personas.model_a, version="1").created_by == mlflow_service_account()
    assert sync_mlflow.run(mlflow_content.url)["changed"] is False


def test_task_is_late_acknowledged_retried_and_time_limited(db: Any, settings: Any) -> None:
    assert sync_mlflow.name == "inventory.sync_mlflow"
    assert sync_mlflow.acks_late
    assert MlflowError in getattr(sync_mlflow, "autoretry_for", ())
    assert sync_mlflow.time_limit and sync_mlflow.soft_time_limit
    settings.MLFLOW_TRACKING_URI = ""
    with pytest.raises(ImproperlyConfigured):
        sync_mlflow.run()


def test_task_fails_with_the_clients_message_when_the_server_is_unreachable(db: Any) -> None:
    with pytest.raises(MlflowError, match="unreachable"):
        # Called as the worker would, without the retry machinery: the error a retry would re-raise.
        sync_mlflow.run(closed_port_url())


def test_hourly_schedule_only_when_a_tracking_uri_is_set(settings: Any) -> None:
    settings.MLFLOW_TRACKING_URI = ""
    names = {schedule.name for schedule in default_schedules()}
    assert not names & {"inventory-sync-mlflow", "monitoring-import-mlflow-metrics"}
    settings.MLFLOW_TRACKING_URI = "http://mlflow.internal:5000"
    schedules = {schedule.name: schedule for schedule in default_schedules()}
    schedule = schedules["inventory-sync-mlflow"]
    assert (schedule.task, schedule.every_seconds) == ("inventory.sync_mlflow", 3600)
    metrics = schedules["monitoring-import-mlflow-metrics"]
    assert (metrics.task, metrics.every_seconds) == ("monitoring.tasks.import_mlflow_metrics", 3600)


def test_schedule_is_installed_as_a_periodic_task(db: Any, settings: Any) -> None:
    from django_celery_beat.models import PeriodicTask

    from core.schedules import install_default_schedules

    settings.MLFLOW_TRACKING_URI = "http://mlflow.internal:5000"
    install_default_schedules()
    task = PeriodicTask.objects.get(name="inventory-sync-mlflow")
    assert task.task == "inventory.sync_mlflow"
    assert task.interval is not None and task.interval.every == 3600
