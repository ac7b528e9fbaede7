"""The ledger: chained hashes, tamper detection naming the broken row, append-only on PostgreSQL."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from governance.choices import EventType
from governance.ledger import GENESIS_HASH, canonical_json, event_hash, ledger_append, verify_ledger
from governance.models import GovernanceEvent, LedgerHead
from tests.markers import postgresql_only

pytestmark = pytest.mark.django_db


def append_events(actor, model, count=4):
    events = []
    for number in range(count):
        with transaction.atomic():
            events.append(
                ledger_append(
                    event_type=EventType.FINDING_RAISED,
                    actor=actor,
                    model=model,
                    summary=f"Event {number} — naïve ünïcode",
                    payload={"n": number, "ratio": 0.1 + number, "tags": ["b", "a"], "nested": {"z": 1, "a": None}},
                )
            )
    return events


def test_chain_links_each_event_to_the_previous(personas):
    events = append_events(personas.risk_officer, personas.model_a)
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash and event.seq == previous.seq + 1
    stored = GovernanceEvent.objects.get(seq=events[2].seq)
    assert (
        event_hash(
            {
                name: getattr(stored, name)
                for name in (
                    "seq",
                    "event_type",
                    "occurred_at",
                    "actor_id",
                    "actor_username",
                    "model_key",
                    "subject_type",
                    "subject_id",
                    "summary",
                    "payload",
                    "prev_hash",
                )
            }
        )
        == stored.hash
    )
    head = LedgerHead.objects.get()
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
    assert verify_ledger().intact


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        ledger_append(event_type=EventType.FINDING_RAISED, actor=None, summary="x")


def test_canonical_json_is_key_order_independent():
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1}) == '{"a":[1,2],"b":1}'
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json({"x": float("nan")})


def _sql(statement, params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _without_trigger():
    """On PostgreSQL the trigger refuses edits; a database superuser can still switch it off. Do that, to show
    the chain check catches what a privileged insider could do."""
    if connection.vendor == "postgresql":
        _sql("SET LOCAL session_replication_role = replica", [])


def test_edited_row_is_named(personas):
    events = append_events(personas.risk_officer, personas.model_a)
    _without_trigger()
    _sql("UPDATE governance_governanceevent SET summary = %s WHERE seq = %s", ["Nothing happened", events[1].seq])
    result = verify_ledger()
    assert not result.intact and result.first_broken_seq == events[1].seq
    assert "altered" in result.problem
    with pytest.raises(CommandError, match=f"row #{events[1].seq}"):
        call_command("verify_ledger")


def test_deleted_row_is_named(personas):
    events = append_events(personas.risk_officer, personas.model_a)
    _without_trigger()
    _sql("DELETE FROM governance_governanceevent WHERE seq = %s", [events[2].seq])
    result = verify_ledger()
    assert not result.intact and result.first_broken_seq == events[2].seq
    assert "missing" in result.problem


def test_deleted_last_row_is_caught_by_the_head(personas):
    events = append_events(personas.risk_officer, personas.model_a)
    _without_trigger()
    _sql("DELETE FROM governance_governanceevent WHERE seq = %s", [events[-1].seq])
    result = verify_ledger()
    assert not result.intact and result.first_broken_seq == events[-1].seq


def test_rehashed_row_breaks_the_next_link(personas):
    events = append_events(personas.risk_officer, personas.model_a)
    target = GovernanceEvent.objects.get(seq=events[1].seq)
    fields = {
        name: getattr(target, name)
        for name in (
            "seq",
            "event_type",
            "occurred_at",
            "actor_id",
            "actor_username",
            "model_key",
            "subject_type",
            "subject_id",
            "summary",
            "payload",
            "prev_hash",
        )
    }
    fields["summary"] = "Forged, with a recomputed hash"
    _without_trigger()
    _sql(
        "UPDATE governance_governanceevent SET summary = %s, hash = %s WHERE seq = %s",
        [fields["summary"], event_hash(fields), events[1].seq],
    )
    result = verify_ledger()
    assert not result.intact and result.first_broken_seq == events[2].seq


@postgresql_only
def test_postgresql_refuses_update_and_delete(personas):
    events = append_events(personas.risk_officer, personas.model_a, count=1)
    for statement in (
        "UPDATE governance_governanceevent SET summary = 'x' WHERE seq = %s",
        "DELETE FROM governance_governanceevent WHERE seq = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _sql(statement, [events[0].seq])
    assert verify_ledger().intact


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_chain(personas):
    errors = []
    barrier = threading.Barrier(4)

    def writer(number):
        try:
            barrier.wait(timeout=10)
            for index in range(5):
                with transaction.atomic():
                    ledger_append(event_type=EventType.FINDING_RAISED, actor=None, summary=f"w{number}-{index}")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    result = verify_ledger()
    assert result.intact and result.checked == 20
