"""Governance fixtures: answers that give each tier, and models brought to an approved tier."""

from __future__ import annotations

from typing import Any

import pytest

from core import roles
from governance.services.assessments import risk_assessment_create, risk_assessment_review
from tests.factories import UserFactory

TIER_1_ANSWERS = {
    "materiality": "high",
    "decision_autonomy": "exceptions_only",
    "annex_iii_areas": ["creditworthiness"],
    "personal_data": "proxies",
    "complexity": "interpretable",
    "vendor_opacity": "in_house",
    "user_population": "customers",
    "prohibited_practices": ["none"],
    "transparency": ["none"],
}
TIER_2_ANSWERS = {**TIER_1_ANSWERS, "materiality": "moderate", "annex_iii_areas": ["none"]}
TIER_3_ANSWERS = {
    "materiality": "low",
    "decision_autonomy": "informs",
    "annex_iii_areas": ["none"],
    "personal_data": "none",
    "complexity": "rules",
    "vendor_opacity": "in_house",
    "user_population": "team",
    "prohibited_practices": ["none"],
    "transparency": ["none"],
}


@pytest.fixture
def second_risk_officer(personas: Any) -> Any:
    return UserFactory(username="risk_officer_2", roles=[roles.RISK_OFFICER])


def approve_tier(model: Any, answers: dict[str, Any], assessor: Any, reviewer: Any) -> Any:
    assessment = risk_assessment_create(actor=assessor, model=model, answers=answers)
    risk_assessment_review(actor=reviewer, assessment=assessment, approve=True, comment="Agreed")
    model.refresh_from_db()
    assessment.refresh_from_db()
    return assessment


@pytest.fixture
def tier1_model_a(personas: Any) -> Any:
    """Model A assessed by its owner and approved by the risk officer: Tier 1."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    return personas.model_a
