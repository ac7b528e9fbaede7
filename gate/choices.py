"""Enumerations of the deployment gate. Values are stable: pipelines and signed tokens carry them."""

from django.db import models


class GateOutcome(models.TextChoices):
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"


class ReasonCode(models.TextChoices):
    """Why the gate denies (or, in an ungated environment, would deny) a deployment."""

    VERSION_NOT_FOUND = "version_not_found", "The version is not registered"
    MODEL_RETIRED = "model_retired", "The model or the version is retired"
    NOT_APPROVED = "not_approved", "The version holds no approval"
    APPROVAL_EXPIRED = "approval_expired", "The approval has expired"
    DIGEST_MISMATCH = "digest_mismatch", "The digest is not an approved one"
    BLOCKING_FINDINGS_OPEN = "blocking_findings_open", "Blocking findings are open"
    BIAS_AUDIT_FAILING = "bias_audit_failing", "The latest bias audit failed"
    BIAS_AUDIT_MISSING = "bias_audit_missing", "No passed bias audit within the tier's cadence"
    EVIDENCE_MISSING = "evidence_missing", "Evidence the tier requires is missing"
