"""Compliance rules as code: each rule has an id, a description, a severity and a pure test.

A rule's test takes a :class:`ModelRecord` (plain data about one model, built by ``audits.sweep`` with set-based
queries) and the evaluation date and time, and returns ``None`` when the model complies or a sentence saying
why it does not. Nothing here touches the database, so the rules are tested without one and reused by the sweep,
the API and reports.

Which rules apply depends on the model's lifecycle stage:

- **proposed**: owners (CMP-001), no unapproved deployed version (CMP-006), no overdue severe findings (CMP-008).
  Nothing has been assessed, approved or deployed yet, so nothing else can be asked of it.
- **development** and **validation**: the above and a current approved risk assessment (CMP-002), which the
  workflow requires before a version is submitted.
- **production**: every rule.
- **retired**: none; the model is reported as ``exempt``, neither compliant nor not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from governance.choices import FindingSeverity
from inventory.choices import EUAIActCategory, LifecycleStage

NOT_RETIRED = frozenset(stage for stage in LifecycleStage if stage != LifecycleStage.RETIRED)
ASSESSED_STAGES = NOT_RETIRED - {LifecycleStage.PROPOSED}
PRODUCTION = frozenset({LifecycleStage.PRODUCTION})
# Artifact kinds whose evidence names a sub-type from a metadata field: a tier policy asks for
# ``document:model_card``, which a document artifact with ``document_type`` "model_card" provides.
EVIDENCE_SUBTYPE_FIELDS = {"document": "document_type"}

# Outcomes of the bias audit rule, shared with the deployment gate (which maps them to its reason codes).
BIAS_NONE = "none"  # no bias audit with a verdict
BIAS_FAILED = "failed"  # the latest one with a verdict failed
BIAS_STALE = "stale"  # the latest one passed, but longer ago than the tier's cadence


def evidence_keys(kind: str, metadata: Mapping[str, Any] | None) -> set[str]:
    """The tier-policy evidence names one artifact provides: its kind, and ``kind:subtype`` where there is one."""
    keys = {kind}
    subtype_field = EVIDENCE_SUBTYPE_FIELDS.get(kind)
    subtype = (metadata or {}).get(subtype_field) if subtype_field else None
    if isinstance(subtype, str) and subtype:
        keys.add(f"{kind}:{subtype}")
    return keys


def missing_evidence(required: Iterable[str], present: Collection[str]) -> list[str]:
    """The required evidence names (``git_commit``, ``document:model_card``) absent from ``present``, in order."""
    return [name for name in required if name not in present]


def bias_audit_problem(
    *,
    eu_ai_act_category: str,
    cadence_days: int | None,
    status: str | None,
    finished_at: dt.datetime | None,
    now: dt.datetime,
) -> tuple[str, str] | None:
    """Why a model fails the bias audit duty, as ``(outcome, sentence)``; None when it complies or has no duty.

    The duty: a model the EU AI Act classes high-risk (Annex III uses) whose tier sets a bias audit cadence needs
    its latest bias audit with a verdict to have passed within that many days. Used by CMP-007 and the gate.
    """
    if eu_ai_act_category != EUAIActCategory.HIGH_RISK or cadence_days is None:
        return None
    if status is None or finished_at is None:
        return BIAS_NONE, "No bias audit has been run."
    if status != "passed":
        return BIAS_FAILED, f"The latest bias audit ({finished_at:%Y-%m-%d}) failed."
    if finished_at < now - dt.timedelta(days=cadence_days):
        return BIAS_STALE, f"The latest passed bias audit ({finished_at:%Y-%m-%d}) is older than {cadence_days} days."
    return None


class ComplianceState(models.TextChoices):
    """A model's standing after a sweep."""

    COMPLIANT = "compliant", "Compliant"
    NON_COMPLIANT = "non_compliant", "Non-compliant"
    EXEMPT = "exempt", "Exempt (retired)"


@dataclass(frozen=True)
class ModelRecord:
    """What the rules need to know about one model, as plain values.

    ``approved_*`` describe the model's latest approved version (approved, approved with conditions or deployed,
    with an approver), ``approved_evidence`` the evidence names its recorded artifacts provide (see
    :func:`evidence_keys`); ``unapproved_deployments`` counts the environments whose latest successful deployment
    carries a digest that is not approved (``unapproved_deployment_environment`` names the first of them);
    ``bias_*`` its latest bias audit with a verdict; the ``policy_*`` values come from the active rule pack's
    policy for the model's tier (empty when the model has no tier).
    """

    key: str
    lifecycle_stage: str
    eu_ai_act_category: str = ""
    business_owner_active: bool = True
    business_owner_is_person: bool = True
    technical_owner_active: bool = True
    technical_owner_is_person: bool = True
    has_current_assessment: bool = False
    approved_version: str | None = None
    approved_expires_at: dt.datetime | None = None
    approved_evidence: frozenset[str] = frozenset()
    has_unapproved_deployed_version: bool = False
    unapproved_deployments: int = 0
    unapproved_deployment_environment: str = ""
    next_validation_due: dt.date | None = None
    bias_status: str | None = None
    bias_finished_at: dt.datetime | None = None
    overdue_severe_findings: int = 0
    policy_required_evidence: tuple[str, ...] = field(default_factory=tuple)
    policy_bias_cadence_days: int | None = None
    policy_revalidation_interval_days: int | None = None


@dataclass(frozen=True)
class Rule:
    """One policy rule: ``test`` returns None when the model complies, otherwise the reason it does not."""

    id: str
    title: str
    description: str
    severity: str
    stages: frozenset[str]
    test: Callable[[ModelRecord, dt.datetime], str | None]


def owners_assigned_and_active(record: ModelRecord, now: dt.datetime) -> str | None:
    """Both owners are active people (not deactivated accounts, not service accounts)."""
    problems = []
    for role, active, person in (
        ("business", record.business_owner_active, record.business_owner_is_person),
        ("technical", record.technical_owner_active, record.technical_owner_is_person),
    ):
        if not active:
            problems.append(f"the {role} owner's account is deactivated")
        elif not person:
            problems.append(f"the {role} owner is a service account, not a person")
    return "; ".join(problems).capitalize() + "." if problems else None


def current_assessment_exists(record: ModelRecord, now: dt.datetime) -> str | None:
    """The model has an approved risk assessment."""
    return None if record.has_current_assessment else "No approved risk assessment."


def approval_valid(record: ModelRecord, now: dt.datetime) -> str | None:
    """The latest approved version exists and its approval has not expired."""
    if record.approved_version is None:
        return "No approved version."
    if record.approved_expires_at is not None and record.approved_expires_at <= now:
        return f"The approval of version {record.approved_version} expired on {record.approved_expires_at:%Y-%m-%d}."
    return None


def revalidation_not_overdue(record: ModelRecord, now: dt.datetime) -> str | None:
    """The revalidation date is today or later; without a date, only a tier without calendar revalidation passes."""
    if record.next_validation_due is None:
        if record.policy_revalidation_interval_days is None:
            return None
        return "No revalidation date, though the tier requires calendar revalidation."
    if record.next_validation_due < now.date():
        return f"Revalidation was due on {record.next_validation_due:%Y-%m-%d}."
    return None


def required_evidence_present(record: ModelRecord, now: dt.datetime) -> str | None:
    """The approved version's recorded artifacts include every evidence kind the tier's policy requires."""
    if record.approved_version is None:
        return None  # CMP-003 reports the missing approval; there is no version to hold evidence.
    missing = missing_evidence(record.policy_required_evidence, record.approved_evidence)
    if missing:
        return f"Version {record.approved_version} has no recorded {', '.join(missing)} artifact."
    return None


def deployed_version_approved(record: ModelRecord, now: dt.datetime) -> str | None:
    """What runs in each environment is approved, and no version is marked deployed without an approver."""
    problems = []
    count = record.unapproved_deployments
    if count:
        others = f" (and {count - 1} other environment{'s' if count > 2 else ''})" if count > 1 else ""
        problems.append(
            f"The latest deployment to {record.unapproved_deployment_environment or 'an environment'}{others} "
            "carries a digest that was never approved."
        )
    if record.has_unapproved_deployed_version:
        problems.append("A version is marked deployed without approval.")
    return " ".join(problems) or None


def bias_audit_recent_and_passed(record: ModelRecord, now: dt.datetime) -> str | None:
    """High-risk (EU AI Act Annex III) models: the latest bias audit with a verdict passed within the cadence."""
    problem = bias_audit_problem(
        eu_ai_act_category=record.eu_ai_act_category,
        cadence_days=record.policy_bias_cadence_days,
        status=record.bias_status,
        finished_at=record.bias_finished_at,
        now=now,
    )
    return problem[1] if problem else None


def no_overdue_severe_findings(record: ModelRecord, now: dt.datetime) -> str | None:
    """No high or critical finding is open or in remediation past its due date."""
    count = record.overdue_severe_findings
    if count:
        return f"{count} high or critical finding{'s are' if count > 1 else ' is'} overdue."
    return None


RULES: tuple[Rule, ...] = (
    Rule(
        "CMP-001",
        "Owners assigned and active",
        "The business owner and the technical owner are active accounts of people, not service accounts.",
        FindingSeverity.HIGH,
        NOT_RETIRED,
        owners_assigned_and_active,
    ),
    Rule(
        "CMP-002",
        "Current risk assessment",
        "The model has an approved risk assessment (the one its tier and EU AI Act category come from).",
        FindingSeverity.HIGH,
        ASSESSED_STAGES,
        current_assessment_exists,
    ),
    Rule(
        "CMP-003",
        "Approval valid",
        "The latest approved version (approved, approved with conditions or deployed, with an approver) exists "
        "and its approval has not expired (no expiry date, or one in the future).",
        FindingSeverity.CRITICAL,
        PRODUCTION,
        approval_valid,
    ),
    Rule(
        "CMP-004",
        "Revalidation not overdue",
        "The next validation due date is today or later. A model without a date passes only if its tier has no "
        "calendar revalidation.",
        FindingSeverity.HIGH,
        PRODUCTION,
        revalidation_not_overdue,
    ),
    Rule(
        "CMP-005",
        "Required evidence present",
        "The approved version has a recorded artifact of every evidence kind the tier policy requires "
        "('git_commit', 'ci_run', 'model_file'...; 'document:model_card' is a document artifact of that "
        "document type). Artifacts recorded after the approval count too: evidence may follow the decision.",
        FindingSeverity.MEDIUM,
        PRODUCTION,
        required_evidence_present,
    ),
    Rule(
        "CMP-006",
        "Deployed version approved",
        "In every environment, the latest successful deployment reported for the model carries a digest "
        "approved for its version (the version holds an approval and the digest is its artifact digest or that "
        "of an image or model file recorded before the approval), and no version is in state deployed without "
        "an approver.",
        FindingSeverity.CRITICAL,
        NOT_RETIRED,
        deployed_version_approved,
    ),
    Rule(
        "CMP-007",
        "Bias audit passed within the tier's window",
        "For models the EU AI Act classes high-risk (Annex III uses) whose tier sets a bias audit cadence: the "
        "latest bias audit with a verdict passed and finished within that many days. Other models need no bias "
        "audit (they may have no evaluation data, and no group-fairness duty).",
        FindingSeverity.HIGH,
        PRODUCTION,
        bias_audit_recent_and_passed,
    ),
    Rule(
        "CMP-008",
        "No overdue severe findings",
        "No high or critical finding is open or in remediation past its due date (risk-accepted findings are "
        "not overdue).",
        FindingSeverity.HIGH,
        NOT_RETIRED,
        no_overdue_severe_findings,
    ),
)
RULE_IDS = tuple(rule.id for rule in RULES)


@dataclass(frozen=True)
class Evaluation:
    """A model's standing: its state and, for each broken rule, the reason."""

    state: ComplianceState
    broken: dict[str, str]


def evaluate(record: ModelRecord, now: dt.datetime, rules: Iterable[Rule] = RULES) -> Evaluation:
    """Apply every rule of the model's lifecycle stage; a retired model is exempt."""
    if record.lifecycle_stage == LifecycleStage.RETIRED:
        return Evaluation(ComplianceState.EXEMPT, {})
    broken = {}
    for rule in rules:
        if record.lifecycle_stage in rule.stages:
            reason = rule.test(record, now)
            if reason is not None:
                broken[rule.id] = reason
    return Evaluation(ComplianceState.NON_COMPLIANT if broken else ComplianceState.COMPLIANT, broken)


def rules_catalogue() -> list[dict[str, object]]:
    """The rules as data (for a run's result and the docs)."""
    return [
        {
            "id": rule.id,
            "title": rule.title,
            "description": rule.description,
            "severity": str(rule.severity),
            "stages": sorted(str(stage) for stage in rule.stages),
        }
        for rule in RULES
    ]
