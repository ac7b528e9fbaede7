"""Monitoring: the targets a model is held to, what production reports about it, and drift audits.

A target is versioned: every change is a new row that ``supersedes`` the one before, proposed by an owner and
agreed by a Risk Officer, so "what was this model held to on date X" is a plain query. Metric observations are
one value per (version, environment, metric, window); a re-sent window with a new value updates the row and
leaves a historical record. A drift run compares a reference table with a current one, both stored like
evaluation data (content-addressed upload or reference, with their SHA-256).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from audits.choices import DatasetFormat, DatasetSource, RunStatus
from core.history import PortalHistoricalRecords
from inventory.choices import RiskTier
from inventory.models import ModelVersion, RegisteredModel
from inventory.validators import validate_environment
from monitoring.choices import TargetStatus

# Metric name → (threshold field, direction): "min" holds at or above the limit, "max" at or below.
STANDARD_LIMITS = {
    "accuracy": ("accuracy_min", "min"),
    "auc": ("auc_min", "min"),
    "precision": ("precision_min", "min"),
    "recall": ("recall_min", "min"),
    "latency_ms": ("latency_ms_max", "max"),
    "memory_mb": ("memory_mb_max", "max"),
    "cpu_cores": ("cpu_cores_max", "max"),
}
THRESHOLD_FIELDS = (
    *(field for field, _ in STANDARD_LIMITS.values()),
    "psi_feature_max",
    "psi_overall_max",
    "custom_limits",
    "consecutive_windows",
    "revalidate_on_drift",
    "drift_cadence_days",
)


class Thresholds(models.Model):
    """The limits a model is held to in production; shared by a model's target and its tier's default."""

    accuracy_min = models.FloatField(null=True, blank=True)
    auc_min = models.FloatField(null=True, blank=True)
    precision_min = models.FloatField(null=True, blank=True)
    recall_min = models.FloatField(null=True, blank=True)
    latency_ms_max = models.FloatField(null=True, blank=True)
    memory_mb_max = models.FloatField(null=True, blank=True)
    cpu_cores_max = models.FloatField(null=True, blank=True)
    psi_feature_max = models.FloatField(null=True, blank=True)
    psi_overall_max = models.FloatField(null=True, blank=True)
    # {"approval_rate": {"min": 0.3, "max": 0.6}}: limits of metrics the portal has no column for.
    custom_limits: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    consecutive_windows = models.PositiveSmallIntegerField(default=3)
    revalidate_on_drift = models.BooleanField(default=False)
    # How often the scheduled drift audit compares the model's newest current table with its reference (days);
    # empty: never on schedule, only on demand.
    drift_cadence_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    def limits(self) -> dict[str, dict[str, float]]:
        """Every metric limit, ``{"accuracy": {"min": 0.8}, "latency_ms": {"max": 250}, ...}``."""
        found: dict[str, dict[str, float]] = {}
        for metric, (field, direction) in STANDARD_LIMITS.items():
            value = getattr(self, field)
            if value is not None:
                found[metric] = {direction: float(value)}
        for metric, bounds in (self.custom_limits or {}).items():
            found[metric] = {key: float(value) for key, value in bounds.items() if key in ("min", "max")}
        return found


class TierMonitoringDefault(Thresholds):
    """What a model of a tier is held to until its own target is agreed; seeded after ``migrate``."""

    tier = models.PositiveSmallIntegerField(choices=RiskTier.choices, unique=True)

    class Meta:
        ordering = ["tier"]

    def __str__(self) -> str:
        return f"Monitoring defaults of {self.get_tier_display()}"


class MonitoringTarget(Thresholds):
    """One revision of a model's monitoring target: proposed by an owner, agreed by a Risk Officer.

    A change is a new row whose ``supersedes`` names the revision it replaces; the agreed revision in force is
    the one with status ``agreed``. ``business_kpi`` says which business figure the model moves.
    """

    permission_parent = "model"

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="monitoring_targets")
    revision = models.PositiveIntegerField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    status = models.CharField(max_length=12, choices=TargetStatus.choices, default=TargetStatus.PROPOSED)
    business_kpi = models.TextField(blank=True)
    reason = models.TextField()
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["model", "revision"], name="target_revision_once"),
            # At most one revision in force per model.
            models.UniqueConstraint(
                fields=["model"], condition=models.Q(status="agreed"), name="target_one_agreed_per_model"
            ),
        ]

    def __str__(self) -> str:
        return f"Target r{self.revision} of {self.model.key} ({self.get_status_display()})"


class MetricObservation(models.Model):
    """One production value of one metric of a version in one environment over one window.

    The key (version, environment, metric, window) is unique: a batch sent twice stores once, a corrected value
    updates the row and the history keeps the value it replaced.
    """

    permission_parent = "version"

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="metric_observations")
    environment = models.CharField(max_length=50, validators=[validate_environment])
    metric = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    value = models.FloatField()
    observed_at = models.DateTimeField()
    source = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["version", "environment", "metric", "window_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "environment", "metric", "window_start", "window_end"],
                name="observation_once_per_window",
            )
        ]
        indexes = [
            # A metric's series for the charts and the deterioration check: the latest N windows.
            models.Index(fields=["version", "metric", "environment", "-window_end"], name="observation_series_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}={self.value:g} ({self.environment}, {self.window_end:%Y-%m-%d %H:%M})"


class DriftDataset(models.Model):
    """A table of model inputs (and optionally its predictions) for a drift audit: reference or current window.

    Stored as evaluation data is (``audits``): a content-addressed upload or a reference to an allowed path or URL,
    with the SHA-256 checked again when it is audited.
    """

    permission_parent = "version"

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="drift_datasets")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=20, choices=DatasetSource.choices)
    file = models.FileField(upload_to="monitoring/", blank=True)
    reference_uri = models.CharField(max_length=1000, blank=True)
    file_format = models.CharField(max_length=10, choices=DatasetFormat.choices)
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveBigIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    columns: models.JSONField[Any, Any] = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["version", "-created_at"], name="driftdata_version_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.row_count} rows, {self.sha256[:12]})"


class DriftRun(models.Model):
    """One drift audit: reference against current, from queued to a verdict, recorded once per idempotency key.

    ``target`` is the target revision whose limits were applied (``None``: the tier defaults); ``parameters``
    holds the features, the categorical columns and the prediction column.
    """

    permission_parent = "model"

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="drift_runs")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="drift_runs")
    reference = models.ForeignKey(DriftDataset, on_delete=models.PROTECT, related_name="+")
    current = models.ForeignKey(DriftDataset, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(MonitoringTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    idempotency_key = models.CharField(max_length=200, unique=True)
    parameters: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    library_versions: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    result: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    findings: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            # A model's drift runs, newest first (its monitoring page).
            models.Index(fields=["model", "-requested_at"], name="driftrun_model_idx"),
        ]

    def __str__(self) -> str:
        return f"Drift audit of {self.model.key} ({self.get_status_display()})"


class DriftSchedule(models.Model):
    """What the scheduled drift audit of a model compares: a fixed reference table against the newest current one.

    The current window is not fixed: pipelines keep sending tables, and each scheduled run takes the model's newest
    drift table other than the reference. How often is the cadence of the limits in force (``drift_cadence_days``
    of the agreed target, else of the tier's defaults). The runs are requested on behalf of ``requested_by``, so
    the drift audit's own permission check still applies when it fires.
    """

    permission_parent = "model"

    model = models.OneToOneField(RegisteredModel, on_delete=models.PROTECT, related_name="drift_schedule")
    reference = models.ForeignKey(DriftDataset, on_delete=models.PROTECT, related_name="+")
    parameters: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["model"]

    def __str__(self) -> str:
        return f"Drift schedule of {self.model.key}"
