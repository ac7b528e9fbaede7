"""Governance API: a version's workflow view, the steps each person is offered, every step's body and refusals,
findings raised by validation and conditions of approval, and the review queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from governance.choices import FindingSource
from governance.models import ApprovalDecision, Finding, GovernanceEvent, VersionTransition
from governance.services import workflow
from inventory.choices import VersionState
from inventory.models import ModelVersion
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_3_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db

WORKFLOW = "/api/v1/version-workflow/"
QUEUE = "/api/v1/review-queue/"
DUE = (dt.date.today() + dt.timedelta(days=45)).isoformat()


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have the given status."""
    assert response.status_code == status, response.content
    return response.json()


def offered(client: Any, version: ModelVersion) -> list[str]:
    """The steps the workflow view offers the client's user."""
    return [step["name"] for step in ok(client.get(f"{WORKFLOW}{version.pk}/"))["available_actions"]]


def written() -> tuple[int, int, int, int, list[str]]:
    """Everything a workflow step writes."""
    return (
        GovernanceEvent.objects.count(),
        VersionTransition.objects.count(),
        ApprovalDecision.objects.count(),
        Finding.objects.count(),
        list(ModelVersion.objects.order_by("pk").values_list("state", flat=True)),
    )


@pytest.fixture
def version_a(tier1_model_a, personas):
    """A draft version of the Tier 1 model A, developed by its owner."""
    return ModelVersionFactory(model=tier1_model_a, version="2.0.0", actor=personas.owner_a)


@pytest.fixture
def in_validation(personas, version_a):
    """Version A submitted and taken up by its validator."""
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    workflow.version_start_validation(actor=personas.validator_assigned, version=version_a)
    return version_a


@pytest.fixture
def tier3_version(personas):
    """A draft version of model B at Tier 3: no independent validation, one approver."""
    approve_tier(personas.model_b, TIER_3_ANSWERS, personas.owner_b, personas.risk_officer)
    return ModelVersionFactory(model=personas.model_b, version="1.0.0", actor=personas.owner_b)


def test_workflow_view_of_a_draft(personas, api_client_for, version_a):
    body = ok(api_client_for(personas.owner_a).get(f"{WORKFLOW}{version_a.pk}/"))
    assert body["state"] == "draft"
    assert body["version"]["model"] == {"key": "RB-0001", "name": "Retail PD scorecard"}
    assert (body["version"]["id"], body["version"]["version"], body["version"]["risk_tier"]) == (
        version_a.pk,
        "2.0.0",
        1,
    )
    assert body["policy"]["pack"] == "sr-11-7" and body["policy"]["revision"] == 1
    assert body["approvals"] == {"so_far": 0, "required": 2, "approvers": []}
    assert body["timeline"] == [] and body["decisions"] == [] and body["findings"] == []
    assert body["available_actions"] == [
        {"name": "submit", "url": f"http://testserver/api/v1/version-workflow/{version_a.pk}/submit/"}
    ]
    assert body["links"] == {
        "self": f"http://testserver/api/v1/version-workflow/{version_a.pk}/",
        "version": f"http://testserver/api/v1/versions/{version_a.pk}/",
        "ledger": "http://testserver/api/v1/ledger/?model=RB-0001",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("owner_a", ["withdraw"]),
        ("validator_assigned", ["validate"]),
        ("risk_officer", ["withdraw"]),
        ("auditor", []),
        ("ci_scoped", []),
    ],
)
def test_steps_offered_in_validation(personas, api_client_for, in_validation, name, expected):
    assert offered(api_client_for(getattr(personas, name)), in_validation) == expected


def test_steps_offered_at_risk_review_honour_segregation_of_duties(
    personas, api_client_for, in_validation, second_risk_officer
):
    workflow.version_validate(actor=personas.validator_assigned, version=in_validation, passed=True, comment="ok")
    assert offered(api_client_for(personas.owner_a), in_validation) == ["withdraw"]
    assert offered(api_client_for(personas.validator_assigned), in_validation) == []
    assert offered(api_client_for(personas.risk_officer), in_validation) == ["decide", "withdraw"]
    workflow.version_decide(actor=personas.risk_officer, version=in_validation, approve=True, comment="ok")
    # Decided once: no second decision offered to the same Risk Officer, still offered to another.
    assert offered(api_client_for(personas.risk_officer), in_validation) == ["withdraw"]
    assert offered(api_client_for(second_risk_officer), in_validation) == ["decide", "withdraw"]


def test_a_model_without_a_tier_cannot_be_submitted(personas, api_client_for):
    version = ModelVersionFactory(model=personas.model_b, version="0.1.0", actor=personas.owner_b)
    client = api_client_for(personas.owner_b)
    body = ok(client.get(f"{WORKFLOW}{version.pk}/"))
    assert body["policy"] is None and body["approvals"]["required"] is None
    assert body["available_actions"] == []
    before = written()
    response = client.post(f"{WORKFLOW}{version.pk}/submit/", {}, format="json")
    assert response.status_code == 400
    assert "no approved risk assessment" in response.json()["risk_tier"][0]
    assert written() == before


def test_validation_failure_raises_findings(personas, api_client_for, in_validation):
    body = {
        "passed": False,
        "comment": "Unstable on the 2024 vintage",
        "findings": [
            {"title": "Backtesting missing", "severity": "high", "due_date": DUE},
            {
                "title": "PSI above threshold",
                "severity": "medium",
                "due_date": DUE,
                "description": "PSI 0.31 on income",
                "owner": "owner_a",
            },
        ],
    }
    result = ok(api_client_for(personas.validator_assigned).post(f"{WORKFLOW}{in_validation.pk}/validate/", body))
    assert result["state"] == "rejected"
    assert [(f["title"], f["source"], f["owner"]["username"]) for f in result["findings"]] == [
        ("Backtesting missing", "validation", "owner_a"),
        ("PSI above threshold", "validation", "owner_a"),
    ]
    assert result["decisions"][-1]["decision"] == "reject"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"passed": "yes", "comment": "ok"}, "passed"),
        ({"passed": 1, "comment": "ok"}, "passed"),
        ({"comment": "ok"}, "passed"),
        ({"passed": True}, "comment"),
        ({"passed": True, "comment": ""}, "comment"),
        (
            {"passed": True, "comment": "ok", "findings": [{"title": "x", "severity": "urgent", "due_date": DUE}]},
            "findings",
        ),
        (
            {"passed": True, "comment": "ok", "findings": [{"title": "x", "severity": "low", "due_date": "soon"}]},
            "findings",
        ),
        (
            {
                "passed": True,
                "comment": "ok",
                "findings": [{"title": "x", "severity": "low", "due_date": DUE, "cost": 1}],
            },
            "findings",
        ),
        (
            {
                "passed": True,
                "comment": "ok",
                "findings": [{"title": "x", "severity": "low", "due_date": DUE, "owner": "nobody"}],
            },
            "findings",
        ),
        ({"passed": True, "comment": "ok", "findings": {"title": "x"}}, "findings"),
        ({"passed": True, "comment": "ok", "approve": True}, "approve"),
    ],
)
def test_bad_validation_body_is_400_naming_the_field_and_writes_nothing(
    personas, api_client_for, in_validation, body, field
):
    before = written()
    response = api_client_for(personas.validator_assigned).post(
        f"{WORKFLOW}{in_validation.pk}/validate/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert written() == before


def test_finding_item_errors_name_the_item(personas, api_client_for, in_validation):
    body = {
        "passed": True,
        "comment": "ok",
        "findings": [{"title": "fine", "severity": "low", "due_date": DUE}, {"title": "x", "severity": "urgent"}],
    }
    response = api_client_for(personas.validator_assigned).post(
        f"{WORKFLOW}{in_validation.pk}/validate/", body, format="json"
    )
    errors = response.json()["findings"]
    assert set(errors) == {"1"} and set(errors["1"]) == {"severity", "due_date"}


@pytest.mark.parametrize(("name", "status"), [("owner_a", 403), ("validator_other", 404), ("risk_officer", 403)])
def test_who_may_not_validate(personas, api_client_for, in_validation, name, status):
    before = written()
    response = api_client_for(getattr(personas, name)).post(
        f"{WORKFLOW}{in_validation.pk}/validate/", {"passed": True, "comment": "ok"}, format="json"
    )
    assert response.status_code == status
    if name == "owner_a":
        assert "SOD-2" in response.json()["detail"]
    assert written() == before


def test_conditions_of_approval_become_findings_then_deploy_and_retire(personas, api_client_for, tier3_version):
    owner = api_client_for(personas.owner_b)
    officer = api_client_for(personas.risk_officer)
    url = f"{WORKFLOW}{tier3_version.pk}/"
    submitted = ok(owner.post(f"{url}submit/", {"comment": "Ready"}, format="json"))
    assert submitted["state"] == "risk_review" and submitted["policy"]["required_stages"] == ["risk_review"]
    condition = {"title": "Add drift monitoring", "severity": "medium", "due_date": DUE}
    approved = ok(
        officer.post(f"{url}decide/", {"approve": True, "comment": "With one condition", "conditions": [condition]})
    )
    assert approved["state"] == "approved_with_conditions"
    [finding] = approved["findings"]
    assert (finding["source"], finding["due_date"], finding["owner"]["username"]) == (
        FindingSource.APPROVAL_CONDITION,
        DUE,
        "owner_b",
    )
    assert approved["version"]["approval_expires_at"] is not None
    assert [step["name"] for step in ok(owner.get(url))["available_actions"]] == ["deploy", "retire"]
    deployed = ok(owner.post(f"{url}deploy/", {}, format="json"))
    assert deployed["state"] == "deployed"
    no_reason = owner.post(f"{url}retire/", {}, format="json")
    assert no_reason.status_code == 400 and no_reason.json() == {"comment": ["This field is required."]}
    retired = ok(owner.post(f"{url}retire/", {"comment": "Replaced by 2.0"}, format="json"))
    assert retired["state"] == "retired"
    assert [step["action"] for step in retired["timeline"]] == ["submit", "approve", "deploy", "retire"]
    assert retired["available_actions"] == []


def test_start_validation_refusals(personas, api_client_for, version_a):
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    url = f"{WORKFLOW}{version_a.pk}/start-validation/"
    before = written()
    owner = api_client_for(personas.owner_a).post(url, {}, format="json")
    assert owner.status_code == 403 and "SOD-1" in owner.json()["detail"]
    officer = api_client_for(personas.risk_officer).post(url, {}, format="json")
    assert officer.status_code == 403
    assert officer.json() == {"detail": "Only a validator assigned to RB-0001 may validate its versions."}
    assert api_client_for(personas.validator_other).post(url, {}, format="json").status_code == 404
    assert written() == before


@pytest.mark.parametrize(("step", "body"), [("deploy", {}), ("retire", {"comment": "Replaced"})])
@pytest.mark.parametrize("name", ["validator_assigned", "auditor", "ci_unscoped"])
def test_deploy_and_retire_refused_to_who_may_not_change_the_model(
    personas, api_client_for, tier3_version, step, body, name
):
    workflow.version_submit(actor=personas.owner_b, version=tier3_version)
    workflow.version_decide(actor=personas.risk_officer, version=tier3_version, approve=True, comment="ok")
    before = written()
    response = api_client_for(getattr(personas, name)).post(
        f"{WORKFLOW}{tier3_version.pk}/{step}/", body, format="json"
    )
    # Model B is invisible to the validator of model A and to an unscoped pipeline; the auditor sees but may not act.
    assert response.status_code == (403 if name == "auditor" else 404)
    assert written() == before


def test_rejection_at_risk_review(personas, api_client_for, tier3_version):
    workflow.version_submit(actor=personas.owner_b, version=tier3_version)
    response = api_client_for(personas.risk_officer).post(
        f"{WORKFLOW}{tier3_version.pk}/decide/", {"approve": False, "comment": "No monitoring at all"}, format="json"
    )
    body = ok(response)
    assert body["state"] == "rejected"
    assert body["decisions"][-1]["decision"] == "reject"


def test_withdraw_needs_the_owner_and_a_reason(personas, api_client_for, in_validation):
    url = f"{WORKFLOW}{in_validation.pk}/withdraw/"
    before = written()
    validator = api_client_for(personas.validator_assigned).post(url, {"comment": "stop"}, format="json")
    assert validator.status_code == 403
    assert validator.json() == {"detail": "You may not withdraw versions of RB-0001."}
    for blank in ({}, {"comment": "  "}):
        missing = api_client_for(personas.owner_a).post(url, blank, format="json")
        assert missing.status_code == 400 and list(missing.json()) == ["comment"]
    assert written() == before
    body = ok(api_client_for(personas.owner_a).post(url, {"comment": "Data issue found"}, format="json"))
    assert body["state"] == "withdrawn"
    assert body["timeline"][-1]["comment"] == "Data issue found"


def test_auditors_read_workflows_and_take_no_step(personas, api_client_for, in_validation):
    auditor = api_client_for(personas.auditor)
    body = ok(auditor.get(f"{WORKFLOW}{in_validation.pk}/"))
    assert [step["action"] for step in body["timeline"]] == ["submit", "start_validation"]
    before = written()
    for step, payload in (
        ("validate", {"passed": True, "comment": "ok"}),
        ("decide", {"approve": True, "comment": "ok"}),
        ("withdraw", {"comment": "stop"}),
    ):
        assert auditor.post(f"{WORKFLOW}{in_validation.pk}/{step}/", payload, format="json").status_code == 403
    assert written() == before


def test_pipeline_scoped_to_the_model_deploys(personas, api_client_for, version_a, second_risk_officer):
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    workflow.version_start_validation(actor=personas.validator_assigned, version=version_a)
    workflow.version_validate(actor=personas.validator_assigned, version=version_a, passed=True, comment="ok")
    workflow.version_decide(actor=personas.risk_officer, version=version_a, approve=True, comment="ok")
    workflow.version_decide(actor=second_risk_officer, version=version_a, approve=True, comment="ok")
    pipeline = api_client_for(personas.ci_scoped)
    assert offered(pipeline, version_a) == ["deploy"]
    assert ok(pipeline.post(f"{WORKFLOW}{version_a.pk}/deploy/", {"comment": "prod-eu"}, format="json"))["state"] == (
        "deployed"
    )


def test_review_queue_per_person(personas, api_client_for, version_a, tier3_version):
    workflow.version_submit(actor=personas.owner_a, version=version_a)
    workflow.version_submit(actor=personas.owner_b, version=tier3_version)

    def queued(name: str) -> list[tuple[str, str, str]]:
        rows = ok(api_client_for(getattr(personas, name)).get(QUEUE))["results"]
        return [(row["model"]["key"], row["version"], row["state"]) for row in rows]

    assert queued("validator_assigned") == [("RB-0001", "2.0.0", "submitted")]
    assert queued("risk_officer") == [("RB-0002", "1.0.0", "risk_review")]
    assert queued("owner_a") == []
    assert queued("owner_b") == []
    assert queued("validator_other") == []
    assert queued("auditor") == []
    row = ok(api_client_for(personas.risk_officer).get(QUEUE))["results"][0]
    assert row["workflow"] == f"http://testserver/api/v1/version-workflow/{tier3_version.pk}/"
    assert (row["risk_tier"], row["submitted_by"]["username"]) == (3, "owner_b")
    workflow.version_decide(actor=personas.risk_officer, version=tier3_version, approve=True, comment="ok")
    assert queued("risk_officer") == []


def test_anonymous_is_refused(personas, version_a):
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get(f"{WORKFLOW}{version_a.pk}/").status_code == 401
    assert client.post(f"{WORKFLOW}{version_a.pk}/submit/", {}, format="json").status_code == 401
    assert client.get(QUEUE).status_code == 401
    assert ModelVersion.objects.get(pk=version_a.pk).state == VersionState.DRAFT
