"""Admin views of monitoring: read-only, since every write goes through ``monitoring.services`` (a target is
agreed by a Risk Officer and goes to the ledger; observations, drift tables and drift runs are stored results)."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from monitoring.models import (
    DriftDataset,
    DriftRun,
    DriftSchedule,
    MetricObservation,
    MonitoringTarget,
    TierMonitoringDefault,
)


@admin.register(TierMonitoringDefault)
class TierMonitoringDefaultAdmin(ReadOnlyAdmin):
    """The limits of each tier until a model's own target is agreed."""

    list_display = (
        "tier",
        "psi_feature_max",
        "psi_overall_max",
        "consecutive_windows",
        "revalidate_on_drift",
        "drift_cadence_days",
    )


@admin.register(MonitoringTarget)
class MonitoringTargetAdmin(ReadOnlyAdmin):
    """Target revisions: proposed, agreed or superseded."""

    list_display = ("model", "revision", "status", "proposed_by", "proposed_at", "agreed_by", "agreed_at")
    list_filter = ("status",)
    search_fields = ("model__key", "model__name", "reason")
    list_select_related = ("model", "proposed_by", "agreed_by")
    ordering = ("model__key", "-revision")


@admin.register(MetricObservation)
class MetricObservationAdmin(ReadOnlyAdmin):
    """Observations as reported; a corrected value is a new report, whose history keeps the old one."""

    list_display = ("version", "environment", "metric", "window_end", "value", "source", "recorded_by")
    list_filter = ("environment", "metric")
    search_fields = ("version__model__key", "metric", "source")
    list_select_related = ("version__model", "recorded_by")
    date_hierarchy = "window_end"
    ordering = ("-window_end",)


@admin.register(DriftDataset)
class DriftDatasetAdmin(ReadOnlyAdmin):
    """Reference and current tables with their SHA-256."""

    list_display = ("name", "version", "source", "file_format", "row_count", "size_bytes", "sha256", "created_at")
    list_filter = ("source", "file_format")
    search_fields = ("name", "version__model__key", "sha256")
    list_select_related = ("version__model",)


@admin.register(DriftSchedule)
class DriftScheduleAdmin(ReadOnlyAdmin):
    """What beat's drift audit compares per model; set through the API."""

    list_display = ("model", "reference", "enabled", "requested_by", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("model__key",)
    list_select_related = ("model", "reference", "requested_by")


@admin.register(DriftRun)
class DriftRunAdmin(ReadOnlyAdmin):
    """Drift audits and their results, recorded once."""

    list_display = ("id", "model", "version", "status", "requested_by", "requested_at", "finished_at", "attempts")
    list_filter = ("status",)
    search_fields = ("model__key", "idempotency_key")
    list_select_related = ("model", "version", "requested_by")
    ordering = ("-requested_at",)
