"""The pure tiering function: thresholds, floors, EU AI Act categories, reasons, definition checks."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from governance import scoring
from tests.governance.conftest import TIER_1_ANSWERS, TIER_2_ANSWERS, TIER_3_ANSWERS

DEFINITION = json.loads((Path(__file__).resolve().parents[2] / "governance/data/questionnaire_v1.json").read_text())


def test_shipped_definition_is_valid():
    assert scoring.validate_definition(DEFINITION) == []


@pytest.mark.parametrize(
    ("answers", "tier", "category"),
    [(TIER_1_ANSWERS, 1, "high_risk"), (TIER_2_ANSWERS, 2, "minimal"), (TIER_3_ANSWERS, 3, "minimal")],
)
def test_tiers_and_categories(answers, tier, category):
    result = scoring.score_answers(DEFINITION, answers)
    assert (result.tier, result.eu_ai_act_category) == (tier, category)


def test_score_is_the_sum_of_option_points():
    result = scoring.score_answers(DEFINITION, TIER_1_ANSWERS)
    # high 20 + exceptions 12 + creditworthiness 25 + proxies 10 + interpretable 4 + customers 8
    assert result.score == 79
    answer_points = [reason.points for reason in result.reasons if reason.kind == "answer"]
    assert answer_points == sorted(answer_points, reverse=True)
    assert answer_points[0] == 25


def test_floor_raises_tier_and_is_given_as_reason():
    answers = {**TIER_3_ANSWERS, "annex_iii_areas": ["employment"]}
    result = scoring.score_answers(DEFINITION, answers)
    assert result.score == 25 and result.tier == 2
    answers = {**TIER_3_ANSWERS, "annex_iii_areas": ["employment"], "materiality": "high"}
    result = scoring.score_answers(DEFINITION, answers)
    assert result.tier == 1
    assert any(reason.kind == "floor" and "Annex III" in reason.text for reason in result.reasons)


def test_prohibited_practice_wins_over_everything():
    result = scoring.score_answers(DEFINITION, {**TIER_3_ANSWERS, "prohibited_practices": ["social_scoring"]})
    assert (result.tier, result.eu_ai_act_category) == (1, "prohibited")


def test_chatbot_is_limited_risk():
    result = scoring.score_answers(DEFINITION, {**TIER_3_ANSWERS, "transparency": ["interacts_with_people"]})
    assert result.eu_ai_act_category == "limited"


def test_fraud_detection_is_not_high_risk():
    result = scoring.score_answers(DEFINITION, {**TIER_3_ANSWERS, "annex_iii_areas": ["fraud_detection"]})
    assert result.eu_ai_act_category == "minimal"


def test_answers_are_checked_per_question():
    problems = scoring.validate_answers(
        DEFINITION,
        {**TIER_1_ANSWERS, "materiality": "huge", "annex_iii_areas": "creditworthiness", "extra": "x"}
        | {"complexity": None},
    )
    assert set(problems) == {"materiality", "annex_iii_areas", "extra", "complexity"}
    assert "huge" in problems["materiality"]


def test_bad_definitions_are_explained():
    broken = copy.deepcopy(DEFINITION)
    broken["tier_thresholds"] = {"1": 10, "2": 20}
    broken["questions"][0]["options"][0]["points"] = -1
    broken["tier_floors"].append({"when": [{"question": "nope", "any_of": ["x"]}], "tier": 1})
    problems = scoring.validate_definition(broken)
    assert any("Tier 1 threshold" in p for p in problems)
    assert any("points" in p for p in problems)
    assert any("unknown question 'nope'" in p for p in problems)
    assert scoring.validate_definition([]) == ["The definition must be an object."]
