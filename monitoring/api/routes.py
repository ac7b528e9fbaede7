"""Where the monitoring viewsets live under ``/api/v1/``; ``config.api_urls`` hands its router to :func:`register`."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from monitoring.api.views import (
    DriftDatasetViewSet,
    DriftRunViewSet,
    DriftScheduleViewSet,
    MetricObservationViewSet,
    MonitoringTargetViewSet,
)


def register(router: BaseRouter) -> None:
    """Register every monitoring viewset on the API router."""
    router.register("monitoring-targets", MonitoringTargetViewSet, basename="monitoringtarget")
    router.register("metrics", MetricObservationViewSet, basename="metricobservation")
    router.register("drift-datasets", DriftDatasetViewSet, basename="driftdataset")
    router.register("drift-runs", DriftRunViewSet, basename="driftrun")
    router.register("drift-schedules", DriftScheduleViewSet, basename="driftschedule")
