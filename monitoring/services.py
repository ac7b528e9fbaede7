"""Writes of monitoring: targets, metric ingestion, drift data and drift audits, deterioration findings.

- A target revision is proposed by whoever may change the model (its owners, Risk Officers) and agreed by a Risk
  Officer who did not propose it; agreeing supersedes the revision in force and goes to the ledger.
- A metric batch is validated whole before anything is written (≤ ``BATCH_MAX`` observations, all or nothing);
  its key is (version, environment, metric, window), so a batch sent twice stores once and a corrected value
  updates its row, leaving the old value in the history.
- After each batch, every series it touched that has a limit is checked: ``consecutive_windows`` latest windows
  all beyond the limit raise one finding per model and metric. Recovery closes nothing; a person does.
- A drift audit compares a reference table with a current one (``monitoring.drift``) under the limits in force;
  each kind of breach raises one finding per model, and a target that says so makes the revalidation due today.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from audits import evaluation
from audits.choices import FINISHED_STATUSES, DatasetFormat, DatasetSource, RunStatus
from audits.services import (
    AuditInputChanged,
    data_file_read,
    library_versions,
    may_audit,
    stored_data_file_read,
)
from core.history import save_with_history
from core.middleware import current_request_id
from core.models import User
from core.permissions import has_model_permission, user_can
from core.requeue import send_each_again
from governance.choices import EventType, FindingSeverity, FindingSource
from governance.ledger import ledger_append
from governance.services.findings import finding_raise
from inventory.models import ModelVersion, RegisteredModel
from inventory.services import registered_model_update
from inventory.services.artifacts import may_report, version_for_reporting
from inventory.validators import ENVIRONMENT_PATTERN
from monitoring.choices import BreachKind, TargetStatus
from monitoring.models import (
    STANDARD_LIMITS,
    THRESHOLD_FIELDS,
    DriftDataset,
    DriftRun,
    DriftSchedule,
    MetricObservation,
    MonitoringTarget,
    Thresholds,
    TierMonitoringDefault,
)

if TYPE_CHECKING:
    # numpy, pandas, pyarrow and scipy are imported where a table is read or compared: every web and worker process
    # imports this module when it starts (tests/test_startup_imports.py).
    import pandas as pd

    from monitoring import drift


BATCH_MAX = 1000
NAME_MAX = 200
REASON_MAX = 2000
FINDING_DUE_DAYS = 30
METRIC_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
ENVIRONMENT_RE = re.compile(ENVIRONMENT_PATTERN)
SOURCE_MAX = 100
SHARE_METRICS = ("accuracy", "auc", "precision", "recall")
OBSERVATION_FIELDS = ("model", "version", "environment", "metric", "window_start", "window_end", "value")


# --- targets -------------------------------------------------------------------------------------------------


def limits_in_force(model: RegisteredModel) -> Thresholds:
    """The agreed target of ``model``, else its tier's defaults, else no limits at all (an unsaved default)."""
    target = MonitoringTarget.objects.filter(model=model, status=TargetStatus.AGREED).first()
    if target is not None:
        return target
    default = TierMonitoringDefault.objects.filter(tier=model.risk_tier).first() if model.risk_tier else None
    return default or TierMonitoringDefault(tier=0)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError
    number = float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def _clean_thresholds(values: Mapping[str, Any]) -> dict[str, Any]:
    """The threshold fields checked one by one; every problem named on its field."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for metric, (name, direction) in STANDARD_LIMITS.items():
        if name not in values:
            continue
        try:
            number = _number(values[name])
        except (TypeError, ValueError):
            errors[name] = ["Give a number, or leave it empty for no limit."]
            continue
        if number is not None and metric in SHARE_METRICS and not 0 <= number <= 1:
            errors[name] = ["Give a share between 0 and 1."]
        elif number is not None and direction == "max" and number <= 0:
            errors[name] = ["Give a number above 0."]
        cleaned[name] = number
    for name in ("psi_feature_max", "psi_overall_max"):
        if name in values:
            try:
                number = _number(values[name])
            except (TypeError, ValueError):
                number, errors[name] = None, ["Give a number, or leave it empty for no limit."]
            if number is not None and number <= 0:
                errors[name] = ["A PSI limit is above 0 (0.1 is a common one)."]
            cleaned[name] = number
    if "consecutive_windows" in values:
        windows = values["consecutive_windows"]
        if isinstance(windows, bool) or not isinstance(windows, int) or not 1 <= windows <= 100:
            errors["consecutive_windows"] = ["Give a whole number of windows from 1 to 100."]
        cleaned["consecutive_windows"] = windows
    if "drift_cadence_days" in values:
        days = values["drift_cadence_days"]
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366):
            errors["drift_cadence_days"] = ["Give a whole number of days from 1 to 366, or leave it empty."]
        cleaned["drift_cadence_days"] = days
    if "revalidate_on_drift" in values:
        if not isinstance(values["revalidate_on_drift"], bool):
            errors["revalidate_on_drift"] = ["Give true or false."]
        cleaned["revalidate_on_drift"] = values["revalidate_on_drift"]
    if "custom_limits" in values:
        custom = values["custom_limits"] or {}
        problem = None
        if not isinstance(custom, Mapping):
            problem = 'Give an object, e.g. {"approval_rate": {"min": 0.3}}.'
        else:
            for metric, bounds in custom.items():
                if not isinstance(metric, str) or not METRIC_PATTERN.match(metric) or metric in STANDARD_LIMITS:
                    problem = f"{metric!r} is not a custom metric name (lower-case, not one of the standard metrics)."
                elif not isinstance(bounds, Mapping) or not bounds or set(bounds) - {"min", "max"}:
                    problem = f'{metric}: give "min", "max" or both.'
                else:
                    problem = _custom_bounds_problem(metric, bounds)
                if problem:
                    break
        if problem:
            errors["custom_limits"] = [problem]
        cleaned["custom_limits"] = dict(custom) if isinstance(custom, Mapping) else {}
    if errors:
        raise ValidationError(errors)
    return cleaned


def _custom_bounds_problem(metric: str, bounds: Mapping[str, Any]) -> str | None:
    try:
        numbers = {key: _number(value) for key, value in bounds.items()}
    except (TypeError, ValueError):
        return f"{metric}: the limits must be numbers."
    low, high = numbers.get("min"), numbers.get("max")
    if None in numbers.values():
        return f"{metric}: the limits must be numbers."
    if low is not None and high is not None and low > high:
        return f"{metric}: min is above max."
    return None


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the target is set or changed."]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [f"At most {REASON_MAX} characters."]})
    return reason


@transaction.atomic
def target_propose(
    *, actor: User, model: RegisteredModel, values: Mapping[str, Any], business_kpi: str = "", reason: str
) -> MonitoringTarget:
    """Propose a new target revision for ``model`` (its owners and Risk Officers). It starts from the revision in
    force (or the tier defaults), takes the given ``values`` and waits for a Risk Officer to agree it."""
    if not user_can(actor, "change", model):
        raise PermissionDenied(f"You may not set the monitoring target of {model.key}.")
    unknown = sorted(set(values) - set(THRESHOLD_FIELDS))
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    cleaned = _clean_thresholds(values)
    reason = _clean_reason(reason)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    in_force = MonitoringTarget.objects.filter(model=model, status=TargetStatus.AGREED).first()
    base = limits_in_force(model)
    start = {name: getattr(base, name) for name in THRESHOLD_FIELDS}
    latest = MonitoringTarget.objects.filter(model=model).aggregate(latest=Max("revision"))["latest"] or 0
    target = MonitoringTarget(
        model=model,
        revision=latest + 1,
        supersedes=in_force,
        business_kpi=(business_kpi or (in_force.business_kpi if in_force else "")).strip(),
        reason=reason,
        proposed_by=actor,
        proposed_at=timezone.now(),
        **{**start, **cleaned},
    )
    target.save()
    return target


@transaction.atomic
def target_agree(*, actor: User, target: MonitoringTarget, comment: str = "") -> MonitoringTarget:
    """A Risk Officer agrees a proposed revision, which then replaces the one in force. Nobody agrees their own
    proposal; a proposal made against a revision that has since been replaced must be proposed again."""
    if not has_model_permission(actor, MonitoringTarget, "change"):
        raise PermissionDenied("Only Risk Officers agree monitoring targets.")
    target = MonitoringTarget.objects.select_for_update().select_related("model").get(pk=target.pk)
    if target.proposed_by_id == actor.pk:
        raise PermissionDenied("You proposed this target; another Risk Officer must agree it.")
    if target.status != TargetStatus.PROPOSED:
        raise ValidationError({"status": [f"Revision {target.revision} is {target.get_status_display().lower()}."]})
    in_force = MonitoringTarget.objects.select_for_update().filter(model=target.model, status=TargetStatus.AGREED)
    current = in_force.first()
    if current is not None and target.supersedes_id != current.pk:
        raise ValidationError(
            {"supersedes": [f"Revision {current.revision} came into force after this proposal; propose again."]}
        )
    if current is not None:
        current.status = TargetStatus.SUPERSEDED
        current.save(update_fields=["status"])
    target.status, target.agreed_by, target.agreed_at = TargetStatus.AGREED, actor, timezone.now()
    target.save(update_fields=["status", "agreed_by", "agreed_at"])
    ledger_append(
        event_type=EventType.POLICY_CHANGED,
        actor=actor,
        model=target.model,
        subject=target,
        summary=f"Monitoring target r{target.revision} of {target.model.key} agreed",
        payload={
            "target": target.pk,
            "revision": target.revision,
            "supersedes": current.revision if current else None,
            "proposed_by": target.proposed_by.username,
            "limits": target.limits(),
            "psi_feature_max": target.psi_feature_max,
            "psi_overall_max": target.psi_overall_max,
            "consecutive_windows": target.consecutive_windows,
            "revalidate_on_drift": target.revalidate_on_drift,
            "reason": target.reason,
            "comment": (comment or "").strip()[:REASON_MAX],
        },
    )
    return target


# --- metric ingestion ----------------------------------------------------------------------------------------


@dataclass
class IngestResult:
    """What a batch did: rows created, rows whose value changed, rows already as sent; findings raised."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    findings: list[int] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        """Count ``other`` (another batch) in as well."""
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.findings += other.findings

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "findings": self.findings,
        }


@dataclass(frozen=True)
class _Item:
    model: str
    version: str
    environment: str
    metric: str
    window_start: dt.datetime
    window_end: dt.datetime
    value: float
    observed_at: dt.datetime | None
    source: str


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment: dt.datetime | None = value
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
    else:
        moment = None
    if moment is None or timezone.is_naive(moment):
        return None
    return moment


def _clean_item(index: int, raw: Any) -> tuple[_Item | None, list[str]]:
    prefix = f"[{index}]"
    if not isinstance(raw, Mapping):
        return None, [f"{prefix}: give an object with {', '.join(OBSERVATION_FIELDS)}."]
    problems = []
    unknown = sorted(set(raw) - {*OBSERVATION_FIELDS, "observed_at", "source"})
    if unknown:
        problems.append(f"{prefix}: unknown field(s) {', '.join(unknown)}.")
    for name in OBSERVATION_FIELDS:
        if raw.get(name) in (None, ""):
            problems.append(f"{prefix}.{name}: this field is required.")
    texts = {name: raw.get(name) for name in ("model", "version", "environment", "metric")}
    for name, value in texts.items():
        if value not in (None, "") and not isinstance(value, str):
            problems.append(f"{prefix}.{name}: give text.")
    environment, metric = str(texts["environment"] or ""), str(texts["metric"] or "")
    if environment and not ENVIRONMENT_RE.match(environment):
        problems.append(f"{prefix}.environment: 1-50 lower-case letters, digits, '.', '_' or '-'.")
    if metric and not METRIC_PATTERN.match(metric):
        problems.append(f"{prefix}.metric: a lower-case name such as accuracy or latency_ms (at most 64 characters).")
    try:
        value = _number(raw.get("value"))
    except (TypeError, ValueError):
        value = None
        problems.append(f"{prefix}.value: give a finite number.")
    start, end = _moment(raw.get("window_start")), _moment(raw.get("window_end"))
    for name, moment in (("window_start", start), ("window_end", end)):
        if raw.get(name) not in (None, "") and moment is None:
            problems.append(f"{prefix}.{name}: give an ISO 8601 date-time with its time zone.")
    if start and end and start >= end:
        problems.append(f"{prefix}.window_end: must be after window_start.")
    observed = _moment(raw.get("observed_at")) if raw.get("observed_at") not in (None, "") else None
    if raw.get("observed_at") not in (None, "") and observed is None:
        problems.append(f"{prefix}.observed_at: give an ISO 8601 date-time with its time zone.")
    source = raw.get("source") or ""
    if not isinstance(source, str) or len(source) > SOURCE_MAX:
        problems.append(f"{prefix}.source: text of at most {SOURCE_MAX} characters.")
    if problems or value is None or start is None or end is None:
        return None, problems
    return (
        _Item(
            model=str(texts["model"]).strip(),
            version=str(texts["version"]).strip(),
            environment=environment,
            metric=metric,
            window_start=start,
            window_end=end,
            value=value,
            observed_at=observed,
            source=source.strip(),
        ),
        [],
    )


def _clean_batch(observations: Any) -> list[_Item]:
    if not isinstance(observations, list) or not observations:
        raise ValidationError({"observations": ["Give a non-empty list of observations."]})
    if len(observations) > BATCH_MAX:
        raise ValidationError(
            {"observations": [f"At most {BATCH_MAX} observations a batch (got {len(observations)}); split it."]}
        )
    items, problems = [], []
    for index, raw in enumerate(observations):
        item, item_problems = _clean_item(index, raw)
        problems += item_problems
        if item is not None:
            items.append((index, item))
    seen: dict[tuple[Any, ...], int] = {}
    for index, item in items:
        key = (item.model, item.version, item.environment, item.metric, item.window_start, item.window_end)
        if key in seen:
            problems.append(f"[{index}]: the same model, version, environment, metric and window as [{seen[key]}].")
        seen.setdefault(key, index)
    if problems:
        raise ValidationError({"observations": problems[:50]})
    return [item for _, item in items]


def _versions(actor: User, items: list[_Item]) -> dict[tuple[str, str], ModelVersion]:
    """Each (model key, version label) of the batch, as ``version_for_reporting`` resolves it for ``actor``."""
    versions = {}
    for model_key, label in dict.fromkeys((item.model, item.version) for item in items):
        try:
            versions[model_key, label] = version_for_reporting(actor=actor, model_key=model_key, version_label=label)
        except ValidationError as error:
            raise ValidationError({"observations": [f"{model_key} {label}: {m}" for m in error.messages]}) from None
    return versions


def metric_batch_ingest(*, actor: User, observations: Any) -> IngestResult:
    """Store a batch of production metric observations, all or nothing, then check the series it touched.

    Whoever may report for the model may push (its owners, Risk Officers, service accounts scoped to it). A model
    the actor may not see is a 404, one it sees but may not report for a 403; any malformed observation refuses
    the whole batch with a message per problem.
    """
    items = _clean_batch(observations)
    versions = _versions(actor, items)
    try:
        return _ingest(actor, items, versions)
    except IntegrityError:
        # The same windows were stored concurrently by another request: now they exist, this pass updates them.
        return _ingest(actor, items, versions)


@transaction.atomic
def _ingest(actor: User, items: list[_Item], versions: dict[tuple[str, str], ModelVersion]) -> IngestResult:
    now = timezone.now()
    existing = {
        (row.version_id, row.environment, row.metric, row.window_start, row.window_end): row
        for row in MetricObservation.objects.select_for_update().filter(
            version__in=[version.pk for version in versions.values()],
            metric__in={item.metric for item in items},
            window_end__in={item.window_end for item in items},
        )
    }
    result = IngestResult()
    fresh, changed = [], []
    for item in items:
        version = versions[item.model, item.version]
        key = (version.pk, item.environment, item.metric, item.window_start, item.window_end)
        row = existing.get(key)
        if row is None:
            fresh.append(
                MetricObservation(
                    version=version,
                    environment=item.environment,
                    metric=item.metric,
                    window_start=item.window_start,
                    window_end=item.window_end,
                    value=item.value,
                    observed_at=item.observed_at or now,
                    source=item.source,
                    recorded_by=actor,
                    recorded_at=now,
                )
            )
        elif row.value != item.value:
            row.value, row.observed_at, row.source = item.value, item.observed_at or now, item.source
            row.recorded_by, row.recorded_at = actor, now
            changed.append(row)
        else:
            result.unchanged += 1
    if fresh:
        with transaction.atomic():
            bulk_create_with_history(fresh, MetricObservation, default_user=actor, default_change_reason="Reported")
    if changed:
        bulk_update_with_history(
            changed,
            MetricObservation,
            ["value", "observed_at", "source", "recorded_by", "recorded_at"],
            default_user=actor,
            default_change_reason="Value corrected by a later report",
        )
    result.created, result.updated = len(fresh), len(changed)
    series = {(versions[i.model, i.version], i.environment, i.metric) for i in items}
    result.findings = deterioration_check(series=series)
    return result


# --- deterioration -------------------------------------------------------------------------------------------


def _breaches(value: float, bounds: Mapping[str, float]) -> bool:
    return ("min" in bounds and value < bounds["min"]) or ("max" in bounds and value > bounds["max"])


def deterioration_check(*, series: Iterable[tuple[ModelVersion, str, str]]) -> list[int]:
    """For each (version, environment, metric) series with a limit in force: if its latest ``consecutive_windows``
    windows all breach the limit, raise the model's finding for that metric (once while it is live)."""
    raised = []
    limits_by_model: dict[int, Thresholds] = {}
    for version, environment, metric in sorted(series, key=lambda s: (s[0].pk, s[1], s[2])):
        model = version.model
        if model.pk not in limits_by_model:
            limits_by_model[model.pk] = limits_in_force(model)
        thresholds = limits_by_model[model.pk]
        bounds = thresholds.limits().get(metric)
        windows = max(int(thresholds.consecutive_windows or 1), 1)
        if not bounds:
            continue
        latest = list(
            MetricObservation.objects.filter(version=version, environment=environment, metric=metric)
            .order_by("-window_end")
            .values_list("value", "window_end")[:windows]
        )
        if len(latest) < windows or not all(_breaches(value, bounds) for value, _ in latest):
            continue
        rule = ", ".join(f"{key} {limit:g}" for key, limit in bounds.items())
        finding = finding_raise(
            actor=None,
            model=model,
            version=version,
            title=f"Monitoring: {metric} beyond its target for {windows} consecutive windows ({environment})"[:200],
            description=f"{metric} of {model.key} {version.version} in {environment} over the last {windows} "
            f"windows: {', '.join(f'{value:g}' for value, _ in reversed(latest))}; the target requires {rule}.",
            severity=FindingSeverity.HIGH,
            source=FindingSource.MONITORING,
            due_date=timezone.localdate() + dt.timedelta(days=FINDING_DUE_DAYS),
            dedup_key=f"monitoring:{model.pk}:{BreachKind.DETERIORATION}:{metric}"[:200],
            check_permission=False,
        )
        raised.append(finding.pk)
    return raised


# --- drift data ----------------------------------------------------------------------------------------------


def read_frame(content: bytes, file_format: str) -> pd.DataFrame:
    """A CSV (UTF-8, comma-separated) or Parquet table; only empty cells are missing values."""
    import pandas as pd
    import pyarrow as pa

    if file_format == DatasetFormat.PARQUET:
        if not content.startswith(evaluation.PARQUET_MAGIC):
            raise evaluation.EvaluationDataError("file", "The file is named .parquet but is not a Parquet file.")
        try:
            return pd.read_parquet(io.BytesIO(content), engine="pyarrow")
        except (pa.ArrowException, OSError, ValueError) as error:
            raise evaluation.EvaluationDataError("file", f"The Parquet file cannot be read: {error}") from None
    text = evaluation.decode_csv(content)
    try:
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""], skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise evaluation.EvaluationDataError("file", "The file is empty.") from None
    except pd.errors.ParserError as error:
        raise evaluation.EvaluationDataError("file", f"The file is not a well-formed CSV: {error}") from None
    frame.columns = pd.Index([str(name).strip() for name in frame.columns])
    return frame


# Cells that are numbers no bin can hold. A missing value is an empty cell; "NaN" written out would turn a numeric
# column into categories and "inf" would stretch the outer bins, so the drift figures would silently be wrong.
NON_FINITE_MARKERS = frozenset({"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})


def _refuse_malformed_table(frame: pd.DataFrame) -> None:
    """A 400 on ``file`` for a table read with the wrong delimiter or holding NaN or infinite values."""
    import pandas as pd

    if len(frame.columns) == 1:
        header = str(frame.columns[0])
        found = next((name for sign, name in evaluation.OTHER_DELIMITERS.items() if sign in header), None)
        if found:
            raise ValidationError(
                {
                    "file": [
                        f"Found a single column {header[:80]!r}: it seems to be separated by {found}, not commas. "
                        "Save it as a comma-separated CSV."
                    ]
                }
            )
    for name in frame.columns:
        column = frame[name]
        # The distinct values decide, not every row: a column of a million rows has far fewer of them.
        distinct = column.dropna().unique()
        if pd.api.types.is_numeric_dtype(column):
            bad = any(math.isinf(value) for value in distinct)
        else:
            bad = any(str(value).strip().lower() in NON_FINITE_MARKERS for value in distinct)
        if bad:
            raise ValidationError(
                {"file": [f"Column {name!r} holds NaN or infinite values; leave a missing value's cell empty."]}
            )


def _data_error(error: evaluation.EvaluationDataError | drift.DriftInputError) -> ValidationError:
    return ValidationError({error.field: [error.message]})


def drift_dataset_create(
    *,
    actor: User,
    version: ModelVersion,
    name: str,
    upload: File | None = None,
    reference_path: str | None = None,
    reference_url: str | None = None,
) -> DriftDataset:
    """Validate and store a table for drift audits, as evaluation data is stored: an upload (content-addressed,
    ``monitoring/<sha256>.csv``) or a reference to an allowed path or URL, with its SHA-256. Those who may audit
    the model or report for it (its pipelines send current windows) may add one."""
    model = version.model
    if not (may_audit(actor, model) or may_report(actor, model)):
        raise PermissionDenied(f"You may not add drift data to {model.key}.")
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError({"name": [f"Give a name of 1 to {NAME_MAX} characters."]})
    if sum(given is not None and given != "" for given in (upload, reference_path, reference_url)) != 1:
        raise ValidationError(
            {"non_field_errors": ["Give exactly one of: a file to upload, a reference path or a reference URL."]}
        )
    content, file_name, reference = data_file_read(
        upload=upload, reference_path=reference_path, reference_url=reference_url
    )
    file_format = DatasetFormat(evaluation.detect_format(file_name, content))
    try:
        frame = read_frame(content, file_format)
    except evaluation.EvaluationDataError as error:
        raise _data_error(error) from None
    if frame.empty:
        raise ValidationError({"file": ["The file has a header but no rows."]})
    if len(set(frame.columns)) != len(frame.columns):
        raise ValidationError({"file": ["The header names a column twice."]})
    _refuse_malformed_table(frame)
    sha256 = hashlib.sha256(content).hexdigest()
    dataset = DriftDataset(
        version=version,
        name=name,
        source=DatasetSource.UPLOAD if upload is not None else DatasetSource.REFERENCE,
        reference_uri=reference,
        file_format=file_format,
        sha256=sha256,
        row_count=len(frame),
        size_bytes=len(content),
        columns=list(frame.columns),
        created_by=actor,
        created_at=timezone.now(),
    )
    with transaction.atomic():
        if upload is not None:
            stored_name = f"monitoring/{sha256}.{file_format}"
            if not default_storage.exists(stored_name):
                stored_name = default_storage.save(stored_name, ContentFile(content))
            dataset.file.name = stored_name
        dataset.save()
        ledger_append(
            event_type=EventType.AUDIT_DATASET_STORED,
            actor=actor,
            model=model,
            subject=dataset,
            summary=f"Drift data “{name}” stored for {model.key} {version.version} ({len(frame)} rows, "
            f"SHA-256 {sha256[:12]})",
            payload={"drift_dataset": dataset.pk, "version": version.pk, "sha256": sha256, "rows": len(frame)},
        )
    return dataset


def _content(dataset: DriftDataset) -> bytes:
    """The stored bytes, refused if they are not the bytes that were validated."""
    try:
        content = stored_data_file_read(source=dataset.source, reference_uri=dataset.reference_uri, file=dataset.file)
    except (ValidationError, OSError) as error:
        raise AuditInputChanged(f"The file of “{dataset.name}” cannot be read: {error}") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != dataset.sha256:
        raise AuditInputChanged(f"The file of “{dataset.name}” changed since it was stored (SHA-256 now {digest}).")
    return content


# --- drift audits --------------------------------------------------------------------------------------------


def _columns(raw: Any, field_name: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) and item.strip() for item in raw):
        raise ValidationError({field_name: ["Give a list of column names."]})
    return list(dict.fromkeys(item.strip() for item in raw))


def _drift_parameters(
    tables: Iterable[tuple[str, DriftDataset]], *, features: Any, categorical: Any, prediction: str | None
) -> dict[str, Any]:
    """The features, categorical columns and prediction column, checked against every table (named on its field)."""
    names, forced = _columns(features, "features"), _columns(categorical, "categorical")
    if not names:
        raise ValidationError({"features": ["Name at least one feature column."]})
    prediction = (prediction or "").strip() or None
    wanted = [*names, *([prediction] if prediction else [])]
    for label, dataset in tables:
        missing = [name for name in wanted if name not in dataset.columns]
        if missing:
            raise ValidationError({label: [f"“{dataset.name}” has no column(s): {', '.join(missing)}."]})
    if set(forced) - set(wanted):
        raise ValidationError({"categorical": ["Name only columns that are features or the prediction."]})
    return {"features": names, "categorical": forced, "prediction": prediction}


@transaction.atomic
def drift_schedule_set(
    *,
    actor: User,
    reference: DriftDataset,
    features: Any,
    categorical: Any = None,
    prediction: str | None = None,
    enabled: bool = True,
) -> DriftSchedule:
    """Set what the scheduled drift audit of the reference's model compares (one schedule per model, replaced
    by the next call). Whoever may audit the model; the scheduled runs are then requested on their behalf. The
    columns are checked against the reference now; each current table is checked when its run is requested."""
    model = reference.version.model
    if not may_audit(actor, model):
        raise PermissionDenied(f"You may not audit {model.key}.")
    if not isinstance(enabled, bool):
        raise ValidationError({"enabled": ["Give true or false."]})
    parameters = _drift_parameters(
        (("reference", reference),), features=features, categorical=categorical, prediction=prediction
    )
    RegisteredModel.objects.select_for_update().get(pk=model.pk)
    schedule = DriftSchedule.objects.filter(model=model).first() or DriftSchedule(model=model)
    schedule.reference, schedule.parameters, schedule.enabled = reference, parameters, enabled
    schedule.requested_by, schedule.updated_at = actor, timezone.now()
    save_with_history(schedule, actor=actor, reason=f"Drift schedule against “{reference.name}”")
    return schedule


@transaction.atomic
def drift_audit_request(
    *,
    actor: User,
    reference: DriftDataset,
    current: DriftDataset,
    features: Any,
    categorical: Any = None,
    prediction: str | None = None,
    idempotency_key: str | None = None,
    enqueue: bool = True,
) -> DriftRun:
    """Queue a drift audit of ``current`` against ``reference`` (both of one model); the same key finds the run
    it already created. The columns are checked against both tables now, so a typo is a 400, not a failed run."""
    model = current.version.model
    if not may_audit(actor, model):
        raise PermissionDenied(f"You may not audit {model.key}.")
    if reference.version.model_id != model.pk:
        raise ValidationError({"reference": ["The reference data belongs to another model."]})
    if reference.pk == current.pk:
        raise ValidationError({"current": ["Compare two different tables."]})
    parameters = _drift_parameters(
        (("reference", reference), ("current", current)),
        features=features,
        categorical=categorical,
        prediction=prediction,
    )
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 0 < len(idempotency_key) <= 200:
            raise ValidationError({"idempotency_key": ["Between 1 and 200 characters."]})
    else:
        request_id = current_request_id.get()
        request_id = uuid.uuid4().hex if request_id in {"", "-"} else request_id
        idempotency_key = f"drift:{reference.sha256[:16]}:{current.sha256[:16]}:{request_id}"[:200]
    existing = DriftRun.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if (existing.reference_id, existing.current_id) != (reference.pk, current.pk):
            raise ValidationError({"idempotency_key": ["This key was used for an audit of other data."]})
        return existing
    target = MonitoringTarget.objects.filter(model=model, status=TargetStatus.AGREED).first()
    run = DriftRun(
        model=model,
        version=current.version,
        reference=reference,
        current=current,
        target=target,
        idempotency_key=idempotency_key,
        parameters=parameters,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        return DriftRun.objects.get(idempotency_key=idempotency_key)
    if enqueue:
        from monitoring.tasks import run_drift_audit  # the task module imports this one

        # Robust: with the broker down the run is still recorded and stays queued until the requeue sweep sends it
        # again (core/requeue.py).
        transaction.on_commit(lambda: run_drift_audit.delay(run.pk), robust=True)
    return run


def drift_runs_requeue_stale(*, queued_before: dt.datetime, **kwargs: Any) -> int:
    """Send again the task of every drift audit still queued since before ``queued_before`` (its message was lost
    when the broker was down); a receiver of ``core.requeue.stale_work_requeue_requested``."""
    from monitoring.tasks import run_drift_audit  # the task module imports this one

    stale = DriftRun.objects.filter(status=RunStatus.QUEUED, requested_at__lt=queued_before)
    return send_each_again(run_drift_audit, stale.values_list("pk", flat=True))


def _thresholds_of(run: DriftRun) -> Thresholds:
    # The revision agreed when the run was requested, so a re-delivered task judges by the same limits.
    return run.target if run.target is not None else limits_in_force(run.model)


def drift_compute(run: DriftRun) -> dict[str, Any]:
    """The drift result of ``run`` (reads both tables, checks their hashes); no writes."""
    from monitoring import drift

    thresholds = _thresholds_of(run)
    frames = []
    for dataset in (run.reference, run.current):
        content = _content(dataset)
        try:
            frames.append(read_frame(content, dataset.file_format))
        except evaluation.EvaluationDataError as error:
            raise AuditInputChanged(error.message) from None
    parameters = run.parameters
    report = drift.drift_report(
        frames[0],
        frames[1],
        features=parameters["features"],
        categorical=parameters.get("categorical") or (),
        prediction=parameters.get("prediction"),
        feature_threshold=thresholds.psi_feature_max,
        overall_threshold=thresholds.psi_overall_max,
    )
    result = report.as_dict()
    result["limits"] = {
        "target_revision": run.target.revision if run.target else None,
        "psi_feature_max": thresholds.psi_feature_max,
        "psi_overall_max": thresholds.psi_overall_max,
        "revalidate_on_drift": thresholds.revalidate_on_drift,
    }
    result["datasets"] = {
        "reference": {"id": run.reference.pk, "name": run.reference.name, "sha256": run.reference.sha256},
        "current": {"id": run.current.pk, "name": run.current.name, "sha256": run.current.sha256},
    }
    return result


def _breach_findings(run: DriftRun, result: dict[str, Any]) -> list[int]:
    """One finding per kind of breach and model, kept across runs by its dedup key."""
    breaches = []
    if result["drifted_features"]:
        moved = ", ".join(
            f"{item['name']} (PSI {item['psi']:.3f})" for item in result["features"] if item["verdict"] == "drift"
        )
        breaches.append((BreachKind.FEATURE_DRIFT, f"features drifted: {moved}"))
    # The overall limit is there for diffuse drift: many features each under their own limit. When single
    # features already broke theirs, that finding says it; a second one for the mean they pushed up adds nothing.
    if result["overall"]["verdict"] == "drift" and not result["drifted_features"]:
        breaches.append((BreachKind.OVERALL_DRIFT, f"overall PSI {result['overall']['psi']:.3f}"))
    if result["prediction"] and result["prediction"]["verdict"] == "drift":
        breaches.append((BreachKind.PREDICTION_DRIFT, f"prediction PSI {result['prediction']['psi']:.3f}"))
    raised = []
    for kind, detail in breaches:
        finding = finding_raise(
            actor=None,
            model=run.model,
            version=run.version,
            title=f"Drift audit: {kind.label.lower()} beyond the target ({detail})"[:200],
            description=f"Drift audit #{run.pk} of {run.model.key} {run.version.version}: “{run.current.name}” "
            f"against “{run.reference.name}”: {detail}. Limits: feature PSI ≤ {result['limits']['psi_feature_max']}, "
            f"overall PSI ≤ {result['limits']['psi_overall_max']}.",
            severity=FindingSeverity.HIGH,
            source=FindingSource.MONITORING,
            due_date=timezone.localdate() + dt.timedelta(days=FINDING_DUE_DAYS),
            dedup_key=f"monitoring:{run.model.pk}:{kind}"[:200],
            check_permission=False,
        )
        raised.append(finding.pk)
    return raised


def _revalidation_trigger(run: DriftRun) -> str:
    """Make the model's revalidation due today, acting as the requester or, failing that, the Risk Officer who
    agreed the target that asks for it. Returns what was done, for the result."""
    model = RegisteredModel.objects.get(pk=run.model_id)
    today = timezone.localdate()
    if model.next_validation_due is not None and model.next_validation_due <= today:
        return f"already due {model.next_validation_due.isoformat()}"
    candidates = [run.requested_by, run.target.agreed_by if run.target else None]
    actor = next((user for user in candidates if user is not None and user_can(user, "change", model)), None)
    if actor is None:
        return "not set: nobody who may change the model is behind this run"
    registered_model_update(
        actor=actor,
        model=model,
        changes={"next_validation_due": today},
        reason=f"Revalidation triggered by drift audit #{run.pk}",
    )
    return f"due {today.isoformat()}"


def drift_audit_execute(*, run_id: int) -> DriftRun:
    """Run a queued drift audit and record its result once, however often the task is delivered (the bias
    audit's lifecycle: mark running, compute outside any lock, record in one transaction unless finished)."""
    from monitoring import drift

    with transaction.atomic():
        run = DriftRun.objects.select_for_update().get(pk=run_id)
        if run.status in FINISHED_STATUSES:
            return run
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        run.attempts += 1
        run.save(update_fields=["status", "started_at", "attempts"])
    run = DriftRun.objects.select_related("model", "version", "reference", "current", "target").get(pk=run_id)
    result: dict[str, Any] | None = None
    error = ""
    try:
        result = drift_compute(run)
    except (AuditInputChanged, drift.DriftInputError, ValueError) as failure:
        error = getattr(failure, "message", None) or str(failure)
    with transaction.atomic():
        locked = DriftRun.objects.select_for_update().get(pk=run_id)
        if locked.status in FINISHED_STATUSES:
            return locked
        run.finished_at = timezone.now()
        run.library_versions = {**library_versions(), "scipy": _scipy_version()}
        if result is None:
            run.status, run.error = RunStatus.ERROR, error
            run.save()
            return run
        breached = result["verdict"] == "drift"
        run.status = RunStatus.FAILED if breached else RunStatus.PASSED
        run.findings = _breach_findings(run, result)
        if breached and result["limits"]["revalidate_on_drift"]:
            result["revalidation"] = _revalidation_trigger(run)
        run.result = result
        run.save()
        ledger_append(
            event_type=EventType.AUDIT_FAILED if breached else EventType.AUDIT_PASSED,
            actor=run.requested_by,
            model=run.model,
            subject=run,
            summary=f"Drift audit of {run.model.key} {run.version.version} {run.status}",
            payload={
                "drift_run": run.pk,
                "reference_sha256": run.reference.sha256,
                "current_sha256": run.current.sha256,
                "drifted_features": result["drifted_features"],
                "overall_psi": result["overall"]["psi"],
                "findings": run.findings,
                "revalidation": result.get("revalidation"),
            },
        )
    return run


def _scipy_version() -> str:
    import scipy

    return str(scipy.__version__)
