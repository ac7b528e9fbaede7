"""Reads of monitoring: targets, observations, drift data and runs the user may see, and series for charts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.permissions import restrict
from monitoring.models import DriftDataset, DriftRun, DriftSchedule, MetricObservation, MonitoringTarget


def monitoring_target_queryset(*, user: Any) -> QuerySet[MonitoringTarget]:
    """Target revisions of the models the user may see."""
    return restrict(user, "view", MonitoringTarget.objects.all()).select_related(
        "model", "supersedes", "proposed_by", "agreed_by"
    )


def metric_observation_queryset(*, user: Any) -> QuerySet[MetricObservation]:
    """Observations of the versions the user may see."""
    return restrict(user, "view", MetricObservation.objects.all()).select_related(
        "version", "version__model", "recorded_by"
    )


def drift_dataset_queryset(*, user: Any) -> QuerySet[DriftDataset]:
    """Drift tables of the versions the user may see."""
    return restrict(user, "view", DriftDataset.objects.all()).select_related("version", "version__model", "created_by")


def drift_run_queryset(*, user: Any) -> QuerySet[DriftRun]:
    """Drift runs of the models the user may see."""
    return restrict(user, "view", DriftRun.objects.all()).select_related(
        "model", "version", "reference", "current", "target", "requested_by"
    )


def drift_schedule_queryset(*, user: Any) -> QuerySet[DriftSchedule]:
    """Drift schedules of the models the user may see."""
    return restrict(user, "view", DriftSchedule.objects.all()).select_related("model", "reference", "requested_by")
