"""Where the governance viewsets live under ``/api/v1/``; ``config.api_urls`` hands its router to :func:`register`."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from governance.api.views import (
    FindingViewSet,
    LedgerViewSet,
    NotificationViewSet,
    PolicyPackViewSet,
    QuestionnaireViewSet,
    ReviewQueueViewSet,
    RiskAssessmentViewSet,
    TierOverrideViewSet,
    TierPolicyViewSet,
    VersionWorkflowViewSet,
)


def register(router: BaseRouter) -> None:
    """Register every governance viewset on the API router."""
    router.register("questionnaires", QuestionnaireViewSet, basename="questionnaire")
    router.register("risk-assessments", RiskAssessmentViewSet, basename="riskassessment")
    router.register("tier-overrides", TierOverrideViewSet, basename="tieroverride")
    router.register("policy-packs", PolicyPackViewSet, basename="policypack")
    router.register("tier-policies", TierPolicyViewSet, basename="tierpolicy")
    router.register("version-workflow", VersionWorkflowViewSet, basename="versionworkflow")
    router.register("review-queue", ReviewQueueViewSet, basename="reviewqueue")
    router.register("findings", FindingViewSet, basename="finding")
    router.register("ledger", LedgerViewSet, basename="ledger")
    router.register("notifications", NotificationViewSet, basename="notification")
