"""Governance API: questionnaire versions and their impact preview, risk assessments, tier overrides, rule packs
and tier policies; who may read and write each, and that a refused or bad request writes nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from governance import scoring
from governance.choices import AssessmentStatus, EventType, QuestionnaireStatus
from governance.models import GovernanceEvent, PolicyPack, Questionnaire, RiskAssessment, TierOverride, TierPolicy
from governance.services import assessments
from inventory.models import RegisteredModel
from tests.factories import RegisteredModelFactory
from tests.governance.conftest import TIER_1_ANSWERS, TIER_2_ANSWERS, TIER_3_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db

QUESTIONNAIRES = "/api/v1/questionnaires/"
ASSESSMENTS = "/api/v1/risk-assessments/"
OVERRIDES = "/api/v1/tier-overrides/"
PACKS = "/api/v1/policy-packs/"
POLICIES = "/api/v1/tier-policies/"
JUSTIFICATION = "Feeds the IRB capital model, whose errors are material."


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have the given status."""
    assert response.status_code == status, response.content
    return response.json()


def governance_rows() -> tuple[int, ...]:
    """Row counts of everything a governance write could leave behind."""
    return (
        Questionnaire.objects.count(),
        RiskAssessment.objects.count(),
        TierOverride.objects.count(),
        GovernanceEvent.objects.count(),
        TierPolicy.history.count(),
    )


def published_definition() -> dict[str, Any]:
    """A copy of the published questionnaire's definition, to derive new versions from."""
    definition: dict[str, Any] = copy.deepcopy(
        Questionnaire.objects.get(status=QuestionnaireStatus.PUBLISHED).definition
    )
    return definition


# --- questionnaires ------------------------------------------------------------------------------------------------


@pytest.fixture
def draft_v2(personas, api_client_for):
    """A draft questionnaire v2 (Tier 1 from a lower score), drafted by the risk officer through the API."""
    definition = published_definition()
    definition["tier_thresholds"] = {"1": 30, "2": 10}
    body = {"definition": definition, "title": "Tiering v2", "notes": "Lower thresholds"}
    return ok(api_client_for(personas.risk_officer).post(QUESTIONNAIRES, body, format="json"), 201)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("risk_officer", [(2, "draft"), (1, "published")]),
        ("auditor", [(2, "draft"), (1, "published")]),
        ("owner_a", [(1, "published")]),
        ("validator_assigned", [(1, "published")]),
        ("ci_scoped", [(1, "published")]),
        ("validator_other", []),
        ("no_role", []),
    ],
)
def test_questionnaires_visible_per_role(personas, api_client_for, draft_v2, name, expected):
    body = ok(api_client_for(getattr(personas, name)).get(QUESTIONNAIRES))
    assert [(row["version"], row["status"]) for row in body["results"]] == expected


def test_published_questionnaire_holds_what_owners_answer(personas, api_client_for):
    body = ok(api_client_for(personas.owner_a).get(f"{QUESTIONNAIRES}1/"))
    assert body["status"] == "published"
    question_ids = {question["id"] for question in body["definition"]["questions"]}
    assert set(TIER_1_ANSWERS) == question_ids
    assert body["links"]["impact_preview"] == "http://testserver/api/v1/questionnaires/1/impact-preview/"


def test_draft_is_404_for_owners(personas, api_client_for, draft_v2):
    owner = api_client_for(personas.owner_a)
    assert owner.get(f"{QUESTIONNAIRES}2/").status_code == 404
    assert owner.get(f"{QUESTIONNAIRES}2/impact-preview/").status_code == 404
    assert owner.post(f"{QUESTIONNAIRES}2/publish/", {}, format="json").status_code == 404
    assert owner.get(f"{QUESTIONNAIRES}v2/").status_code == 404


def test_risk_officer_drafts_a_version(personas, draft_v2):
    assert (draft_v2["version"], draft_v2["status"], draft_v2["title"]) == (2, "draft", "Tiering v2")
    assert draft_v2["created_by"]["username"] == "risk_officer"
    assert GovernanceEvent.objects.filter(event_type=EventType.QUESTIONNAIRE_DRAFTED).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"definition": {"questions": []}}, "definition"),
        ({"definition": "not an object"}, "definition"),
        ({}, "definition"),
        ({"definition": {"questions": []}, "version": 7}, "version"),
        ({"definition": {"questions": []}, "change_reason": "why"}, "change_reason"),
    ],
)
def test_bad_draft_is_400_naming_the_field_and_writes_nothing(personas, api_client_for, body, field):
    before = governance_rows()
    response = api_client_for(personas.risk_officer).post(QUESTIONNAIRES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert governance_rows() == before


@pytest.mark.parametrize("name", ["owner_a", "auditor", "validator_assigned"])
def test_only_risk_officers_draft(personas, api_client_for, name):
    before = governance_rows()
    response = api_client_for(getattr(personas, name)).post(
        QUESTIONNAIRES, {"definition": published_definition()}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not draft questionnaires."}
    assert governance_rows() == before


@pytest.mark.parametrize("body", [{}, {"definition": "not an object"}, {"definition": {"questions": []}, "version": 7}])
def test_who_may_not_draft_gets_403_whatever_the_body(personas, api_client_for, body):
    # The permission comes before the body: the Risk Officer gets the 400 naming the field for the same bodies
    # (test_bad_draft_is_400_naming_the_field_and_writes_nothing).
    before = governance_rows()
    response = api_client_for(personas.owner_a).post(QUESTIONNAIRES, body, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not draft questionnaires."}
    assert governance_rows() == before


def test_impact_preview_lists_exactly_the_models_whose_tier_would_change(
    personas, api_client_for, draft_v2, second_risk_officer
):
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    approve_tier(personas.model_b, TIER_2_ANSWERS, personas.owner_b, personas.risk_officer)
    low = RegisteredModelFactory(business_unit=personas.unit)
    approve_tier(low, TIER_3_ANSWERS, personas.risk_officer, second_risk_officer)
    body = ok(api_client_for(personas.risk_officer).get(f"{QUESTIONNAIRES}2/impact-preview/"))
    definition = Questionnaire.objects.get(version=2).definition
    expected = {}
    for assessment in RiskAssessment.objects.filter(status=AssessmentStatus.APPROVED).select_related("model"):
        result = scoring.score_answers(definition, assessment.answers)
        if result.tier != assessment.computed_tier or result.eu_ai_act_category != assessment.eu_ai_act_category:
            expected[assessment.model.key] = (assessment.computed_tier, result.tier)
    assert expected, "the lower thresholds must move at least one model"
    assert body["questionnaire_version"] == 2
    assert body["assessed_models"] == 3
    assert {row["model_key"]: (row["current"]["tier"], row["new"]["tier"]) for row in body["would_change_tier"]} == (
        expected
    )
    assert body["needs_reassessment"] == []


def test_impact_preview_names_models_that_must_be_reassessed(personas, api_client_for):
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    definition = published_definition()
    definition["questions"][0]["id"] = "exposure"
    definition["tier_floors"] = []
    definition["eu_ai_act"] = [rule for rule in definition["eu_ai_act"] if "materiality" not in str(rule)]
    officer = api_client_for(personas.risk_officer)
    draft = ok(officer.post(QUESTIONNAIRES, {"definition": definition}, format="json"), 201)
    body = ok(officer.get(f"{QUESTIONNAIRES}{draft['version']}/impact-preview/"))
    [row] = body["needs_reassessment"]
    assert row["model_key"] == "RB-0001" and row["new"] is None
    assert row["current"] == {"tier": 1, "eu_ai_act_category": "high_risk"}
    assert row["problems"]["exposure"] == "Not answered."


def test_impact_preview_tells_an_owner_only_about_their_models(personas, api_client_for):
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    approve_tier(personas.model_b, TIER_1_ANSWERS, personas.owner_b, personas.risk_officer)
    # Both answered v1; the published definition is v1, so nothing moves, but each owner counts only their own.
    body = ok(api_client_for(personas.owner_b).get(f"{QUESTIONNAIRES}1/impact-preview/"))
    assert body["assessed_models"] == 1
    assert body["would_change_tier"] == [] and body["needs_reassessment"] == []


def test_publish_retires_the_previous_version(personas, api_client_for, draft_v2):
    owner = api_client_for(personas.owner_a)
    officer = api_client_for(personas.risk_officer)
    refused = owner.post(f"{QUESTIONNAIRES}1/publish/", {}, format="json")
    assert refused.status_code == 403 and refused.json() == {"detail": "You may not publish questionnaires."}
    assert officer.post(f"{QUESTIONNAIRES}2/publish/", {"force": True}, format="json").status_code == 400
    published = ok(officer.post(f"{QUESTIONNAIRES}2/publish/", {}, format="json"))
    assert (published["status"], published["published_by"]["username"]) == ("published", "risk_officer")
    assert Questionnaire.objects.get(version=1).status == QuestionnaireStatus.RETIRED
    again = officer.post(f"{QUESTIONNAIRES}2/publish/", {}, format="json")
    assert again.status_code == 400
    assert again.json() == {"status": ["Questionnaire v2 is not a draft."]}
    # Owners now see the new version and the retired one, never a draft.
    assert [row["version"] for row in ok(owner.get(QUESTIONNAIRES))["results"]] == [2, 1]


# --- risk assessments ----------------------------------------------------------------------------------------------


def assess(client: Any, key: str = "RB-0001", answers: dict[str, Any] | None = None) -> Any:
    return client.post(
        ASSESSMENTS, {"model": key, "answers": answers or TIER_1_ANSWERS, "rationale": "Credit"}, format="json"
    )


def test_owner_assesses_and_reads_the_reasons_with_the_tier(personas, api_client_for):
    response = assess(api_client_for(personas.owner_a))
    body = ok(response, 201)
    assert response["Location"] == f"http://testserver/api/v1/risk-assessments/{body['id']}/"
    assert body["model"] == {"key": "RB-0001", "name": "Retail PD scorecard"}
    assert (body["questionnaire_version"], body["computed_tier"], body["effective_tier"]) == (1, 1, 1)
    assert body["eu_ai_act_category"] == "high_risk"
    assert body["answers"] == TIER_1_ANSWERS
    assert body["assessed_by"]["username"] == "owner_a" and body["reviewed_by"] is None
    kinds = [reason["kind"] for reason in body["reasons"]]
    assert kinds[0] == "score" and "answer" in kinds
    assert any("Creditworthiness" in reason["text"] for reason in body["reasons"])
    assert body["overrides"] == []
    assert ok(api_client_for(personas.auditor).get(f"{ASSESSMENTS}{body['id']}/")) == body


@pytest.mark.parametrize(
    ("name", "status", "field"),
    [
        ("owner_b", 400, "model"),
        ("validator_other", 400, "model"),
        ("validator_assigned", 403, None),
        ("auditor", 403, None),
        ("ci_scoped", 403, None),
    ],
)
def test_who_may_not_assess(personas, api_client_for, name, status, field):
    before = governance_rows()
    response = assess(api_client_for(getattr(personas, name)))
    assert response.status_code == status
    if field:
        assert response.json() == {field: ["Registered model RB-0001 does not exist."]}
    else:
        assert response.json()["detail"] == "You may not assess model RB-0001."
    assert governance_rows() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "RB-0001", "answers": {**TIER_1_ANSWERS, "materiality": "enormous"}}, "answers"),
        ({"model": "RB-0001", "answers": {k: v for k, v in TIER_1_ANSWERS.items() if k != "complexity"}}, "answers"),
        ({"model": "RB-0001", "answers": ["high"]}, "answers"),
        ({"model": "RB-0001"}, "answers"),
        ({"answers": TIER_1_ANSWERS}, "model"),
        ({"model": 1, "answers": TIER_1_ANSWERS}, "model"),
        ({"model": "RB-0001", "answers": TIER_1_ANSWERS, "rationale": 5}, "rationale"),
        ({"model": "RB-0001", "answers": TIER_1_ANSWERS, "tier": 3}, "tier"),
    ],
)
def test_bad_assessment_is_400_naming_the_field_and_writes_nothing(personas, api_client_for, body, field):
    before = governance_rows()
    response = api_client_for(personas.owner_a).post(ASSESSMENTS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert governance_rows() == before


def test_answer_problems_name_the_question(personas, api_client_for):
    response = api_client_for(personas.owner_a).post(
        ASSESSMENTS, {"model": "RB-0001", "answers": {**TIER_1_ANSWERS, "materiality": "enormous"}}, format="json"
    )
    assert response.json()["answers"][0].startswith("materiality: Unknown option(s) enormous")


def test_review_needs_another_risk_officer(personas, api_client_for, second_risk_officer):
    officer = api_client_for(personas.risk_officer)
    assessment = ok(assess(officer), 201)
    url = f"{ASSESSMENTS}{assessment['id']}/"
    before = governance_rows()
    own = officer.post(f"{url}approve/", {"comment": "Fine"}, format="json")
    assert own.status_code == 403 and own.json()["detail"].startswith("SOD-6")
    owner = api_client_for(personas.owner_a).post(f"{url}approve/", {}, format="json")
    assert owner.status_code == 403 and owner.json() == {"detail": "You may not review risk assessment."}
    assert api_client_for(personas.owner_b).post(f"{url}approve/", {}, format="json").status_code == 404
    no_reason = api_client_for(second_risk_officer).post(f"{url}reject/", {}, format="json")
    assert no_reason.status_code == 400 and no_reason.json() == {"comment": ["This field is required."]}
    assert governance_rows() == before
    rejected = ok(api_client_for(second_risk_officer).post(f"{url}reject/", {"comment": "Wrong use"}, format="json"))
    assert (rejected["status"], rejected["review_comment"]) == ("rejected", "Wrong use")
    assert rejected["reviewed_by"]["username"] == "risk_officer_2"
    twice = api_client_for(second_risk_officer).post(f"{url}approve/", {}, format="json")
    assert twice.status_code == 400 and "decide it once" in twice.json()["status"][0]
    assert RegisteredModel.objects.get(key="RB-0001").risk_tier is None


def test_assessment_list_filters_and_visibility(personas, api_client_for):
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    approve_tier(personas.model_a, TIER_3_ANSWERS, personas.owner_a, personas.risk_officer)
    ok(assess(api_client_for(personas.owner_b), "RB-0002"), 201)
    auditor = api_client_for(personas.auditor)

    def listed(client: Any, **params: Any) -> list[tuple[str, str, int]]:
        rows = ok(client.get(ASSESSMENTS, params))["results"]
        return [(row["model"]["key"], row["status"], row["computed_tier"]) for row in rows]

    assert listed(auditor) == [("RB-0002", "submitted", 1), ("RB-0001", "approved", 3), ("RB-0001", "superseded", 1)]
    assert listed(auditor, model="RB-0001", status="superseded") == [("RB-0001", "superseded", 1)]
    assert listed(auditor, status=["approved", "submitted"]) == [
        ("RB-0002", "submitted", 1),
        ("RB-0001", "approved", 3),
    ]
    assert listed(api_client_for(personas.owner_b)) == [("RB-0002", "submitted", 1)]
    assert listed(api_client_for(personas.owner_b), model="RB-0001") == []
    assert listed(api_client_for(personas.no_role)) == []
    bad = auditor.get(ASSESSMENTS, {"status": "pending"})
    assert bad.status_code == 400 and "status" in bad.json()
    first = RiskAssessment.objects.filter(model=personas.model_a).earliest("pk")
    assert api_client_for(personas.owner_b).get(f"{ASSESSMENTS}{first.pk}/").status_code == 404


# --- tier overrides ------------------------------------------------------------------------------------------------


def test_override_request_and_decision(personas, api_client_for, second_risk_officer):
    assessment = approve_tier(personas.model_a, TIER_2_ANSWERS, personas.owner_a, personas.risk_officer)
    owner = api_client_for(personas.owner_a)
    before = governance_rows()
    short = owner.post(OVERRIDES, {"assessment": assessment.pk, "tier": 1, "justification": "why"}, format="json")
    assert short.status_code == 400 and "at least 20" in short.json()["justification"][0]
    same = owner.post(OVERRIDES, {"assessment": assessment.pk, "tier": 2, "justification": JUSTIFICATION})
    assert same.status_code == 400 and same.json() == {"tier": ["The assessment already gives Tier 2."]}
    for body, field in (
        ({"assessment": assessment.pk, "tier": 4, "justification": JUSTIFICATION}, "tier"),
        ({"assessment": str(assessment.pk), "tier": 1, "justification": JUSTIFICATION}, "assessment"),
        ({"assessment": 999999, "tier": 1, "justification": JUSTIFICATION}, "assessment"),
    ):
        response = owner.post(OVERRIDES, body, format="json")
        assert response.status_code == 400 and field in response.json(), body
    invisible = api_client_for(personas.owner_b).post(
        OVERRIDES, {"assessment": assessment.pk, "tier": 1, "justification": JUSTIFICATION}, format="json"
    )
    assert invisible.json() == {"assessment": [f"Risk assessment {assessment.pk} does not exist."]}
    assert governance_rows() == before

    override = ok(
        owner.post(OVERRIDES, {"assessment": assessment.pk, "tier": 1, "justification": JUSTIFICATION}, format="json"),
        201,
    )
    assert (override["status"], override["tier"], override["computed_tier"]) == ("pending", 1, 2)
    assert override["model"]["key"] == "RB-0001"
    pending = ok(api_client_for(personas.risk_officer).get(OVERRIDES, {"status": "pending"}))["results"]
    assert [row["id"] for row in pending] == [override["id"]]
    assert ok(api_client_for(personas.owner_b).get(OVERRIDES))["results"] == []
    assert api_client_for(personas.owner_b).get(f"{OVERRIDES}{override['id']}/").status_code == 404

    url = f"{OVERRIDES}{override['id']}/"
    mine = owner.post(f"{url}approve/", {"comment": "ok"}, format="json")
    assert mine.status_code == 403
    decided = ok(api_client_for(second_risk_officer).post(f"{url}approve/", {"comment": "Agreed"}, format="json"))
    assert (decided["status"], decided["decided_by"]["username"]) == ("approved", "risk_officer_2")
    reread = ok(api_client_for(personas.auditor).get(f"{ASSESSMENTS}{assessment.pk}/"))
    assert (reread["computed_tier"], reread["effective_tier"]) == (2, 1)
    assert [row["status"] for row in reread["overrides"]] == ["approved"]
    assert RegisteredModel.objects.get(key="RB-0001").risk_tier == 1


def test_override_requester_may_not_decide_it(personas, api_client_for):
    assessment = approve_tier(personas.model_a, TIER_2_ANSWERS, personas.owner_a, personas.risk_officer)
    officer = api_client_for(personas.risk_officer)
    override = ok(
        officer.post(OVERRIDES, {"assessment": assessment.pk, "tier": 1, "justification": JUSTIFICATION}), 201
    )
    before = governance_rows()
    response = officer.post(f"{OVERRIDES}{override['id']}/reject/", {"comment": "No"}, format="json")
    assert response.status_code == 403 and response.json()["detail"].startswith("SOD-6")
    assert governance_rows() == before


def test_refused_reviewers_get_403_whatever_the_body(personas, api_client_for):
    assessment = approve_tier(personas.model_a, TIER_2_ANSWERS, personas.owner_a, personas.risk_officer)
    reassessed = ok(assess(api_client_for(personas.owner_a), answers=TIER_1_ANSWERS), 201)
    override = assessments.tier_override_request(
        actor=personas.owner_a, assessment=assessment, tier=1, justification=JUSTIFICATION
    )
    before = governance_rows()
    bad = {"comment": ["not", "text"], "outcome": "maybe"}
    owner = api_client_for(personas.owner_a)
    for url, detail in (
        (f"{ASSESSMENTS}{reassessed['id']}/approve/", "You may not review risk assessment."),
        (f"{OVERRIDES}{override.pk}/reject/", "You may not review tier override request."),
    ):
        response = owner.post(url, bad, format="json")
        assert response.status_code == 403, url
        assert response.json() == {"detail": detail}
    response = api_client_for(personas.auditor).post(f"{PACKS}sr-26-2/activate/", bad, format="json")
    assert response.status_code == 403 and response.json() == {"detail": "You may not choose the rule pack."}
    # The same body from a Risk Officer is the 400 naming the bad fields.
    response = api_client_for(personas.risk_officer).post(f"{OVERRIDES}{override.pk}/reject/", bad, format="json")
    assert response.status_code == 400 and {"comment", "outcome"} <= set(response.json())
    assert governance_rows() == before


# --- rule packs and tier policies --------------------------------------------------------------------------------


def test_packs_are_listed_for_the_second_and_third_line(personas, api_client_for):
    body = ok(api_client_for(personas.auditor).get(PACKS))
    assert [(row["code"], row["is_active"]) for row in body["results"]] == [("sr-11-7", True), ("sr-26-2", False)]
    assert [policy["tier"] for policy in body["results"][0]["tier_policies"]] == [1, 2, 3]
    assert ok(api_client_for(personas.owner_a).get(PACKS))["results"] == []


def test_risk_officer_activates_a_pack_with_a_reason(personas, api_client_for):
    officer = api_client_for(personas.risk_officer)
    before = governance_rows()
    assert api_client_for(personas.owner_a).post(f"{PACKS}sr-26-2/activate/", {"reason": "x"}).status_code == 404
    auditor = api_client_for(personas.auditor).post(f"{PACKS}sr-26-2/activate/", {"reason": "x"}, format="json")
    assert auditor.status_code == 403 and auditor.json() == {"detail": "You may not choose the rule pack."}
    missing = officer.post(f"{PACKS}sr-26-2/activate/", {}, format="json")
    assert missing.status_code == 400 and missing.json() == {"reason": ["This field is required."]}
    assert officer.post(f"{PACKS}nope/activate/", {"reason": "x"}, format="json").status_code == 404
    assert governance_rows() == before
    active = ok(officer.post(f"{PACKS}sr-26-2/activate/", {"reason": "Adopt SR 26-2"}, format="json"))
    assert active["is_active"] is True
    assert PolicyPack.objects.get(is_active=True).code == "sr-26-2"
    event = GovernanceEvent.objects.latest("seq")
    assert (event.event_type, event.payload["reason"]) == (EventType.POLICY_PACK_ACTIVATED, "Adopt SR 26-2")
    again = officer.post(f"{PACKS}sr-26-2/activate/", {"reason": "Again"}, format="json")
    assert again.status_code == 400 and "already the active" in again.json()["pack"][0]


def test_tier_policies_filter_and_visibility(personas, api_client_for):
    auditor = api_client_for(personas.auditor)
    rows = ok(auditor.get(POLICIES, {"pack": "sr-26-2", "tier": [1, 3]}))["results"]
    assert [(row["pack"]["code"], row["tier"]) for row in rows] == [("sr-26-2", 1), ("sr-26-2", 3)]
    assert rows[0]["required_approvers"] == 2 and rows[0]["revision"] == 1
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=1)
    assert api_client_for(personas.owner_a).get(f"{POLICIES}{policy.pk}/").status_code == 404
    assert auditor.get(POLICIES, {"tier": 9}).status_code == 400


def test_risk_officer_changes_a_policy_with_a_reason(personas, api_client_for):
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=2)
    url = f"{POLICIES}{policy.pk}/"
    officer = api_client_for(personas.risk_officer)
    changed = ok(
        officer.patch(url, {"required_approvers": 2, "reason": "Two approvers for Tier 2 from Q3"}, format="json")
    )
    assert (changed["required_approvers"], changed["revision"]) == (2, policy.revision + 1)
    history = ok(officer.get(f"{url}history/"))["results"]
    assert (history[0]["user"], history[0]["reason"]) == ("risk_officer", "Two approvers for Tier 2 from Q3")
    event = GovernanceEvent.objects.latest("seq")
    assert event.event_type == EventType.POLICY_CHANGED
    assert (event.payload["before"], event.payload["after"]) == ({"required_approvers": 1}, {"required_approvers": 2})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"required_approvers": 2}, "reason"),
        ({"required_approvers": 2, "reason": ""}, "reason"),
        ({"reason": "Nothing"}, "non_field_errors"),
        ({"required_stages": ["validation"], "reason": "Drop review"}, "required_stages"),
        ({"required_stages": ["sign_off", "risk_review"], "reason": "x"}, "required_stages"),
        ({"required_approvers": 9, "reason": "Many"}, "required_approvers"),
        ({"bias_thresholds": {"accuracy_min": 0.9}, "reason": "New metric"}, "bias_thresholds"),
        ({"tier": 1, "reason": "Move"}, "tier"),
        ({"revision": 9, "reason": "Bump"}, "revision"),
    ],
)
def test_bad_policy_change_is_400_naming_the_field_and_writes_nothing(personas, api_client_for, body, field):
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=2)
    before = (governance_rows(), policy.revision)
    response = api_client_for(personas.risk_officer).patch(f"{POLICIES}{policy.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    policy.refresh_from_db()
    assert (governance_rows(), policy.revision) == before


def test_policy_changes_refused_to_others(personas, api_client_for):
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=2)
    url = f"{POLICIES}{policy.pk}/"
    body = {"required_approvers": 2, "reason": "Mine"}
    auditor = api_client_for(personas.auditor).patch(url, body, format="json")
    assert auditor.status_code == 403 and auditor.json() == {"detail": "You may not change tier policies."}
    assert api_client_for(personas.owner_a).patch(url, body, format="json").status_code == 404
    assert api_client_for(personas.risk_officer).put(url, body, format="json").status_code == 405
    policy.refresh_from_db()
    assert policy.required_approvers == 1
