"""A gate decision and its ledger event are written together, without holding the ledger head's lock: the head is
moved by compare-and-swap, an append that lost the race is chained again, and the chain stays whole."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from gate.models import GateDecision
from gate.services import gate_check
from governance import ledger
from governance.choices import EventType
from governance.ledger import ledger_append, verify_ledger
from governance.models import GovernanceEvent, LedgerHead
from tests.gate.conftest import DIGEST
from tests.markers import postgresql_only


def _ask(personas: Any) -> GateDecision:
    return gate_check(
        actor=personas.ci_scoped, model_key="RB-0001", version_label="1.0.0", environment="production", digest=DIGEST
    )


def _intrude_after_reads(monkeypatch: Any, reads: int) -> list[int]:
    """After each of the first ``reads`` unlocked reads of the head, another append moves it; the seqs it took."""
    taken: list[int] = []
    read = ledger._read_head

    def read_then_move() -> LedgerHead:
        head = read()
        if len(taken) < reads:
            with transaction.atomic():
                taken.append(ledger_append(event_type=EventType.FINDING_RAISED, actor=None, summary="meanwhile").seq)
        return head

    monkeypatch.setattr(ledger, "_read_head", read_then_move)
    return taken


def _recorded(decision: GateDecision) -> GovernanceEvent:
    assert decision.ledger_event_id is not None
    event = GovernanceEvent.objects.get(pk=decision.ledger_event_id)
    assert event.subject_type == "gatedecision" and event.subject_id == str(decision.pk)
    return event


@postgresql_only
@pytest.mark.django_db
def test_a_decision_that_lost_the_race_is_chained_after_the_winner(
    personas: Any, approved_version: Any, monkeypatch: Any
) -> None:
    taken = _intrude_after_reads(monkeypatch, 1)
    decision = _ask(personas)

    assert len(taken) == 1
    assert _recorded(decision).seq == taken[0] + 1 == LedgerHead.objects.get(pk=1).seq
    assert GateDecision.objects.filter(pk=decision.pk).count() == 1
    assert GovernanceEvent.objects.filter(subject_type="gatedecision").count() == 1
    assert verify_ledger().intact


@postgresql_only
@pytest.mark.django_db
def test_a_decision_that_loses_every_race_queues_on_the_lock(
    personas: Any, approved_version: Any, monkeypatch: Any
) -> None:
    taken = _intrude_after_reads(monkeypatch, ledger.RECORD_ATTEMPTS + 10)
    decision = _ask(personas)

    assert len(taken) == ledger.RECORD_ATTEMPTS  # the locked append reads the head under its lock, not this way
    assert _recorded(decision).seq == taken[-1] + 1 == LedgerHead.objects.get(pk=1).seq
    assert GovernanceEvent.objects.filter(subject_type="gatedecision").count() == 1
    assert verify_ledger().intact


@pytest.mark.django_db
def test_a_decision_is_written_with_its_event_on_every_database(personas: Any, approved_version: Any) -> None:
    before = LedgerHead.objects.get(pk=1).seq
    decision = _ask(personas)

    assert _recorded(decision).seq == before + 1 == LedgerHead.objects.get(pk=1).seq
    assert GateDecision.objects.get(pk=decision.pk).ledger_event_id == decision.ledger_event_id
    assert verify_ledger().intact


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_decisions_and_locked_appends_at_once_form_one_chain(personas: Any, approved_version: Any) -> None:
    errors: list[BaseException] = []
    decisions: list[GateDecision] = []
    start = threading.Barrier(6)

    def run(work: Callable[[], None]) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(15):
                work()
        except BaseException as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connection.close()

    def decide() -> None:
        decisions.append(_ask(personas))

    def append_locked() -> None:
        with transaction.atomic():
            ledger_append(event_type=EventType.FINDING_RAISED, actor=None, summary="locked")

    before = LedgerHead.objects.get(pk=1).seq
    threads = [threading.Thread(target=run, args=(decide if n < 4 else append_locked,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)

    assert len(decisions) == 60
    result = verify_ledger()
    assert result.intact, result.problem
    assert result.checked == LedgerHead.objects.get(pk=1).seq == before + 90
    seqs = sorted(_recorded(decision).seq for decision in decisions)
    assert len(set(seqs)) == 60
    assert GateDecision.objects.count() == GovernanceEvent.objects.filter(subject_type="gatedecision").count() == 60
