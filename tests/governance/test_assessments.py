"""Risk assessments, overrides, questionnaire versions and the impact preview."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance import scoring
from governance.choices import AssessmentStatus, EventType, QuestionnaireStatus
from governance.models import GovernanceEvent, Questionnaire, RiskAssessment
from governance.selectors import questionnaire_impact_preview
from governance.services import assessments
from tests.factories import RegisteredModelFactory
from tests.governance.conftest import TIER_1_ANSWERS, TIER_2_ANSWERS, TIER_3_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db


def test_assessment_sets_tier_category_and_keeps_reasons(personas):
    assessment = approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    personas.model_a.refresh_from_db()
    assert (personas.model_a.risk_tier, personas.model_a.eu_ai_act_category) == (1, "high_risk")
    assert assessment.reasons[0]["kind"] == "score"
    assert any("Creditworthiness" in reason["text"] for reason in assessment.reasons)
    latest = personas.model_a.history.first()
    assert latest.history_user == personas.risk_officer
    assert "Risk assessment" in latest.history_change_reason


def test_reassessment_supersedes_and_never_edits(personas):
    first = approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    second = approve_tier(personas.model_a, TIER_3_ANSWERS, personas.owner_a, personas.risk_officer)
    first.refresh_from_db()
    assert first.status == AssessmentStatus.SUPERSEDED
    assert first.computed_tier == 1 and first.answers == TIER_1_ANSWERS
    assert second.status == AssessmentStatus.APPROVED
    personas.model_a.refresh_from_db()
    assert personas.model_a.risk_tier == 3


def test_nobody_reviews_their_own_assessment(personas):
    assessment = assessments.risk_assessment_create(
        actor=personas.risk_officer, model=personas.model_a, answers=TIER_1_ANSWERS
    )
    with pytest.raises(PermissionDenied, match="SOD-6"):
        assessments.risk_assessment_review(actor=personas.risk_officer, assessment=assessment, approve=True)
    with pytest.raises(PermissionDenied):
        assessments.risk_assessment_review(actor=personas.owner_a, assessment=assessment, approve=True)


def test_bad_answers_write_nothing(personas):
    before = (RiskAssessment.objects.count(), GovernanceEvent.objects.count())
    with pytest.raises(ValidationError) as error:
        assessments.risk_assessment_create(
            actor=personas.owner_a, model=personas.model_a, answers={**TIER_1_ANSWERS, "materiality": "enormous"}
        )
    assert "materiality" in str(error.value.message_dict["answers"])
    with pytest.raises(PermissionDenied):
        assessments.risk_assessment_create(actor=personas.owner_b, model=personas.model_a, answers=TIER_1_ANSWERS)
    assert (RiskAssessment.objects.count(), GovernanceEvent.objects.count()) == before


def test_override_needs_justification_and_another_risk_officer(personas, second_risk_officer):
    assessment = approve_tier(personas.model_a, TIER_2_ANSWERS, personas.owner_a, personas.risk_officer)
    with pytest.raises(ValidationError, match="at least 20"):
        assessments.tier_override_request(actor=personas.owner_a, assessment=assessment, tier=1, justification="why")
    override = assessments.tier_override_request(
        actor=personas.risk_officer,
        assessment=assessment,
        tier=1,
        justification="Feeds the IRB capital model, whose errors are material.",
    )
    with pytest.raises(PermissionDenied, match="SOD-6"):
        assessments.tier_override_decide(actor=personas.risk_officer, override=override, approve=True)
    assessments.tier_override_decide(actor=second_risk_officer, override=override, approve=True, comment="Agreed")
    personas.model_a.refresh_from_db()
    assert personas.model_a.risk_tier == 1
    assert assessments.effective_tier(assessment) == 1
    with pytest.raises(ValidationError, match="already"):
        assessments.tier_override_decide(actor=second_risk_officer, override=override, approve=False, comment="no")
    types = set(GovernanceEvent.objects.values_list("event_type", flat=True))
    assert {EventType.OVERRIDE_REQUESTED, EventType.OVERRIDE_APPROVED} <= types


def test_impact_preview_lists_exactly_the_models_that_change(personas):
    models = [personas.model_a, personas.model_b] + [
        RegisteredModelFactory(business_unit=personas.unit) for _ in range(4)
    ]
    answer_sets = [
        TIER_1_ANSWERS,
        TIER_2_ANSWERS,
        TIER_3_ANSWERS,
        {**TIER_3_ANSWERS, "materiality": "moderate"},
        {**TIER_2_ANSWERS, "materiality": "high"},
        {**TIER_3_ANSWERS, "transparency": ["interacts_with_people"]},
    ]
    for model, answers in zip(models, answer_sets, strict=True):
        approve_tier(model, answers, personas.risk_officer, personas.admin)
    new_definition = copy.deepcopy(Questionnaire.objects.get(version=1).definition)
    new_definition["tier_thresholds"] = {"1": 45, "2": 15}
    preview = questionnaire_impact_preview(definition=new_definition)
    expected = set()
    old_definition = Questionnaire.objects.get(version=1).definition
    for model, answers in zip(models, answer_sets, strict=True):
        old, new = scoring.score_answers(old_definition, answers), scoring.score_answers(new_definition, answers)
        if (old.tier, old.eu_ai_act_category) != (new.tier, new.eu_ai_act_category):
            expected.add(model.key)
    assert expected  # the changed thresholds must move someone, or the test proves nothing
    assert {change.model_key for change in preview.changes} == expected
    assert preview.assessed_models == len(models)


def test_new_question_makes_old_answers_need_reassessment(personas):
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    definition = copy.deepcopy(Questionnaire.objects.get(version=1).definition)
    definition["questions"].append(
        {
            "id": "retraining",
            "text": "Retrains itself in production?",
            "options": [{"value": "no", "label": "No", "points": 0}, {"value": "yes", "label": "Yes", "points": 10}],
        }
    )
    preview = questionnaire_impact_preview(definition=definition)
    assert [change.model_key for change in preview.unanswerable] == ["RB-0001"]
    assert "retraining" in preview.unanswerable[0].problems


def test_publish_new_questionnaire_version(personas):
    definition = copy.deepcopy(Questionnaire.objects.get(version=1).definition)
    definition["tier_thresholds"] = {"1": 60, "2": 30}
    with pytest.raises(PermissionDenied):
        assessments.questionnaire_draft_create(actor=personas.owner_a, definition=definition)
    with pytest.raises(ValidationError):
        assessments.questionnaire_draft_create(actor=personas.risk_officer, definition={"questions": []})
    draft = assessments.questionnaire_draft_create(actor=personas.risk_officer, definition=definition)
    assert draft.version == 2 and draft.status == QuestionnaireStatus.DRAFT
    assessments.questionnaire_publish(actor=personas.risk_officer, questionnaire=draft)
    assert assessments.current_questionnaire().version == 2
    assert Questionnaire.objects.get(version=1).status == QuestionnaireStatus.RETIRED
    with pytest.raises(ValidationError, match="not a draft"):
        assessments.questionnaire_publish(actor=personas.risk_officer, questionnaire=draft)
