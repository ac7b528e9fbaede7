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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import models

from governance.choices import FindingSeverity
from inventory.choices import EUAIActCategory, LifecycleStage

NOT_RETIRED = frozenset(stage for stage in LifecycleStage if stage != LifecycleStage.RETIRED)
ASSESSED_STAGES = NOT_RETIRED - {LifecycleStage.PROPOSED}
PRODUCTION = frozenset({LifecycleStage.PRODUCTION})
# Evidence kinds of a tier policy that a version field can show today (until artifacts are recorded).
EVIDENCE_FIELDS = {"model_file": "artifact digest", "dataset_version": "training data reference"}


class ComplianceState(models.TextChoices):
    """A model's standing after a sweep."""

    COMPLIANT = "compliant", "Compliant"
    NON_COMPLIANT = "non_compliant", "Non-compliant"
    EXEMPT = "exempt", "Exempt (retired)"


@dataclass(frozen=True)
class ModelRecord:
    """What the rules need to know about one model, as plain values.

    ``approved_*`` describe the model's latest approved version (approved, approved with conditions or deployed,
    with an approver); ``bias_*`` its latest bias audit with a verdict; the ``policy_*`` values come from the
    active rule pack's policy for the model's tier (empty when the model has no tier).
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
    approved_artifact_digest: str = ""
    approved_training_data_ref: str = ""
    has_unapproved_deployed_version: bool = False
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
    """The approved version carries the evidence of the tier's policy that a version field can show."""
    if record.approved_version is None:
        return None  # CMP-003 reports the missing approval; there is no version to hold evidence.
    values = {"model_file": record.approved_artifact_digest, "dataset_version": record.approved_training_data_ref}
    missing = [
        EVIDENCE_FIELDS[kind]
        for kind in record.policy_required_evidence
        if kind in EVIDENCE_FIELDS and not values[kind]
    ]
    if missing:
        return f"Version {record.approved_version} has no {' and no '.join(missing)}."
    return None


def deployed_version_approved(record: ModelRecord, now: dt.datetime) -> str | None:
    """No version is deployed without an approver."""
    return "A version is deployed without approval." if record.has_unapproved_deployed_version else None


def bias_audit_recent_and_passed(record: ModelRecord, now: dt.datetime) -> str | None:
    """High-risk (EU AI Act Annex III) models: the latest bias audit with a verdict passed within the cadence."""
    cadence = record.policy_bias_cadence_days
    if record.eu_ai_act_category != EUAIActCategory.HIGH_RISK or cadence is None:
        return None
    if record.bias_status is None or record.bias_finished_at is None:
        return "No bias audit has been run."
    if record.bias_status != "passed":
        return f"The latest bias audit ({record.bias_finished_at:%Y-%m-%d}) failed."
    if record.bias_finished_at < now - dt.timedelta(days=cadence):
        return f"The latest passed bias audit ({record.bias_finished_at:%Y-%m-%d}) is older than {cadence} days."
    return None


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
        "The approved version holds the evidence the tier policy requires, as far as version fields show it "
        "today: 'model_file' needs the artifact digest, 'dataset_version' the training data reference. Other "
        "kinds (commits, CI runs, images, documents) cannot be checked until artifacts are recorded in the "
        "inventory, and are not counted against the model.",
        FindingSeverity.MEDIUM,
        PRODUCTION,
        required_evidence_present,
    ),
    Rule(
        "CMP-006",
        "Deployed version approved",
        "No version is in state deployed without an approver. Until deployments are recorded, the version "
        "state is the only evidence of what is deployed.",
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
