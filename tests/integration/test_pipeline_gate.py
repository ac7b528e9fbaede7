"""A scripted pipeline against a live server, over real HTTP with a CI service account's API token:
evidence in, gate denies an unapproved version, approval, gate allows with a token that verifies against the
published JWKS, another digest is denied, an unapproved deployment raises the finding, and every decision is
in a ledger that still verifies."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import jwt
import pytest

from core.services import api_token_issue
from gate import signing
from governance.choices import EventType, FindingSource
from governance.ledger import verify_ledger
from governance.models import Finding, GovernanceEvent
from governance.services.workflow import version_decide, version_submit
from inventory.models import ModelVersion
from tests.governance.conftest import TIER_3_ANSWERS, approve_tier

IMAGE = "sha256:" + "1d" * 32
OTHER = "sha256:" + "2e" * 32
COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"


class Pipeline:
    """What a CI job does with curl, done with urllib: JSON in, JSON out, the token in the header."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url, self.token = base_url, token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the test's own server
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def post(self, path: str, body: dict[str, Any]) -> Any:
        status, answer = self.call("POST", path, body)
        assert status in {200, 201}, (path, status, answer)
        return answer

    def gate(self, digest: str) -> Any:
        return self.post(
            "/api/v1/gate/check/",
            {
                "model": "RB-0001",
                "version": "3.1.0",
                "environment": "production",
                "digest": digest,
                "ci_run_url": "https://ci.bank.example/pd/runs/4711",
                "commit_sha": COMMIT,
            },
        )


def codes(answer: Any) -> list[str]:
    return [reason["code"] for reason in answer["reasons"]]


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_is_gated_end_to_end(personas: Any, live_server: Any, settings: Any, tmp_path: Any) -> None:
    settings.GATE_KEY_DIR = tmp_path / "keys"
    settings.GATE_SIGNING_KEY = None
    settings.GATE_PREVIOUS_PUBLIC_KEYS = None
    settings.GATE_UNGATED_ENVIRONMENTS = []
    approve_tier(personas.model_a, TIER_3_ANSWERS, personas.owner_a, personas.risk_officer)
    _, clear = api_token_issue(actor=personas.admin, user=personas.ci_scoped, name="pd pipeline")
    ci = Pipeline(live_server.url, clear)
    target = {"model": "RB-0001", "version": "3.1.0"}

    # The build registers its evidence; the first report creates the draft version.
    ci.post(
        "/api/v1/artifacts/",
        {**target, "create_version": True, "kind": "git_commit", "repository": "github.com/bank/pd", "sha": COMMIT},
    )
    ci.post(
        "/api/v1/artifacts/",
        {
            **target,
            "kind": "ci_run",
            "system": "github-actions",
            "url": "https://ci.bank.example/pd/runs/4711",
            "run_id": "4711",
            "actor": "jdoe",
        },
    )
    ci.post(
        "/api/v1/artifacts/",
        {**target, "kind": "container_image", "reference": "registry.bank.example/risk/pd:3.1.0", "digest": IMAGE},
    )
    ci.post("/api/v1/artifacts/", {**target, "kind": "model_file", "uri": "s3://models/pd/3.1.0.pkl", "digest": IMAGE})

    denied = ci.gate(IMAGE)
    assert (denied["decision"], codes(denied)) == ("deny", ["not_approved"])

    # Governance approves the version (owner submits, an independent Risk Officer approves).
    version = ModelVersion.objects.get(model=personas.model_a, version="3.1.0")
    version_submit(actor=personas.owner_a, version=version, comment="Release 3.1.0")
    version_decide(actor=personas.risk_officer, version=version, approve=True, comment="Validated and fit for use")

    allowed = ci.gate(IMAGE)
    assert (allowed["decision"], codes(allowed)) == ("allow", [])
    status, jwks = Pipeline(live_server.url, None).call("GET", "/.well-known/jwks.json")
    assert status == 200
    kid = jwt.get_unverified_header(allowed["token"])["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims = jwt.decode(allowed["token"], key.key, algorithms=[key.algorithm_name], issuer=settings.PORTAL_BASE_URL)
    assert (claims["sub"], claims["version"], claims["digest"], claims["decision"]) == (
        "RB-0001",
        "3.1.0",
        IMAGE,
        "allow",
    )
    assert claims["jti"] == allowed["decision_id"]
    assert signing.verify(denied["token"], jwks)["reasons"] == ["not_approved"]

    mismatch = ci.gate(OTHER)
    assert (mismatch["decision"], codes(mismatch)) == ("deny", ["digest_mismatch"])

    # The pipeline deploys the other digest anyway and reports it: the portal raises the finding itself.
    report = ci.post(
        "/api/v1/deployments/",
        {**target, "environment": "production", "digest": OTHER, "external_id": "deploy-4711"},
    )
    assert report["matches_approval"] is False
    finding = Finding.objects.get(source=FindingSource.DEPLOYMENT)
    assert (finding.severity, finding.status, finding.model_id) == ("high", "open", personas.model_a.pk)

    # Every decision is listed and in the ledger, and the chain verifies.
    status, listed = ci.call("GET", "/api/v1/gate/decisions/?model=RB-0001")
    ids = [denied["decision_id"], allowed["decision_id"], mismatch["decision_id"]]
    assert status == 200
    assert [item["decision_id"] for item in listed["results"]] == ids[::-1]
    events = GovernanceEvent.objects.filter(
        event_type__in=[EventType.DEPLOYMENT_ALLOWED, EventType.DEPLOYMENT_DENIED]
    ).order_by("seq")
    assert [(event.event_type, event.payload["decision_id"]) for event in events] == [
        (EventType.DEPLOYMENT_DENIED, ids[0]),
        (EventType.DEPLOYMENT_ALLOWED, ids[1]),
        (EventType.DEPLOYMENT_DENIED, ids[2]),
    ]
    assert GovernanceEvent.objects.filter(event_type=EventType.DEPLOYMENT_REPORTED).count() == 1
    assert GovernanceEvent.objects.filter(event_type=EventType.FINDING_RAISED, subject_id=str(finding.pk)).exists()
    assert verify_ledger().intact
