"""The gate API per persona: who may ask, who reads decisions, the public JWKS, bad input, bounded queries."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from gate import signing
from gate.models import GateDecision
from tests.gate.conftest import DIGEST, OTHER_DIGEST

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/gate/check/"
DECISIONS = "/api/v1/gate/decisions/"


def body(**change: Any) -> dict[str, Any]:
    return {"model": "RB-0001", "version": "1.0.0", "environment": "production", "digest": DIGEST, **change}


def test_a_scoped_pipeline_asks_and_gets_a_signed_answer(
    personas: Any, approved_version: Any, api_client_for: Any
) -> None:
    client = api_client_for(personas.ci_scoped)

    response = client.post(CHECK, body(ci_run_url="https://ci.bank.example/runs/1", commit_sha="c" * 40), format="json")

    assert response.status_code == 200, response.json()
    answer = response.json()
    assert (answer["decision"], answer["reasons"], answer["gated"]) == ("allow", [], True)
    assert (answer["model"], answer["version"], answer["environment"], answer["digest"]) == (
        "RB-0001",
        "1.0.0",
        "production",
        DIGEST,
    )
    assert answer["pipeline"] == {"ci_run_url": "https://ci.bank.example/runs/1", "commit_sha": "c" * 40}
    jwks = APIClient().get("/api/v1/gate/jwks/").json()
    claims = signing.verify(answer["token"], jwks)
    assert claims["jti"] == answer["decision_id"]
    assert answer["links"]["self"].endswith(f"{DECISIONS}{answer['decision_id']}/")
    assert answer["ledger_seq"] > 0

    denied = client.post(CHECK, body(digest=OTHER_DIGEST), format="json").json()
    assert denied["decision"] == "deny"
    assert [reason["code"] for reason in denied["reasons"]] == ["digest_mismatch"]
    assert denied["reasons"][0]["message"]


def test_who_may_ask_the_gate(personas: Any, approved_version: Any, api_client_for: Any) -> None:
    assert api_client_for(personas.ci_scoped).post(CHECK, body(model="RB-0002"), format="json").status_code == 404
    assert api_client_for(personas.ci_unscoped).post(CHECK, body(), format="json").status_code == 404
    assert api_client_for(personas.owner_b).post(CHECK, body(), format="json").status_code == 404
    assert api_client_for(personas.auditor).post(CHECK, body(), format="json").status_code == 403
    assert api_client_for(personas.validator_assigned).post(CHECK, body(), format="json").status_code == 403
    assert APIClient().post(CHECK, body(), format="json").status_code in {401, 403}
    assert api_client_for(personas.owner_a).post(CHECK, body(), format="json").status_code == 200
    assert api_client_for(personas.risk_officer).post(CHECK, body(), format="json").status_code == 200
    assert GateDecision.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"digest": "sha256:abc"}, "digest"),
        ({"digest": 42}, "digest"),
        ({"environment": "Prod Env"}, "environment"),
        ({"model": "not a key"}, "model"),
        ({"version": "../1"}, "version"),
        ({"commit_sha": "xyz"}, "commit_sha"),
        ({"ci_run_url": "ftp://ci.example/1"}, "ci_run_url"),
        ({"branch": "main"}, "branch"),
        ({"change_reason": "why not"}, "change_reason"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    personas: Any, approved_version: Any, api_client_for: Any, change: dict[str, Any], field: str
) -> None:
    response = api_client_for(personas.ci_scoped).post(CHECK, body(**change), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not GateDecision.objects.exists()


def test_missing_fields_are_named(personas: Any, api_client_for: Any) -> None:
    response = api_client_for(personas.ci_scoped).post(CHECK, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"model", "version", "environment", "digest"}


def test_decisions_are_listed_to_those_who_may_see_the_model(
    personas: Any, approved_version: Any, api_client_for: Any
) -> None:
    ci = api_client_for(personas.ci_scoped)
    allowed = ci.post(CHECK, body(), format="json").json()
    denied = ci.post(CHECK, body(environment="staging", digest=OTHER_DIGEST), format="json").json()
    auditor = api_client_for(personas.auditor)

    listed = auditor.get(DECISIONS).json()["results"]
    assert [item["decision_id"] for item in listed] == [denied["decision_id"], allowed["decision_id"]]
    assert [item["decision_id"] for item in ci.get(DECISIONS).json()["results"]] == [
        denied["decision_id"],
        allowed["decision_id"],
    ]
    assert api_client_for(personas.risk_officer).get(DECISIONS).json()["count"] == 2
    assert api_client_for(personas.ci_unscoped).get(DECISIONS).json()["results"] == []
    assert api_client_for(personas.owner_b).get(DECISIONS).json()["results"] == []
    assert api_client_for(personas.owner_b).get(f"{DECISIONS}{allowed['decision_id']}/").status_code == 404
    assert auditor.get(f"{DECISIONS}{allowed['decision_id']}/").json()["token"] == allowed["token"]
    assert APIClient().get(DECISIONS).status_code in {401, 403}

    def ids(query: str) -> list[str]:
        return [item["decision_id"] for item in auditor.get(f"{DECISIONS}?{query}").json()["results"]]

    assert ids("decision=deny") == [denied["decision_id"]]
    assert ids("environment=production") == [allowed["decision_id"]]
    assert ids("model=RB-0002") == []
    assert len(ids("model=RB-0001&version=1.0.0")) == 2
    assert auditor.get(f"{DECISIONS}?decision=maybe").status_code == 400


def test_the_jwks_is_public_at_both_addresses(personas: Any) -> None:
    api = APIClient().get("/api/v1/gate/jwks/")
    well_known = APIClient().get("/.well-known/jwks.json")

    assert api.status_code == well_known.status_code == 200
    assert api.json() == well_known.json() == signing.public_jwks()
    assert api.json()["keys"][0]["kid"] == signing.signing_key().kid


def test_asking_and_listing_cost_a_bounded_number_of_queries(
    personas: Any, approved_version: Any, api_client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = api_client_for(personas.ci_scoped)
    auditor = api_client_for(personas.auditor)
    for _ in range(3):
        client.post(CHECK, body(), format="json")
    with django_assert_max_num_queries(25):
        assert client.post(CHECK, body(), format="json").status_code == 200
    with django_assert_max_num_queries(8):
        assert len(auditor.get(DECISIONS).json()["results"]) == 4
    for _ in range(10):
        client.post(CHECK, body(digest=OTHER_DIGEST), format="json")
    with django_assert_max_num_queries(8):
        assert len(auditor.get(DECISIONS).json()["results"]) == 14


@pytest.mark.parametrize(
    ("version", "digest", "environment", "pipeline"),
    [
        ("1.0.0", DIGEST, "production", {"ci_run_url": "https://ci.bank.example/runs/7", "commit_sha": "a" * 40}),
        ("1.0.0", OTHER_DIGEST, "production", {}),
        ("9.9.9", DIGEST, "dev", {"commit_sha": "b" * 40}),
    ],
)
def test_the_answer_of_a_check_equals_the_decision_serializer(
    personas: Any, approved_version: Any, version: str, digest: str, environment: str, pipeline: dict[str, str]
) -> None:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from gate.api.serializers import GateDecisionOutputSerializer, gate_decision_record
    from gate.services import gate_check

    decision = gate_check(
        actor=personas.ci_scoped,
        model_key="RB-0001",
        version_label=version,
        environment=environment,
        digest=digest,
        pipeline=pipeline,
    )
    context = {"request": Request(APIRequestFactory().post("/api/v1/gate/check/"))}

    record = gate_decision_record(decision, dict(context))

    assert record == GateDecisionOutputSerializer(decision, context=context).data
    assert record["reasons"] or (version == "1.0.0" and digest == DIGEST)
