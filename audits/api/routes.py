"""Where the audits viewsets live under ``/api/v1/``; ``config.api_urls`` hands its router to :func:`register`."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from audits.api.compliance import ComplianceStatusViewSet, ComplianceSweepViewSet
from audits.api.schedules import ScheduleViewSet
from audits.api.views import AuditRunViewSet, EvaluationDatasetViewSet


def register(router: BaseRouter) -> None:
    """Register every audits viewset on the API router."""
    router.register("evaluation-datasets", EvaluationDatasetViewSet, basename="evaluationdataset")
    router.register("audit-runs", AuditRunViewSet, basename="auditrun")
    router.register("compliance-sweeps", ComplianceSweepViewSet, basename="compliancesweep")
    router.register("compliance-status", ComplianceStatusViewSet, basename="compliancestatus")
    router.register("schedules", ScheduleViewSet, basename="schedule")
