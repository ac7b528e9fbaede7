"""Governance API: reading the ledger (per what each person may see), re-checking a hash from what the API shows,
and verifying the chain (Auditors and Risk Officers only), intact and tampered."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils.dateparse import parse_datetime

from governance.choices import EventType
from governance.ledger import HASHED_FIELDS, event_hash
from governance.models import GovernanceEvent, TierPolicy
from governance.services import policies
from governance.services.assessments import risk_assessment_create
from tests.governance.conftest import TIER_1_ANSWERS, TIER_3_ANSWERS

pytestmark = pytest.mark.django_db

LEDGER = "/api/v1/ledger/"
VERIFY = "/api/v1/ledger/verify/"


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have the given status."""
    assert response.status_code == status, response.content
    return response.json()


@pytest.fixture
def events(personas):
    """Ledger events on both models and one about no model (a policy change)."""
    risk_assessment_create(actor=personas.owner_a, model=personas.model_a, answers=TIER_1_ANSWERS)
    risk_assessment_create(actor=personas.owner_b, model=personas.model_b, answers=TIER_3_ANSWERS)
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=3)
    policies.tier_policy_update(
        actor=personas.risk_officer, policy=policy, changes={"required_approvers": 2}, reason="Stricter"
    )
    return personas


def summaries(response: Any) -> list[tuple[str, str]]:
    """(model key, event type) of each entry on a page of the ledger."""
    return [(row["model_key"], row["event_type"]) for row in ok(response)["results"]]


def test_second_and_third_line_read_the_whole_ledger_newest_first(events, api_client_for):
    for name in ("auditor", "risk_officer"):
        assert summaries(api_client_for(getattr(events, name)).get(LEDGER)) == [
            ("", EventType.POLICY_CHANGED),
            ("RB-0002", EventType.ASSESSMENT_SUBMITTED),
            ("RB-0001", EventType.ASSESSMENT_SUBMITTED),
        ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("owner_a", [("RB-0001", EventType.ASSESSMENT_SUBMITTED)]),
        ("validator_assigned", [("RB-0001", EventType.ASSESSMENT_SUBMITTED)]),
        ("owner_b", [("RB-0002", EventType.ASSESSMENT_SUBMITTED)]),
        ("ci_scoped", [("RB-0001", EventType.ASSESSMENT_SUBMITTED)]),
        ("validator_other", []),
        ("no_role", []),
    ],
)
def test_others_read_the_events_of_the_models_they_see(events, api_client_for, name, expected):
    assert summaries(api_client_for(getattr(events, name)).get(LEDGER)) == expected


def test_ledger_filters(events, api_client_for):
    auditor = api_client_for(events.auditor)
    assert summaries(auditor.get(LEDGER, {"model": "RB-0002"})) == [("RB-0002", EventType.ASSESSMENT_SUBMITTED)]
    assert summaries(auditor.get(LEDGER, {"event_type": EventType.POLICY_CHANGED})) == [("", EventType.POLICY_CHANGED)]
    assert summaries(api_client_for(events.owner_b).get(LEDGER, {"model": "RB-0001"})) == []
    bad = auditor.get(LEDGER, {"event_type": "version.teleported"})
    assert bad.status_code == 400 and list(bad.json()) == ["event_type"]


def test_an_entry_carries_what_its_hash_covers(events, api_client_for):
    latest = GovernanceEvent.objects.latest("seq")
    entry = ok(api_client_for(events.auditor).get(f"{LEDGER}{latest.seq}/"))
    assert (entry["seq"], entry["hash"], entry["event_label"]) == (latest.seq, latest.hash, "Tier policy changed")
    assert entry["actor_username"] == "risk_officer" and entry["payload"]["reason"] == "Stricter"
    # Anyone holding the API's answer can recompute the hash: the fields are given exactly as they were hashed.
    fields = {name: entry[name] for name in HASHED_FIELDS}
    fields["occurred_at"] = parse_datetime(entry["occurred_at"])
    assert event_hash(fields) == entry["hash"]
    assert entry["occurred_at"].endswith("Z") and len(entry["occurred_at"]) == len("2026-06-30T12:00:00.000000Z")


def test_an_invisible_entry_is_404(events, api_client_for):
    other = GovernanceEvent.objects.get(model_key="RB-0001")
    assert api_client_for(events.owner_b).get(f"{LEDGER}{other.seq}/").status_code == 404
    assert api_client_for(events.owner_a).get(f"{LEDGER}{other.seq}/").status_code == 200


@pytest.mark.parametrize("name", ["auditor", "risk_officer", "admin"])
def test_verify_for_auditors_and_risk_officers(events, api_client_for, name):
    body = ok(api_client_for(getattr(events, name)).get(VERIFY))
    head = GovernanceEvent.objects.latest("seq")
    assert body == {
        "intact": True,
        "checked": 3,
        "head_seq": head.seq,
        "head_hash": head.hash,
        "first_broken_seq": None,
        "problem": "",
    }


@pytest.mark.parametrize("name", ["owner_a", "validator_assigned", "ci_scoped", "no_role"])
def test_verify_refused_to_others(events, api_client_for, name):
    response = api_client_for(getattr(events, name)).get(VERIFY)
    assert response.status_code == 403
    assert response.json() == {"detail": "Only Auditors and Risk Officers verify the ledger."}


def test_verify_names_the_altered_row(events, api_client_for):
    target = GovernanceEvent.objects.get(model_key="RB-0002")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger refuses edits; a database superuser can switch it off, and the chain check
            # must catch what such an insider does.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE governance_governanceevent SET summary = %s WHERE seq = %s", ["Nothing", target.seq])
    body = ok(api_client_for(events.auditor).get(VERIFY))
    assert body["intact"] is False
    assert body["first_broken_seq"] == target.seq
    assert "altered" in body["problem"]
    assert body["checked"] == target.seq - 1
