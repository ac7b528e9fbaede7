"""Import of MLflow run metrics as metric observations, for the versions the MLflow sync linked to a run.

The sync (``inventory.services.mlflow``) records the run behind each imported version as an ``experiment_run``
artifact whose identity is ``tracking_uri#run_id``. This import reads each such run again (``runs/get``: the
latest value of every metric) and stores one observation per metric through ``metric_batch_ingest``, the same
service the metrics API calls: environment ``mlflow`` unless told otherwise, window from the run's start to its end,
source ``mlflow:<run id>``. The key (version, environment, metric, window) makes it idempotent: a second import
stores nothing new, a value logged again after the run ended updates the observation and its history keeps the old
one. Only finished runs are imported: a running run has no end, so no fixed window.

MLflow names metrics freely (``val/AUC``); the portal's names are lower-case ``[a-z0-9_.-]``, so a name is
lower-cased and other characters become ``_``. NaN and infinite values, which MLflow accepts, are left out and said.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.models import User
from inventory.choices import ArtifactKind
from inventory.mlflow.client import MlflowRestClient, MlflowRun
from inventory.models import Artifact, RegisteredModel
from inventory.services.artifacts import may_report
from monitoring.services import BATCH_MAX, METRIC_PATTERN, IngestResult, metric_batch_ingest

logger = logging.getLogger(__name__)

DEFAULT_ENVIRONMENT = "mlflow"
FINISHED = "FINISHED"


@dataclass
class RunImport:
    """What the import did with one (version, run)."""

    model: str
    version: str
    run_id: str
    metrics: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class MetricImportReport(IngestResult):
    """The outcome of one import: per run what was sent, and the ingestion's counts over all its batches."""

    tracking_uri: str
    environment: str
    runs: list[RunImport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "tracking_uri": self.tracking_uri,
            "environment": self.environment,
            **super().as_dict(),
            "runs": [asdict(run) for run in self.runs],
        }


def metric_name(name: str) -> str:
    """The portal name of an MLflow metric (lower case, other characters as ``_``); empty when none fits."""
    cleaned = re.sub(r"[^a-z0-9_.-]", "_", name.strip().lower()).lstrip("_.-0123456789")[:64]
    return cleaned if METRIC_PATTERN.match(cleaned) else ""


def _moment(milliseconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(milliseconds / 1000, tz=dt.UTC)


def run_observations(
    *, model_key: str, label: str, run: MlflowRun, environment: str, entry: RunImport
) -> list[dict[str, Any]]:
    """The observations of one finished run's latest metric values; what is left out is noted on ``entry``."""
    if run.status != FINISHED:
        entry.notes.append(f"run is {run.status or 'in an unknown state'}: imported once it has finished")
        return []
    if run.start_time is None or run.end_time is None or run.end_time <= run.start_time:
        entry.notes.append("run has no start and end time: no window to file its metrics under")
        return []
    start, end = _moment(run.start_time), _moment(run.end_time)
    observations: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for raw_name, value in sorted(run.metrics.items()):
        name = metric_name(raw_name)
        if not name:
            entry.notes.append(f"metric {raw_name!r}: no portal metric name can be made of it")
        elif name in names:
            entry.notes.append(f"metric {raw_name!r}: same portal name as {names[name]!r}, left out")
        elif not math.isfinite(value):
            entry.notes.append(f"metric {raw_name!r}: {value} is not a finite number")
        else:
            names[name] = raw_name
            observations.append(
                {
                    "model": model_key,
                    "version": label,
                    "environment": environment,
                    "metric": name,
                    "window_start": start,
                    "window_end": end,
                    "value": value,
                    "observed_at": end,
                    "source": f"mlflow:{run.run_id}"[:100],
                }
            )
    entry.metrics = sorted(names)
    return observations


def mlflow_metrics_import(
    *,
    actor: User,
    tracking_uri: str,
    token: str = "",
    model: RegisteredModel | None = None,
    environment: str = DEFAULT_ENVIRONMENT,
    timeout: float | None = None,
) -> MetricImportReport:
    """Import the metrics of the MLflow runs behind the versions of ``model`` (default: every model ``actor`` may
    report for) recorded from the tracking server at ``tracking_uri``.

    Whoever may report for the model: its owners, Risk Officers, the ``mlflow-sync`` account once the model is
    linked. Raises ``inventory.mlflow.client.MlflowError`` when the server cannot be read (nothing is stored then)
    and ``ValidationError`` from the ingestion (a bad ``environment``).
    """
    if model is not None and not may_report(actor, model):
        raise PermissionDenied(f"You may not report metrics for {model.key}.")
    client = MlflowRestClient(tracking_uri, token=token, **({"timeout": timeout} if timeout else {}))
    uri = client.tracking_uri
    report = MetricImportReport(tracking_uri=uri, environment=environment)
    artifacts = Artifact.objects.filter(
        kind=ArtifactKind.EXPERIMENT_RUN, identity__startswith=f"{uri}#"
    ).select_related("version__model")
    if model is not None:
        artifacts = artifacts.filter(version__model=model)
    allowed: dict[int, bool] = {}
    pending: list[tuple[RunImport, str, str]] = []
    for artifact in artifacts.order_by("version__model__key", "version__created_at", "pk"):
        version = artifact.version
        if version.model_id not in allowed:
            allowed[version.model_id] = may_report(actor, version.model)
        if allowed[version.model_id]:
            run_id = artifact.identity.rpartition("#")[2]
            pending.append((RunImport(model=version.model.key, version=version.version, run_id=run_id), *_key(version)))
    # MLflow is read before anything is written, so a server failing half-way stores nothing.
    observations: list[dict[str, Any]] = []
    runs: dict[str, MlflowRun | None] = {}
    for entry, model_key, label in pending:
        if entry.run_id not in runs:
            runs[entry.run_id] = client.run(entry.run_id)
        run = runs[entry.run_id]
        if run is None:
            entry.notes.append("the run no longer exists on the tracking server")
        else:
            observations += run_observations(
                model_key=model_key, label=label, run=run, environment=environment, entry=entry
            )
        report.runs.append(entry)
    for start in range(0, len(observations), BATCH_MAX):
        report.add(metric_batch_ingest(actor=actor, observations=observations[start : start + BATCH_MAX]))
    logger.info(
        "MLflow metric import from %s by %s: %s created, %s updated, %s unchanged",
        uri,
        actor.username,
        report.created,
        report.updated,
        report.unchanged,
    )
    return report


def _key(version: Any) -> tuple[str, str]:
    return version.model.key, version.version


def mlflow_metrics_import_request(*, actor: User, model: RegisteredModel) -> None:
    """Queue the import of ``model``'s MLflow run metrics from the ``MLFLOW_TRACKING_URI`` server, as ``actor``
    (the button on the monitoring page and the API action). Whoever may report for the model."""
    from monitoring.tasks import import_mlflow_metrics  # the task module imports this one

    if not may_report(actor, model):
        raise PermissionDenied(f"You may not report metrics for {model.key}.")
    if not settings.MLFLOW_TRACKING_URI:
        raise ValidationError({"model": ["This portal has no MLflow tracking server (MLFLOW_TRACKING_URI)."]})
    model_key, actor_id = model.key, actor.pk
    transaction.on_commit(lambda: import_mlflow_metrics.delay(model_key=model_key, actor_id=actor_id))
