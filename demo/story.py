"""The demo bank's governance as a plan (pure, no ORM): who assessed each model's risk and who approved it, the
tier overrides, each version's way through approval, the findings and where they stand, and which models the
build pipeline reports for.

The story is that of a bank that has just moved its legacy inventory into the portal and now governs it there.
Everything it records goes through the portal's services, so it happens today; what happened before the
portal stays in the imported inventory record (last and next validation dates, the issue log):

- Every model past the proposal stage is assessed by its technical owner against questionnaire v1 and approved
  by a Risk Officer (AI systems by the AI Governance Officer), so its tier and EU AI Act category are the
  scored ones. A few first assessments of models in development, and one reassessment, await review.
- A production model's releases go through approval oldest first; each is deployed and retires the one before.
  A model whose revalidation was already overdue in the legacy inventory has no approval in the portal yet:
  its running version is in revalidation (or not even submitted), so it keeps its overdue date.
- Some new releases wait in each queue, one is rejected at validation, one at risk review, one withdrawn.
- Findings come from validation, from conditions of approval and by hand; open items of the legacy issue log
  are carried over with the due dates agreed then, so some are overdue.

Every choice is drawn from ``random.Random(seed)`` in catalogue order, so a plan always gives the same story.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from core import roles
from demo.organisation import PEOPLE, PIPELINE_ACCOUNT
from demo.plan import DemoPlan, ModelPlan
from governance.defaults import DATA as GOVERNANCE_DATA
from governance.defaults import DEFAULT_PACK, RULE_PACKS
from inventory.choices import EUAIActCategory, LifecycleStage, ModelType, RegulatoryUse

# Who does what, beyond each model's own owners and validators.
AI_GOVERNANCE_OFFICER = "sarah.goldberg"
MODEL_RISK_OFFICER = "ravi.shankar"
HEAD_OF_MODEL_RISK = "risk.officer"
DEMO_VALIDATOR = "validator"
PLATFORM_ADMIN = "maria.santos"
# The build pipeline deploys and reports for these units' models.
PIPELINE_UNITS = frozenset({"RETAIL-CREDIT"})

# How far a version gets. A version planned as deployed retires the deployed one before it.
DRAFT = "draft"
SUBMITTED = "submitted"
IN_VALIDATION = "in_validation"
RISK_REVIEW = "risk_review"
APPROVED = "approved"
APPROVED_WITH_CONDITIONS = "approved_with_conditions"
DEPLOYED = "deployed"
FAILED_VALIDATION = "failed_validation"
REJECTED_AT_REVIEW = "rejected_at_review"
WITHDRAWN = "withdrawn"
# The approval stage a policy may leave out (Tier 3 under both rule packs).
VALIDATION = "validation"

# Share of passed validations that raise a finding, and of final approvals that set a condition.
VALIDATION_FINDING_RATE = 0.3
CONDITION_RATE = 0.15
# Findings on the versions in use: where they stand (weights).
FINDING_OUTCOMES = {"open": 45, "in_remediation": 30, "closed": 15, "risk_accepted": 10}
DAYS_TO_FIX = {"low": 180, "medium": 90, "high": 60, "critical": 30}
# New releases of production models waiting in each queue; first assessments of models in development still
# waiting for review.
NEW_RELEASES_WAITING = {SUBMITTED: 3, IN_VALIDATION: 3, RISK_REVIEW: 4}
PENDING_FIRST_ASSESSMENTS = 3


@dataclass(frozen=True)
class FindingSpec:
    """A finding to raise: ``owner`` is a username (empty: the model's business owner, as the service does);
    the due date is ``due_in_days`` from today, negative for items carried over already overdue."""

    title: str
    severity: str
    due_in_days: int
    description: str = ""
    owner: str = ""


@dataclass(frozen=True)
class Assess:
    """Answer the questionnaire for the model (a first assessment or a reassessment)."""

    actor: str
    answers: Mapping[str, Any]
    rationale: str


@dataclass(frozen=True)
class ReviewAssessment:
    """Approve the model's newest assessment."""

    actor: str
    comment: str


@dataclass(frozen=True)
class RequestOverride:
    """Ask for another tier than the newest assessment's."""

    actor: str
    tier: int
    justification: str


@dataclass(frozen=True)
class ApproveOverride:
    """Approve the pending override request."""

    actor: str
    comment: str


@dataclass(frozen=True)
class GrantReporting:
    """Let a service account report artifacts and deployments for the model."""

    actor: str
    service_account: str
    reason: str


@dataclass(frozen=True)
class Submit:
    version: str
    actor: str
    comment: str


@dataclass(frozen=True)
class StartValidation:
    version: str
    actor: str
    comment: str


@dataclass(frozen=True)
class Validate:
    version: str
    actor: str
    passed: bool
    comment: str
    findings: tuple[FindingSpec, ...] = ()


@dataclass(frozen=True)
class Decide:
    """One Risk Officer's decision at risk review; ``conditions`` become findings."""

    version: str
    actor: str
    approve: bool
    comment: str
    conditions: tuple[FindingSpec, ...] = ()


@dataclass(frozen=True)
class Deploy:
    version: str
    actor: str
    comment: str


@dataclass(frozen=True)
class Retire:
    version: str
    actor: str
    comment: str


@dataclass(frozen=True)
class Withdraw:
    version: str
    actor: str
    comment: str


@dataclass(frozen=True)
class RaiseFinding:
    """Raise a finding by hand (on ``version`` when given)."""

    actor: str
    finding: FindingSpec
    version: str = ""


@dataclass(frozen=True)
class StartRemediation:
    """The finding (by title) goes into remediation, with evidence links."""

    finding: str
    actor: str
    comment: str
    evidence_links: tuple[str, ...] = ()


@dataclass(frozen=True)
class CloseFinding:
    finding: str
    actor: str
    resolution: str


@dataclass(frozen=True)
class AcceptRisk:
    finding: str
    actor: str
    justification: str


Step = (
    Assess
    | ReviewAssessment
    | RequestOverride
    | ApproveOverride
    | GrantReporting
    | Submit
    | StartValidation
    | Validate
    | Decide
    | Deploy
    | Retire
    | Withdraw
    | RaiseFinding
    | StartRemediation
    | CloseFinding
    | AcceptRisk
)


@dataclass(frozen=True)
class ModelStory:
    """The governance steps of one model, in the order they are taken, and the owners and validators they
    assume (a model registered from another plan has others, and its story cannot be told)."""

    key: str
    steps: tuple[Step, ...]
    owners: tuple[str, str]
    validators: frozenset[str]

    @property
    def version_labels(self) -> frozenset[str]:
        """Versions the story moves; they must exist as drafts for it to be told."""
        return frozenset(getattr(step, "version", "") for step in self.steps) - {""}


@dataclass(frozen=True)
class TierPolicy:
    """What the default rule pack asks of a tier: the approval stages and the number of distinct approvers."""

    stages: tuple[str, ...]
    approvers: int


def default_policies() -> dict[int, TierPolicy]:
    """The tier policies of the rule pack a new installation activates (the story follows them)."""
    for file_name in RULE_PACKS:
        pack = json.loads((GOVERNANCE_DATA / file_name).read_text(encoding="utf-8"))
        if pack["code"] == DEFAULT_PACK:
            return {
                tier["tier"]: TierPolicy(tuple(tier["required_stages"]), tier["required_approvers"])
                for tier in pack["tiers"]
            }
    raise ValueError(f"Rule pack {DEFAULT_PACK} is not shipped")


# --- texts -----------------------------------------------------------------------------------------------------

# (title, severity, description) by kind of model; validators raise these at validation.
VALIDATION_FINDINGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "credit": (
        (
            "Calibration outside tolerance in the highest-risk decile",
            "high",
            "Observed default rate exceeds the predicted rate by more than the binomial tolerance in the top decile.",
        ),
        (
            "Thin-file segment not analysed separately",
            "medium",
            "Rank-ordering for new-to-bank applicants is reported only in aggregate.",
        ),
        (
            "Override monitoring not in the ongoing monitoring plan",
            "low",
            "Underwriter overrides of the score are not tracked against outcomes.",
        ),
        (
            "Reject inference approach not justified",
            "medium",
            "The parcelling parameters are not supported by a sensitivity analysis.",
        ),
    ),
    "capital": (
        (
            "Downturn adjustment not evidenced",
            "high",
            "The downturn period chosen is not supported by the bank's own loss history.",
        ),
        (
            "Margin of conservatism not quantified for data deficiencies",
            "medium",
            "Category A and B deficiencies are listed but carry no quantified add-on.",
        ),
        (
            "Back-testing exceptions not analysed",
            "medium",
            "Exceptions in the last four quarters are counted but their causes are not analysed.",
        ),
        (
            "Model documentation lags the implementation",
            "low",
            "Two segmentation changes since the last release are not in the methodology document.",
        ),
    ),
    "fraud": (
        (
            "Label delay not reflected in performance monitoring",
            "medium",
            "Fraud confirmed after 60 days is missing from the monthly detection-rate figures.",
        ),
        (
            "Alert volumes not tested against operational capacity",
            "low",
            "The threshold change was not checked against the fraud team's daily review capacity.",
        ),
        (
            "Customer friction not measured for declined genuine transactions",
            "medium",
            "False-positive declines are not broken down by customer segment.",
        ),
    ),
    "llm": (
        (
            "Hallucination rate above tolerance on the product-rates test set",
            "high",
            "4.1% of answers about current rates were not supported by the retrieved documents (tolerance 3%).",
        ),
        (
            "Prompt-injection red-team tests incomplete",
            "medium",
            "Indirect injection through retrieved documents was not tested.",
        ),
        (
            "No production monitoring of answer faithfulness",
            "medium",
            "Faithfulness is measured at release only; no sample is scored in production.",
        ),
    ),
    "vendor": (
        (
            "Vendor performance not shown on the bank's population",
            "medium",
            "The vendor's validation pack covers the vendor's reference population only.",
        ),
        (
            "No contractual notice of vendor model changes",
            "high",
            "The contract does not oblige the vendor to announce recalibrations before they go live.",
        ),
        (
            "Vendor does not disclose development data or variable weights",
            "medium",
            "Only a methodology summary is available; conceptual soundness cannot be assessed in full.",
        ),
    ),
    "rules": (
        (
            "Thresholds not back-tested since the last change",
            "medium",
            "The current thresholds were set by expert judgement and have not been tested on outcomes.",
        ),
        ("Rule documentation out of date", "low", "Three rules in production are missing from the rule catalogue."),
    ),
    "model": (
        ("Benchmark model missing", "low", "No simpler benchmark was built to challenge the model's performance."),
        ("Hyperparameter search not reproducible", "low", "The random seed and search space were not recorded."),
        ("Input data lineage incomplete", "medium", "One input feed has no documented source-to-model lineage."),
        (
            "Feature importance dominated by a proxy variable",
            "medium",
            "Postcode-derived features carry 30% of the importance; fairness impact not assessed.",
        ),
    ),
}
VALIDATION_FINDINGS["aml"] = VALIDATION_FINDINGS["rules"] + (
    (
        "Below-the-line testing not performed",
        "high",
        "Alerts below the thresholds were not sampled to estimate missed suspicious activity.",
    ),
)
# (title, severity, days to fix) that a Risk Officer attaches to an approval.
CONDITIONS: tuple[tuple[str, str, int], ...] = (
    ("Quarterly performance monitoring report to Model Risk Management", "medium", 90),
    ("Independent benchmark of the model within six months", "medium", 180),
    ("Complete the fairness assessment across age groups before the next release", "high", 120),
    ("Document the compensating controls for the known limitations", "low", 60),
)
# (title, severity, days overdue) from the legacy issue log.
LEGACY_ISSUE_LOG: tuple[tuple[str, str, int], ...] = (
    ("Annual monitoring report for last year not produced", "medium", 45),
    ("Challenger benchmark outstanding from the last validation", "medium", 120),
    ("Data quality controls on an input feed not evidenced", "high", 30),
    ("Model documentation does not reflect the current implementation", "low", 75),
    ("Manual adjustments to the model's outputs not analysed", "high", 60),
    ("Drift monitoring thresholds not calibrated", "medium", 14),
    ("User acceptance testing evidence missing for the last release", "low", 200),
    ("Access to the model's production configuration not restricted", "high", 21),
)

START_VALIDATION = {
    "llm": "Validation started: groundedness on the bank's evaluation set, red-team testing and guardrails.",
    "vendor": "Validation started: vendor documentation, benchmarking on our population, use within the vendor's "
    "stated limits.",
    "rules": "Validation started: rule logic walk-through, threshold back-testing and implementation testing.",
}
START_VALIDATION_DEFAULT = (
    "Validation started: conceptual soundness, data, outcomes analysis and the ongoing monitoring plan."
)
SEVERITIES = ("low", "medium", "high", "critical")
FIRST_APPROVAL = "First approval: validation evidence reviewed, no objection."
REJECTION = (
    "Rejected: the release widens the model's use beyond what was validated; resubmit with the new scope validated."
)
RISK_ACCEPTANCE = "Accepted until the next redevelopment: compensating controls are in place and the impact is limited."
DEPLOY_NOTES = (
    "Released to production under change {change}.",
    "Promoted to production after the release board (change {change}).",
)


def _kind(model: ModelPlan) -> str:
    uses = set(model.regulatory_uses)
    if model.model_type == ModelType.LLM:
        return "llm"
    if model.model_type == ModelType.VENDOR:
        return "vendor"
    if RegulatoryUse.AML_SANCTIONS in uses:
        return "aml"
    if model.model_type == ModelType.RULES:
        return "rules"
    if uses & {
        RegulatoryUse.REGULATORY_CAPITAL,
        RegulatoryUse.PROVISIONING,
        RegulatoryUse.MARKET_RISK,
        RegulatoryUse.STRESS_TESTING,
    }:
        return "capital"
    if RegulatoryUse.FRAUD in uses:
        return "fraud"
    if RegulatoryUse.CREDIT_DECISION in uses:
        return "credit"
    return "model"


def _is_ai_system(model: ModelPlan) -> bool:
    """Reviewed by the AI Governance Officer: generative AI, AI with transparency duties or worse, AI about staff
    and the contact centre's own machine learning."""
    return (
        model.model_type == ModelType.LLM
        or model.scored.eu_ai_act_category in {EUAIActCategory.PROHIBITED, EUAIActCategory.LIMITED}
        or model.unit == "HR"
        or (model.unit == "RETAIL-OPS" and model.model_type == ModelType.MACHINE_LEARNING)
    )


def _review_comment(model: ModelPlan) -> str:
    scored = model.scored
    category = EUAIActCategory(scored.eu_ai_act_category).label
    drivers = [reason.text for reason in scored.reasons if reason.kind in {"floor", "eu_ai_act"}]
    top_answer = next((reason.text for reason in scored.reasons if reason.kind == "answer"), "")
    because = "; ".join(drivers) or (f"Mostly: {top_answer}" if top_answer else "")
    return f"Agreed: Tier {scored.tier} (score {scored.score}), EU AI Act {category}." + (
        f" {because}." if because else ""
    )


def _rationale(model: ModelPlan) -> str:
    if model.model_type == ModelType.VENDOR:
        return f"Answered from {model.vendor_name}'s documentation pack and our acceptance testing."
    if model.model_type == ModelType.LLM:
        return "Answered with the AI Platform team: the application calls the foundation model through the gateway."
    return "Answered from the model documentation, the last validation report and the legacy inventory record."


def _metrics_note(model: ModelPlan, label: str) -> str:
    version = next((v for v in model.versions if v.label == label), None)
    if version is None or not version.metrics:
        return "performance within the bank's tolerances"
    figures = ", ".join(f"{name} {value}" for name, value in list(version.metrics.items())[:2])
    return f"{figures}, within the bank's tolerances"


def _description(model: ModelPlan, label: str) -> str:
    version = next((v for v in model.versions if v.label == label), None)
    return version.description if version else "Trained by the demo set-up on the German Credit data."


@dataclass
class _Teller:
    """Builds the steps of one model and remembers what later steps refer to: who validated which version,
    which versions were retired and by what, and the findings whose outcome is still to be drawn."""

    model: ModelPlan
    policy: TierPolicy
    rng: random.Random
    approvers: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)
    validated_by: dict[str, str] = field(default_factory=dict)
    successors: dict[str, str] = field(default_factory=dict)
    titles: set[str] = field(default_factory=set)
    unsettled: dict[str, tuple[str, str]] = field(default_factory=dict)  # title -> (version, severity)
    conditions: set[str] = field(default_factory=set)

    @property
    def owner(self) -> str:
        return self.model.technical_owner

    @property
    def validator(self) -> str:
        validators = self.model.validators
        return DEMO_VALIDATOR if DEMO_VALIDATOR in validators else validators[0]

    @property
    def deployer(self) -> str:
        return PIPELINE_ACCOUNT if self.model.unit in PIPELINE_UNITS else self.owner

    def raise_by_hand(self, actor: str, finding: FindingSpec, *, version: str = "") -> None:
        """A finding raised by hand, its outcome settled by the caller."""
        self.titles.add(finding.title)
        self.steps.append(RaiseFinding(actor, finding, version))

    def _new(self, version: str, title: str, severity: str) -> bool:
        if title in self.titles:
            return False
        self.titles.add(title)
        self.unsettled[title] = (version, severity)
        return True

    def _validation_findings(self, version: str, *, failed: bool = False) -> tuple[FindingSpec, ...]:
        library = VALIDATION_FINDINGS[_kind(self.model)]
        if failed:
            title, severity, description = max(library, key=lambda item: SEVERITIES.index(item[1]))
        elif self.rng.random() < VALIDATION_FINDING_RATE:
            title, severity, description = self.rng.choice(library)
        else:
            return ()
        if not self._new(version, title, severity):
            return ()
        return (FindingSpec(title, severity, DAYS_TO_FIX[severity], description, owner=self.owner),)

    def _conditions(self, version: str, *, required: bool) -> tuple[FindingSpec, ...]:
        if self.rng.random() >= CONDITION_RATE and not required:
            return ()
        title, severity, days = self.rng.choice(CONDITIONS)
        if not self._new(version, title, severity):
            return ()
        self.conditions.add(title)
        return (FindingSpec(title, severity, days, "Condition of approval."),)

    def version(self, label: str, outcome: str, *, revalidation: bool, first_approver: str) -> None:
        """The steps that take ``label`` from draft to ``outcome``."""
        if outcome == DRAFT:
            return
        reason = (
            f"Periodic revalidation of the version in production (last validated {self.model.last_validated_on})."
            if revalidation
            else f"Release {label}: {_description(self.model, label)}"
        )
        self.steps.append(Submit(label, self.owner, reason))
        if outcome == WITHDRAWN:
            self.steps.append(
                Withdraw(
                    label,
                    self.owner,
                    "Withdrawn: a feature leaked post-outcome information; a corrected version will be submitted.",
                )
            )
            return
        if outcome == SUBMITTED:
            return
        if VALIDATION in self.policy.stages:
            validator = self.validator
            self.validated_by[label] = validator
            kind = _kind(self.model)
            self.steps.append(StartValidation(label, validator, START_VALIDATION.get(kind, START_VALIDATION_DEFAULT)))
            if outcome == IN_VALIDATION:
                return
            if outcome == FAILED_VALIDATION:
                comment = "Validation failed: a material issue must be fixed before the version can be approved."
                self.steps.append(
                    Validate(label, validator, False, comment, self._validation_findings(label, failed=True))
                )
                return
            findings = self._validation_findings(label)
            note = f"Validation passed: {_metrics_note(self.model, label)}." + (
                " One finding raised." if findings else ""
            )
            self.steps.append(Validate(label, validator, True, note, findings))
        if outcome == RISK_REVIEW:
            if self.policy.approvers > 1:
                self.steps.append(Decide(label, first_approver, True, FIRST_APPROVAL))
            return
        if outcome == REJECTED_AT_REVIEW:
            self.steps.append(Decide(label, self.approvers[0], False, REJECTION))
            return
        conditions = self._conditions(label, required=outcome == APPROVED_WITH_CONDITIONS)
        for index, approver in enumerate(self.approvers[: self.policy.approvers]):
            if index == 0 and conditions:
                comment = "Approved subject to the condition recorded as a finding."
            elif index == self.policy.approvers - 1:
                comment = "Approved: validation evidence reviewed, residual risk within appetite."
            else:
                comment = FIRST_APPROVAL
            self.steps.append(Decide(label, approver, True, comment, conditions if index == 0 else ()))
        if outcome in {APPROVED, APPROVED_WITH_CONDITIONS}:
            return
        if self.deployer == PIPELINE_ACCOUNT:
            note = f"Jenkins build {self.model.key.lower()}-{label} promoted to production."
        else:
            note = self.rng.choice(DEPLOY_NOTES).format(change=f"CHG{self.rng.randint(100000, 999999)}")
        self.steps.append(Deploy(label, self.deployer, note))

    def retire(self, label: str, successor: str) -> None:
        self.successors[label] = successor
        self.steps.append(Retire(label, self.owner, f"Superseded by v{successor}."))

    def settle_findings(self) -> None:
        """Where each finding raised at validation or approval stands: fixed when its version was superseded
        (closed by whoever validated it, or a Risk Officer), otherwise drawn."""
        outcomes, weights = zip(*FINDING_OUTCOMES.items(), strict=True)
        for title, (version, severity) in list(self.unsettled.items()):
            if version in self.successors:
                closer = self.validated_by.get(version, HEAD_OF_MODEL_RISK)
                resolution = f"Fixed in v{self.successors[version]}; checked before its approval."
                self.steps.append(CloseFinding(title, closer, resolution))
                continue
            outcome = self.rng.choices(outcomes, weights=weights)[0]
            # Serious findings, and conditions the approvers set themselves, get fixed rather than accepted.
            if outcome == "risk_accepted" and (severity in {"high", "critical"} or title in self.conditions):
                outcome = "in_remediation"
            self.settle(title, outcome)
        self.unsettled.clear()

    def settle(self, title: str, outcome: str) -> None:
        """Take a finding to ``outcome``: open (nothing to do), in remediation, closed or risk accepted."""
        self.unsettled.pop(title, None)
        if outcome in {"in_remediation", "closed"}:
            ticket = f"https://jira.northwind-bank.example/browse/MRM-{self.rng.randint(1000, 9999)}"
            self.steps.append(StartRemediation(title, self.owner, "Fix planned and under way.", (ticket,)))
        if outcome == "closed":
            closer = self.validator if self.model.validators else HEAD_OF_MODEL_RISK
            self.steps.append(CloseFinding(title, closer, "Remediation evidence reviewed: the issue is resolved."))
        elif outcome == "risk_accepted":
            self.steps.append(AcceptRisk(title, MODEL_RISK_OFFICER, RISK_ACCEPTANCE))


def _risk_officers() -> tuple[str, ...]:
    return tuple(person.username for person in PEOPLE if person.role == roles.RISK_OFFICER)


def _approvers(model: ModelPlan, turn: int) -> tuple[str, ...]:
    """Risk Officers in the order they decide; AI systems go to the AI Governance Officer first."""
    officers = [officer for officer in _risk_officers() if officer != AI_GOVERNANCE_OFFICER]
    officers = officers[turn % len(officers) :] + officers[: turn % len(officers)]
    if _is_ai_system(model):
        return (AI_GOVERNANCE_OFFICER, *officers)
    return (*officers, AI_GOVERNANCE_OFFICER)


def _prefer_demo_validator(models: list[ModelPlan]) -> list[ModelPlan]:
    """The demo's validator login first, so that it has work waiting in its queue (stable otherwise)."""
    return sorted(models, key=lambda model: DEMO_VALIDATOR not in model.validators)


@dataclass
class _Allocation:
    """How far each model's versions get: (label, outcome) pairs by model key, oldest version first."""

    outcomes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    revalidations: set[str] = field(default_factory=set)

    def newest(self, model: ModelPlan, outcome: str, *, earlier: str = DEPLOYED) -> None:
        labels = model.version_labels
        self.outcomes[model.key] = [(label, earlier) for label in labels[:-1]] + [(labels[-1], outcome)]

    def take(self, candidates: list[ModelPlan], count: int, outcome: str) -> None:
        """Give the newest version of up to ``count`` candidates not allocated yet this outcome; the earlier
        versions were each deployed in turn."""
        for model in [model for model in candidates if model.key not in self.outcomes][:count]:
            self.newest(model, outcome)


def _allocate(plan: DemoPlan, rng: random.Random, today: date, policies: dict[int, TierPolicy]) -> _Allocation:
    allocation = _Allocation()

    def validated(model: ModelPlan) -> bool:
        return VALIDATION in policies[effective_tier(model)].stages

    def waiting(index: int, model: ModelPlan, cycle: tuple[str, ...]) -> str:
        # Without independent validation a submitted version goes straight to risk review.
        outcome = cycle[index % len(cycle)]
        return outcome if validated(model) or outcome not in {SUBMITTED, IN_VALIDATION} else RISK_REVIEW

    # Revalidation overdue in the legacy inventory: the running version is being revalidated, or not even
    # submitted; earlier versions predate the portal.
    overdue = [
        model
        for model in plan.models
        if model.lifecycle_stage == LifecycleStage.PRODUCTION
        and model.next_validation_due is not None
        and model.next_validation_due < today
    ]
    for index, model in enumerate(_prefer_demo_validator(overdue)):
        allocation.newest(model, waiting(index, model, (DRAFT, SUBMITTED, IN_VALIDATION, RISK_REVIEW)), earlier=DRAFT)
        allocation.revalidations.add(model.key)

    # Candidates under validation: the newest version waits in a queue (the trained challenger for validation,
    # which its bias audit holds up) or, approved, for deployment; earlier ones were stopped or never submitted.
    stopped = [FAILED_VALIDATION, WITHDRAWN]
    candidates = [model for model in plan.models if model.lifecycle_stage == LifecycleStage.VALIDATION]
    cycle = (IN_VALIDATION, RISK_REVIEW, SUBMITTED, APPROVED_WITH_CONDITIONS, RISK_REVIEW, APPROVED)
    for index, model in enumerate(_prefer_demo_validator(candidates)):
        outcome = IN_VALIDATION if model.trained_in_demo else waiting(index, model, cycle)
        labels = model.version_labels
        earlier = [(label, stopped.pop(0) if stopped and validated(model) else DRAFT) for label in labels[:-1]]
        allocation.outcomes[model.key] = [*earlier, (labels[-1], outcome)]

    # Production models with a new release: a few wait in each queue, one is rejected at risk review, and a failed
    # validation or a withdrawal the candidates above had no earlier version for happens here; every other
    # production model runs its newest release.
    releasing = [
        model
        for model in plan.models
        if model.lifecycle_stage == LifecycleStage.PRODUCTION and len(model.version_labels) > 1
    ]
    rng.shuffle(releasing)
    releasing_validated = _prefer_demo_validator([model for model in releasing if validated(model)])
    for outcome, count in NEW_RELEASES_WAITING.items():
        allocation.take(releasing_validated if outcome != RISK_REVIEW else releasing, count, outcome)
    allocation.take(releasing, 1, REJECTED_AT_REVIEW)
    for outcome in stopped:
        allocation.take(releasing_validated, 1, outcome)
    for model in plan.models:
        if model.lifecycle_stage == LifecycleStage.PRODUCTION and model.key not in allocation.outcomes:
            allocation.newest(model, DEPLOYED)
    return allocation


def _legacy_issue(today: date, spec: tuple[str, str, int], owner: str) -> FindingSpec:
    title, severity, overdue_days = spec
    raised = today - timedelta(days=overdue_days + DAYS_TO_FIX[severity])
    return FindingSpec(
        title,
        severity,
        -overdue_days,
        f"Carried over from the legacy issue log, where it was raised on {raised.isoformat()}; the due date "
        "agreed then stands.",
        owner=owner,
    )


PROHIBITED_PRACTICE = FindingSpec(
    "Prohibited practice: evidence of decommissioning and deletion of emotion scores",
    "critical",
    14,
    "Emotion recognition in the workplace is prohibited (EU AI Act Art. 5(1)(f)). Evidence is needed that the "
    "system is switched off and the scores kept for team leaders are deleted.",
)
SCREENING_LAG = FindingSpec(
    "Same-day designations reach the payment screening list up to 20 hours late",
    "critical",
    -10,
    "Carried over from the legacy issue log: the vendor's list refresh runs nightly, so designations published "
    "during the day are screened against only from the next morning.",
)
VENDOR_OPACITY = FindingSpec(
    VALIDATION_FINDINGS["vendor"][2][0],
    VALIDATION_FINDINGS["vendor"][2][1],
    DAYS_TO_FIX[VALIDATION_FINDINGS["vendor"][2][1]],
    VALIDATION_FINDINGS["vendor"][2][2],
)
BIAS_AUDIT = FindingSpec(
    "Bias audit outstanding: selection-rate ratio by age group not yet measured",
    "high",
    30,
    "The challenger must pass the bank's bias audit (selection-rate ratio of at least 0.8 across age groups) on "
    "the kept test-set predictions before validation can conclude.",
)
OVERRIDE_UP = (
    "oprisk-lda",
    "The LDA model sets operational risk capital (the Pillar 2A add-on and the ICAAP figure). The model risk "
    "policy puts every model that sets regulatory capital in Tier 1; the questionnaire has no question on "
    "regulatory use, so its Tier 2 understates the model.",
    "Approved: models that set regulatory capital are Tier 1 under the model risk policy. Questionnaire v2 should "
    "ask about regulatory use, so that this needs no override next time.",
)
OVERRIDE_DOWN = (
    "vendor-bureau-consumer",
    "The bureau score is one input to our own application and behavioural scorecards, which are Tier 1 and fully "
    "validated, and it is never the sole reason to decline. Tier 2 would match its role.",
)
REASSESSMENT = (
    "llm-virtual-assistant",
    "Reassessment before the next release: the assistant will answer 'can I borrow' questions with an eligibility "
    "pre-check against the personal loan scorecard, an Annex III 5(b) use with customer impact.",
)


def _special_steps(model: ModelPlan, teller: _Teller) -> None:
    """The models the demo tells a particular story about (each only where the plan has the model)."""
    if model.slug == "agent-emotion-analytics":
        finding = replace(PROHIBITED_PRACTICE, owner=model.business_owner)
        teller.raise_by_hand(AI_GOVERNANCE_OFFICER, finding)
        teller.steps.append(
            CloseFinding(
                finding.title,
                HEAD_OF_MODEL_RISK,
                "Decommissioning confirmed: the scoring service is removed and the stored scores were deleted, "
                "witnessed by Internal Audit.",
            )
        )
    elif model.slug == "sanctions-payment-screening":
        teller.raise_by_hand(MODEL_RISK_OFFICER, replace(SCREENING_LAG, owner=model.business_owner))
        teller.settle(SCREENING_LAG.title, "in_remediation")
    elif model.slug == OVERRIDE_DOWN[0] and model.assessed:
        if VENDOR_OPACITY.title not in teller.titles:
            teller.raise_by_hand(teller.validator, replace(VENDOR_OPACITY, owner=model.business_owner))
        teller.unsettled.pop(VENDOR_OPACITY.title, None)
        teller.steps.append(
            AcceptRisk(
                VENDOR_OPACITY.title,
                HEAD_OF_MODEL_RISK,
                "Accepted: no bureau discloses its weights. Compensating controls: quarterly rank-ordering and "
                "stability monitoring on our own applicants, and the score is never the sole reason to decline.",
            )
        )
        if model.scored.tier == 1:
            teller.steps.append(RequestOverride(model.business_owner, 2, OVERRIDE_DOWN[1]))
    elif model.trained_in_demo and model.validators:
        teller.raise_by_hand(
            teller.validator, replace(BIAS_AUDIT, owner=model.technical_owner), version=model.version_labels[-1]
        )


def _assessment_steps(model: ModelPlan, teller: _Teller, *, pending: bool) -> None:
    if model.slug == "agent-emotion-analytics":
        # AI governance assessed it when the practice came to light; the head of model risk confirmed it.
        teller.steps.append(
            Assess(
                AI_GOVERNANCE_OFFICER,
                model.answers,
                "Assessed by AI governance: the system scored agents' emotions from call audio for team leaders.",
            )
        )
        teller.steps.append(
            ReviewAssessment(
                HEAD_OF_MODEL_RISK, f"{_review_comment(model)} The system is switched off and may not be redeployed."
            )
        )
        return
    teller.steps.append(Assess(model.technical_owner, model.answers, _rationale(model)))
    if pending:
        return
    teller.steps.append(ReviewAssessment(teller.approvers[0], _review_comment(model)))
    if model.slug == OVERRIDE_UP[0] and model.scored.tier > 1:
        teller.steps.append(RequestOverride(MODEL_RISK_OFFICER, 1, OVERRIDE_UP[1]))
        teller.steps.append(ApproveOverride(HEAD_OF_MODEL_RISK, OVERRIDE_UP[2]))


def _reassessed_answers(model: ModelPlan) -> dict[str, Any]:
    return {
        **model.answers,
        "materiality": "high",
        "decision_autonomy": "exceptions_only",
        "annex_iii_areas": ["creditworthiness"],
    }


def effective_tier(model: ModelPlan) -> int:
    """The tier the model ends with: the scored one, unless the story overrides it."""
    return 1 if model.slug == OVERRIDE_UP[0] and model.assessed else model.scored.tier


def build_story(plan: DemoPlan, *, today: date, seed: int) -> tuple[ModelStory, ...]:
    """The governance story of every demo model that has one, in catalogue order."""
    # Demo data, not security: a seeded, reproducible generator is exactly what is wanted here.
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret  # nosec B311
    policies = default_policies()
    allocation = _allocate(plan, rng, today, policies)
    development = [model for model in plan.models if model.lifecycle_stage == LifecycleStage.DEVELOPMENT]
    pending = {model.key for model in development[-PENDING_FIRST_ASSESSMENTS:]}
    issue_models = [
        model
        for model in plan.models
        if model.lifecycle_stage == LifecycleStage.PRODUCTION and model.key not in allocation.revalidations
    ]
    chosen = rng.sample(issue_models, min(len(issue_models), len(LEGACY_ISSUE_LOG)))
    legacy = {model.key: spec for model, spec in zip(chosen, LEGACY_ISSUE_LOG, strict=False)}

    stories = []
    for turn, model in enumerate(plan.models):
        teller = _Teller(model, policies[effective_tier(model)], rng, _approvers(model, turn))
        if model.unit in PIPELINE_UNITS:
            teller.steps.append(
                GrantReporting(
                    PLATFORM_ADMIN,
                    PIPELINE_ACCOUNT,
                    "The Jenkins model build pipeline builds and deploys Retail Credit Risk's models.",
                )
            )
        if model.assessed:
            _assessment_steps(model, teller, pending=model.key in pending)
        # A first approval at risk review leaves the version in the head of model risk's queue.
        first_approver = next(officer for officer in teller.approvers if officer != HEAD_OF_MODEL_RISK)
        deployed = ""
        for label, outcome in allocation.outcomes.get(model.key, []):
            revalidation = model.key in allocation.revalidations
            teller.version(label, outcome, revalidation=revalidation, first_approver=first_approver)
            if outcome == DEPLOYED:
                if deployed:
                    teller.retire(deployed, label)
                deployed = label
        if model.key in legacy:
            finding = _legacy_issue(today, legacy[model.key], model.business_owner)
            teller.raise_by_hand(MODEL_RISK_OFFICER, finding)
            teller.settle(finding.title, rng.choice(("open", "in_remediation")))
        _special_steps(model, teller)
        teller.settle_findings()
        if model.slug == REASSESSMENT[0] and model.assessed and model.key not in pending:
            teller.steps.append(Assess(model.technical_owner, _reassessed_answers(model), REASSESSMENT[1]))
        if teller.steps:
            owners = (model.business_owner, model.technical_owner)
            stories.append(ModelStory(model.key, tuple(teller.steps), owners, frozenset(model.validators)))
    return tuple(stories)
