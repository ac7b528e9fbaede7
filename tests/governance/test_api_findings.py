"""Governance API: findings from raised to closed or risk-accepted, their filters and who may move them; and each
person's notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import Finding, GovernanceEvent, Notification
from governance.services import findings

pytestmark = pytest.mark.django_db

FINDINGS = "/api/v1/findings/"
NOTIFICATIONS = "/api/v1/notifications/"
DUE = dt.date.today() + dt.timedelta(days=30)
JUSTIFICATION = "Compensating control: manual review of every decline."


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have the given status."""
    assert response.status_code == status, response.content
    return response.json()


def finding_rows() -> tuple[Any, ...]:
    """Findings with their status and history, and the ledger: what a finding step writes."""
    return (
        list(Finding.objects.order_by("pk").values_list("status", flat=True)),
        Finding.history.count(),
        GovernanceEvent.objects.count(),
    )


def raise_on(model: Any, actor: Any, **fields: Any) -> Finding:
    """A finding raised through the service."""
    values: dict[str, Any] = {"title": "Monotonicity not tested", "severity": "high", "due_date": DUE} | fields
    return findings.finding_raise(actor=actor, model=model, **values)


def raise_body(**overrides: Any) -> dict[str, Any]:
    """A valid body raising a finding on model A."""
    return {"model": "RB-0001", "title": "Override rate not monitored", "severity": "medium", "due_date": str(DUE)} | (
        overrides
    )


def test_validator_raises_a_finding(personas, api_client_for):
    response = api_client_for(personas.validator_assigned).post(
        FINDINGS,
        raise_body(description="No report since Q1", evidence_links=["https://wiki.bank.example/pd/monitoring"]),
        format="json",
    )
    body = ok(response, 201)
    assert response["Location"] == f"http://testserver/api/v1/findings/{body['id']}/"
    assert (body["model"]["key"], body["source"], body["status"], body["severity"]) == (
        "RB-0001",
        "manual",
        "open",
        "medium",
    )
    assert body["owner"]["username"] == "owner_a" and body["raised_by"]["username"] == "validator_assigned"
    assert body["evidence_links"] == ["https://wiki.bank.example/pd/monitoring"]
    assert body["is_overdue"] is False and body["version"] is None
    assert body["links"]["history"] == f"http://testserver/api/v1/findings/{body['id']}/history/"


def test_finding_on_a_version_names_it(personas, api_client_for):
    from tests.factories import ModelVersionFactory

    version = ModelVersionFactory(model=personas.model_a, version="1.1.0")
    body = ok(api_client_for(personas.risk_officer).post(FINDINGS, raise_body(version=version.pk), format="json"), 201)
    assert body["version"] == {"id": version.pk, "version": "1.1.0"}
    other = ModelVersionFactory(model=personas.model_b, version="9.0.0")
    response = api_client_for(personas.risk_officer).post(FINDINGS, raise_body(version=other.pk), format="json")
    assert response.status_code == 400 and response.json() == {"version": ["Version 9.0.0 belongs to another model."]}
    invisible = api_client_for(personas.validator_assigned).post(FINDINGS, raise_body(version=other.pk), format="json")
    assert invisible.json() == {"version": [f"Model version {other.pk} does not exist."]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"severity": "urgent"}, "severity"),
        ({"due_date": "next week"}, "due_date"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"model": "RB-0002"}, "model"),
        ({"owner": "nobody"}, "owner"),
        ({"evidence_links": ["ftp://files.bank.example/x"]}, "evidence_links"),
        ({"evidence_links": "https://wiki.bank.example"}, "evidence_links"),
        ({"status": "closed"}, "status"),
        ({"version": "1"}, "version"),
    ],
)
def test_bad_finding_is_400_naming_the_field_and_writes_nothing(personas, api_client_for, overrides, field):
    before = finding_rows()
    response = api_client_for(personas.validator_assigned).post(FINDINGS, raise_body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert finding_rows() == before


@pytest.mark.parametrize(("name", "status"), [("owner_a", 403), ("auditor", 403), ("owner_b", 400)])
def test_who_may_not_raise(personas, api_client_for, name, status):
    before = finding_rows()
    response = api_client_for(getattr(personas, name)).post(FINDINGS, raise_body(), format="json")
    assert response.status_code == status
    assert finding_rows() == before


def test_lifecycle_through_the_api(personas, api_client_for):
    finding = raise_on(personas.model_a, personas.validator_assigned)
    url = f"{FINDINGS}{finding.pk}/"
    owner = api_client_for(personas.owner_a)
    link = "https://git.bank.example/pd/pull/12"
    started = ok(owner.post(f"{url}start-remediation/", {"comment": "On it", "evidence_links": [link]}, format="json"))
    assert (started["status"], started["evidence_links"]) == ("in_remediation", [link])

    before = finding_rows()
    own = owner.post(f"{url}close/", {"resolution": "Done"}, format="json")
    assert own.status_code == 403
    assert own.json() == {"detail": "Only a Risk Officer or a validator of the model closes findings."}
    no_resolution = api_client_for(personas.validator_assigned).post(f"{url}close/", {}, format="json")
    assert no_resolution.status_code == 400 and list(no_resolution.json()) == ["resolution"]
    assert finding_rows() == before

    closed = ok(
        api_client_for(personas.validator_assigned).post(
            f"{url}close/", {"resolution": "Test added and passing"}, format="json"
        )
    )
    assert (closed["status"], closed["resolution"], closed["resolved_by"]["username"]) == (
        "closed",
        "Test added and passing",
        "validator_assigned",
    )
    twice = api_client_for(personas.risk_officer).post(f"{url}close/", {"resolution": "again"}, format="json")
    assert twice.status_code == 400 and twice.json() == {"status": ["The finding is closed."]}
    reopened = ok(api_client_for(personas.risk_officer).post(f"{url}reopen/", {"reason": "Regression"}, format="json"))
    assert (reopened["status"], reopened["resolution"]) == ("open", "")
    history = ok(api_client_for(personas.auditor).get(f"{url}history/"))["results"]
    assert [entry["reason"] for entry in history] == ["Regression", "Closed", "On it", "Raised (Raised by hand)"]


def test_owners_remediate_and_the_second_line_reopens(personas, api_client_for):
    finding = raise_on(personas.model_a, personas.validator_assigned)
    url = f"{FINDINGS}{finding.pk}/"
    before = finding_rows()
    validator = api_client_for(personas.validator_assigned).post(f"{url}start-remediation/", {}, format="json")
    assert validator.status_code == 403
    assert validator.json() == {"detail": "Only the finding's owner or the model's owners remediate it."}
    assert finding_rows() == before
    findings.finding_close(actor=personas.risk_officer, finding=finding, resolution="Fixed")
    before = finding_rows()
    owner = api_client_for(personas.owner_a).post(f"{url}reopen/", {"reason": "Not fixed"}, format="json")
    assert owner.status_code == 403
    assert finding_rows() == before


def test_risk_acceptance(personas, api_client_for):
    finding = raise_on(personas.model_a, personas.risk_officer)
    url = f"{FINDINGS}{finding.pk}/accept-risk/"
    before = finding_rows()
    validator = api_client_for(personas.validator_assigned).post(url, {"justification": JUSTIFICATION}, format="json")
    assert validator.status_code == 403 and validator.json() == {"detail": "You may not accept risks."}
    short = api_client_for(personas.risk_officer).post(url, {"justification": "fine"}, format="json")
    assert short.status_code == 400 and "at least 20" in short.json()["justification"][0]
    assert finding_rows() == before
    accepted = ok(api_client_for(personas.risk_officer).post(url, {"justification": JUSTIFICATION}, format="json"))
    assert (accepted["status"], accepted["resolution"]) == ("risk_accepted", JUSTIFICATION)


def test_steps_on_an_invisible_finding_are_404(personas, api_client_for):
    finding = raise_on(personas.model_a, personas.validator_assigned)
    before = finding_rows()
    client = api_client_for(personas.owner_b)
    assert client.get(f"{FINDINGS}{finding.pk}/").status_code == 404
    assert client.get(f"{FINDINGS}{finding.pk}/history/").status_code == 404
    for step, body in (
        ("start-remediation", {}),
        ("close", {"resolution": "x"}),
        ("accept-risk", {"justification": JUSTIFICATION}),
        ("reopen", {"reason": "x"}),
    ):
        assert client.post(f"{FINDINGS}{finding.pk}/{step}/", body, format="json").status_code == 404, step
    assert finding_rows() == before


@pytest.fixture
def catalogue(personas):
    """Findings of both models with different severities, statuses, owners, sources and due dates."""
    overdue = raise_on(personas.model_a, personas.validator_assigned, title="Overdue", due_date=dt.date(2020, 1, 1))
    Finding.objects.filter(pk=overdue.pk).update(due_date=timezone.localdate() - dt.timedelta(days=3))
    raise_on(personas.model_a, personas.risk_officer, title="Critical", severity="critical", owner=personas.owner_b)
    closed = raise_on(personas.model_a, personas.risk_officer, title="Closed", severity="low")
    findings.finding_close(actor=personas.risk_officer, finding=closed, resolution="Fixed")
    raise_on(personas.model_b, personas.risk_officer, title="Fraud drift", source="monitoring")
    return personas


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Overdue", "Critical", "Closed", "Fraud drift"]),
        ({"model": "RB-0001"}, ["Overdue", "Critical", "Closed"]),
        ({"status": "closed"}, ["Closed"]),
        ({"status": ["open", "in_remediation"], "severity": "high"}, ["Overdue", "Fraud drift"]),
        ({"severity": "critical"}, ["Critical"]),
        ({"overdue": "true"}, ["Overdue"]),
        ({"overdue": "false"}, ["Critical", "Closed", "Fraud drift"]),
        ({"owner": "owner_b"}, ["Critical", "Fraud drift"]),
        ({"source": "monitoring"}, ["Fraud drift"]),
        ({"ordering": "-created"}, ["Fraud drift", "Closed", "Critical", "Overdue"]),
    ],
)
def test_finding_filters(catalogue, api_client_for, query, expected):
    rows = ok(api_client_for(catalogue.auditor).get(FINDINGS, query))["results"]
    assert [row["title"] for row in rows] == expected


def test_finding_list_keeps_to_what_the_user_sees(catalogue, api_client_for):
    def titles(name: str, **query: Any) -> list[str]:
        return [row["title"] for row in ok(api_client_for(getattr(catalogue, name)).get(FINDINGS, query))["results"]]

    assert titles("owner_b") == ["Fraud drift"]
    assert titles("owner_b", owner="owner_b") == ["Fraud drift"]  # owns a finding on A, but may not see model A
    assert titles("validator_assigned") == ["Overdue", "Critical", "Closed"]
    assert titles("no_role") == []
    overdue = ok(api_client_for(catalogue.auditor).get(FINDINGS, {"overdue": "true"}))["results"][0]
    assert overdue["is_overdue"] is True


@pytest.mark.parametrize(
    "query", [{"severity": "urgent"}, {"overdue": "maybe"}, {"ordering": "severity"}, {"source": "rumour"}]
)
def test_bad_finding_filter_is_400_naming_it(catalogue, api_client_for, query):
    response = api_client_for(catalogue.auditor).get(FINDINGS, query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


# --- notifications ---------------------------------------------------------------------------------------------


def test_each_person_reads_their_own_notifications(personas, api_client_for):
    raise_on(personas.model_a, personas.validator_assigned, title="Backtest")
    raise_on(personas.model_b, personas.risk_officer, title="Drift")
    inbox = ok(api_client_for(personas.owner_a).get(NOTIFICATIONS))["results"]
    assert [row["title"] for row in inbox] == ["New high finding on RB-0001: Backtest"]
    assert (inbox[0]["kind"], inbox[0]["read_at"]) == ("action_required", None)
    assert inbox[0]["link"].startswith("/governance/findings/")
    assert ok(api_client_for(personas.auditor).get(NOTIFICATIONS))["results"] == []


def test_mark_read_touches_only_the_callers_notifications(personas, api_client_for):
    raise_on(personas.model_a, personas.validator_assigned, title="One")
    raise_on(personas.model_a, personas.validator_assigned, title="Two")
    raise_on(personas.model_b, personas.risk_officer, title="Theirs")
    mine = list(Notification.objects.filter(recipient=personas.owner_a).order_by("pk").values_list("pk", flat=True))
    theirs = Notification.objects.get(recipient=personas.owner_b).pk
    client = api_client_for(personas.owner_a)
    assert ok(client.post(f"{NOTIFICATIONS}mark-read/", {"ids": [mine[0], theirs]}, format="json")) == {"marked": 1}
    assert Notification.objects.get(pk=theirs).read_at is None
    unread = ok(client.get(NOTIFICATIONS, {"unread": "true"}))["results"]
    assert [row["id"] for row in unread] == [mine[1]]
    assert ok(client.post(f"{NOTIFICATIONS}mark-read/", {"ids": mine}, format="json")) == {"marked": 1}
    assert ok(client.get(NOTIFICATIONS, {"unread": "true"}))["results"] == []
    assert len(ok(client.get(NOTIFICATIONS, {"unread": "false"}))["results"]) == 2
    bad = client.get(NOTIFICATIONS, {"unread": "yes"})
    assert bad.status_code == 400 and bad.json() == {"unread": ["Give true or false."]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": ["x"]}, "ids"),
        ({"ids": [0]}, "ids"),
        ({"ids": [1], "all": True}, "all"),
    ],
)
def test_bad_mark_read_is_400_naming_the_field(personas, api_client_for, body, field):
    response = api_client_for(personas.owner_a).post(f"{NOTIFICATIONS}mark-read/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_notifications_need_a_caller(personas):
    client = APIClient()
    assert client.get(NOTIFICATIONS).status_code == 401
    assert client.post(f"{NOTIFICATIONS}mark-read/", {"ids": [1]}, format="json").status_code == 401
