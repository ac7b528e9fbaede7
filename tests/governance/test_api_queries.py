"""The governance lists cost a fixed number of queries, whatever the page size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from governance.services import assessments, findings
from tests.governance.conftest import TIER_1_ANSWERS, TIER_2_ANSWERS

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Feeds the IRB capital model, whose errors are material."


@pytest.fixture
def busy_model(personas, second_risk_officer):
    """Model A with 45 assessments (some overridden, some reviewed) and 45 findings (some resolved); each write
    also lands in the ledger and notifies someone."""
    due = dt.date.today() + dt.timedelta(days=30)
    for number in range(45):
        answers = TIER_1_ANSWERS if number % 2 else TIER_2_ANSWERS
        assessment = assessments.risk_assessment_create(actor=personas.owner_a, model=personas.model_a, answers=answers)
        if number % 3 == 0:
            override = assessments.tier_override_request(
                actor=personas.owner_a, assessment=assessment, tier=3, justification=JUSTIFICATION
            )
            assessments.tier_override_decide(
                actor=second_risk_officer, override=override, approve=bool(number % 2), comment="Decided"
            )
        if number % 5 == 0:
            assessments.risk_assessment_review(actor=personas.risk_officer, assessment=assessment, approve=True)
        finding = findings.finding_raise(
            actor=personas.validator_assigned,
            model=personas.model_a,
            title=f"Finding {number}",
            severity="high",
            due_date=due,
        )
        if number % 4 == 0:
            findings.finding_close(actor=personas.risk_officer, finding=finding, resolution="Fixed")
    return personas


def query_count(client: APIClient, url: str, page_size: int) -> int:
    """Queries one page of ``url`` costs, checking the page is full."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == page_size
    return len(queries)


@pytest.mark.parametrize("name", ["owner_a", "risk_officer", "auditor"])
@pytest.mark.parametrize(
    ("url", "large"),
    [
        ("/api/v1/findings/", 40),
        ("/api/v1/ledger/", 40),
        ("/api/v1/risk-assessments/", 40),
        ("/api/v1/tier-overrides/", 15),
    ],
)
def test_governance_lists_cost_the_same_queries_whatever_the_page_size(busy_model, api_client_for, name, url, large):
    client = api_client_for(getattr(busy_model, name))
    client.get(url, {"page_size": 1})  # the first request also records the token's use
    assert query_count(client, url, 5) == query_count(client, url, large)


def test_notifications_cost_the_same_queries_whatever_the_page_size(busy_model, api_client_for):
    client = api_client_for(busy_model.owner_a)
    client.get("/api/v1/notifications/", {"page_size": 1})
    assert query_count(client, "/api/v1/notifications/", 5) == query_count(client, "/api/v1/notifications/", 40)
