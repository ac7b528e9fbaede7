"""The gate's rules as a pure function: plain facts about one request in, the reasons to deny out.

:class:`GateFacts` is built by ``gate.selectors.gate_facts`` with a fixed number of queries; nothing here touches
the database, so every reason code is tested without one. An empty list means allow. The bias audit duty and
the evidence names are those of the compliance rules (``audits.compliance``, CMP-005 and CMP-007), so the gate
and the nightly sweep never disagree on what a tier requires.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from audits.compliance import BIAS_FAILED, bias_audit_problem, missing_evidence
from gate.choices import ReasonCode


@dataclass(frozen=True)
class Reason:
    """One reason to deny: a stable code a pipeline can branch on and a sentence a person can read."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The reason as the API and the ledger show it."""
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class GateFacts:
    """What the gate knows about one request, as plain values.

    ``version_state`` is None when the version is not registered. ``approved_digests`` follows
    ``inventory.selectors.approved_digests``; ``evidence`` holds the evidence names the version's artifacts
    provide (``audits.compliance.evidence_keys``). ``open_severe_findings`` counts the model's open or
    in-remediation high and critical findings; ``overdue_conditions`` the version's open approval conditions
    past their due date. The ``policy_*`` values come from the active rule pack's policy for the model's tier.
    """

    model_key: str
    version_label: str
    digest: str
    model_retired: bool = False
    version_state: str | None = None
    holds_approval: bool = False
    approval_expires_at: dt.datetime | None = None
    approved_digests: frozenset[str] = frozenset()
    evidence: frozenset[str] = frozenset()
    open_severe_findings: int = 0
    overdue_conditions: int = 0
    eu_ai_act_category: str = ""
    bias_status: str | None = None
    bias_finished_at: dt.datetime | None = None
    policy_required_evidence: tuple[str, ...] = field(default_factory=tuple)
    policy_bias_cadence_days: int | None = None


def deny_reasons(facts: GateFacts, now: dt.datetime) -> list[Reason]:
    """Every reason the deployment must not go ahead, in a stable order; empty when it may."""
    label = f"{facts.model_key} v{facts.version_label}"
    reasons: list[Reason] = []
    if facts.model_retired or facts.version_state == "retired":
        reasons.append(Reason(ReasonCode.MODEL_RETIRED, f"{label} is retired: retired models are not deployed."))
    if facts.version_state is None:
        reasons.append(Reason(ReasonCode.VERSION_NOT_FOUND, f"{facts.model_key} has no version {facts.version_label}."))
        return reasons
    if not facts.holds_approval:
        reasons.append(
            Reason(ReasonCode.NOT_APPROVED, f"{label} is {facts.version_state.replace('_', ' ')}, not approved.")
        )
    else:
        if facts.approval_expires_at is not None and facts.approval_expires_at <= now:
            reasons.append(
                Reason(
                    ReasonCode.APPROVAL_EXPIRED,
                    f"The approval of {label} expired on {facts.approval_expires_at:%Y-%m-%d}: revalidate it first.",
                )
            )
        if facts.digest not in facts.approved_digests:
            reasons.append(
                Reason(
                    ReasonCode.DIGEST_MISMATCH,
                    f"{facts.digest} is not a digest approved for {label} "
                    f"({len(facts.approved_digests)} approved digest(s)).",
                )
            )
    blocking = []
    if facts.open_severe_findings:
        blocking.append(f"{facts.open_severe_findings} open high or critical finding(s) on {facts.model_key}")
    if facts.overdue_conditions:
        blocking.append(f"{facts.overdue_conditions} condition(s) of the approval of {label} past their due date")
    if blocking:
        reasons.append(Reason(ReasonCode.BLOCKING_FINDINGS_OPEN, "; ".join(blocking).capitalize() + "."))
    bias = bias_audit_problem(
        eu_ai_act_category=facts.eu_ai_act_category,
        cadence_days=facts.policy_bias_cadence_days,
        status=facts.bias_status,
        finished_at=facts.bias_finished_at,
        now=now,
    )
    if bias is not None:
        outcome, sentence = bias
        code = ReasonCode.BIAS_AUDIT_FAILING if outcome == BIAS_FAILED else ReasonCode.BIAS_AUDIT_MISSING
        reasons.append(Reason(code, sentence))
    missing = missing_evidence(facts.policy_required_evidence, facts.evidence)
    if missing:
        reasons.append(
            Reason(
                ReasonCode.EVIDENCE_MISSING,
                f"The tier's policy requires evidence that {label} has not recorded: {', '.join(missing)}.",
            )
        )
    return reasons
