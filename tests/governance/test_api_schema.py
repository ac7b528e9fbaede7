"""The governance API in the OpenAPI schema: every endpoint, its filters, and its documented refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The generated schema, once for the module: generating it reads code, not the database."""
    target: Path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    document: dict = yaml.safe_load(target.read_text())
    return document


GOVERNANCE_OPERATIONS = [
    ("/api/v1/questionnaires/", "get"),
    ("/api/v1/questionnaires/", "post"),
    ("/api/v1/questionnaires/{version}/", "get"),
    ("/api/v1/questionnaires/{version}/impact-preview/", "get"),
    ("/api/v1/questionnaires/{version}/publish/", "post"),
    ("/api/v1/risk-assessments/", "get"),
    ("/api/v1/risk-assessments/", "post"),
    ("/api/v1/risk-assessments/{id}/", "get"),
    ("/api/v1/risk-assessments/{id}/approve/", "post"),
    ("/api/v1/risk-assessments/{id}/reject/", "post"),
    ("/api/v1/tier-overrides/", "get"),
    ("/api/v1/tier-overrides/", "post"),
    ("/api/v1/tier-overrides/{id}/approve/", "post"),
    ("/api/v1/tier-overrides/{id}/reject/", "post"),
    ("/api/v1/policy-packs/", "get"),
    ("/api/v1/policy-packs/{code}/activate/", "post"),
    ("/api/v1/tier-policies/", "get"),
    ("/api/v1/tier-policies/{id}/", "get"),
    ("/api/v1/tier-policies/{id}/", "patch"),
    ("/api/v1/version-workflow/{version_id}/", "get"),
    *[
        (f"/api/v1/version-workflow/{{version_id}}/{step}/", "post")
        for step in ("submit", "start-validation", "validate", "decide", "withdraw", "deploy", "retire")
    ],
    ("/api/v1/review-queue/", "get"),
    ("/api/v1/findings/", "get"),
    ("/api/v1/findings/", "post"),
    ("/api/v1/findings/{id}/", "get"),
    *[(f"/api/v1/findings/{{id}}/{step}/", "post") for step in ("start-remediation", "close", "accept-risk", "reopen")],
    ("/api/v1/ledger/", "get"),
    ("/api/v1/ledger/verify/", "get"),
    ("/api/v1/notifications/", "get"),
    ("/api/v1/notifications/mark-read/", "post"),
]


@pytest.mark.parametrize(("path", "method"), GOVERNANCE_OPERATIONS)
def test_every_governance_operation_is_documented(schema, path, method):
    operation = schema["paths"][path][method]
    assert operation["summary"]
    assert {"200", "201"} & set(operation["responses"])
    assert "401" in operation["responses"]


def test_steps_document_the_refusals(schema):
    decide = schema["paths"]["/api/v1/version-workflow/{version_id}/decide/"]["post"]
    assert {"200", "400", "401", "403", "404"} <= set(decide["responses"])
    assert "segregation-of-duties" in decide["responses"]["403"]["description"]
    body = schema["components"]["schemas"]["DecideInputRequest"]
    assert set(body["required"]) == {"approve", "comment"}
    verify = schema["paths"]["/api/v1/ledger/verify/"]["get"]
    assert {"200", "401", "403"} <= set(verify["responses"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/findings/", {"model", "status", "severity", "overdue", "owner", "source", "ordering", "page_size"}),
        ("/api/v1/ledger/", {"model", "event_type", "page", "page_size"}),
        ("/api/v1/risk-assessments/", {"model", "status"}),
        ("/api/v1/notifications/", {"unread"}),
    ],
)
def test_list_filters_are_documented(schema, path, expected):
    names = {parameter["name"] for parameter in schema["paths"][path]["get"]["parameters"]}
    assert expected <= names
