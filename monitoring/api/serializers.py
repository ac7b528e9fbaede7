"""Input and output serializers of the monitoring API. Inputs check shape and resolve what the caller may see;
the services decide everything else (limits, batches, columns)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework import serializers

from audits.api.serializers import JSONObjectField
from core.api.serializers import InputSerializer, StrictCharField
from inventory.selectors import model_version_queryset, registered_model_queryset
from monitoring.models import DriftDataset, DriftRun, DriftSchedule, MetricObservation, MonitoringTarget
from monitoring.selectors import drift_dataset_queryset

NUMBER_FIELDS = (
    "accuracy_min",
    "auc_min",
    "precision_min",
    "recall_min",
    "latency_ms_max",
    "memory_mb_max",
    "cpu_cores_max",
    "psi_feature_max",
    "psi_overall_max",
)


def _user(context: dict[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or AnonymousUser()


class MonitoringTargetProposeInput(InputSerializer):
    """A new target revision for a model: the limits that change, the business KPI and why."""

    model = StrictCharField(help_text="The registered model's key, e.g. RB-0001.")
    accuracy_min = serializers.FloatField(required=False, allow_null=True)
    auc_min = serializers.FloatField(required=False, allow_null=True)
    precision_min = serializers.FloatField(required=False, allow_null=True)
    recall_min = serializers.FloatField(required=False, allow_null=True)
    latency_ms_max = serializers.FloatField(required=False, allow_null=True)
    memory_mb_max = serializers.FloatField(required=False, allow_null=True)
    cpu_cores_max = serializers.FloatField(required=False, allow_null=True)
    psi_feature_max = serializers.FloatField(required=False, allow_null=True)
    psi_overall_max = serializers.FloatField(required=False, allow_null=True)
    custom_limits = JSONObjectField(required=False, help_text='{"approval_rate": {"min": 0.3, "max": 0.6}}')
    consecutive_windows = serializers.IntegerField(required=False)
    revalidate_on_drift = serializers.BooleanField(required=False)
    drift_cadence_days = serializers.IntegerField(
        required=False, allow_null=True, help_text="Days between scheduled drift audits; empty: on demand only."
    )
    business_kpi = StrictCharField(required=False, allow_blank=True)
    reason = StrictCharField(allow_blank=True)

    def validate_model(self, value: str) -> Any:
        """The model, if the caller may see it."""
        model = registered_model_queryset(user=_user(self.context)).filter(key=value.strip()).first()
        if model is None:
            raise serializers.ValidationError(f"Model {value} does not exist.")
        return model


class MonitoringTargetAgreeInput(InputSerializer):
    """An optional comment of the Risk Officer who agrees."""

    comment = StrictCharField(required=False, allow_blank=True, max_length=2000)


class MonitoringTargetOutputSerializer(serializers.ModelSerializer):
    """One target revision with its limits and who proposed and agreed it."""

    model = serializers.CharField(source="model.key", read_only=True)
    # Plain text, not an enum: other apps' "status" fields already name an enum in the schema.
    status = serializers.CharField(read_only=True, help_text="proposed, agreed or superseded.")
    supersedes = serializers.IntegerField(source="supersedes.revision", read_only=True, allow_null=True)
    proposed_by = serializers.CharField(source="proposed_by.username", read_only=True)
    agreed_by = serializers.CharField(source="agreed_by.username", read_only=True, allow_null=True)
    custom_limits = JSONObjectField(read_only=True)

    class Meta:
        model = MonitoringTarget
        fields = [
            "id",
            "model",
            "revision",
            "supersedes",
            "status",
            *NUMBER_FIELDS,
            "custom_limits",
            "consecutive_windows",
            "revalidate_on_drift",
            "drift_cadence_days",
            "business_kpi",
            "reason",
            "proposed_by",
            "proposed_at",
            "agreed_by",
            "agreed_at",
        ]
        read_only_fields = fields


class MetricObservationItem(serializers.Serializer):
    """One observation of a batch (documentation of the shape; the service validates it)."""

    model = serializers.CharField(help_text="Model key, e.g. RB-0001.")
    version = serializers.CharField(help_text="Version label, e.g. 1.2.0.")
    environment = serializers.CharField(help_text="e.g. production.")
    metric = serializers.CharField(
        help_text="accuracy, auc, precision, recall, latency_ms, memory_mb, cpu_cores or a custom name."
    )
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    value = serializers.FloatField()
    observed_at = serializers.DateTimeField(required=False)
    # The payload's field is called "source"; DRF's Field has an attribute of that name, which mypy sees.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, help_text="What measured it, e.g. prometheus."
    )


class MetricBatchInput(InputSerializer):
    """A batch of observations (at most 1000), stored all or nothing."""

    observations = serializers.ListField(child=serializers.JSONField(), allow_empty=True)


class MetricBatchDoc(serializers.Serializer):
    """The batch as the schema shows it."""

    observations = MetricObservationItem(many=True)


class MetricBatchResultSerializer(serializers.Serializer):
    """What the batch did."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    findings = serializers.ListField(child=serializers.IntegerField(), help_text="Findings raised by the batch.")


class MetricObservationOutputSerializer(serializers.ModelSerializer):
    """One stored observation."""

    model = serializers.CharField(source="version.model.key", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = MetricObservation
        fields = [
            "id",
            "model",
            "version",
            "environment",
            "metric",
            "window_start",
            "window_end",
            "value",
            "observed_at",
            "source",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class DriftDatasetCreateInput(InputSerializer):
    """A table upload (multipart) or a reference path or URL, and the version it belongs to."""

    model = StrictCharField(help_text="The registered model's key, e.g. RB-0001.")
    version = StrictCharField(help_text="The version label, e.g. 1.2.0.")
    name = StrictCharField(max_length=200)
    file = serializers.FileField(required=False, help_text="A UTF-8, comma-separated CSV or a Parquet file.")
    reference_path = StrictCharField(required=False, help_text="Absolute path inside EVALUATION_DATA_ROOTS.")
    reference_url = StrictCharField(
        required=False, max_length=1000, help_text="URL under EVALUATION_DATA_URL_PREFIXES."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Resolve the version among those the caller may see."""
        version = (
            model_version_queryset(user=_user(self.context))
            .filter(model__key=attrs["model"], version=attrs["version"])
            .first()
        )
        if version is None:
            raise serializers.ValidationError(
                {"version": [f"Version {attrs['version']} of {attrs['model']} does not exist."]}
            )
        attrs.pop("model")
        attrs["version"] = version
        attrs["upload"] = attrs.pop("file", None)
        return attrs


class DriftDatasetOutputSerializer(serializers.ModelSerializer):
    """A stored drift table: its hash, size and columns."""

    model = serializers.CharField(source="version.model.key", read_only=True)
    # Plain text, not an enum: other apps' "source" fields already name an enum in the schema.
    source = serializers.CharField(  # type: ignore[assignment]
        read_only=True, help_text="upload (stored by the portal) or reference (read where it lives)."
    )
    version = serializers.CharField(source="version.version", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = DriftDataset
        fields = [
            "id",
            "model",
            "version",
            "name",
            "source",
            "reference_uri",
            "file_format",
            "sha256",
            "row_count",
            "size_bytes",
            "columns",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class DriftRunCreateInput(InputSerializer):
    """Reference and current tables, the feature columns, and optionally the prediction column and a key."""

    reference = serializers.IntegerField(help_text="Id of the reference drift table (training or validation data).")
    current = serializers.IntegerField(help_text="Id of the current window's drift table.")
    features = serializers.ListField(child=StrictCharField(), help_text="Feature columns to compare.")
    categorical = serializers.ListField(
        child=StrictCharField(), required=False, help_text="Columns to treat as categories even if numeric."
    )
    prediction = StrictCharField(required=False, allow_blank=True, help_text="Score or prediction column.")
    idempotency_key = StrictCharField(required=False, max_length=200)

    def _dataset(self, value: int) -> DriftDataset:
        dataset = drift_dataset_queryset(user=_user(self.context)).filter(pk=value).first()
        if dataset is None:
            raise serializers.ValidationError(f"Drift table {value} does not exist.")
        return dataset

    def validate_reference(self, value: int) -> DriftDataset:
        """The reference table, if the caller may see it."""
        return self._dataset(value)

    def validate_current(self, value: int) -> DriftDataset:
        """The current table, if the caller may see it."""
        return self._dataset(value)


class DriftRunOutputSerializer(serializers.ModelSerializer):
    """A drift run: status and, once finished, per-feature PSI, KS / chi-squared, verdicts and top movers."""

    model = serializers.CharField(source="model.key", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    # Plain text: the audit runs' enum of the same values already carries the name in the schema.
    status = serializers.CharField(read_only=True, help_text="queued, running, passed, failed or error.")
    target_revision = serializers.IntegerField(source="target.revision", read_only=True, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True)
    parameters = JSONObjectField(read_only=True)
    result = JSONObjectField(read_only=True)
    library_versions = JSONObjectField(read_only=True)
    findings = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = DriftRun
        fields = [
            "id",
            "model",
            "version",
            "reference",
            "current",
            "target_revision",
            "status",
            "idempotency_key",
            "parameters",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "attempts",
            "library_versions",
            "result",
            "findings",
            "error",
        ]
        read_only_fields = fields


class DriftScheduleSetInput(InputSerializer):
    """The reference table and the columns the scheduled drift audit of its model compares."""

    reference = serializers.IntegerField(help_text="Id of the reference drift table (training or validation data).")
    features = serializers.ListField(child=StrictCharField(), help_text="Feature columns to compare.")
    categorical = serializers.ListField(
        child=StrictCharField(), required=False, help_text="Columns to treat as categories even if numeric."
    )
    prediction = StrictCharField(required=False, allow_blank=True, help_text="Score or prediction column.")
    enabled = serializers.BooleanField(required=False, default=True, help_text="false pauses the schedule.")

    def validate_reference(self, value: int) -> DriftDataset:
        """The reference table, if the caller may see it."""
        dataset = drift_dataset_queryset(user=_user(self.context)).filter(pk=value).first()
        if dataset is None:
            raise serializers.ValidationError(f"Drift table {value} does not exist.")
        return dataset


class DriftScheduleOutputSerializer(serializers.ModelSerializer):
    """A model's drift schedule: the reference, the columns, on whose behalf runs are requested."""

    model = serializers.CharField(source="model.key", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    parameters = JSONObjectField(read_only=True)

    class Meta:
        model = DriftSchedule
        fields = ["id", "model", "reference", "parameters", "enabled", "requested_by", "updated_at"]
        read_only_fields = fields


class MlflowImportInput(InputSerializer):
    """The model whose MLflow run metrics to import."""

    model = StrictCharField(help_text="The registered model's key, e.g. RB-0001.")

    def validate_model(self, value: str) -> Any:
        """The model, if the caller may see it."""
        model = registered_model_queryset(user=_user(self.context)).filter(key=value.strip()).first()
        if model is None:
            raise serializers.ValidationError(f"Model {value} does not exist.")
        return model


class MlflowImportQueuedSerializer(serializers.Serializer):
    """The import was queued for a worker."""

    model = serializers.CharField()
    queued = serializers.BooleanField()
