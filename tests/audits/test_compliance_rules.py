"""Compliance rules as pure functions: each rule's pass and fail on plain records, and stage applicability."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from audits.compliance import (
    BIAS_FAILED,
    BIAS_NONE,
    BIAS_STALE,
    RULES,
    ComplianceState,
    ModelRecord,
    bias_audit_problem,
    evaluate,
    evidence_keys,
    missing_evidence,
)

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
GOOD = ModelRecord(
    key="RB-0001",
    lifecycle_stage="production",
    eu_ai_act_category="high_risk",
    has_current_assessment=True,
    approved_version="1.0.0",
    approved_expires_at=NOW + dt.timedelta(days=30),
    approved_evidence=frozenset({"git_commit", "model_file", "dataset_version", "document", "document:model_card"}),
    next_validation_due=NOW.date(),
    bias_status="passed",
    bias_finished_at=NOW - dt.timedelta(days=89),
    policy_required_evidence=("git_commit", "model_file", "dataset_version", "document:model_card"),
    policy_bias_cadence_days=90,
    policy_revalidation_interval_days=365,
)
RULE = {rule.id: rule for rule in RULES}


def test_a_record_meeting_every_rule_is_compliant() -> None:
    assert evaluate(GOOD, NOW).state == ComplianceState.COMPLIANT
    assert evaluate(GOOD, NOW).broken == {}


@pytest.mark.parametrize(
    ("rule_id", "change", "words"),
    [
        ("CMP-001", {"business_owner_active": False}, "business owner's account is deactivated"),
        ("CMP-001", {"technical_owner_is_person": False}, "technical owner is a service account"),
        ("CMP-002", {"has_current_assessment": False}, "No approved risk assessment"),
        ("CMP-003", {"approved_version": None}, "No approved version"),
        ("CMP-003", {"approved_expires_at": NOW}, "expired on 2025-06-01"),
        ("CMP-004", {"next_validation_due": NOW.date() - dt.timedelta(days=1)}, "was due on 2025-05-31"),
        ("CMP-004", {"next_validation_due": None}, "requires calendar revalidation"),
        ("CMP-005", {"approved_evidence": frozenset({"git_commit", "dataset_version"})}, "no recorded model_file"),
        (
            "CMP-005",
            {"approved_evidence": frozenset({"git_commit", "model_file", "dataset_version", "document"})},
            "no recorded document:model_card artifact",
        ),
        (
            "CMP-006",
            {"unapproved_deployments": 1, "unapproved_deployment_environment": "production"},
            "latest deployment to production carries a digest that was never approved",
        ),
        (
            "CMP-006",
            {"unapproved_deployments": 3, "unapproved_deployment_environment": "prod-eu"},
            "prod-eu (and 2 other environments)",
        ),
        ("CMP-006", {"has_unapproved_deployed_version": True}, "marked deployed without approval"),
        ("CMP-007", {"bias_status": None, "bias_finished_at": None}, "No bias audit"),
        ("CMP-007", {"bias_status": "failed"}, "failed"),
        ("CMP-007", {"bias_finished_at": NOW - dt.timedelta(days=91)}, "older than 90 days"),
        ("CMP-008", {"overdue_severe_findings": 2}, "2 high or critical findings are overdue"),
    ],
)
def test_each_rule_fails_naming_the_reason(rule_id: str, change: dict[str, object], words: str) -> None:
    record = replace(GOOD, **change)  # type: ignore[arg-type]

    assert words in (RULE[rule_id].test(record, NOW) or "")
    outcome = evaluate(record, NOW)
    assert outcome.state == ComplianceState.NON_COMPLIANT
    assert list(outcome.broken) == [rule_id]


@pytest.mark.parametrize(
    ("rule_id", "change"),
    [
        ("CMP-003", {"approved_expires_at": None}),
        ("CMP-004", {"next_validation_due": None, "policy_revalidation_interval_days": None}),
        ("CMP-005", {"approved_evidence": frozenset(), "policy_required_evidence": ()}),
        ("CMP-005", {"approved_version": None}),
        ("CMP-007", {"eu_ai_act_category": "minimal", "bias_status": None}),
        ("CMP-007", {"policy_bias_cadence_days": None, "bias_status": "failed"}),
    ],
    ids=["no-expiry", "no-calendar", "no-evidence-required", "no-version", "not-high-risk", "no-cadence"],
)
def test_rules_pass_where_they_do_not_apply(rule_id: str, change: dict[str, object]) -> None:
    assert RULE[rule_id].test(replace(GOOD, **change), NOW) is None  # type: ignore[arg-type]


def test_stages_decide_which_rules_apply() -> None:
    bare = ModelRecord(key="RB-0002", lifecycle_stage="proposed")
    assert evaluate(bare, NOW).state == ComplianceState.COMPLIANT
    assert list(evaluate(replace(bare, lifecycle_stage="development"), NOW).broken) == ["CMP-002"]
    production = evaluate(replace(bare, lifecycle_stage="production"), NOW).broken
    assert list(production) == ["CMP-002", "CMP-003"]
    retired = evaluate(replace(bare, lifecycle_stage="retired", business_owner_active=False), NOW)
    assert retired.state == ComplianceState.EXEMPT
    assert retired.broken == {}


def test_rule_ids_are_unique_and_described() -> None:
    assert len(RULE) == len(RULES) == 8
    assert all(rule.description and rule.severity for rule in RULES)


def test_evidence_names_of_an_artifact_include_the_document_type() -> None:
    assert evidence_keys("document", {"document_type": "model_card"}) == {"document", "document:model_card"}
    assert evidence_keys("git_commit", {"document_type": "model_card"}) == {"git_commit"}
    assert evidence_keys("document", None) == {"document"}
    assert missing_evidence(["ci_run", "model_file", "document:x"], {"model_file"}) == ["ci_run", "document:x"]


def test_bias_audit_problem_tells_missing_failed_and_stale_apart() -> None:
    def problem(**change: object) -> str | None:
        facts: dict[str, object] = {
            "eu_ai_act_category": "high_risk",
            "cadence_days": 90,
            "status": "passed",
            "finished_at": NOW - dt.timedelta(days=1),
            **change,
        }
        outcome = bias_audit_problem(now=NOW, **facts)  # type: ignore[arg-type]
        return outcome[0] if outcome else None

    assert problem() is None
    assert problem(status=None) == BIAS_NONE
    assert problem(status="failed") == BIAS_FAILED
    assert problem(finished_at=NOW - dt.timedelta(days=91)) == BIAS_STALE
    assert problem(eu_ai_act_category="limited", status=None) is None
