"""The gate's rules as a pure function: every reason code from plain facts, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from gate.choices import ReasonCode
from gate.reasons import GateFacts, deny_reasons

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
DIGEST = "sha256:" + "a" * 64
GOOD = GateFacts(
    model_key="RB-0001",
    version_label="1.0.0",
    digest=DIGEST,
    version_state="approved",
    holds_approval=True,
    approval_expires_at=NOW + dt.timedelta(days=10),
    approved_digests=frozenset({DIGEST}),
    evidence=frozenset({"model_file", "document", "document:model_card"}),
    eu_ai_act_category="high_risk",
    bias_status="passed",
    bias_finished_at=NOW - dt.timedelta(days=5),
    policy_required_evidence=("model_file", "document:model_card"),
    policy_bias_cadence_days=90,
)


def codes(facts: GateFacts) -> list[str]:
    return [reason.code for reason in deny_reasons(facts, NOW)]


def test_facts_meeting_every_rule_allow() -> None:
    assert deny_reasons(GOOD, NOW) == []


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"version_state": None}, ReasonCode.VERSION_NOT_FOUND, "RB-0001 has no version 1.0.0"),
        ({"model_retired": True}, ReasonCode.MODEL_RETIRED, "is retired"),
        ({"version_state": "retired", "holds_approval": False}, ReasonCode.MODEL_RETIRED, "is retired"),
        ({"version_state": "risk_review", "holds_approval": False}, ReasonCode.NOT_APPROVED, "risk review"),
        ({"approval_expires_at": NOW}, ReasonCode.APPROVAL_EXPIRED, "expired on 2026-03-01"),
        ({"digest": "sha256:" + "c" * 64}, ReasonCode.DIGEST_MISMATCH, "is not a digest approved"),
        ({"open_severe_findings": 2}, ReasonCode.BLOCKING_FINDINGS_OPEN, "2 open high or critical"),
        ({"overdue_conditions": 1}, ReasonCode.BLOCKING_FINDINGS_OPEN, "past their due date"),
        ({"bias_status": "failed"}, ReasonCode.BIAS_AUDIT_FAILING, "failed"),
        ({"bias_status": None, "bias_finished_at": None}, ReasonCode.BIAS_AUDIT_MISSING, "No bias audit"),
        ({"bias_finished_at": NOW - dt.timedelta(days=91)}, ReasonCode.BIAS_AUDIT_MISSING, "older than 90 days"),
        ({"evidence": frozenset({"model_file", "document"})}, ReasonCode.EVIDENCE_MISSING, "document:model_card"),
    ],
)
def test_each_reason_code_names_the_problem(change: dict[str, object], code: str, words: str) -> None:
    reasons = deny_reasons(replace(GOOD, **change), NOW)  # type: ignore[arg-type]

    assert code in [reason.code for reason in reasons]
    assert words in next(reason.message for reason in reasons if reason.code == code)


def test_an_unregistered_version_gives_no_other_version_reason() -> None:
    assert codes(replace(GOOD, version_state=None, model_retired=True)) == ["model_retired", "version_not_found"]


def test_an_unapproved_version_is_not_also_a_digest_mismatch_or_expired() -> None:
    facts = replace(
        GOOD, version_state="draft", holds_approval=False, approved_digests=frozenset(), approval_expires_at=NOW
    )
    assert codes(facts) == ["not_approved"]


def test_bias_audit_is_only_required_of_high_risk_models_with_a_cadence() -> None:
    assert codes(replace(GOOD, eu_ai_act_category="minimal", bias_status=None)) == []
    assert codes(replace(GOOD, policy_bias_cadence_days=None, bias_status="failed")) == []


def test_reasons_come_in_a_stable_order_and_serialise() -> None:
    facts = replace(GOOD, digest="sha256:" + "c" * 64, open_severe_findings=1, evidence=frozenset())
    reasons = deny_reasons(facts, NOW)

    assert [reason.code for reason in reasons] == ["digest_mismatch", "blocking_findings_open", "evidence_missing"]
    assert set(reasons[0].as_dict()) == {"code", "message"}
