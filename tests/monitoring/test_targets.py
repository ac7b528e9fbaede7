"""Monitoring targets: owners propose, a Risk Officer who did not propose agrees, every change a new revision."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.choices import EventType
from governance.models import GovernanceEvent
from monitoring.choices import TargetStatus
from monitoring.models import MonitoringTarget, TierMonitoringDefault
from monitoring.services import limits_in_force, target_agree, target_propose
from tests.monitoring.conftest import agreed_target

pytestmark = pytest.mark.django_db


def test_tier_defaults_are_seeded_after_migrate() -> None:
    assert sorted(TierMonitoringDefault.objects.values_list("tier", flat=True)) == [1, 2, 3]
    assert TierMonitoringDefault.objects.get(tier=1).psi_feature_max == 0.1


def test_a_model_without_target_is_held_to_its_tier_defaults(personas: Any, version_a: Any) -> None:
    limits = limits_in_force(personas.model_a)
    assert isinstance(limits, TierMonitoringDefault) and limits.tier == 1


def test_owner_proposes_and_risk_officer_agrees(personas: Any) -> None:
    target = target_propose(
        actor=personas.owner_a,
        model=personas.model_a,
        values={"accuracy_min": 0.8, "latency_ms_max": 250, "custom_limits": {"approval_rate": {"min": 0.3}}},
        business_kpi="Default rate of approved loans",
        reason="Initial target",
    )
    assert target.status == TargetStatus.PROPOSED and target.revision == 1
    agreed = target_agree(actor=personas.risk_officer, target=target, comment="Fine")
    assert agreed.status == TargetStatus.AGREED and agreed.agreed_by == personas.risk_officer
    assert agreed.limits() == {"accuracy": {"min": 0.8}, "latency_ms": {"max": 250.0}, "approval_rate": {"min": 0.3}}
    event = GovernanceEvent.objects.filter(event_type=EventType.POLICY_CHANGED, model_key="RB-0001").get()
    assert event.payload["revision"] == 1


def test_a_change_is_a_new_revision_that_supersedes_the_one_in_force(personas: Any) -> None:
    first = agreed_target(personas, personas.model_a, accuracy_min=0.8)
    second = target_propose(
        actor=personas.owner_a, model=personas.model_a, values={"accuracy_min": 0.75}, reason="Seasonal data"
    )
    assert second.supersedes == first and second.revision == 2
    # Until agreed, the first revision stays in force.
    assert limits_in_force(personas.model_a) == first
    target_agree(actor=personas.risk_officer, target=second)
    first.refresh_from_db()
    assert first.status == TargetStatus.SUPERSEDED
    assert limits_in_force(personas.model_a).accuracy_min == 0.75
    assert MonitoringTarget.objects.filter(model=personas.model_a).count() == 2


def test_nobody_agrees_their_own_proposal(personas: Any) -> None:
    target = target_propose(
        actor=personas.risk_officer, model=personas.model_a, values={"auc_min": 0.7}, reason="Risk view"
    )
    with pytest.raises(PermissionDenied):
        target_agree(actor=personas.risk_officer, target=target)


def test_owners_do_not_agree_and_strangers_do_not_propose(personas: Any) -> None:
    target = target_propose(actor=personas.owner_a, model=personas.model_a, values={}, reason="Initial")
    with pytest.raises(PermissionDenied):
        target_agree(actor=personas.owner_a, target=target)
    with pytest.raises(PermissionDenied):
        target_agree(actor=personas.auditor, target=target)
    for stranger in (personas.owner_b, personas.validator_other, personas.auditor, personas.no_role):
        with pytest.raises(PermissionDenied):
            target_propose(actor=stranger, model=personas.model_a, values={}, reason="Mine")


def test_a_stale_proposal_must_be_proposed_again(personas: Any) -> None:
    stale = target_propose(actor=personas.owner_a, model=personas.model_a, values={"auc_min": 0.7}, reason="A")
    agreed_target(personas, personas.model_a, auc_min=0.72)
    with pytest.raises(ValidationError) as error:
        target_agree(actor=personas.risk_officer, target=stale)
    assert "supersedes" in error.value.message_dict


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"accuracy_min": 1.5}, "accuracy_min"),
        ({"latency_ms_max": -1}, "latency_ms_max"),
        ({"psi_feature_max": 0}, "psi_feature_max"),
        ({"psi_overall_max": "x"}, "psi_overall_max"),
        ({"consecutive_windows": 0}, "consecutive_windows"),
        ({"custom_limits": {"accuracy": {"min": 1}}}, "custom_limits"),
        ({"custom_limits": {"approval_rate": {"min": 0.6, "max": 0.3}}}, "custom_limits"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_limits_are_refused_on_their_field(personas: Any, values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        target_propose(actor=personas.owner_a, model=personas.model_a, values=values, reason="Try")
    assert field in error.value.message_dict
    assert not MonitoringTarget.objects.exists()


def test_a_reason_is_required(personas: Any) -> None:
    with pytest.raises(ValidationError) as error:
        target_propose(actor=personas.owner_a, model=personas.model_a, values={}, reason=" ")
    assert "reason" in error.value.message_dict


def test_api_propose_and_agree(personas: Any, api_client_for: Any) -> None:
    owner, officer = api_client_for(personas.owner_a), api_client_for(personas.risk_officer)
    response = owner.post(
        "/api/v1/monitoring-targets/",
        {"model": "RB-0001", "accuracy_min": 0.8, "consecutive_windows": 2, "reason": "Initial"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    target_id = response.json()["id"]
    assert owner.post(f"/api/v1/monitoring-targets/{target_id}/agree/", {}, format="json").status_code == 403
    # owner_b cannot see model A's targets at all.
    assert api_client_for(personas.owner_b).get(f"/api/v1/monitoring-targets/{target_id}/").status_code == 404
    response = officer.post(f"/api/v1/monitoring-targets/{target_id}/agree/", {"comment": "ok"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "agreed"
    bad = owner.post(
        "/api/v1/monitoring-targets/", {"model": "RB-0001", "accuracy_min": 2, "reason": "x"}, format="json"
    )
    assert bad.status_code == 400 and "accuracy_min" in bad.json()
    hidden = api_client_for(personas.owner_b).post(
        "/api/v1/monitoring-targets/", {"model": "RB-0001", "reason": "x"}, format="json"
    )
    assert hidden.status_code == 400 and "model" in hidden.json()
