"""Tier policies and rule packs: editable by Risk Officers, validated, revisioned, in the ledger."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.choices import EventType
from governance.models import GovernanceEvent, PolicyPack, TierPolicy
from governance.services import policies

pytestmark = pytest.mark.django_db


def test_shipped_packs_and_defaults():
    packs = {pack.code: pack for pack in PolicyPack.objects.all()}
    assert set(packs) == {"sr-11-7", "sr-26-2"}
    assert packs["sr-11-7"].is_active and not packs["sr-26-2"].is_active
    tier1 = policies.active_policy(1)
    assert (tier1.required_approvers, tier1.revalidation_interval_days) == (2, 365)
    assert policies.active_policy(3).required_stages == ["risk_review"]
    assert TierPolicy.objects.get(pack__code="sr-26-2", tier=3).revalidation_interval_days is None


def test_update_bumps_revision_and_records_old_and_new(personas):
    policy = policies.active_policy(2)
    policies.tier_policy_update(
        actor=personas.risk_officer, policy=policy, changes={"required_approvers": 2}, reason="Board decision 2026-11"
    )
    policy.refresh_from_db()
    assert (policy.required_approvers, policy.revision) == (2, 2)
    event = GovernanceEvent.objects.get(event_type=EventType.POLICY_CHANGED)
    assert event.payload["before"] == {"required_approvers": 1}
    assert event.payload["after"] == {"required_approvers": 2}


def test_bad_policy_changes_are_refused(personas):
    policy = policies.active_policy(1)
    with pytest.raises(PermissionDenied):
        policies.tier_policy_update(
            actor=personas.owner_a, policy=policy, changes={"required_approvers": 1}, reason="x"
        )
    with pytest.raises(ValidationError) as error:
        policies.tier_policy_update(
            actor=personas.risk_officer,
            policy=policy,
            changes={"required_stages": ["validation"], "bias_thresholds": {"magic": 1}, "required_approvers": 0},
            reason="x",
        )
    assert set(error.value.message_dict) == {"required_stages", "bias_thresholds", "required_approvers"}
    with pytest.raises(ValidationError, match="reason"):
        policies.tier_policy_update(actor=personas.risk_officer, policy=policy, changes={}, reason="")
    policy.refresh_from_db()
    assert policy.revision == 1


def test_switching_rule_pack(personas):
    trigger_based = PolicyPack.objects.get(code="sr-26-2")
    policies.policy_pack_activate(actor=personas.risk_officer, pack=trigger_based, reason="Adopting SR 26-2")
    assert PolicyPack.objects.get(is_active=True).code == "sr-26-2"
    assert policies.active_policy(3).revalidation_interval_days is None
    with pytest.raises(ValidationError, match="already"):
        policies.policy_pack_activate(actor=personas.risk_officer, pack=trigger_based, reason="again")
