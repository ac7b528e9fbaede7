"""A real MLflow tracking server for the MLflow import tests, started once per session and filled by MLflow's client.

The server is a subprocess (``python -m mlflow server``) on a free loopback port with its own SQLite store and
artifact folder under pytest's temporary directory. It must start: a test that needs it fails (it is never
skipped), since the import is only tested against the real thing.
"""

from __future__ import annotations

import hashlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inventory.services import registered_model_grant_reporting
from inventory.services.mlflow import mlflow_service_account

START_TIMEOUT = 300  # seconds; the server migrates its SQLite store on first start (30 s to 2 min on 2 busy cores)

MODEL_FILE_BYTES = b"pretend this is a pickled scorecard"
MODEL_FILE_SHA256 = hashlib.sha256(MODEL_FILE_BYTES).hexdigest()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class MlflowServer:
    """A running tracking server: its URL and where its log is."""

    url: str
    log: Path


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    root = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    log = root / "server.log"
    env = {name: value for name, value in os.environ.items() if not name.startswith("MLFLOW_")}
    # The server's background job runner starts a dozen consumer processes the portal never uses.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--default-artifact-root",
        (root / "artifacts").as_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlflow server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not answer /health in {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield MlflowServer(url=url, log=log)
    finally:
        # The server runs uvicorn workers in its own process group: stop the whole group.
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass(frozen=True)
class MlflowContent:
    """What the session filled the server with (names the tests assert on)."""

    url: str
    credit_run_ids: tuple[str, str]
    fraud_run_id: str


@pytest.fixture(scope="session")
def mlflow_content(mlflow_server: MlflowServer) -> MlflowContent:
    """Four registered models:

    - ``credit-pd``, tagged ``portal.model_key=RB-0001`` (model A), owner ``owner_a``: version 1 from a run with
      metrics (one of them NaN) and a ``sha256`` tag; version 2 labelled ``2.0.0`` by ``portal.version``, no digest.
    - ``fraud-gbm``, untagged: business owner ``owner_b``, technical owner ``ghost.user`` (no such portal user).
    - ``churn-llm``, untagged, owned by ``owner_a@bank.example`` (an e-mail), with a description.
    - ``cards-limit``, tagged ``portal.model_key=RB-0002`` (model B), which the sync account is never granted.
    """
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    experiment = client.create_experiment("retail-credit")

    def run(metrics: dict[str, float], user: str) -> Any:
        created = client.create_run(experiment, tags={"mlflow.user": user, "team": "retail-risk"})
        for name, value in metrics.items():
            client.log_metric(created.info.run_id, name, value)
        client.log_param(created.info.run_id, "max_depth", "4")
        client.set_terminated(created.info.run_id)
        return created

    run_1 = run({"auc": 0.79, "gini": 0.58, "loss": math.nan}, "alice")
    client.log_metric(run_1.info.run_id, "auc", 0.81, step=1)  # the latest value is what counts
    run_2 = run({"auc": 0.84}, "alice")
    client.create_registered_model(
        "credit-pd", tags={"portal.model_key": "RB-0001", "owner": "owner_a"}, description="Retail PD"
    )
    client.create_model_version(
        "credit-pd",
        source=f"{run_1.info.artifact_uri}/model",
        run_id=run_1.info.run_id,
        tags={"sha256": MODEL_FILE_SHA256},
    )
    client.create_model_version(
        "credit-pd",
        source=f"{run_2.info.artifact_uri}/model",
        run_id=run_2.info.run_id,
        tags={"portal.version": "2.0.0"},
    )

    fraud_run = run({"recall": 0.7}, "bob")
    client.create_registered_model(
        "fraud-gbm", tags={"portal.business_owner": "owner_b", "portal.technical_owner": "ghost.user"}
    )
    client.create_model_version(
        "fraud-gbm", source=f"{fraud_run.info.artifact_uri}/model", run_id=fraud_run.info.run_id
    )

    client.create_registered_model(
        "churn-llm", tags={"owner": "owner_a@bank.example"}, description="Predicts which customers will leave."
    )
    client.create_registered_model("cards-limit", tags={"portal.model_key": "RB-0002", "owner": "owner_b"})
    client.create_model_version("cards-limit", source="s3://models/cards-limit/1")
    return MlflowContent(
        url=mlflow_server.url,
        credit_run_ids=(run_1.info.run_id, run_2.info.run_id),
        fraud_run_id=fraud_run.info.run_id,
    )


@pytest.fixture
def sync_account_reports_for_a(personas: Any) -> None:
    """The ``mlflow-sync`` account may report for model A (as linking it in triage would grant)."""
    registered_model_grant_reporting(
        actor=personas.risk_officer, model=personas.model_a, service_account=mlflow_service_account()
    )
