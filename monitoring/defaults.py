"""Tier defaults of the monitoring limits, installed after ``migrate`` where none exist yet.

Values follow common practice: PSI under 0.1 is no change, 0.1-0.25 a moderate shift, above 0.25 a significant
one; stricter tiers look closer and need fewer bad windows before a finding. The scheduled drift audit runs weekly
for tier 1, monthly for tier 2 and quarterly for tier 3. The seeding only fills in missing rows, so a row changed
later is kept.
"""

from __future__ import annotations

from typing import Any

TIER_DEFAULTS: dict[int, dict[str, Any]] = {
    1: {
        "psi_feature_max": 0.1,
        "psi_overall_max": 0.1,
        "consecutive_windows": 2,
        "revalidate_on_drift": True,
        "drift_cadence_days": 7,
    },
    2: {
        "psi_feature_max": 0.2,
        "psi_overall_max": 0.15,
        "consecutive_windows": 3,
        "revalidate_on_drift": False,
        "drift_cadence_days": 30,
    },
    3: {
        "psi_feature_max": 0.25,
        "psi_overall_max": 0.2,
        "consecutive_windows": 3,
        "revalidate_on_drift": False,
        "drift_cadence_days": 90,
    },
}


def seed_tier_defaults(using: str = "default") -> None:
    """Create each tier's default row if it is missing (existing rows are left as they are)."""
    from monitoring.models import TierMonitoringDefault

    for tier, values in TIER_DEFAULTS.items():
        TierMonitoringDefault.objects.using(using).get_or_create(tier=tier, defaults=values)


def seed_tier_defaults_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate hook of the monitoring app."""
    seed_tier_defaults(using)
