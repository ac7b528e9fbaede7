"""Admin views of governance records: read-only.

Every governance change must be validated by its service, checked for segregation of duties and written to
the ledger in the same transaction; a generic admin form could do none of that. Administrators therefore
read these records here and change them through the portal's pages or API.
"""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from governance.models import (
    ApprovalDecision,
    Finding,
    GovernanceEvent,
    LedgerHead,
    Notification,
    PolicyPack,
    Questionnaire,
    RiskAssessment,
    TierOverride,
    TierPolicy,
    VersionTransition,
)


@admin.register(GovernanceEvent)
class GovernanceEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "event_type", "occurred_at", "actor_username", "model_key", "summary")
    list_filter = ("event_type",)
    search_fields = ("model_key", "actor_username", "summary", "hash")
    ordering = ("-seq",)


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyAdmin):
    list_display = ("seq", "hash")


@admin.register(Questionnaire)
class QuestionnaireAdmin(ReadOnlyAdmin):
    list_display = ("version", "title", "status", "published_at", "published_by")


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(ReadOnlyAdmin):
    list_display = ("model", "assessed_at", "score", "computed_tier", "eu_ai_act_category", "status", "assessed_by")
    list_filter = ("status", "computed_tier", "eu_ai_act_category")
    list_select_related = ("model", "assessed_by")
    search_fields = ("model__key", "model__name")


@admin.register(TierOverride)
class TierOverrideAdmin(ReadOnlyAdmin):
    list_display = ("assessment", "tier", "status", "requested_by", "decided_by")
    list_filter = ("status",)
    list_select_related = ("assessment__model", "requested_by", "decided_by")


@admin.register(PolicyPack)
class PolicyPackAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "is_active")


@admin.register(TierPolicy)
class TierPolicyAdmin(ReadOnlyAdmin):
    list_display = ("pack", "tier", "required_stages", "required_approvers", "revalidation_interval_days", "revision")
    list_filter = ("pack",)
    list_select_related = ("pack",)


@admin.register(VersionTransition)
class VersionTransitionAdmin(ReadOnlyAdmin):
    list_display = ("version", "action", "from_state", "to_state", "actor", "created_at")
    list_filter = ("action",)
    list_select_related = ("version__model", "actor")
    search_fields = ("version__model__key",)


@admin.register(ApprovalDecision)
class ApprovalDecisionAdmin(ReadOnlyAdmin):
    list_display = ("version", "stage", "decision", "actor", "created_at")
    list_filter = ("stage", "decision")
    list_select_related = ("version__model", "actor")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("model", "title", "severity", "status", "owner", "due_date", "source")
    list_filter = ("status", "severity", "source")
    list_select_related = ("model", "owner")
    search_fields = ("model__key", "title")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "kind", "title", "created_at", "read_at", "emailed_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)
