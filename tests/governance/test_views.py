"""Governance pages: who sees what, which steps each person is offered, and every write going through the services.

Every page is tried by a user who must be refused: objects they may not see are a 404, steps they may not take a
403 naming the rule (segregation of duties), and input a service refuses comes back on the form with status 400.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from governance.choices import AssessmentStatus, EventType, FindingStatus, OverrideStatus, QuestionnaireStatus
from governance.context_processors import notifications as notifications_context
from governance.models import (
    Finding,
    GovernanceEvent,
    Notification,
    PolicyPack,
    Questionnaire,
    RiskAssessment,
    TierOverride,
    TierPolicy,
)
from governance.services import assessments, findings, workflow
from governance.services.notifications import notify
from governance.templatetags.governance_extras import answer_rows, eu_category_label, event_label, short_hash
from inventory.choices import VersionState
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_1_ANSWERS, TIER_3_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db

QUEUE_URL = reverse("governance:queue")
FINDINGS_URL = reverse("governance:finding-list")
LEDGER_URL = reverse("governance:ledger")
POLICIES_URL = reverse("governance:policies")
NOTIFICATIONS_URL = reverse("governance:notifications")
MARK_READ_URL = reverse("governance:notifications-read")
PACK_URL = reverse("governance:pack-activate")
DUE = dt.date.today() + dt.timedelta(days=30)


def model_url(key: str) -> str:
    return reverse("governance:model", args=[key])


def assess_url(key: str) -> str:
    return reverse("governance:assess", args=[key])


def step_url(version: Any, step: str) -> str:
    return reverse("governance:version-step", args=[version.pk, step])


def finding_url(finding: Finding) -> str:
    return reverse("governance:finding-detail", args=[finding.pk])


def finding_step_url(finding: Finding, step: str) -> str:
    return reverse("governance:finding-step", args=[finding.pk, step])


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def findings_data(*rows: dict[str, Any]) -> dict[str, Any]:
    """The findings rows of a validate or decide form as the browser posts them: filled rows, then blank ones."""
    data: dict[str, Any] = {
        "findings-TOTAL_FORMS": "3",
        "findings-INITIAL_FORMS": "0",
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "20",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"findings-{index}-{name}"] = value
    return data


def step_names(response: Any, version: Any) -> list[str]:
    """The workflow steps the page offers for ``version`` (names of the steps whose forms are rendered)."""
    for panel in response.context.get("versions", []):
        if panel.workflow.version.pk == version.pk:
            return [step.name for step in panel.steps]
    for row in response.context.get("rows", []):
        if row.version.pk == version.pk:
            return [step.name for step in row.steps]
    return []


def raise_finding(personas: Any, **overrides: Any) -> Finding:
    fields: dict[str, Any] = {"title": "Monotonicity not tested", "severity": "high", "due_date": DUE} | overrides
    fields.setdefault("model", personas.model_a)
    return findings.finding_raise(actor=personas.risk_officer, **fields)


@pytest.fixture
def version_a(tier1_model_a: Any, personas: Any) -> Any:
    """A draft version of the Tier 1 model A, developed by its owner."""
    return ModelVersionFactory(model=tier1_model_a, version="2.0.0", actor=personas.owner_a)


@pytest.fixture
def in_risk_review(version_a: Any, personas: Any) -> Any:
    """Version A submitted and passed by its validator: waiting for two Risk Officers."""
    workflow.version_submit(actor=personas.owner_a, version=version_a, comment="Ready")
    workflow.version_start_validation(actor=personas.validator_assigned, version=version_a)
    workflow.version_validate(actor=personas.validator_assigned, version=version_a, passed=True, comment="Sound")
    version_a.refresh_from_db()
    return version_a


# --- every page needs a signed-in user ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        model_url("RB-0001"),
        assess_url("RB-0001"),
        QUEUE_URL,
        FINDINGS_URL,
        reverse("governance:finding-detail", args=[1]),
        LEDGER_URL,
        POLICIES_URL,
        reverse("governance:tier-policy-edit", args=[1]),
        reverse("governance:questionnaire", args=[1]),
        NOTIFICATIONS_URL,
    ],
)
def test_anonymous_users_are_sent_to_sign_in(client, personas, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "url",
    [
        reverse("governance:version-step", args=[1, "submit"]),
        reverse("governance:assessment-review", args=[1]),
        reverse("governance:override-request", args=[1]),
        reverse("governance:override-decide", args=[1]),
        reverse("governance:finding-step", args=[1, "close"]),
        PACK_URL,
        reverse("governance:questionnaire-publish", args=[1]),
        MARK_READ_URL,
    ],
)
def test_anonymous_posts_change_nothing(client, personas, url):
    events = GovernanceEvent.objects.count()
    response = client.post(url, {"comment": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert GovernanceEvent.objects.count() == events


def test_forms_need_the_csrf_token(personas, version_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.owner_a)
    response = client.post(step_url(version_a, "submit"), {"comment": "Ready"})
    assert response.status_code == 403
    version_a.refresh_from_db()
    assert version_a.state == VersionState.DRAFT


@pytest.mark.parametrize("url_name", ["governance:version-step", "governance:finding-step"])
def test_steps_are_posted_never_fetched(personas, version_a, url_name):
    finding = raise_finding(personas)
    target = version_a.pk if url_name == "governance:version-step" else finding.pk
    response = as_user(personas.owner_a).get(reverse(url_name, args=[target, "start_remediation"]))
    assert response.status_code == 405


# --- a model's governance page -----------------------------------------------------------------------------------


def test_model_page_shows_tier_reasons_history_and_ledger(personas, version_a):
    response = as_user(personas.owner_a).get(model_url("RB-0001"))
    assert response.status_code == 200
    html = response.content.decode()
    current = response.context["current_row"].assessment
    assert current.status == AssessmentStatus.APPROVED and current.effective_tier == 1
    assert "High-risk (Annex III)" in html
    for reason in current.reasons:
        assert escape(reason["text"]) in html
    history = response.context["assessment_rows"]
    assert [row.assessment.pk for row in history] == [current.pk]
    assert "owner_a" in html and "risk_officer" in html
    events = list(response.context["events"])
    assert [event.event_type for event in events] == [EventType.ASSESSMENT_APPROVED, EventType.ASSESSMENT_SUBMITTED]
    assert events[0].hash[:12] in html
    assert f'href="{assess_url("RB-0001")}"' in html
    assert step_names(response, version_a) == ["submit"]


@pytest.mark.parametrize("persona", ["owner_b", "validator_other", "no_role"])
def test_model_page_is_a_404_for_who_may_not_see_the_model(personas, persona):
    response = as_user(getattr(personas, persona)).get(model_url("RB-0001"))
    assert response.status_code == 404
    assert b"Retail PD scorecard" not in response.content


def test_auditor_reads_everything_and_is_offered_nothing(personas, in_risk_review):
    response = as_user(personas.auditor).get(model_url("RB-0001"))
    assert response.status_code == 200
    assert step_names(response, in_risk_review) == []
    assert assess_url("RB-0001").encode() not in response.content
    assert not response.context["can_assess"]
    assert all(row.review is None and row.override_request is None for row in response.context["assessment_rows"])


def test_version_timeline_decisions_and_approvals_so_far(personas, in_risk_review):
    workflow.version_decide(actor=personas.risk_officer, version=in_risk_review, approve=True, comment="First yes")
    response = as_user(personas.owner_a).get(model_url("RB-0001"))
    html = response.content.decode()
    flow = response.context["versions"][0].workflow
    assert [t.action for t in flow.transitions] == ["submit", "start_validation", "validate"]
    assert "Submit for approval" in html and "Pass validation" in html and "validator_assigned" in html
    assert "Sound" in html and "First yes" in html
    assert flow.approvers == ["risk_officer"] and flow.required_approvers == 2
    assert "1 of 2 (risk_officer)" in html
    # The owner may take the version back while it is in review, but never decide it.
    assert step_names(response, in_risk_review) == ["withdraw"]


def test_risk_officer_is_offered_the_decision_until_they_have_decided(personas, in_risk_review, second_risk_officer):
    client = as_user(personas.risk_officer)
    page = client.get(model_url("RB-0001"))
    assert "decide" in step_names(page, in_risk_review)
    html = page.content.decode()
    assert f'action="{step_url(in_risk_review, "decide")}"' in html
    assert 'name="outcome" value="approve">Approve</button>' in html
    assert 'name="outcome" value="reject">Reject</button>' in html
    workflow.version_decide(actor=personas.risk_officer, version=in_risk_review, approve=True, comment="Yes")
    assert "decide" not in step_names(client.get(model_url("RB-0001")), in_risk_review)
    assert "decide" in step_names(as_user(second_risk_officer).get(model_url("RB-0001")), in_risk_review)


def test_inventory_dossier_links_to_the_governance_page(personas):
    response = as_user(personas.owner_a).get(reverse("inventory:model-detail", args=["RB-0001"]))
    assert f'href="{model_url("RB-0001")}"'.encode() in response.content


# --- assessing -----------------------------------------------------------------------------------------------------


def test_assess_form_is_rendered_from_the_questionnaire(personas):
    response = as_user(personas.owner_b).get(assess_url("RB-0002"))
    assert response.status_code == 200
    html = response.content.decode()
    definition = Questionnaire.objects.get(status=QuestionnaireStatus.PUBLISHED).definition
    for question in definition["questions"]:
        kind = "checkbox" if question.get("kind") == "multiple" else "radio"
        assert f'type="{kind}" name="q_{question["id"]}"' in html
        assert escape(question["text"]) in html
        if question.get("help"):
            assert escape(question["help"]) in html


def test_assessing_records_an_assessment_awaiting_review(personas):
    data = {f"q_{qid}": answer for qid, answer in TIER_3_ANSWERS.items()} | {"rationale": "Internal tool"}
    response = as_user(personas.owner_b).post(assess_url("RB-0002"), data)
    assert response.status_code == 302 and response["Location"] == model_url("RB-0002")
    assessment = RiskAssessment.objects.get(model=personas.model_b)
    assert (assessment.status, assessment.computed_tier, assessment.assessed_by) == (
        AssessmentStatus.SUBMITTED,
        3,
        personas.owner_b,
    )
    assert assessment.answers == TIER_3_ANSWERS and assessment.rationale == "Internal tool"
    page = as_user(personas.owner_b).get(model_url("RB-0002"))
    assert [row.assessment for row in page.context["pending_rows"]] == [assessment]
    assert b"Another Risk Officer than the assessor decides it." in page.content


def test_unanswered_questions_are_shown_and_nothing_is_saved(personas):
    data = {f"q_{qid}": answer for qid, answer in TIER_3_ANSWERS.items() if qid != "materiality"}
    response = as_user(personas.owner_b).post(assess_url("RB-0002"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["q_materiality"] == ["This field is required."]
    assert not RiskAssessment.objects.filter(model=personas.model_b).exists()


def test_without_a_published_questionnaire_there_is_nothing_to_answer(personas):
    Questionnaire.objects.update(status=QuestionnaireStatus.RETIRED)
    client = as_user(personas.owner_b)
    page = client.get(assess_url("RB-0002"))
    assert page.status_code == 200 and page.context["form"] is None
    assert b"No questionnaire is published yet" in page.content
    assert client.post(assess_url("RB-0002"), {"q_materiality": "low"}).status_code == 400
    assert not RiskAssessment.objects.filter(model=personas.model_b).exists()


@pytest.mark.parametrize(("persona", "status"), [("auditor", 403), ("validator_assigned", 403), ("owner_b", 404)])
def test_who_may_not_assess_is_refused(personas, persona, status):
    response = as_user(getattr(personas, persona)).get(assess_url("RB-0001"))
    assert response.status_code == status


def test_risk_officer_approves_an_assessment_from_the_queue(personas):
    assessment = assessments.risk_assessment_create(
        actor=personas.owner_b, model=personas.model_b, answers=TIER_3_ANSWERS
    )
    queue = as_user(personas.risk_officer).get(QUEUE_URL)
    assert [row.assessment for row in queue.context["waiting_assessments"]] == [assessment]
    url = reverse("governance:assessment-review", args=[assessment.pk])
    assert url.encode() in queue.content
    response = as_user(personas.risk_officer).post(url, {"outcome": "approve", "next": QUEUE_URL})
    assert response.status_code == 302 and response["Location"] == QUEUE_URL
    personas.model_b.refresh_from_db()
    assert personas.model_b.risk_tier == 3


def test_nobody_reviews_their_own_assessment(personas):
    assessment = assessments.risk_assessment_create(
        actor=personas.risk_officer, model=personas.model_b, answers=TIER_3_ANSWERS
    )
    client = as_user(personas.risk_officer)
    queue = client.get(QUEUE_URL)
    assert queue.context["waiting_assessments"][0].review is None
    response = client.post(reverse("governance:assessment-review", args=[assessment.pk]), {"outcome": "approve"})
    assert response.status_code == 403
    assert b"SOD-6" in response.content
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_owner_cannot_review_and_rejecting_needs_a_comment(personas):
    assessment = assessments.risk_assessment_create(
        actor=personas.owner_b, model=personas.model_b, answers=TIER_3_ANSWERS
    )
    url = reverse("governance:assessment-review", args=[assessment.pk])
    assert as_user(personas.owner_b).post(url, {"outcome": "approve"}).status_code == 403
    assert as_user(personas.owner_a).post(url, {"outcome": "approve"}).status_code == 404
    response = as_user(personas.risk_officer).post(url, {"outcome": "reject", "comment": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["comment"] == ["This field is required."]
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_tier_override_is_requested_with_a_justification_and_decided_by_another(
    personas, tier1_model_a, second_risk_officer
):
    current = RiskAssessment.objects.get(model=tier1_model_a, status=AssessmentStatus.APPROVED)
    url = reverse("governance:override-request", args=[current.pk])
    owner = as_user(personas.owner_a)
    assert url.encode() in owner.get(model_url("RB-0001")).content
    short = owner.post(url, {"tier": "2", "justification": "Too high"})
    assert short.status_code == 400
    assert "at least 20 characters" in short.context["form"].errors["justification"][0]
    justification = "Decisions are all reviewed by underwriters before they take effect."
    assert owner.post(url, {"tier": "2", "justification": justification}).status_code == 302
    override = TierOverride.objects.get(assessment=current)
    decide_url = reverse("governance:override-decide", args=[override.pk])
    # The page shows the request; the owner who asked is not offered the decision, a Risk Officer is.
    assert decide_url.encode() not in owner.get(model_url("RB-0001")).content
    assert owner.post(decide_url, {"outcome": "approve"}).status_code == 403
    officer = as_user(personas.risk_officer)
    assert [o for o, _ in officer.get(QUEUE_URL).context["waiting_overrides"]] == [override]
    response = officer.post(decide_url, {"outcome": "approve", "comment": "Agreed"})
    assert response.status_code == 302
    override.refresh_from_db()
    tier1_model_a.refresh_from_db()
    assert override.status == OverrideStatus.APPROVED and tier1_model_a.risk_tier == 2
    page = owner.get(model_url("RB-0001"))
    assert page.context["current_row"].assessment.effective_tier == 2
    assert justification.encode() in page.content


@pytest.mark.parametrize(("persona", "status"), [("auditor", 403), ("validator_assigned", 403), ("owner_b", 404)])
def test_who_may_not_change_the_model_cannot_request_an_override(personas, tier1_model_a, persona, status):
    current = RiskAssessment.objects.get(model=tier1_model_a, status=AssessmentStatus.APPROVED)
    url = reverse("governance:override-request", args=[current.pk])
    justification = "Decisions are all reviewed by underwriters before they take effect."
    response = as_user(getattr(personas, persona)).post(url, {"tier": "2", "justification": justification})
    assert response.status_code == status
    assert not TierOverride.objects.exists()


def test_risk_officer_cannot_decide_their_own_override(personas, tier1_model_a):
    current = RiskAssessment.objects.get(model=tier1_model_a, status=AssessmentStatus.APPROVED)
    override = assessments.tier_override_request(
        actor=personas.risk_officer, assessment=current, tier=2, justification="Mitigated by manual review of all."
    )
    response = as_user(personas.risk_officer).post(
        reverse("governance:override-decide", args=[override.pk]), {"outcome": "approve"}
    )
    assert response.status_code == 403 and b"SOD-6" in response.content


def governance_rows() -> tuple[int, ...]:
    return (
        RiskAssessment.objects.count(),
        TierOverride.objects.count(),
        GovernanceEvent.objects.count(),
        PolicyPack.objects.filter(is_active=True).get().pk,
    )


@pytest.mark.parametrize("form", [{}, {"outcome": "maybe", "tier": "9", "justification": "x", "pack": "0"}])
def test_refused_forms_are_the_403_page_whatever_they_hold(personas, tier1_model_a, form):
    """The assessment, override and rule pack forms ask the service's permission check before they read the form:
    who may not send one gets the 403 page, never the form's errors, and nothing is written."""
    current = RiskAssessment.objects.get(model=tier1_model_a, status=AssessmentStatus.APPROVED)
    submitted = assessments.risk_assessment_create(actor=personas.owner_a, model=tier1_model_a, answers=TIER_1_ANSWERS)
    override = assessments.tier_override_request(
        actor=personas.owner_a, assessment=current, tier=2, justification="Mitigated by manual review of all."
    )
    before = governance_rows()
    for url, user, message in (
        (reverse("governance:assessment-review", args=[submitted.pk]), personas.owner_a, "review risk assessment"),
        (reverse("governance:assessment-review", args=[submitted.pk]), personas.validator_assigned, "review risk"),
        (reverse("governance:override-request", args=[current.pk]), personas.auditor, "request a tier override"),
        (reverse("governance:override-decide", args=[override.pk]), personas.owner_a, "review tier override"),
        (PACK_URL, personas.owner_a, "choose the rule pack"),
        (PACK_URL, personas.no_role, "choose the rule pack"),
    ):
        response = as_user(user).post(url, form)
        assert response.status_code == 403, (url, user.username)
        assert "403.html" in [template.name for template in response.templates]
        assert message in response.content.decode()
    # The same forms from who may send them come back with the form's errors.
    officer = as_user(personas.risk_officer)
    review = officer.post(reverse("governance:assessment-review", args=[submitted.pk]), form)
    assert review.status_code == 400 and "outcome" in review.context["form"].errors
    assert officer.post(PACK_URL, form).status_code == 400
    assert (
        as_user(personas.owner_a).post(reverse("governance:override-request", args=[current.pk]), form).status_code
        == 400
    )
    assert governance_rows() == before


# --- the version workflow through the forms ------------------------------------------------------------------------


def test_tier1_walk_through_the_pages(personas, version_a, second_risk_officer):
    model_page = model_url("RB-0001")
    owner = as_user(personas.owner_a)
    response = owner.post(step_url(version_a, "submit"), {"comment": "Ready for validation", "next": model_page})
    assert response.status_code == 302 and response["Location"] == model_page

    validator = as_user(personas.validator_assigned)
    assert step_names(validator.get(QUEUE_URL), version_a) == ["start_validation"]
    assert validator.post(step_url(version_a, "start_validation"), {"next": QUEUE_URL}).status_code == 302
    assert step_names(validator.get(QUEUE_URL), version_a) == ["validate"]
    data = {"outcome": "passed", "comment": "Sound, one gap"} | findings_data(
        {"title": "Back-test on 2020 data", "severity": "medium", "due_date": DUE.isoformat()}
    )
    assert validator.post(step_url(version_a, "validate"), data).status_code == 302

    first, second = as_user(personas.risk_officer), as_user(second_risk_officer)
    assert step_names(first.get(QUEUE_URL), version_a) == ["decide"]
    decision = {"outcome": "approve", "comment": "Approved", "next": QUEUE_URL} | findings_data()
    assert first.post(step_url(version_a, "decide"), decision).status_code == 302
    version_a.refresh_from_db()
    assert version_a.state == VersionState.RISK_REVIEW
    assert version_a not in [row.version for row in first.get(QUEUE_URL).context["rows"]]
    response = second.post(step_url(version_a, "decide"), decision, follow=True)
    assert "is now approved" in response.content.decode()
    version_a.refresh_from_db()
    assert version_a.state == VersionState.APPROVED and version_a.approved_by == second_risk_officer
    finding = Finding.objects.get(version=version_a)
    assert (finding.title, finding.owner, finding.due_date) == ("Back-test on 2020 data", personas.owner_a, DUE)
    page = owner.get(model_page)
    assert "deploy" in step_names(page, version_a) and "retire" in step_names(page, version_a)


def test_owner_is_not_offered_the_approval_and_a_forged_post_names_the_rule(personas, in_risk_review):
    owner = as_user(personas.owner_a)
    page = owner.get(model_url("RB-0001"))
    assert "decide" not in step_names(page, in_risk_review)
    assert step_url(in_risk_review, "decide").encode() not in page.content
    assert owner.get(QUEUE_URL).context["rows"] == []
    response = owner.post(step_url(in_risk_review, "decide"), {"outcome": "approve", "comment": "Mine"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "SOD-1" in html and "SOD-2" in html
    in_risk_review.refresh_from_db()
    assert in_risk_review.state == VersionState.RISK_REVIEW
    assert not in_risk_review.decisions.filter(stage="risk_review").exists()


def test_a_step_the_service_refuses_comes_back_on_the_form(personas, version_a):
    # Approving a draft: the form is fine, the workflow refuses, and the page says why.
    response = as_user(personas.risk_officer).post(
        step_url(version_a, "decide"), {"outcome": "approve", "comment": "x"}
    )
    assert response.status_code == 400
    errors = response.context["form"].non_field_errors()
    assert any("Cannot approve" in error and "draft" in error for error in errors)
    assert "Cannot approve" in response.content.decode()
    version_a.refresh_from_db()
    assert version_a.state == VersionState.DRAFT


def test_missing_comment_and_bad_finding_rows_are_shown_and_nothing_changes(personas, version_a):
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    workflow.version_start_validation(actor=personas.validator_assigned, version=version_a)
    events = GovernanceEvent.objects.count()
    data = {"outcome": "passed", "comment": ""} | findings_data({"title": "Gap", "severity": "severe"})
    response = as_user(personas.validator_assigned).post(step_url(version_a, "validate"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["comment"] == ["This field is required."]
    row_errors = response.context["formset"].forms[0].errors
    assert set(row_errors) == {"severity", "due_date"}
    assert GovernanceEvent.objects.count() == events


def test_forged_outcome_is_refused(personas, in_risk_review):
    response = as_user(personas.risk_officer).post(
        step_url(in_risk_review, "decide"), {"outcome": "yes", "comment": "x"}
    )
    assert response.status_code == 400
    assert "outcome" in response.context["form"].errors


def test_unknown_step_and_invisible_version_are_404(personas, version_a):
    assert as_user(personas.owner_a).post(step_url(version_a, "approve_everything")).status_code == 404
    assert as_user(personas.owner_b).post(step_url(version_a, "submit")).status_code == 404


def test_validator_who_is_not_assigned_cannot_reach_the_version(personas, version_a):
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    response = as_user(personas.validator_other).post(step_url(version_a, "start_validation"))
    assert response.status_code == 404
    assert as_user(personas.validator_other).get(QUEUE_URL).context["rows"] == []


def test_withdraw_needs_a_reason(personas, version_a):
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    owner = as_user(personas.owner_a)
    assert owner.post(step_url(version_a, "withdraw"), {"comment": ""}).status_code == 400
    assert owner.post(step_url(version_a, "withdraw"), {"comment": "Data issue found"}).status_code == 302
    version_a.refresh_from_db()
    assert version_a.state == VersionState.WITHDRAWN


# --- review queue ------------------------------------------------------------------------------------------------


def test_queue_lists_oldest_submission_first_with_the_tier(personas, tier1_model_a):
    first = ModelVersionFactory(model=tier1_model_a, version="2.0.0", actor=personas.owner_a)
    second = ModelVersionFactory(model=tier1_model_a, version="2.1.0", actor=personas.owner_a)
    workflow.version_submit(actor=personas.owner_a, version=second)
    workflow.version_submit(actor=personas.owner_a, version=first)
    response = as_user(personas.validator_assigned).get(QUEUE_URL)
    assert [row.version for row in response.context["rows"]] == [second, first]
    html = response.content.decode()
    assert "Tier 1 (high)" in html and "by owner_a" in html
    assert not response.context["reviewer"]


@pytest.mark.parametrize("persona", ["owner_a", "owner_b", "auditor", "no_role"])
def test_queue_is_empty_for_who_has_nothing_to_decide(personas, in_risk_review, persona):
    response = as_user(getattr(personas, persona)).get(QUEUE_URL)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert b"Nothing waits for you." in response.content


# --- findings ------------------------------------------------------------------------------------------------------


def test_findings_list_filters(personas):
    overdue = raise_finding(personas, title="Overdue data check", due_date=dt.date(2020, 1, 1), severity="critical")
    low = raise_finding(personas, title="Typo in documentation", severity="low")
    other = raise_finding(personas, model=personas.model_b, title="Fraud threshold drift")
    findings.finding_accept_risk(
        actor=personas.risk_officer, finding=low, justification="Cosmetic, no effect on any decision."
    )
    client = as_user(personas.risk_officer)

    def listed(**query: Any) -> list[Finding]:
        response = client.get(FINDINGS_URL, query)
        assert response.status_code == 200 and response.context["filters_valid"]
        return list(response.context["page_obj"])

    assert listed(overdue="true") == [overdue]
    assert listed(severity=["critical", "low"]) == [overdue, low]
    assert listed(status="risk_accepted") == [low]
    assert listed(model="RB-0002") == [other]
    assert listed(owner="owner_b") == [other]
    assert listed(ordering="-due_date")[-1] == overdue
    response = client.get(FINDINGS_URL, {"overdue": "true"})
    assert b"Overdue data check" in response.content and b"Overdue</span>" in response.content


def test_findings_list_shows_only_visible_models_and_refuses_bad_filters(personas):
    raise_finding(personas)
    raise_finding(personas, model=personas.model_b, title="Fraud threshold drift")
    response = as_user(personas.owner_b).get(FINDINGS_URL)
    assert [finding.title for finding in response.context["page_obj"]] == ["Fraud threshold drift"]
    assert b"Monotonicity" not in response.content
    assert list(as_user(personas.no_role).get(FINDINGS_URL).context["page_obj"]) == []
    bad = as_user(personas.risk_officer).get(FINDINGS_URL, {"severity": "catastrophic"})
    assert not bad.context["filters_valid"] and list(bad.context["page_obj"]) == []


def test_finding_page_offers_each_person_their_steps(personas):
    finding = raise_finding(personas)

    def steps(user: Any) -> list[str]:
        response = as_user(user).get(finding_url(finding))
        assert response.status_code == 200
        return [step.name for step in response.context["steps"]]

    assert steps(personas.owner_a) == ["start_remediation"]
    assert steps(personas.validator_assigned) == ["close"]
    assert steps(personas.risk_officer) == ["start_remediation", "close", "accept_risk"]
    assert steps(personas.auditor) == []
    assert as_user(personas.owner_b).get(finding_url(finding)).status_code == 404


def test_finding_lifecycle_through_the_page(personas):
    finding = raise_finding(personas)
    owner = as_user(personas.owner_a)
    data = {"comment": "Adding the test", "evidence_links": "https://git.bank.example/pd/pull/12\n"}
    assert owner.post(finding_step_url(finding, "start_remediation"), data).status_code == 302
    response = owner.post(finding_step_url(finding, "close"), {"resolution": "Fixed it myself"})
    assert response.status_code == 403
    assert b"Only a Risk Officer or a validator of the model closes findings." in response.content
    validator = as_user(personas.validator_assigned)
    bad_link = validator.post(finding_step_url(finding, "close"), {"resolution": "Done", "evidence_links": "ftp://x"})
    assert bad_link.status_code == 400
    assert "Not an http(s) URL" in bad_link.context["form"].errors["evidence_links"][0]
    assert (
        validator.post(finding_step_url(finding, "close"), {"resolution": "Test added and passing"}).status_code == 302
    )
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED
    assert finding.evidence_links == ["https://git.bank.example/pd/pull/12"]
    page = as_user(personas.auditor).get(finding_url(finding))
    html = page.content.decode()
    assert [entry.type for entry in page.context["history"]][-1] == "created"
    assert "Adding the test" in html and "Test added and passing" in html
    assert [event.event_type for event in page.context["events"]] == [
        EventType.FINDING_CLOSED,
        EventType.FINDING_REMEDIATION_STARTED,
        EventType.FINDING_RAISED,
    ]
    assert [step.name for step in as_user(personas.risk_officer).get(finding_url(finding)).context["steps"]] == [
        "reopen"
    ]


def test_accepting_a_risk_needs_a_real_justification(personas):
    finding = raise_finding(personas)
    officer = as_user(personas.risk_officer)
    response = officer.post(finding_step_url(finding, "accept_risk"), {"justification": "fine"})
    assert response.status_code == 400
    assert "at least 20 characters" in response.context["form"].errors["justification"][0]
    justification = {"justification": "Compensating control in place today."}
    refused = as_user(personas.validator_assigned).post(finding_step_url(finding, "accept_risk"), justification)
    assert refused.status_code == 403
    assert as_user(personas.owner_b).post(finding_step_url(finding, "accept_risk"), justification).status_code == 404
    assert as_user(personas.owner_a).post(finding_step_url(finding, "delete")).status_code == 404
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


@pytest.mark.parametrize("url_name", ["governance:finding-list", "governance:ledger"])
def test_list_pages_cost_the_same_queries_at_any_page_size(personas, url_name):
    for number in range(25):
        raise_finding(personas, title=f"Finding {number}", model=[personas.model_a, personas.model_b][number % 2])
    client = as_user(personas.risk_officer)
    counts = []
    for size in (5, 20):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(url_name), {"per_page": size})
        assert response.status_code == 200 and len(response.context["page_obj"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- ledger --------------------------------------------------------------------------------------------------------


def test_ledger_is_newest_first_and_filtered(personas, in_risk_review):
    client = as_user(personas.auditor)
    response = client.get(LEDGER_URL)
    events = list(response.context["page_obj"])
    assert [event.seq for event in events] == sorted((event.seq for event in events), reverse=True)
    assert events[0].event_type == EventType.VERSION_VALIDATED
    html = response.content.decode()
    assert events[0].hash in html and events[0].prev_hash in html
    only = client.get(LEDGER_URL, {"model": "RB-0001", "event_type": [EventType.VERSION_SUBMITTED]})
    assert [event.event_type for event in only.context["page_obj"]] == [EventType.VERSION_SUBMITTED]
    assert b"Verify chain" in response.content


def test_owners_see_only_their_models_entries_and_cannot_verify(personas, in_risk_review):
    approve_tier(personas.model_b, TIER_3_ANSWERS, personas.owner_b, personas.risk_officer)
    client = as_user(personas.owner_b)
    response = client.get(LEDGER_URL)
    assert {event.model_key for event in response.context["page_obj"]} == {"RB-0002"}
    assert b"Verify chain" not in response.content
    assert client.get(LEDGER_URL, {"model": "RB-0001"}).context["page_obj"].paginator.count == 0
    refused = client.get(LEDGER_URL, {"verify": "1"})
    assert refused.status_code == 403
    assert b"Only Auditors and Risk Officers verify the ledger." in refused.content


def test_verify_chain_says_intact(personas, in_risk_review):
    response = as_user(personas.risk_officer).get(LEDGER_URL, {"verify": "1"})
    verification = response.context["verification"]
    assert verification.intact and verification.checked == GovernanceEvent.objects.count()
    assert b"The chain is intact" in response.content


def test_verify_chain_names_the_first_broken_row(personas, in_risk_review):
    target = GovernanceEvent.objects.order_by("seq")[2]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger refuses edits; a database superuser can switch it off, as an insider could.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE governance_governanceevent SET summary = %s WHERE seq = %s", ["Nothing", target.seq])
    response = as_user(personas.auditor).get(LEDGER_URL, {"verify": "1"})
    verification = response.context["verification"]
    assert not verification.intact and verification.first_broken_seq == target.seq
    html = response.content.decode()
    assert f"The chain is broken at row #{target.seq}" in html
    assert "was altered" in html


# --- policies and questionnaires -----------------------------------------------------------------------------------


def test_policies_page_for_risk_officers(personas):
    response = as_user(personas.risk_officer).get(POLICIES_URL)
    assert response.status_code == 200
    assert response.context["active_pack"].code == "sr-11-7"
    assert [pack.code for pack in response.context["other_packs"]] == ["sr-26-2"]
    tier1 = TierPolicy.objects.get(pack__code="sr-11-7", tier=1)
    html = response.content.decode()
    assert reverse("governance:tier-policy-edit", args=[tier1.pk]) in html
    assert PACK_URL in html and "every 365 days" in html
    assert reverse("governance:questionnaire", args=[1]) in html


@pytest.mark.parametrize(("persona", "packs"), [("auditor", True), ("owner_a", False), ("no_role", False)])
def test_policies_page_is_read_only_for_others(personas, persona, packs):
    response = as_user(getattr(personas, persona)).get(POLICIES_URL)
    assert response.status_code == 200
    assert (response.context["active_pack"] is not None) == packs
    assert response.context["pack_form"] is None
    assert PACK_URL.encode() not in response.content
    assert b"/edit/" not in response.content


def test_switching_the_rule_pack(personas):
    sr26 = PolicyPack.objects.get(code="sr-26-2")
    refused = as_user(personas.auditor).post(PACK_URL, {"pack": sr26.pk, "reason": "Try"})
    assert refused.status_code == 403
    officer = as_user(personas.risk_officer)
    missing_reason = officer.post(PACK_URL, {"pack": sr26.pk, "reason": ""})
    assert missing_reason.status_code == 400 and "reason" in missing_reason.context["pack_form"].errors
    assert officer.post(PACK_URL, {"pack": sr26.pk, "reason": "Board adopted SR 26-2"}).status_code == 302
    assert PolicyPack.objects.get(is_active=True) == sr26
    again = officer.post(PACK_URL, {"pack": sr26.pk, "reason": "Once more"})
    assert again.status_code == 400
    assert "already the active rule pack" in again.content.decode()


def test_editing_a_tier_policy_bumps_its_revision(personas):
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=2)
    url = reverse("governance:tier-policy-edit", args=[policy.pk])
    officer = as_user(personas.risk_officer)
    form = officer.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if name != "reason"}
    data["review_triggers"] = ", ".join(policy.review_triggers)
    data["required_evidence"] = ", ".join(policy.required_evidence)
    data["bias_thresholds"] = form["bias_thresholds"].value()
    data = {name: ("" if value is None else value) for name, value in data.items()}
    unchanged = officer.post(url, {**data, "reason": "No change"}, follow=True)
    assert "Nothing was changed" in unchanged.content.decode()
    too_few = officer.post(url, {**data, "required_approvers": "0", "reason": "Fewer"})
    assert too_few.status_code == 400
    assert too_few.context["form"].errors["required_approvers"] == ["Between 1 and 5 distinct approvers."]
    assert officer.post(url, {**data, "required_approvers": "2", "reason": "Board decision"}).status_code == 302
    policy.refresh_from_db()
    assert (policy.required_approvers, policy.revision) == (2, 2)
    event = GovernanceEvent.objects.get(event_type=EventType.POLICY_CHANGED)
    assert event.payload["after"] == {"required_approvers": 2}
    assert b"Board decision" in officer.get(url).content


@pytest.mark.parametrize(("persona", "status"), [("auditor", 403), ("owner_a", 404)])
def test_tier_policy_edit_is_refused(personas, persona, status):
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=2)
    url = reverse("governance:tier-policy-edit", args=[policy.pk])
    client = as_user(getattr(personas, persona))
    assert client.get(url).status_code == status
    assert client.post(url, {"required_approvers": "3", "reason": "x"}).status_code == status
    policy.refresh_from_db()
    assert policy.revision == 1


@pytest.fixture
def draft_questionnaire(personas: Any) -> Questionnaire:
    """A draft that drops the tier floors and raises the thresholds, so model A (Tier 1) would move and model B
    (Tier 3) would not."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    approve_tier(personas.model_b, TIER_3_ANSWERS, personas.owner_b, personas.risk_officer)
    definition = copy.deepcopy(Questionnaire.objects.get(version=1).definition)
    definition["tier_floors"] = []
    definition["tier_thresholds"] = {"1": 150, "2": 100}
    return assessments.questionnaire_draft_create(actor=personas.risk_officer, definition=definition, title="v2")


def test_draft_questionnaire_shows_its_impact_and_publishes(personas, draft_questionnaire):
    url = reverse("governance:questionnaire", args=[draft_questionnaire.version])
    officer = as_user(personas.risk_officer)
    response = officer.get(url)
    assert [change.model_key for change in response.context["impact"].changes] == ["RB-0001"]
    html = response.content.decode()
    assert "1 would change tier" in html and "RB-0002" not in html
    publish = reverse("governance:questionnaire-publish", args=[draft_questionnaire.version])
    assert publish in html
    assert as_user(personas.auditor).post(publish).status_code == 403
    assert publish not in as_user(personas.auditor).get(url).content.decode()
    assert officer.post(publish).status_code == 302
    draft_questionnaire.refresh_from_db()
    assert draft_questionnaire.status == QuestionnaireStatus.PUBLISHED
    again = officer.post(publish)
    assert again.status_code == 400 and "is not a draft" in again.content.decode()


def test_drafts_stay_with_the_second_line(personas, draft_questionnaire):
    url = reverse("governance:questionnaire", args=[draft_questionnaire.version])
    assert as_user(personas.owner_a).get(url).status_code == 404
    published = as_user(personas.owner_a).get(reverse("governance:questionnaire", args=[1]))
    assert published.status_code == 200 and published.context["impact"] is None


# --- notifications -------------------------------------------------------------------------------------------------


def test_notifications_are_listed_counted_and_marked_read(personas):
    notes = [
        notify(recipients=[personas.owner_a], kind="decision", title=f"Note {number}", link=model_url("RB-0001"))[0]
        for number in range(3)
    ]
    notify(recipients=[personas.owner_b], kind="decision", title="Not for owner_a")
    client = as_user(personas.owner_a)
    response = client.get(NOTIFICATIONS_URL)
    assert [n.title for n in response.context["page_obj"]] == ["Note 2", "Note 1", "Note 0"]
    html = response.content.decode()
    assert "Not for owner_a" not in html
    assert '<span class="nav-count">3<span class="visually-hidden"> unread</span></span>' in html
    others = Notification.objects.get(title="Not for owner_a")
    response = client.post(MARK_READ_URL, {"ids": [notes[0].pk, others.pk], "next": NOTIFICATIONS_URL})
    assert response.status_code == 302 and response["Location"] == NOTIFICATIONS_URL
    assert Notification.objects.filter(read_at__isnull=True, recipient=personas.owner_a).count() == 2
    assert Notification.objects.get(pk=others.pk).read_at is None
    unread = client.get(NOTIFICATIONS_URL, {"unread": "true"})
    assert [n.title for n in unread.context["page_obj"]] == ["Note 2", "Note 1"]
    client.post(MARK_READ_URL, {"all": "on"})
    assert not Notification.objects.filter(read_at__isnull=True, recipient=personas.owner_a).exists()
    assert b'class="nav-count"' not in client.get(NOTIFICATIONS_URL).content


def test_marking_nothing_is_refused(personas):
    response = as_user(personas.owner_a).post(MARK_READ_URL, {"ids": ["abc"]})
    assert response.status_code == 400
    assert as_user(personas.owner_a).post(MARK_READ_URL, {}).status_code == 400


def test_unread_count_context_is_only_for_signed_in_users(personas, rf):
    request = rf.get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert notifications_context(request) == {}
    notify(recipients=[personas.owner_a], kind="decision", title="One")
    request.user = personas.owner_a
    assert int(str(notifications_context(request)["unread_notification_count"])) == 1


# --- every page renders for every role -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["owner_a", "owner_b", "validator_assigned", "risk_officer", "auditor", "admin", "no_role"]
)
def test_every_governance_page_renders_for_every_role(personas, in_risk_review, persona):
    finding = raise_finding(personas)
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=1)
    client = as_user(getattr(personas, persona))
    for url in (
        QUEUE_URL,
        FINDINGS_URL,
        LEDGER_URL,
        POLICIES_URL,
        NOTIFICATIONS_URL,
        model_url("RB-0001"),
        finding_url(finding),
        reverse("governance:questionnaire", args=[1]),
        reverse("governance:tier-policy-edit", args=[policy.pk]),
    ):
        assert client.get(url).status_code in {200, 403, 404}, url


def test_template_filters():
    assert event_label(EventType.VERSION_APPROVED) == "Version approved"
    assert event_label("unknown.code") == "unknown.code"
    assert eu_category_label("high_risk") == "High-risk (Annex III)"
    assert eu_category_label(None) == "—"
    assert short_hash("a" * 64) == "a" * 12


def test_answer_rows_show_the_labels_chosen(personas, tier1_model_a):
    assessment = RiskAssessment.objects.get(model=tier1_model_a)
    rows = dict(answer_rows(assessment))
    assert rows["Regulated decision areas the output is used in (EU AI Act Annex III)"].startswith("Creditworthiness")


def _versions_in_risk_review(personas: Any, count: int, start: int) -> None:
    for number in range(start, start + count):
        version = ModelVersionFactory(model=personas.model_a, version=f"9.{number}.0", actor=personas.owner_a)
        workflow.version_submit(actor=personas.owner_a, version=version)
        workflow.version_start_validation(actor=personas.validator_assigned, version=version)
        workflow.version_validate(actor=personas.validator_assigned, version=version, passed=True, comment="ok")


def test_review_queue_costs_the_same_queries_for_more_rows(personas: Any, tier1_model_a: Any) -> None:
    client = Client()
    client.force_login(personas.risk_officer)
    url = reverse("governance:queue")
    _versions_in_risk_review(personas, 2, start=0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _versions_in_risk_review(personas, 6, start=10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("9.1") >= 6
    assert len(many.captured_queries) == len(few.captured_queries)
