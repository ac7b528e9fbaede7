"""Findings from raised to closed or risk-accepted, who may move them, and deduplication."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.choices import FindingStatus
from governance.models import Finding, GovernanceEvent
from governance.services import findings

pytestmark = pytest.mark.django_db

DUE = dt.date.today() + dt.timedelta(days=30)


def raise_one(personas, **overrides):
    fields: dict[str, Any] = {"title": "Monotonicity not tested", "severity": "high", "due_date": DUE} | overrides
    return findings.finding_raise(actor=personas.validator_assigned, model=personas.model_a, **fields)


def test_full_lifecycle(personas):
    finding = raise_one(personas)
    assert finding.owner == personas.owner_a and finding.status == FindingStatus.OPEN
    findings.finding_start_remediation(
        actor=personas.owner_a, finding=finding, comment="On it", evidence_links=["https://git.bank.example/pd/pull/12"]
    )
    with pytest.raises(PermissionDenied, match=r"SOD-2|Risk Officer"):
        findings.finding_close(actor=personas.owner_a, finding=finding, resolution="done")
    findings.finding_close(actor=personas.validator_assigned, finding=finding, resolution="Test added and passing")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED
    assert finding.resolved_by == personas.validator_assigned
    assert finding.evidence_links == ["https://git.bank.example/pd/pull/12"]
    assert [r.history_type for r in finding.history.order_by("history_date")] == ["+", "~", "~"]
    findings.finding_reopen(actor=personas.risk_officer, finding=finding, reason="Regression in v2")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_risk_acceptance_needs_a_risk_officer_and_justification(personas):
    finding = raise_one(personas)
    with pytest.raises(PermissionDenied):
        findings.finding_accept_risk(actor=personas.validator_assigned, finding=finding, justification="x" * 30)
    with pytest.raises(ValidationError, match="at least 20"):
        findings.finding_accept_risk(actor=personas.risk_officer, finding=finding, justification="fine")
    findings.finding_accept_risk(
        actor=personas.risk_officer, finding=finding, justification="Compensating control: manual review of declines."
    )
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RISK_ACCEPTED


def test_who_may_raise(personas):
    with pytest.raises(PermissionDenied):
        findings.finding_raise(actor=personas.owner_b, model=personas.model_a, title="x", severity="low", due_date=DUE)
    with pytest.raises(PermissionDenied):
        findings.finding_raise(
            actor=personas.validator_other, model=personas.model_a, title="x", severity="low", due_date=DUE
        )
    assert findings.finding_raise(
        actor=personas.risk_officer, model=personas.model_a, title="x", severity="low", due_date=DUE
    ).pk


def test_bad_input_is_named_and_writes_nothing(personas):
    before = (Finding.objects.count(), GovernanceEvent.objects.count())
    with pytest.raises(ValidationError) as error:
        raise_one(personas, title="", severity="urgent", due_date="next week")
    assert set(error.value.message_dict) == {"title", "severity", "due_date"}
    with pytest.raises(ValidationError, match="URL"):
        raise_one(personas, evidence_links=["javascript:alert(1)"])
    assert (Finding.objects.count(), GovernanceEvent.objects.count()) == before


def test_dedup_key_raises_once(personas):
    first = findings.finding_raise(
        actor=None,
        model=personas.model_a,
        title="Selection rate ratio 0.62 < 0.8",
        severity="high",
        due_date=DUE,
        source="audit",
        dedup_key="bias:RB-0001:srr",
        check_permission=False,
    )
    again = findings.finding_raise(
        actor=None,
        model=personas.model_a,
        title="Selection rate ratio 0.60 < 0.8",
        severity="high",
        due_date=DUE,
        source="audit",
        dedup_key="bias:RB-0001:srr",
        check_permission=False,
    )
    assert first.pk == again.pk
    assert Finding.objects.filter(dedup_key="bias:RB-0001:srr").count() == 1


def test_problem_recurring_after_a_fix_is_a_new_finding(personas):
    def raise_audit_finding():
        return findings.finding_raise(
            actor=None,
            model=personas.model_a,
            title="Equalized odds difference 0.14 > 0.1",
            severity="high",
            due_date=DUE,
            source="audit",
            dedup_key="bias:RB-0001:eod",
            check_permission=False,
        )

    first = raise_audit_finding()
    findings.finding_close(actor=personas.risk_officer, finding=first, resolution="Retrained with reweighting")
    second = raise_audit_finding()
    assert second.pk != first.pk
    assert raise_audit_finding().pk == second.pk
