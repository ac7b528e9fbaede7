"""Side by side with MLflow's model registry: the same models, versions and tags, the same questions over HTTP.

A real MLflow tracking server (``mlflow server``, one worker, 127.0.0.1, a free port) is started on a scratch
store: a SQLite file, or a ``bench_mlflow_*`` PostgreSQL database when the portal's database is PostgreSQL. Once
the server has created its schema, the registry is filled with the portal's inventory by bulk inserts into
MLflow's own tables (``registered_models``, ``model_versions``, ``registered_model_tags``) through SQLAlchemy:
400,000 ``create_registered_model`` / ``create_model_version`` / ``set_registered_model_tag`` calls would take
hours. Each portal tag becomes an MLflow tag ``<name> = "true"``; versions are numbered 1, 2, 3 per model.

The portal is served by gunicorn (:func:`bench.load.serve_portal`) on the same scratch data, and both are asked
the same four questions with a keep-alive HTTP client, in the same run: first page of 50, a tag filter, the full
listing (pages of 1,000 for MLflow, its maximum; 200 for the portal, its maximum) and one model. Timings are
client-side wall-clock over loopback HTTP, so both include HTTP and JSON; the portal's calls are authenticated
as a Risk Officer with an API token (MLflow has no authentication here).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench import sweep
from bench.enterprise import Enterprise
from bench.load import free_port, serve_portal, stop, wait_http
from bench.report import Measurement, timed

START_TIMEOUT = 600  # seconds: on two busy cores the server's first start (schema migration) takes minutes
MLFLOW_PAGE = 1000  # the largest max_results search_registered_models accepts
PORTAL_PAGE = 200  # the largest page_size the portal accepts
BATCH = 5000


@contextlib.contextmanager
def _store() -> Iterator[tuple[str, str]]:
    """A scratch backend store for MLflow: (URI for the server, SQLAlchemy URL for the bulk inserts)."""
    url = os.environ.get("DATABASE_URL", "")
    if sweep.is_postgres(url):
        import psycopg

        name = f"bench_mlflow_{dt.datetime.now(dt.UTC).strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
        parts = urlsplit(url)
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        store = urlunsplit(parts._replace(scheme="postgresql+psycopg", path=f"/{name}"))
        try:
            yield store, store
        finally:
            with psycopg.connect(admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench-mlflow-"))
        store = f"sqlite:///{folder / 'mlflow.db'}"
        try:
            yield store, store
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def serve_mlflow(store: str) -> Iterator[str]:
    """Start ``mlflow server`` on ``store``; yields its URL once ``/health`` answers."""
    folder = Path(tempfile.mkdtemp(prefix="bench-mlflow-server-"))
    log = folder / "server.log"
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("MLFLOW_")}
    # The server's background job runner starts a dozen consumer processes the portal never uses.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        store,
        "--default-artifact-root",
        (folder / "artifacts").as_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and tools, fixed arguments
            command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/health", process=process, timeout=START_TIMEOUT, log=log)
        yield url
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def populate(store: str) -> dict[str, int]:
    """Copy the portal's models, versions and tags into MLflow's tables (the schema the server created)."""
    import sqlalchemy as sa

    from inventory.models import ModelVersion, RegisteredModel

    engine = sa.create_engine(store)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=["registered_models", "model_versions", "registered_model_tags"])
    models_table = metadata.tables["registered_models"]
    versions_table = metadata.tables["model_versions"]
    tags_table = metadata.tables["registered_model_tags"]
    tag_through = RegisteredModel.tags.through
    counts = {"models": 0, "versions": 0, "tags": 0}

    def millis(value: dt.datetime) -> int:
        return int(value.timestamp() * 1000)

    pks = list(RegisteredModel.objects.order_by("pk").values_list("pk", flat=True))
    with engine.begin() as connection:
        for start in range(0, len(pks), BATCH):
            chunk = pks[start : start + BATCH]
            models = list(
                RegisteredModel.objects.filter(pk__in=chunk).values_list("pk", "key", "purpose", "created_at")
            )
            names = {pk: key for pk, key, _purpose, _created in models}
            connection.execute(
                models_table.insert(),
                [
                    {"name": key, "creation_time": millis(created), "last_updated_time": millis(created)}
                    | {"description": purpose[:5000]}
                    for _pk, key, purpose, created in models
                ],
            )
            numbers: dict[int, int] = {}
            version_rows = []
            for model_id, created, state, source in (
                ModelVersion.objects.filter(model_id__in=chunk)
                .order_by("model_id", "created_at")
                .values_list("model_id", "created_at", "state", "training_data_ref")
            ):
                numbers[model_id] = numbers.get(model_id, 0) + 1
                version_rows.append(
                    {
                        "name": names[model_id],
                        "version": numbers[model_id],
                        "creation_time": millis(created),
                        "last_updated_time": millis(created),
                        "description": "",
                        "user_id": "bench",
                        "current_stage": "Production" if state == "deployed" else "None",
                        "source": source,
                        "run_id": uuid.uuid4().hex,
                        "status": "READY",
                    }
                )
            if version_rows:
                connection.execute(versions_table.insert(), version_rows)
            tag_rows = [
                {"name": names[model_id], "key": tag, "value": "true"}
                for model_id, tag in tag_through.objects.filter(registeredmodel_id__in=chunk).values_list(
                    "registeredmodel_id", "tag__name"
                )
            ]
            if tag_rows:
                connection.execute(tags_table.insert(), tag_rows)
            counts["models"] += len(models)
            counts["versions"] += len(version_rows)
            counts["tags"] += len(tag_rows)
    engine.dispose()
    return counts


def _pages(session: Any, first: str, params: dict[str, Any], *, next_of: Callable[[dict[str, Any]], Any]) -> int:
    """Follow a paged listing to its end; the number of rows seen."""
    rows = 0
    url: str | None = first
    query: dict[str, Any] | None = params
    while url:
        response = session.get(url, params=query, timeout=600)
        response.raise_for_status()
        body = response.json()
        rows += len(body.get("registered_models", body.get("results", [])))
        url, query = next_of(body)
    return rows


def run(
    ent: Enterprise, *, runs: int, figures: dict[str, Any], ratios: dict[str, float], notes: list[str]
) -> list[Measurement]:
    """Start both servers on the same data and time the four questions on each; the MLflow / portal ratios."""
    import requests

    key = ent.gate_targets[0][0] if ent.gate_targets else ent.ci_keys[0]
    tag = ent.tag
    full_runs = 1 if ent.counts["models"] > 10_000 else 2
    measurements: list[Measurement] = []
    with _store() as (store, engine_url), serve_mlflow(store) as mlflow_url, serve_portal() as portal_url:
        started = time.perf_counter()
        counts = populate(engine_url)
        figures["MLflow registry populated by bulk insert (s)"] = time.perf_counter() - started
        figures["MLflow registry rows (models / versions / tags)"] = (
            f"{counts['models']} / {counts['versions']} / {counts['tags']}"
        )
        mlflow = requests.Session()
        portal = requests.Session()
        portal.headers["Authorization"] = f"Token {ent.officer_token}"
        search = f"{mlflow_url}/api/2.0/mlflow/registered-models/search"
        models = f"{portal_url}/api/v1/models/"

        def get(session: Any, url: str, **params: Any) -> Callable[[], None]:
            def call() -> None:
                response = session.get(url, params=params, timeout=600)
                response.raise_for_status()

            return call

        def mlflow_all() -> None:
            _pages(
                mlflow,
                search,
                {"max_results": MLFLOW_PAGE},
                next_of=lambda body: (
                    (search, {"max_results": MLFLOW_PAGE, "page_token": body["next_page_token"]})
                    if body.get("next_page_token")
                    else (None, None)
                ),
            )

        def portal_all() -> None:
            # Keyset paging (`after`), as a client walking the whole inventory is told to: MLflow's page token is
            # a keyset cursor too, so both pay the same for page 500 as for page 1.
            _pages(
                portal, models, {"page_size": PORTAL_PAGE, "after": ""}, next_of=lambda body: (body.get("next"), None)
            )

        cases = [
            (
                "first page of 50",
                get(mlflow, search, max_results=50),
                get(portal, models, page_size=50),
                runs,
            ),
            (
                f"tag filter ({tag}), first page",
                get(mlflow, search, max_results=50, filter=f"tags.`{tag}` = 'true'"),
                get(portal, models, page_size=50, tag=tag),
                runs,
            ),
            (
                f"rare tag filter ({ent.rare_tag}), first page",
                get(mlflow, search, max_results=50, filter=f"tags.`{ent.rare_tag}` = 'true'"),
                get(portal, models, page_size=50, tag=ent.rare_tag),
                runs,
            ),
            ("full listing", mlflow_all, portal_all, full_runs),
            (
                "one model",
                get(mlflow, f"{mlflow_url}/api/2.0/mlflow/registered-models/get", name=key),
                get(portal, f"{models}{key}/"),
                runs,
            ),
        ]
        for label, mlflow_call, portal_call, count in cases:
            # Both servers warmed alike: ten calls reach every worker (the portal's statements are prepared by then).
            warmup = 0 if label == "full listing" and count == 1 else 10
            theirs = Measurement("mlflow", f"MLflow: {label}", timed(mlflow_call, runs=count, warmup=warmup))
            ours = Measurement("mlflow", f"portal over HTTP: {label}", timed(portal_call, runs=count, warmup=warmup))
            measurements += [theirs, ours]
            ratios[f"MLflow / portal, {label} (median)"] = theirs.median / ours.median
    return measurements
