"""Enumerations of governance: assessments, workflow, findings, ledger events, notifications."""

from django.db import models


class QuestionnaireStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class AssessmentStatus(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting risk review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


class OverrideStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ApprovalStage(models.TextChoices):
    VALIDATION = "validation", "Independent validation"
    RISK_REVIEW = "risk_review", "Risk review"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class WorkflowAction(models.TextChoices):
    SUBMIT = "submit", "Submit for approval"
    START_VALIDATION = "start_validation", "Start validation"
    VALIDATE = "validate", "Pass validation"
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    DEPLOY = "deploy", "Mark deployed"
    RETIRE = "retire", "Retire"
    WITHDRAW = "withdraw", "Withdraw"


class FindingSource(models.TextChoices):
    VALIDATION = "validation", "Validation"
    APPROVAL_CONDITION = "approval_condition", "Condition of approval"
    AUDIT = "audit", "Audit"
    MONITORING = "monitoring", "Monitoring"
    DEPLOYMENT = "deployment", "Deployment check"
    MANUAL = "manual", "Raised by hand"


class FindingSeverity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_REMEDIATION = "in_remediation", "In remediation"
    CLOSED = "closed", "Closed"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"


OPEN_FINDING_STATUSES = (FindingStatus.OPEN, FindingStatus.IN_REMEDIATION)


class EventType(models.TextChoices):
    """Every governance fact the ledger records. Values are stable: they are hashed into the chain."""

    ASSESSMENT_SUBMITTED = "assessment.submitted", "Risk assessment submitted"
    ASSESSMENT_APPROVED = "assessment.approved", "Risk assessment approved"
    ASSESSMENT_REJECTED = "assessment.rejected", "Risk assessment rejected"
    ASSESSMENT_REQUESTED = "assessment.requested", "Risk reassessment requested"
    OVERRIDE_REQUESTED = "override.requested", "Tier override requested"
    OVERRIDE_APPROVED = "override.approved", "Tier override approved"
    OVERRIDE_REJECTED = "override.rejected", "Tier override rejected"
    QUESTIONNAIRE_DRAFTED = "questionnaire.drafted", "Questionnaire version drafted"
    QUESTIONNAIRE_PUBLISHED = "questionnaire.published", "Questionnaire version published"
    POLICY_CHANGED = "policy.changed", "Tier policy changed"
    POLICY_PACK_ACTIVATED = "policy.pack_activated", "Rule pack activated"
    VERSION_SUBMITTED = "version.submitted", "Version submitted"
    VALIDATION_STARTED = "version.validation_started", "Validation started"
    VERSION_VALIDATED = "version.validated", "Validation passed"
    APPROVAL_RECORDED = "version.approval_recorded", "Approval recorded (more approvers needed)"
    VERSION_APPROVED = "version.approved", "Version approved"
    VERSION_REJECTED = "version.rejected", "Version rejected"
    VERSION_WITHDRAWN = "version.withdrawn", "Version withdrawn"
    VERSION_DEPLOYED = "version.deployed", "Version deployed"
    VERSION_RETIRED = "version.retired", "Version retired"
    FINDING_RAISED = "finding.raised", "Finding raised"
    FINDING_REMEDIATION_STARTED = "finding.remediation_started", "Finding remediation started"
    FINDING_CLOSED = "finding.closed", "Finding closed"
    FINDING_RISK_ACCEPTED = "finding.risk_accepted", "Finding risk accepted"
    FINDING_REOPENED = "finding.reopened", "Finding reopened"
    AUDIT_PASSED = "audit.passed", "Audit passed"
    AUDIT_FAILED = "audit.failed", "Audit failed"
    AUDIT_DATASET_STORED = "audit.dataset_stored", "Evaluation data stored"
    AUDIT_SCHEDULE_CHANGED = "audit.schedule_changed", "Audit schedule changed"
    DEPLOYMENT_ALLOWED = "deployment.allowed", "Deployment allowed by the gate"
    DEPLOYMENT_DENIED = "deployment.denied", "Deployment denied by the gate"
    DEPLOYMENT_REPORTED = "deployment.reported", "Deployment reported"
    REPORT_EXPORTED = "report.exported", "Report exported"


class NotificationKind(models.TextChoices):
    ACTION_REQUIRED = "action_required", "Action required"
    DECISION = "decision", "Decision made"
    FINDING_DUE = "finding_due", "Finding due soon"
    FINDING_OVERDUE = "finding_overdue", "Finding overdue"
    APPROVAL_EXPIRING = "approval_expiring", "Approval expiring"
