"""The approval workflow: states, segregation of duties, distinct approvers, conditions, expiry, ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.choices import EventType, FindingSource
from governance.ledger import verify_ledger
from governance.models import ApprovalDecision, Finding, GovernanceEvent, VersionTransition
from governance.services import workflow
from inventory.choices import VersionState
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_3_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def version_a(tier1_model_a, personas):
    return ModelVersionFactory(model=tier1_model_a, version="2.0.0", actor=personas.owner_a)


def test_tier1_walk_needs_two_distinct_approvers(personas, version_a, second_risk_officer):
    workflow.version_submit(actor=personas.owner_a, version=version_a, comment="Ready")
    with pytest.raises(PermissionDenied, match="SOD"):
        workflow.version_decide(actor=personas.owner_a, version=version_a, approve=True, comment="mine")
    workflow.version_start_validation(actor=personas.validator_assigned, version=version_a)
    workflow.version_validate(actor=personas.validator_assigned, version=version_a, passed=True, comment="Sound")
    workflow.version_decide(actor=personas.risk_officer, version=version_a, approve=True, comment="OK")
    version_a.refresh_from_db()
    assert version_a.state == VersionState.RISK_REVIEW
    with pytest.raises(ValidationError, match="SOD-5"):
        workflow.version_decide(actor=personas.risk_officer, version=version_a, approve=True, comment="again")
    workflow.version_decide(actor=second_risk_officer, version=version_a, approve=True, comment="OK too")
    version_a.refresh_from_db()
    assert version_a.state == VersionState.APPROVED
    assert version_a.approved_by == second_risk_officer
    assert version_a.approval_expires_at.date() == dt.date.today() + dt.timedelta(days=365)
    version_a.model.refresh_from_db()
    assert version_a.model.next_validation_due == version_a.approval_expires_at.date()
    types = list(
        GovernanceEvent.objects.filter(model=version_a.model).order_by("seq").values_list("event_type", flat=True)
    )
    assert types[-5:] == [
        EventType.VERSION_SUBMITTED,
        EventType.VALIDATION_STARTED,
        EventType.VERSION_VALIDATED,
        EventType.APPROVAL_RECORDED,
        EventType.VERSION_APPROVED,
    ]
    assert verify_ledger().intact


def test_owner_cannot_validate_and_unassigned_validator_is_refused(personas, version_a):
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    with pytest.raises(PermissionDenied):
        workflow.version_start_validation(actor=personas.validator_other, version=version_a)
    with pytest.raises(PermissionDenied):
        workflow.version_start_validation(actor=personas.owner_a, version=version_a)


def test_validator_cannot_be_the_approver(personas, version_a):
    from django.contrib.auth.models import Group

    from core import roles

    # Even with the Risk Officer role, the person who validated a version may not approve it.
    personas.validator_assigned.groups.add(Group.objects.get(name=roles.RISK_OFFICER))
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    workflow.version_start_validation(actor=personas.validator_assigned, version=version_a)
    workflow.version_validate(actor=personas.validator_assigned, version=version_a, passed=True, comment="ok")
    with pytest.raises(PermissionDenied, match="SOD-4"):
        workflow.version_decide(actor=personas.validator_assigned, version=version_a, approve=True, comment="ok")


def test_illegal_transitions_change_nothing(personas, version_a):
    before = (GovernanceEvent.objects.count(), VersionTransition.objects.count())
    with pytest.raises(ValidationError, match="draft"):
        workflow.version_decide(actor=personas.risk_officer, version=version_a, approve=True, comment="x")
    with pytest.raises(ValidationError):
        workflow.version_deploy(actor=personas.owner_a, version=version_a)
    version_a.refresh_from_db()
    assert version_a.state == VersionState.DRAFT
    assert (GovernanceEvent.objects.count(), VersionTransition.objects.count()) == before


def test_rejected_version_cannot_be_deployed(personas, version_a):
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    workflow.version_start_validation(actor=personas.validator_assigned, version=version_a)
    workflow.version_validate(actor=personas.validator_assigned, version=version_a, passed=False, comment="Unstable")
    version_a.refresh_from_db()
    assert version_a.state == VersionState.REJECTED
    with pytest.raises(ValidationError, match="rejected"):
        workflow.version_deploy(actor=personas.owner_a, version=version_a)


def test_tier3_skips_validation_and_conditions_become_findings(personas):
    approve_tier(personas.model_b, TIER_3_ANSWERS, personas.owner_b, personas.risk_officer)
    version = ModelVersionFactory(model=personas.model_b, version="1.0.0", actor=personas.owner_b)
    workflow.version_submit(actor=personas.owner_b, version=version)
    version.refresh_from_db()
    assert version.state == VersionState.RISK_REVIEW
    due = dt.date.today() + dt.timedelta(days=60)
    workflow.version_decide(
        actor=personas.risk_officer,
        version=version,
        approve=True,
        comment="Fine with one condition",
        conditions=[{"title": "Add drift monitoring", "severity": "medium", "due_date": due.isoformat()}],
    )
    version.refresh_from_db()
    assert version.state == VersionState.APPROVED_WITH_CONDITIONS
    finding = Finding.objects.get(version=version)
    assert (finding.source, finding.due_date, finding.owner) == (
        FindingSource.APPROVAL_CONDITION,
        due,
        personas.owner_b,
    )
    workflow.version_deploy(actor=personas.owner_b, version=version)
    version.refresh_from_db()
    assert version.state == VersionState.DEPLOYED


def test_bad_condition_rolls_back_the_whole_decision(personas):
    approve_tier(personas.model_b, TIER_3_ANSWERS, personas.owner_b, personas.risk_officer)
    version = ModelVersionFactory(model=personas.model_b, version="1.0.0", actor=personas.owner_b)
    workflow.version_submit(actor=personas.owner_b, version=version)
    events = GovernanceEvent.objects.count()
    with pytest.raises(ValidationError, match="due date"):
        workflow.version_decide(
            actor=personas.risk_officer,
            version=version,
            approve=True,
            comment="ok",
            conditions=[{"title": "x", "severity": "medium", "due_date": "soon"}],
        )
    version.refresh_from_db()
    assert version.state == VersionState.RISK_REVIEW
    assert not ApprovalDecision.objects.filter(version=version).exists()
    assert GovernanceEvent.objects.count() == events


def test_model_without_tier_cannot_be_submitted(personas):
    version = ModelVersionFactory(model=personas.model_b, version="0.1.0", actor=personas.owner_b)
    with pytest.raises(ValidationError, match="risk assessment"):
        workflow.version_submit(actor=personas.owner_b, version=version)


def test_withdraw_from_open_state_only(personas, version_a):
    with pytest.raises(ValidationError):
        workflow.version_withdraw(actor=personas.owner_a, version=version_a, comment="changed mind")
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    with pytest.raises(PermissionDenied):
        workflow.version_withdraw(actor=personas.owner_b, version=version_a, comment="not mine")
    workflow.version_withdraw(actor=personas.owner_a, version=version_a, comment="Found a data issue")
    version_a.refresh_from_db()
    assert version_a.state == VersionState.WITHDRAWN
