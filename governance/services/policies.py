"""Tier policies and rule packs: what a model of each tier must go through, editable by Risk Officers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.history import save_with_history
from core.models import User
from governance.choices import ApprovalStage, EventType
from governance.ledger import ledger_append, ledger_lock
from governance.models import PolicyPack, TierPolicy
from governance.services.common import clean_comment, require_role_permission

POLICY_EDITABLE_FIELDS = frozenset(
    {
        "required_stages",
        "required_approvers",
        "revalidation_interval_days",
        "review_triggers",
        "required_evidence",
        "bias_audit_cadence_days",
        "bias_thresholds",
    }
)
KNOWN_BIAS_THRESHOLDS = frozenset(
    {
        "selection_rate_ratio_min",
        "equalized_odds_difference_max",
        "equalized_odds_ratio_min",
        "demographic_parity_difference_max",
        "equal_opportunity_difference_max",
        "min_group_size",
    }
)


def _validate_policy(policy: TierPolicy) -> None:
    errors: dict[str, list[str]] = {}
    stages = policy.required_stages
    if not isinstance(stages, list) or not stages or set(stages) - set(ApprovalStage.values):
        errors["required_stages"] = [f"Give a non-empty list of stages from: {', '.join(ApprovalStage.values)}."]
    elif ApprovalStage.RISK_REVIEW not in stages:
        errors["required_stages"] = ["Every tier needs the risk review stage: someone must approve."]
    elif len(set(stages)) != len(stages) or stages != sorted(stages, key=ApprovalStage.values.index):
        errors["required_stages"] = ["List each stage once, in order: validation before risk review."]
    if not 1 <= policy.required_approvers <= 5:
        errors["required_approvers"] = ["Between 1 and 5 distinct approvers."]
    for name in ("revalidation_interval_days", "bias_audit_cadence_days"):
        value = getattr(policy, name)
        if value is not None and not 1 <= value <= 3650:
            errors[name] = ["Between 1 and 3650 days, or empty."]
    for name in ("review_triggers", "required_evidence"):
        value = getattr(policy, name)
        if not isinstance(value, list) or not all(isinstance(item, str) and 0 < len(item) <= 60 for item in value):
            errors[name] = ["Give a list of short names."]
    thresholds = policy.bias_thresholds
    if not isinstance(thresholds, dict):
        errors["bias_thresholds"] = ["Give an object of threshold name: number."]
    else:
        unknown = sorted(set(thresholds) - KNOWN_BIAS_THRESHOLDS)
        bad = sorted(
            name
            for name, value in thresholds.items()
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100_000
        )
        if unknown:
            errors["bias_thresholds"] = [f"Unknown threshold(s): {', '.join(unknown)}."]
        elif bad:
            errors["bias_thresholds"] = [f"Not a number in range: {', '.join(bad)}."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def tier_policy_update(*, actor: User, policy: TierPolicy, changes: Mapping[str, Any], reason: str) -> TierPolicy:
    """Change a tier's policy; the revision goes up and the ledger records old and new values."""
    require_role_permission(actor, TierPolicy, "change_tierpolicy", "change tier policies")
    reason = clean_comment(reason, field="reason", required=True)
    unknown = sorted(set(changes) - POLICY_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: ["This field cannot be changed."] for field in unknown})
    ledger_lock()
    policy = TierPolicy.objects.select_for_update().select_related("pack").get(pk=policy.pk)
    before = {field: getattr(policy, field) for field in changes}
    for field, value in changes.items():
        setattr(policy, field, value)
    _validate_policy(policy)
    policy.revision += 1
    save_with_history(policy, actor=actor, reason=reason)
    ledger_append(
        event_type=EventType.POLICY_CHANGED,
        actor=actor,
        subject=policy,
        summary=f"{policy.pack.code} Tier {policy.tier} policy changed (revision {policy.revision})",
        payload={"before": before, "after": dict(changes), "reason": reason, "revision": policy.revision},
    )
    return policy


def require_policy_pack_activate(actor: User) -> None:
    """Refuse (PermissionDenied) unless ``actor`` may choose the rule pack (Risk Officers, Admins); the service
    checks it first, the page before it reads the form."""
    require_role_permission(actor, PolicyPack, "change_policypack", "choose the rule pack")


@transaction.atomic
def policy_pack_activate(*, actor: User, pack: PolicyPack, reason: str) -> PolicyPack:
    """Make ``pack`` the installation's rule pack (SR 11-7 calendar or SR 26-2 trigger-based)."""
    require_policy_pack_activate(actor)
    reason = clean_comment(reason, field="reason", required=True)
    ledger_lock()
    previous = PolicyPack.objects.select_for_update().filter(is_active=True).first()
    if previous is not None and previous.pk == pack.pk:
        raise ValidationError({"pack": [f"{pack.name} is already the active rule pack."]})
    PolicyPack.objects.filter(is_active=True).update(is_active=False)
    pack.is_active = True
    pack.save(update_fields=["is_active", "updated_at"])
    ledger_append(
        event_type=EventType.POLICY_PACK_ACTIVATED,
        actor=actor,
        subject=pack,
        summary=f"Rule pack {pack.code} activated" + (f" (was {previous.code})" if previous else ""),
        payload={"pack": pack.code, "previous": previous.code if previous else None, "reason": reason},
    )
    return pack


def active_policy(tier: int | None) -> TierPolicy:
    """The active rule pack's policy for a tier; a model without a tier cannot go through approval."""
    if tier is None:
        raise ValidationError(
            {"risk_tier": ["The model has no approved risk assessment yet: assess it before submitting a version."]}
        )
    policy = TierPolicy.objects.select_related("pack").filter(pack__is_active=True, tier=tier).first()
    if policy is None:
        raise ValidationError({"policy": [f"The active rule pack has no policy for Tier {tier}."]})
    return policy
