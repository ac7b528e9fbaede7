"""The Findings and Ledger tabs of a model's dossier: this model's rows only, the shared FindingFilterSet, the
chain's verification for the roles that may run it, and the refused users."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.models import Finding, GovernanceEvent
from governance.services import findings
from governance.views_dossier import event_hash_matches
from tests.governance.conftest import TIER_1_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db

DUE = dt.date.today() + dt.timedelta(days=30)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def raise_finding(personas: Any, **fields: Any) -> Finding:
    values: dict[str, Any] = {"model": personas.model_a, "severity": "high", "due_date": DUE} | fields
    return findings.finding_raise(actor=personas.risk_officer, **values)


def titles(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/governance/findings/\d+/">([^<]*)</a></th>', page)


def findings_url(personas: Any) -> str:
    return reverse("governance:model-findings", args=[personas.model_a.key])


def ledger_url(personas: Any) -> str:
    return reverse("governance:model-ledger", args=[personas.model_a.key])


# --- findings tab ---------------------------------------------------------------------------------------------------


def test_findings_tab_lists_this_models_findings_with_the_shared_filters(personas: Any) -> None:
    raise_finding(personas, title="Monotonicity not tested", severity="high")
    raise_finding(personas, title="Stale documentation", severity="low")
    raise_finding(personas, model=personas.model_b, title="Other model's finding")
    client = client_for(personas.validator_assigned)

    page = client.get(findings_url(personas)).content.decode()
    assert sorted(titles(page)) == ["Monotonicity not tested", "Stale documentation"]
    assert client.get(findings_url(personas), {"severity": "low"}).content.decode().count("Stale documentation") == 1
    assert titles(client.get(findings_url(personas), {"severity": "low"}).content.decode()) == ["Stale documentation"]
    assert titles(client.get(findings_url(personas), {"overdue": "true"}).content.decode()) == []
    # The model is fixed by the tab: no model filter is offered, and one in the URL changes nothing.
    assert 'name="model"' not in page
    assert len(titles(client.get(findings_url(personas), {"model": "RB-0002"}).content.decode())) == 2


def test_findings_tab_refuses_bad_filters_naming_the_field(personas: Any) -> None:
    raise_finding(personas, title="Monotonicity not tested")
    response = client_for(personas.owner_a).get(findings_url(personas), {"severity": "catastrophic"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Some filters are not valid" in page and "catastrophic" in page and titles(page) == []
    assert client_for(personas.owner_a).get(findings_url(personas), {"overdue": "maybe"}).status_code == 400


def test_findings_tab_is_paged(personas: Any) -> None:
    for number in range(3):
        raise_finding(personas, title=f"Finding {number}")
    page = client_for(personas.auditor).get(findings_url(personas), {"per_page": 2}).content.decode()
    assert len(titles(page)) == 2 and 'rel="next"' in page and "<strong>3</strong> findings" in page


def test_findings_tab_refuses_who_may_not_see_the_model(personas: Any) -> None:
    raise_finding(personas, title="Monotonicity not tested")
    for user in (personas.owner_b, personas.validator_other, personas.no_role):
        assert client_for(user).get(findings_url(personas)).status_code == 404
    assert Client().get(findings_url(personas)).status_code == 302
    assert client_for(personas.owner_a).post(findings_url(personas)).status_code == 405


# --- ledger tab -----------------------------------------------------------------------------------------------------


@pytest.fixture
def ledger(personas: Any) -> list[GovernanceEvent]:
    """Events of both models: model A's tier approval and a finding, model B's finding."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    raise_finding(personas, title="Monotonicity not tested")
    raise_finding(personas, model=personas.model_b, title="Other model's finding")
    return list(GovernanceEvent.objects.order_by("seq"))


def seqs(page: str) -> list[int]:
    return [int(seq) for seq in re.findall(r'<tr id="event-(\d+)">', page)]


def test_ledger_tab_lists_this_models_entries_newest_first_with_hashes(personas: Any, ledger: Any) -> None:
    own = [event for event in ledger if event.model_id == personas.model_a.pk]
    assert own and len(own) < len(ledger)
    response = client_for(personas.owner_a).get(ledger_url(personas))
    page = response.content.decode()
    assert seqs(page) == sorted((event.seq for event in own), reverse=True)
    for event in own:
        assert event.hash in page and event.prev_hash in page
    assert page.count("✓ Matches") == len(own)
    # An owner reads the entries but does not verify the whole ledger, which holds other models' entries.
    assert "Verify the whole chain" not in page and "Auditors and Risk Officers verify" in page
    verify = client_for(personas.owner_a).get(ledger_url(personas), {"verify": "1"})
    assert verify.status_code == 200 and verify.context["verification"] is None


@pytest.mark.parametrize("persona", ["auditor", "risk_officer"])
def test_auditors_and_risk_officers_verify_the_chain(personas: Any, ledger: Any, persona: str) -> None:
    client = client_for(getattr(personas, persona))
    assert "Verify the whole chain" in client.get(ledger_url(personas)).content.decode()
    response = client.get(ledger_url(personas), {"verify": "1"})
    verification = response.context["verification"]
    assert verification.intact and verification.checked == len(ledger)
    assert "The chain is intact" in response.content.decode()


def test_an_altered_entry_is_flagged_on_the_tab_and_by_the_verification(personas: Any, ledger: Any) -> None:
    target = next(event for event in ledger if event.model_id == personas.model_a.pk)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger refuses edits; a database superuser can switch it off, as an insider could.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE governance_governanceevent SET summary = %s WHERE seq = %s", ["Nothing", target.seq])
    target.refresh_from_db()
    assert not event_hash_matches(target)
    response = client_for(personas.auditor).get(ledger_url(personas), {"verify": "1"})
    page = response.content.decode()
    assert "✗ Altered" in page and f"#{target.seq} no longer matches" in page
    assert f"The chain is broken at row #{target.seq}" in page


def test_ledger_tab_refuses_who_may_not_see_the_model(personas: Any, ledger: Any) -> None:
    for user in (personas.owner_b, personas.validator_other, personas.no_role):
        assert client_for(user).get(ledger_url(personas)).status_code == 404
        assert client_for(user).get(ledger_url(personas), {"verify": "1"}).status_code == 404
    assert Client().get(ledger_url(personas)).status_code == 302


def test_ledger_tab_is_paged_at_a_fixed_query_count(personas: Any, ledger: Any) -> None:
    client = client_for(personas.auditor)
    own = [event for event in ledger if event.model_id == personas.model_a.pk]
    assert len(own) > 1
    counts = []
    for per_page in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(ledger_url(personas), {"per_page": per_page}).content.decode()
        assert len(seqs(page)) == min(per_page, len(own)) and f"<strong>{len(own)}</strong> entr" in page
        counts.append(len(queries))
    # Re-hashing the rows reads nothing more: one page of entries costs the same as another.
    assert counts[0] == counts[1]
