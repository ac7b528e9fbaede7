"""The must-hold walk, through the API only: a Tier 1 version needs an independent validator and two distinct Risk
Officers; the owner's own approval is refused naming the rule; every step is in the ledger, and the chain holds.
Also: illegal transitions are 400 and change nothing, and a version the caller may not see is a 404."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from governance.choices import EventType
from governance.models import ApprovalDecision, GovernanceEvent, VersionTransition
from inventory.choices import VersionState
from inventory.models import ModelVersion
from tests.governance.conftest import TIER_1_ANSWERS

pytestmark = pytest.mark.django_db

WORKFLOW = "/api/v1/version-workflow/"


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response that must have the given status."""
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    return body


def action_names(workflow: dict[str, Any]) -> list[str]:
    """The steps a workflow answer offers the caller."""
    return [step["name"] for step in workflow["available_actions"]]


def workflow_state() -> tuple[int, int, int, list[str]]:
    """Everything a refused step must leave untouched: ledger, transitions, decisions, version states."""
    return (
        GovernanceEvent.objects.count(),
        VersionTransition.objects.count(),
        ApprovalDecision.objects.count(),
        list(ModelVersion.objects.order_by("pk").values_list("state", flat=True)),
    )


def test_tier1_walk_through_the_api(personas, api_client_for, second_risk_officer):
    owner = api_client_for(personas.owner_a)
    validator = api_client_for(personas.validator_assigned)
    officer = api_client_for(personas.risk_officer)
    second_officer = api_client_for(second_risk_officer)
    auditor = api_client_for(personas.auditor)

    # The owner assesses their model; a Risk Officer approves the assessment: Tier 1, with its reasons.
    assessment = ok(
        owner.post(
            "/api/v1/risk-assessments/",
            {"model": "RB-0001", "answers": TIER_1_ANSWERS, "rationale": "Automated credit decisions"},
            format="json",
        ),
        201,
    )
    assert assessment["computed_tier"] == 1 and assessment["status"] == "submitted"
    assert assessment["reasons"][0]["kind"] == "score"
    approved = ok(officer.post(f"/api/v1/risk-assessments/{assessment['id']}/approve/", {"comment": "Agreed"}))
    assert (approved["status"], approved["effective_tier"]) == ("approved", 1)
    assert ok(owner.get("/api/v1/models/RB-0001/"))["risk_tier"] == 1

    # The owner adds a version through the inventory API and submits it.
    version = ok(owner.post("/api/v1/versions/", {"model": "RB-0001", "version": "2.0.0"}, format="json"), 201)
    url = f"{WORKFLOW}{version['id']}/"
    draft = ok(owner.get(url))
    assert draft["state"] == "draft" and "submit" in action_names(draft)
    submitted = ok(owner.post(f"{url}submit/", {"comment": "Ready for validation"}, format="json"))
    assert submitted["state"] == "submitted"
    assert submitted["policy"]["tier"] == 1 and submitted["policy"]["required_approvers"] == 2
    assert submitted["policy"]["required_stages"] == ["validation", "risk_review"]

    # The owner's own approval is refused, naming the segregation-of-duties rule, and the owner is never offered it.
    before = workflow_state()
    refused = owner.post(f"{url}decide/", {"approve": True, "comment": "Mine, approved"}, format="json")
    assert refused.status_code == 403
    assert "SOD-1" in refused.json()["detail"] and "SOD-2" in refused.json()["detail"]
    assert workflow_state() == before
    assert "decide" not in action_names(ok(owner.get(url)))

    # The assigned validator starts and passes validation.
    assert action_names(ok(validator.get(url))) == ["start-validation"]
    ok(validator.post(f"{url}start-validation/", {}, format="json"))
    validated = ok(validator.post(f"{url}validate/", {"passed": True, "comment": "Sound"}, format="json"))
    assert validated["state"] == "risk_review"
    assert "decide" not in action_names(validated)  # the validator is not an approver (SOD-4) nor a Risk Officer

    # One Risk Officer approves: still in risk review, one approval of two.
    assert "decide" in action_names(ok(officer.get(url)))
    first = ok(officer.post(f"{url}decide/", {"approve": True, "comment": "Approve"}, format="json"))
    assert first["state"] == "risk_review"
    assert first["approvals"] == {"so_far": 1, "required": 2, "approvers": ["risk_officer"]}
    assert "decide" not in action_names(first)

    # A second, different Risk Officer approves: approved.
    final = ok(second_officer.post(f"{url}decide/", {"approve": True, "comment": "Approve too"}, format="json"))
    assert final["state"] == "approved"
    assert final["version"]["approved_by"]["username"] == "risk_officer_2"
    assert final["approvals"]["so_far"] == 2
    assert [step["to_state"] for step in final["timeline"]] == ["submitted", "in_validation", "risk_review", "approved"]
    assert [(d["stage"], d["actor"]["username"]) for d in final["decisions"]] == [
        ("validation", "validator_assigned"),
        ("risk_review", "risk_officer"),
        ("risk_review", "risk_officer_2"),
    ]

    # Every step is in the model's ledger, newest first, and the chain is intact.
    ledger = ok(auditor.get("/api/v1/ledger/", {"model": "RB-0001", "page_size": 200}))
    types = [entry["event_type"] for entry in ledger["results"]]
    assert types == [
        EventType.VERSION_APPROVED,
        EventType.APPROVAL_RECORDED,
        EventType.VERSION_VALIDATED,
        EventType.VALIDATION_STARTED,
        EventType.VERSION_SUBMITTED,
        EventType.ASSESSMENT_APPROVED,
        EventType.ASSESSMENT_SUBMITTED,
    ]
    actors = [entry["actor_username"] for entry in ledger["results"]]
    assert actors == [
        "risk_officer_2",
        "risk_officer",
        "validator_assigned",
        "validator_assigned",
        "owner_a",
        "risk_officer",
        "owner_a",
    ]
    verification = ok(auditor.get("/api/v1/ledger/verify/"))
    assert verification["intact"] is True and verification["first_broken_seq"] is None
    assert verification["head_seq"] == verification["checked"] == GovernanceEvent.objects.count()
    assert verification["head_hash"] == ledger["results"][0]["hash"]
    # The operator's command agrees with the API.
    output = io.StringIO()
    call_command("verify_ledger", stdout=output)
    assert output.getvalue().startswith(f"Ledger intact: {verification['checked']} events")


@pytest.fixture
def walk_version(personas, tier1_model_a, api_client_for):
    """A draft version of the Tier 1 model A, added by its owner through the API."""
    response = api_client_for(personas.owner_a).post(
        "/api/v1/versions/", {"model": "RB-0001", "version": "3.0.0"}, format="json"
    )
    return ok(response, 201)["id"]


def test_approving_a_draft_is_400_and_changes_nothing(personas, api_client_for, walk_version):
    before = workflow_state()
    response = api_client_for(personas.risk_officer).post(
        f"{WORKFLOW}{walk_version}/decide/", {"approve": True, "comment": "Looks fine"}, format="json"
    )
    assert response.status_code == 400
    assert "it is draft" in response.json()["state"][0]
    assert workflow_state() == before


def test_deploying_a_rejected_version_is_400_and_changes_nothing(personas, api_client_for, walk_version):
    owner = api_client_for(personas.owner_a)
    validator = api_client_for(personas.validator_assigned)
    url = f"{WORKFLOW}{walk_version}/"
    ok(owner.post(f"{url}submit/", {}, format="json"))
    ok(validator.post(f"{url}start-validation/", {}, format="json"))
    rejected = ok(validator.post(f"{url}validate/", {"passed": False, "comment": "Unstable"}, format="json"))
    assert rejected["state"] == "rejected"
    assert "deploy" not in action_names(ok(owner.get(url)))
    before = workflow_state()
    response = owner.post(f"{url}deploy/", {"comment": "Ship it"}, format="json")
    assert response.status_code == 400
    assert "rejected" in response.json()["state"][0]
    assert workflow_state() == before


def test_deciding_twice_is_400_and_changes_nothing(personas, api_client_for, walk_version):
    officer = api_client_for(personas.risk_officer)
    url = f"{WORKFLOW}{walk_version}/"
    ok(api_client_for(personas.owner_a).post(f"{url}submit/", {}, format="json"))
    validator = api_client_for(personas.validator_assigned)
    ok(validator.post(f"{url}start-validation/", {}, format="json"))
    ok(validator.post(f"{url}validate/", {"passed": True, "comment": "Sound"}, format="json"))
    ok(officer.post(f"{url}decide/", {"approve": True, "comment": "Approve"}, format="json"))
    before = workflow_state()
    response = officer.post(f"{url}decide/", {"approve": True, "comment": "Approve again"}, format="json")
    assert response.status_code == 400
    assert "SOD-5" in response.json()["decision"][0]
    assert workflow_state() == before
    assert ModelVersion.objects.get(pk=walk_version).state == VersionState.RISK_REVIEW


def test_invisible_version_is_404_for_reads_and_steps(personas, api_client_for, walk_version):
    before = workflow_state()
    for name in ("owner_b", "validator_other", "ci_unscoped", "no_role"):
        client = api_client_for(getattr(personas, name))
        assert client.get(f"{WORKFLOW}{walk_version}/").status_code == 404, name
        response = client.post(f"{WORKFLOW}{walk_version}/submit/", {}, format="json")
        assert response.status_code == 404, name
    assert api_client_for(personas.auditor).get(f"{WORKFLOW}999999/").status_code == 404
    assert workflow_state() == before
