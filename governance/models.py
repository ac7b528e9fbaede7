"""Governance records: how risky each model is and why, the policy per tier, every version's path through
approval, the findings that follow, notifications, and the hash-chained ledger of decisions.

Assessments, workflow transitions, decisions and ledger events are written once and never edited: a change
of mind is a new row. What may change (a finding's status, a tier policy) keeps field history.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from core.history import PortalHistoricalRecords
from core.models import TimeStampedModel
from governance.choices import (
    ApprovalStage,
    AssessmentStatus,
    Decision,
    EventType,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    NotificationKind,
    OverrideStatus,
    QuestionnaireStatus,
    WorkflowAction,
)
from inventory.choices import EUAIActCategory, RiskTier, VersionState
from inventory.models import ModelVersion, RegisteredModel
from inventory.validators import LONG_TEXT_MAX


class Questionnaire(TimeStampedModel):
    """A version of the risk tiering questionnaire: questions, options, weights, thresholds and rules as data.

    Only drafts are edited; publishing freezes a version and retires the one before it. Assessments keep the
    version they were answered against, so an old tier can always be recomputed exactly.
    """

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=QuestionnaireStatus.choices, default=QuestionnaireStatus.DRAFT)
    definition: models.JSONField[Any, Any] = models.JSONField()
    notes = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Questionnaire v{self.version} ({self.get_status_display()})"


class RiskAssessment(models.Model):
    """One answered questionnaire for one model, with the computed score, tier, EU AI Act category and reasons.

    Never edited: a reassessment is a new row. A Risk Officer other than the assessor approves it; the latest
    approved assessment (or its approved override) sets the model's tier and category.
    """

    permission_parent = "model"

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="risk_assessments")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="assessments")
    answers: models.JSONField[Any, Any] = models.JSONField()
    score = models.PositiveIntegerField()
    computed_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices)
    eu_ai_act_category = models.CharField(max_length=20, choices=EUAIActCategory.choices)
    reasons: models.JSONField[Any, Any] = models.JSONField(default=list)
    rationale = models.TextField(blank=True, max_length=LONG_TEXT_MAX, help_text="The assessor's notes.")
    status = models.CharField(max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.SUBMITTED)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True, max_length=LONG_TEXT_MAX)

    class Meta:
        ordering = ["-assessed_at", "-id"]
        indexes = [
            # The model's assessment history, newest first, and "latest approved assessment per model".
            models.Index(fields=["model", "status", "-assessed_at"], name="assessment_model_status_idx"),
        ]
        permissions = [("review_riskassessment", "Can approve or reject risk assessments and overrides")]

    def __str__(self) -> str:
        return f"Assessment of {self.model.key} on {self.assessed_at:%Y-%m-%d}: Tier {self.computed_tier}"


class TierOverride(models.Model):
    """A request to set a tier other than the computed one, with its justification and a Risk Officer's decision."""

    permission_parent = "assessment"

    assessment = models.ForeignKey(RiskAssessment, on_delete=models.PROTECT, related_name="overrides")
    tier = models.PositiveSmallIntegerField(choices=RiskTier.choices)
    justification = models.TextField(max_length=LONG_TEXT_MAX)
    status = models.CharField(max_length=20, choices=OverrideStatus.choices, default=OverrideStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True, max_length=LONG_TEXT_MAX)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # At most one open request per assessment: a second one waits for the first decision.
            models.UniqueConstraint(
                fields=["assessment"], condition=models.Q(status="pending"), name="override_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"Override of {self.assessment.model.key} to Tier {self.tier} ({self.get_status_display()})"


class PolicyPack(TimeStampedModel):
    """A set of tier policies following one supervisory text (SR 11-7, SR 26-2); one pack is active."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True), name="one_active_pack"),
        ]

    def __str__(self) -> str:
        return self.name


class TierPolicy(TimeStampedModel):
    """What a model of one tier must go through: approval stages and approvers, revalidation, evidence, bias
    audits. ``revision`` goes up with every change, so an approval or audit can name the policy it applied."""

    pack = models.ForeignKey(PolicyPack, on_delete=models.PROTECT, related_name="tier_policies")
    tier = models.PositiveSmallIntegerField(choices=RiskTier.choices)
    required_stages: models.JSONField[Any, Any] = models.JSONField(
        default=list, help_text="Approval stages in order: validation, risk_review."
    )
    required_approvers = models.PositiveSmallIntegerField(
        default=1, help_text="Distinct Risk Officers who must approve at risk review."
    )
    revalidation_interval_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Calendar revalidation; empty means trigger-based review only."
    )
    review_triggers: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)
    required_evidence: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)
    bias_audit_cadence_days = models.PositiveIntegerField(null=True, blank=True)
    bias_thresholds: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=1)

    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["pack__code", "tier"]
        constraints = [models.UniqueConstraint(fields=["pack", "tier"], name="policy_unique_tier_per_pack")]
        verbose_name_plural = "tier policies"

    def __str__(self) -> str:
        return f"{self.pack.code} Tier {self.tier} (rev. {self.revision})"


class VersionTransition(models.Model):
    """One step of a version through the workflow: who did what, from which state to which, and why."""

    permission_parent = "version"

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(max_length=30, choices=WorkflowAction.choices)
    from_state = models.CharField(max_length=30, choices=VersionState.choices)
    to_state = models.CharField(max_length=30, choices=VersionState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["version", "created_at"], name="transition_version_idx")]

    def __str__(self) -> str:
        return f"{self.version}: {self.from_state} → {self.to_state} by {self.actor}"


class ApprovalDecision(models.Model):
    """A person's decision at one approval stage of a version. One per person and stage: nobody decides twice."""

    permission_parent = "version"

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="decisions")
    stage = models.CharField(max_length=20, choices=ApprovalStage.choices)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(max_length=LONG_TEXT_MAX)
    policy_revision = models.CharField(max_length=50, blank=True, help_text="Pack and revision of the policy applied.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "stage", "actor"], name="decision_once_per_person_and_stage"),
        ]
        permissions = [("decide_approval", "Can decide the risk review of model versions")]

    def __str__(self) -> str:
        return f"{self.version} {self.stage}: {self.decision} by {self.actor}"


class Finding(TimeStampedModel):
    """A problem or condition to fix on a model: raised by validation, an approval condition, an audit or by hand.

    ``dedup_key`` lets automated sources raise a finding once per problem (one per failing audit metric),
    however often they run; after the finding is closed as fixed, a recurrence is a new finding.
    """

    permission_parent = "model"

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="findings")
    version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="findings")
    source = models.CharField(max_length=30, choices=FindingSource.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    severity = models.CharField(max_length=10, choices=FindingSeverity.choices)
    status = models.CharField(max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_findings")
    due_date = models.DateField()
    evidence_links: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    dedup_key = models.CharField(max_length=200, null=True, blank=True)

    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            # Open findings by due date (overdue lists, dashboard ageing).
            models.Index(fields=["status", "due_date"], name="finding_status_due_idx"),
            # A model's findings.
            models.Index(fields=["model", "status"], name="finding_model_status_idx"),
        ]
        constraints = [
            # One live finding per automated problem; once closed as fixed, the same problem may be raised anew.
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=models.Q(status__in=["open", "in_remediation", "risk_accepted"]),
                name="finding_one_live_per_problem",
            ),
        ]
        permissions = [("accept_risk_finding", "Can accept the risk of a finding")]

    def __str__(self) -> str:
        return f"{self.model.key}: {self.title} ({self.get_severity_display()}, {self.get_status_display()})"


class Notification(models.Model):
    """A message to one person: something to act on or a decision to know about. Shown in-app, also e-mailed."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    dedup_key = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx")]
        constraints = [
            # Periodic reminders ("finding due in 7 days") are sent once per person and occasion.
            models.UniqueConstraint(fields=["recipient", "dedup_key"], name="notification_once"),
        ]

    def __str__(self) -> str:
        return f"To {self.recipient}: {self.title}"


class LedgerHead(models.Model):
    """The newest position of the ledger chain. Appending locks this single row, so events are chained one after
    another even when decisions are taken at the same moment; a deleted tail row shows up as a mismatch here."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"Ledger head #{self.seq} {self.hash[:12]}"


class GovernanceEvent(models.Model):
    """An append-only, hash-chained record of one governance fact (who decided what, when, why).

    ``hash`` is SHA-256 over the canonical JSON of the event's fields and ``prev_hash``; changing, removing or
    reordering any row breaks the chain from that row on. On PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    event_type = models.CharField(max_length=50, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=models.PROTECT, related_name="governance_events"
    )
    model_key = models.CharField(max_length=20, blank=True)
    subject_type = models.CharField(max_length=50, blank=True)
    subject_id = models.CharField(max_length=50, blank=True)
    summary = models.CharField(max_length=500)
    payload: models.JSONField[Any, Any] = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            # A model's ledger entries (dossier tab, governance report).
            models.Index(fields=["model", "seq"], name="event_model_seq_idx"),
            models.Index(fields=["event_type", "seq"], name="event_type_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.model_key}"
