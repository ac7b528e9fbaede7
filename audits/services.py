"""Writes of the audits app: storing evaluation data, requesting a bias audit, and executing it.

A bias audit applies the tier policy of the active rule pack to the fairness figures of ``audits.fairness``:
the four-fifths rule (demographic parity ratio ≥ ``selection_rate_ratio_min``), equalized odds difference
≤ ``equalized_odds_difference_max`` and any other threshold the policy sets, each on groups of at least
``min_group_size`` rows (smaller groups are reported and flagged, not ranked). A failing metric raises one
finding, kept by its ``dedup_key`` across runs; the verdict goes to the ledger in the transaction that stores it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from audits import evaluation, remote
from audits.choices import FINISHED_STATUSES, AuditKind, DatasetFormat, DatasetSource, RunStatus
from audits.models import AuditRun, EvaluationDataset
from core.middleware import current_request_id
from core.models import User
from core.permissions import restrict, user_can
from core.requeue import send_each_again
from governance.choices import EventType, FindingSeverity, FindingSource
from governance.ledger import ledger_append
from governance.models import TierPolicy
from governance.services.findings import finding_raise
from governance.services.policies import active_policy
from inventory.models import ModelVersion, RegisteredModel

NAME_MAX = 200
DEFAULT_MIN_GROUP_SIZE = 30
FINDING_DUE_DAYS = 30
# Policy threshold → (metric of audits.fairness, direction): "min" passes at or above, "max" at or below.
POLICY_RULES = {
    "selection_rate_ratio_min": ("demographic_parity_ratio", "min"),
    "demographic_parity_difference_max": ("demographic_parity_difference", "max"),
    "equalized_odds_difference_max": ("equalized_odds_difference", "max"),
    "equalized_odds_ratio_min": ("equalized_odds_ratio", "min"),
    "equal_opportunity_difference_max": ("equal_opportunity_difference", "max"),
}
LIBRARIES = ("fairlearn", "numpy", "pandas")
# Overall limit of one fetch of evaluation data by URL (connecting, every redirect and the whole transfer).
URL_FETCH_TIMEOUT_SECONDS = 60.0


class AuditInputChanged(Exception):
    """The evaluation file no longer is what was stored (its hash changed, or it is gone)."""


def may_audit(actor: User, model: RegisteredModel) -> bool:
    """Owners and Risk Officers (change on the model) and the model's validators."""
    return (
        user_can(actor, "change", model)
        or restrict(actor, "custom:validate_registeredmodel", RegisteredModel.objects.filter(pk=model.pk)).exists()
    )


def require_evaluation_dataset_create(actor: User, model: RegisteredModel) -> None:
    """Refuse (PermissionDenied) unless ``actor`` may add evaluation data to a version of ``model`` (``may_audit``);
    the service checks it first, the model's audits page before it reads the upload form."""
    if not may_audit(actor, model):
        raise PermissionDenied(f"You may not add evaluation data to {model.key}.")


def _data_error(error: evaluation.EvaluationDataError) -> ValidationError:
    return ValidationError({error.field: [error.message]})


def _resolve_reference(reference_path: str) -> Path:
    """The referenced file, if it lies inside one of ``EVALUATION_DATA_ROOTS`` once links and ``..`` are resolved."""
    roots = [Path(root).resolve() for root in settings.EVALUATION_DATA_ROOTS]
    if not roots:
        raise ValidationError({"reference_path": ["This installation allows no referenced files; upload the file."]})
    path = Path(reference_path)
    if not path.is_absolute():
        raise ValidationError({"reference_path": ["Give an absolute path."]})
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        raise ValidationError({"reference_path": [f"The path is outside the allowed directories ({allowed})."]})
    if not resolved.is_file():
        raise ValidationError({"reference_path": [f"No file at {reference_path}."]})
    return resolved


def _fetch_reference_url(url: str) -> remote.Fetched:
    """The bytes at an allowed URL, within the size cap and the timeout; a message on ``reference_url`` if not."""
    try:
        return remote.fetch(
            url,
            prefixes=settings.EVALUATION_DATA_URL_PREFIXES,
            max_bytes=settings.EVALUATION_UPLOAD_MAX_BYTES,
            timeout=URL_FETCH_TIMEOUT_SECONDS,
        )
    except evaluation.EvaluationDataError as error:
        raise _data_error(error) from None


def _is_url(reference: str) -> bool:
    # A referenced path is stored absolute ("/..."), a referenced URL with its scheme.
    return reference.lower().startswith(tuple(f"{scheme}://" for scheme in remote.SCHEMES))


def _read_limited(handle: Any, limit: int) -> bytes:
    # One byte past the limit is enough to know the file is too large, without reading all of it.
    content: bytes = handle.read(limit + 1)
    if len(content) > limit:
        raise ValidationError({"file": [f"The file is larger than the limit of {limit} bytes."]})
    return content


def data_file_read(
    *, upload: File | None, reference_path: str | None, reference_url: str | None
) -> tuple[bytes, str, str]:
    """The bytes of a data file given as an upload, a reference path or a reference URL (exactly one), read up to
    ``EVALUATION_UPLOAD_MAX_BYTES``; with its file name and the reference to store ("" for an upload).

    Shared by evaluation data and monitoring's drift data, so both refuse the same paths, URLs and sizes.
    """
    limit = settings.EVALUATION_UPLOAD_MAX_BYTES
    if upload is not None:
        upload.seek(0)
        return _read_limited(upload, limit), upload.name or "", ""
    if reference_path:
        path = _resolve_reference(reference_path)
        with path.open("rb") as handle:
            return _read_limited(handle, limit), path.name, str(path)
    assert reference_url is not None
    fetched = _fetch_reference_url(reference_url)
    # The URL as given is what the audit fetches again (a redirect's target may be temporary).
    return fetched.content, fetched.file_name, reference_url.strip().split("#", 1)[0]


def stored_data_file_read(*, source: str, reference_uri: str, file: Any) -> bytes:
    """The current bytes of a stored data file: fetched again for a URL, read again for a path, else the upload.

    Raises ``ValidationError`` when a reference is no longer allowed or reachable and ``OSError`` when a file
    cannot be read; callers compare the bytes with the hash they stored.
    """
    if source == DatasetSource.REFERENCE and _is_url(reference_uri):
        return _fetch_reference_url(reference_uri).content
    if source == DatasetSource.REFERENCE:
        return _resolve_reference(reference_uri).read_bytes()
    with file.open("rb") as handle:
        return bytes(handle.read())


def evaluation_dataset_create(
    *,
    actor: User,
    version: ModelVersion,
    name: str,
    mapping: Any,
    upload: File | None = None,
    reference_path: str | None = None,
    reference_url: str | None = None,
) -> EvaluationDataset:
    """Validate and store a model version's evaluation data: an upload, or a reference to an allowed file or URL.

    The whole file is read and checked against the mapping first; on any problem nothing is stored. A file named
    ``.parquet`` or starting with Parquet's magic bytes is read as Parquet, any other as CSV. An upload is kept
    content-addressed (``evaluation/<sha256>.csv`` or ``.parquet``); a reference keeps its path or URL and the hash,
    so a later change of the file is caught when it is audited. A URL must lie under one of
    ``EVALUATION_DATA_URL_PREFIXES`` (as must every redirect); it is fetched with a timeout and the upload size cap.
    """
    require_evaluation_dataset_create(actor, version.model)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["This field is required."]})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [f"At most {NAME_MAX} characters."]})
    if sum(given is not None and given != "" for given in (upload, reference_path, reference_url)) != 1:
        raise ValidationError(
            {"non_field_errors": ["Give exactly one of: a file to upload, a reference path or a reference URL."]}
        )
    try:
        columns = evaluation.mapping_clean(mapping)
    except evaluation.EvaluationDataError as error:
        raise _data_error(error) from None
    limit = settings.EVALUATION_UPLOAD_MAX_BYTES
    if upload is not None and upload.size is not None and upload.size > limit:
        raise ValidationError({"file": [f"The file has {upload.size} bytes; the limit is {limit}."]})
    content, file_name, reference = data_file_read(
        upload=upload, reference_path=reference_path, reference_url=reference_url
    )
    file_format = DatasetFormat(evaluation.detect_format(file_name, content))
    try:
        table = evaluation.read_table(content, columns, max_bytes=limit, file_format=file_format)
    except evaluation.EvaluationDataError as error:
        raise _data_error(error) from None
    sha256 = hashlib.sha256(content).hexdigest()
    dataset = EvaluationDataset(
        version=version,
        name=name,
        source=DatasetSource.UPLOAD if upload is not None else DatasetSource.REFERENCE,
        reference_uri=reference,
        file_format=file_format,
        sha256=sha256,
        row_count=table.rows,
        size_bytes=len(content),
        columns=table.columns,
        mapping=columns.as_dict(),
        created_by=actor,
        created_at=timezone.now(),
    )
    with transaction.atomic():
        if upload is not None:
            stored_name = f"evaluation/{sha256}.{file_format}"
            # Same bytes, same name: a second upload of a file reuses the stored copy. A copy written for a
            # transaction that then rolls back stays behind harmlessly and is reused by the next upload.
            if not default_storage.exists(stored_name):
                stored_name = default_storage.save(stored_name, ContentFile(content))
            dataset.file.name = stored_name
        dataset.save()
        ledger_append(
            event_type=EventType.AUDIT_DATASET_STORED,
            actor=actor,
            model=version.model,
            subject=dataset,
            summary=f"Evaluation data “{name}” stored for {version.model.key} {version.version}"
            f" ({table.rows} rows, SHA-256 {sha256[:12]})",
            payload={
                "dataset": dataset.pk,
                "version": version.pk,
                "source": dataset.source,
                "reference": dataset.reference_uri,
                "file_format": dataset.file_format,
                "sha256": sha256,
                "rows": table.rows,
                "size_bytes": len(content),
                "mapping": dataset.mapping,
            },
        )
    return dataset


@transaction.atomic
def bias_audit_request(
    *, actor: User, dataset: EvaluationDataset, idempotency_key: str | None = None, enqueue: bool = True
) -> AuditRun:
    """Queue a bias audit of ``dataset``; the same key finds the run it already created.

    Without a key, the key is the dataset's hash, the policy revision and the request id, so a retried request
    does not queue a second run. The task is enqueued once the run is committed (``enqueue=False`` leaves
    running it to the caller, as the ``audit_bias`` command does in-process).
    """
    version = dataset.version
    model = version.model
    if not may_audit(actor, model):
        raise PermissionDenied(f"You may not audit {model.key}.")
    policy = active_policy(model.risk_tier)
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 0 < len(idempotency_key) <= 200:
            raise ValidationError({"idempotency_key": ["Between 1 and 200 characters."]})
    else:
        request_id = current_request_id.get()
        # Outside a web request (commands, tasks) there is no request id; each call is then a request of its own.
        request_id = uuid.uuid4().hex if request_id in {"", "-"} else request_id
        idempotency_key = f"bias:{dataset.sha256[:32]}:{policy.pack.code}.{policy.revision}:{request_id}"[:200]
    existing = AuditRun.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.dataset_id != dataset.pk:
            raise ValidationError({"idempotency_key": ["This key was used for an audit of other data."]})
        return existing
    run = AuditRun(
        kind=AuditKind.BIAS,
        model=model,
        version=version,
        dataset=dataset,
        idempotency_key=idempotency_key,
        parameters={"dataset": dataset.pk},
        requested_by=actor,
        requested_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        # The same key requested concurrently: the run that won is the run.
        return AuditRun.objects.get(idempotency_key=idempotency_key)
    if enqueue:
        from audits.tasks import run_bias_audit  # the task module imports this one

        # Robust: with the broker down the run is still recorded and stays queued until the requeue sweep sends it
        # again (core/requeue.py).
        transaction.on_commit(lambda: run_bias_audit.delay(run.pk), robust=True)
    return run


def audit_runs_requeue_stale(*, queued_before: dt.datetime, **kwargs: Any) -> int:
    """Send again the task of every bias audit and compliance sweep still queued since before ``queued_before``
    (its message was lost when the broker was down); a receiver of ``core.requeue.stale_work_requeue_requested``."""
    from audits.tasks import run_bias_audit, run_compliance_sweep  # the task module imports this one

    tasks: dict[str, Any] = {AuditKind.BIAS: run_bias_audit, AuditKind.COMPLIANCE: run_compliance_sweep}
    stale = list(
        AuditRun.objects.filter(status=RunStatus.QUEUED, kind__in=tasks, requested_at__lt=queued_before).values_list(
            "pk", "kind"
        )
    )
    # One read for both kinds, then each kind's task for its rows.
    return sum(send_each_again(task, [pk for pk, of in stale if of == kind]) for kind, task in tasks.items())


def _dataset_content(dataset: EvaluationDataset) -> bytes:
    """The stored bytes, refused if they are not the bytes that were validated."""
    try:
        content = stored_data_file_read(source=dataset.source, reference_uri=dataset.reference_uri, file=dataset.file)
    except ValidationError as error:
        raise AuditInputChanged(f"The evaluation file cannot be read: {'; '.join(error.messages)}") from None
    except OSError as error:
        raise AuditInputChanged(f"The evaluation file cannot be read: {error}") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != dataset.sha256:
        raise AuditInputChanged(
            f"The evaluation file changed since it was stored: its SHA-256 is now {digest}, stored {dataset.sha256}."
        )
    return content


def library_versions() -> dict[str, str]:
    """Versions of what computed the figures (fairlearn is the reference the computation is tested against)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def metric_verdicts(disparities: dict[str, float | None], thresholds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Pass/fail of each metric the policy sets a threshold for; ``insufficient_data`` with fewer than two groups
    of adequate size (the metric is undefined, which is neither a pass nor a failure)."""
    verdicts = {}
    for threshold_name, (metric, direction) in POLICY_RULES.items():
        if threshold_name not in thresholds:
            continue
        limit = float(thresholds[threshold_name])
        value = disparities.get(metric)
        if value is None:
            outcome = "insufficient_data"
        elif direction == "min":
            outcome = "pass" if value >= limit else "fail"
        else:
            outcome = "pass" if value <= limit else "fail"
        verdicts[metric] = {"value": value, "threshold": limit, "rule": f"{direction} {limit:g}", "verdict": outcome}
    return verdicts


@dataclass(frozen=True)
class _Outcome:
    result: dict[str, Any]
    verdicts: dict[str, Any]
    failing: list[tuple[str, str, dict[str, Any]]]


def _compute(run: AuditRun, policy: TierPolicy) -> _Outcome:
    # The numeric code (numpy, pandas) is imported by the worker that runs an audit, not by every process at start.
    from audits import fairness

    dataset = run.dataset
    assert dataset is not None
    content = _dataset_content(dataset)
    table = evaluation.read_table(
        content, evaluation.mapping_clean(dataset.mapping), max_bytes=len(content), file_format=dataset.file_format
    )
    thresholds = dict(policy.bias_thresholds)
    min_group_size = int(thresholds.get("min_group_size", DEFAULT_MIN_GROUP_SIZE))
    analyses: dict[str, dict[str, Any]] = {}
    features = [[name] for name in table.sensitive]
    if len(features) > 1:
        features.append(list(table.sensitive))
    failing = []
    verdicts: dict[str, Any] = {}
    for names in features:
        label = fairness.GROUP_SEPARATOR.join(names)
        figures = fairness.audit(
            table.y_true, table.y_pred, {name: table.sensitive[name] for name in names}, min_group_size=min_group_size
        ).as_dict()
        figures["verdicts"] = metric_verdicts(figures["disparities_adequate_groups"], thresholds)
        analyses[label] = figures
        verdicts[label] = {metric: item["verdict"] for metric, item in figures["verdicts"].items()}
        failing += [(label, metric, item) for metric, item in figures["verdicts"].items() if item["verdict"] == "fail"]
    result = {
        "dataset": {"id": dataset.pk, "name": dataset.name, "sha256": dataset.sha256, "rows": table.rows},
        "mapping": dataset.mapping,
        "library_versions": library_versions(),
        "policy": {
            "pack": policy.pack.code,
            "tier": policy.tier,
            "revision": policy.revision,
            "thresholds": thresholds,
            "min_group_size": min_group_size,
        },
        "analyses": analyses,
        "verdict": "failed" if failing else "passed",
    }
    return _Outcome(result=result, verdicts=verdicts, failing=failing)


def _raise_findings(run: AuditRun, failing: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
    assert run.model is not None
    assert run.version is not None
    raised = []
    for analysis, metric, item in failing:
        finding = finding_raise(
            actor=None,
            model=run.model,
            version=run.version,
            title=f"Bias audit: {metric.replace('_', ' ')} by {analysis} fails ({item['value']:.4f}, {item['rule']})"[
                :200
            ],
            description=f"Audit run #{run.pk} of version {run.version.version} on evaluation data "
            f"{run.dataset_sha256[:12]}: {metric} over groups of adequate size is {item['value']:.4f}, "
            f"the policy requires {item['rule']}.",
            severity=FindingSeverity.HIGH,
            source=FindingSource.AUDIT,
            due_date=timezone.localdate() + dt.timedelta(days=FINDING_DUE_DAYS),
            # One finding per version, analysis and metric: later runs that fail the same way add none.
            dedup_key=f"bias:{run.version.pk}:{analysis}:{metric}"[:200],
            check_permission=False,
        )
        raised.append(finding.pk)
    return raised


def bias_audit_execute(*, run_id: int) -> AuditRun:
    """Run a queued bias audit and record its result once, however often the task is delivered.

    The run is marked running in a short transaction; the figures are computed outside any lock; the result,
    its findings and its ledger event are written in one transaction that first checks nobody finished the run
    meanwhile. Any error ends the run in status ``error`` with its message.
    """
    from audits import fairness  # its numpy and pandas load in the worker that audits (see _compute)

    with transaction.atomic():
        run = AuditRun.objects.select_for_update().get(pk=run_id)
        if run.status in FINISHED_STATUSES:
            return run
        run.status, run.started_at, run.progress = RunStatus.RUNNING, timezone.now(), 10
        run.attempts += 1
        run.save(update_fields=["status", "started_at", "progress", "attempts"])
    run = AuditRun.objects.select_related("model", "version", "dataset").get(pk=run_id)
    outcome: _Outcome | None = None
    error = ""
    try:
        policy = active_policy(run.model.risk_tier if run.model else None)
        run.dataset_sha256 = run.dataset.sha256 if run.dataset else ""
        outcome = _compute(run, policy)
    except ValidationError as failure:
        error = "; ".join(failure.messages)
    except (AuditInputChanged, evaluation.EvaluationDataError, fairness.FairnessInputError) as failure:
        error = str(failure)
    with transaction.atomic():
        locked = AuditRun.objects.select_for_update().get(pk=run_id)
        if locked.status in FINISHED_STATUSES:
            return locked
        run.finished_at, run.progress = timezone.now(), 100
        if outcome is None:
            run.status, run.error = RunStatus.ERROR, error
            run.save()
            return run
        run.status = RunStatus.FAILED if outcome.failing else RunStatus.PASSED
        run.result, run.verdicts = outcome.result, outcome.verdicts
        run.library_versions = outcome.result["library_versions"]
        policy_info = outcome.result["policy"]
        run.policy_revision = f"{policy_info['pack']}@{policy_info['revision']}"
        run.save()
        findings = _raise_findings(run, outcome.failing)
        ledger_append(
            event_type=EventType.AUDIT_FAILED if outcome.failing else EventType.AUDIT_PASSED,
            actor=run.requested_by,
            model=run.model,
            subject=run,
            summary=f"Bias audit of {run.model.key if run.model else '?'} {run.version.version if run.version else ''}"
            f" {run.status}",
            payload={
                "run": run.pk,
                "dataset_sha256": run.dataset_sha256,
                "policy": run.policy_revision,
                "verdicts": run.verdicts,
                "findings": findings,
            },
        )
    return run
