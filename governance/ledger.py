"""The decision ledger: append governance facts to a SHA-256 hash chain and verify the chain.

Each event's hash covers its own fields and the previous event's hash, serialised as canonical JSON (sorted
keys, no whitespace, UTF-8, no NaN), so the chain can be re-checked by anyone with the rows: this module, the
``verify_ledger`` command, or an auditor's own script reading an export.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from core.compiled import CompiledQuery, insert_row
from governance.choices import EventType
from governance.defaults import GENESIS_HASH
from governance.models import GovernanceEvent, LedgerHead

HASHED_FIELDS = (
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


def canonical_json(value: Any) -> str:
    """The one serialisation that is hashed: sorted keys, compact separators, UTF-8 text, finite numbers only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _timestamp(value: dt.datetime) -> str:
    # Microsecond precision in UTC: what both SQLite and PostgreSQL store and return unchanged.
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 (hex) of an event's hashed fields."""
    document = {name: fields[name] for name in HASHED_FIELDS}
    document["occurred_at"] = _timestamp(document["occurred_at"])
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def plain(value: Any) -> Any:
    """A payload value made JSON-native (dates as ISO text, sets as sorted lists, model rows as their pk)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(item) for item in value)
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def ledger_append(
    *,
    event_type: EventType | str,
    actor: Any,
    summary: str,
    model: Any = None,
    subject: models.Model | None = None,
    payload: dict[str, Any] | None = None,
    record: models.Model | None = None,
) -> GovernanceEvent:
    """Append one event, chained to the previous one. Must run inside the transaction that writes the fact, so
    the fact and its ledger entry commit or roll back together.

    ``record`` is a new row that points to its event by a ``ledger_event`` field: it is inserted with the event,
    pointing to it, and saved by nothing else.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_append must be called inside the transaction that records the fact")
    fields = _event_fields(event_type, actor, summary, model, subject, payload)
    # Every append in the portal waits for this one row lock, held until the caller's transaction commits: it
    # is taken only once everything that does not depend on the chain's position is ready.
    head = _locked_head()
    event = _chained(fields, model, head.seq, head.hash)
    if connection.vendor == "postgresql":
        moved = _write_in_one_statement(event, record)
        if not moved:  # the head is locked by this transaction: nobody can have moved it
            raise RuntimeError(f"The ledger head moved from #{head.seq} while locked")
    else:
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
        if record is not None:
            record.ledger_event = event  # type: ignore[attr-defined]
            record.save(force_insert=True)
    return event


# Attempts at moving the head by compare-and-swap before ledger_append_record queues on the head's lock instead.
RECORD_ATTEMPTS = 5


def ledger_append_record(
    *,
    record: models.Model,
    event_type: EventType | str,
    actor: Any,
    summary: str,
    model: Any = None,
    payload: dict[str, Any] | None = None,
) -> GovernanceEvent:
    """Append one event whose whole fact is ``record``, a new row pointing to it by ``ledger_event`` (a gate
    decision), and insert both, committed together; meant to be called outside a transaction (inside one, they
    commit with it).

    On PostgreSQL this is one statement that commits on its own: it moves the head only if the head is still
    where it was read (compare-and-swap), and inserts the event and the record only if it did; when another
    append got there first, the head is read again and the event chained anew, up to :data:`RECORD_ATTEMPTS`
    times before it queues on the head's lock like every other append. No transaction, no lock held across round
    trips: a gate decision costs two statements fewer (BEGIN, COMMIT). On SQLite it is :func:`ledger_append` in a
    transaction of its own.
    """
    if connection.vendor == "postgresql":
        fields = _event_fields(event_type, actor, summary, model, record, payload)
        for _ in range(RECORD_ATTEMPTS):
            head = _read_head()
            event = _chained(fields, model, head.seq, head.hash)
            if _write_in_one_statement(event, record):
                return event
    # SQLite, or every race lost: queue on the head's lock.
    with transaction.atomic():
        return ledger_append(
            event_type=event_type,
            actor=actor,
            summary=summary,
            model=model,
            subject=record,
            payload=payload,
            record=record,
        )


def _event_fields(
    event_type: EventType | str,
    actor: Any,
    summary: str,
    model: Any,
    subject: models.Model | None,
    payload: dict[str, Any] | None,
) -> dict[str, Any]:
    """An event's fields that do not depend on its place in the chain."""
    return {
        "event_type": str(event_type),
        "actor_id": getattr(actor, "pk", None),
        "actor_username": getattr(actor, "username", "") or "",
        "model_key": getattr(model, "key", "") or "",
        "subject_type": subject._meta.model_name if subject is not None else "",
        "subject_id": str(subject.pk) if subject is not None else "",
        "summary": summary[:500],
        # Round-trip the payload through JSON now, so what is hashed is exactly what the database will return.
        "payload": json.loads(canonical_json(plain(payload or {}))),
    }


def _chained(fields: dict[str, Any], model: Any, head_seq: int, head_hash: str) -> GovernanceEvent:
    """The event after the head ``head_seq`` / ``head_hash``, stamped now and hashed."""
    chained = {**fields, "seq": head_seq + 1, "occurred_at": timezone.now(), "prev_hash": head_hash}
    chained["hash"] = event_hash(chained)
    return GovernanceEvent(model=model, **chained)


def _write_in_one_statement(event: GovernanceEvent, record: models.Model | None) -> bool:
    """Move the ledger head from the event's predecessor to ``event``, insert the event and ``record`` pointing
    to it, in one statement; False, and nothing written, when the head was no longer at the predecessor.

    Under the head's lock every round trip is one that every other append waits for, and without it the head
    must move in the same statement as the inserts; so the three writes go as one (data-modifying CTEs, which
    SQLite does not have).
    """
    # Table and column names come from the models, quoted; every value goes as a parameter.
    quote = connection.ops.quote_name
    columns, params = insert_row(event, connection)
    head, events = quote(LedgerHead._meta.db_table), quote(GovernanceEvent._meta.db_table)
    moved = f'UPDATE {head} SET "seq" = %s, "hash" = %s WHERE "id" = 1 AND "seq" = %s RETURNING "id"'  # noqa: S608  # nosec B608
    placeholders = ", ".join(["%s"] * len(columns))
    inserted = f"INSERT INTO {events} ({', '.join(columns)}) SELECT {placeholders} FROM head"  # noqa: S608  # nosec B608
    sql = f'WITH head AS ({moved}), event AS ({inserted} RETURNING "id") '
    params = [event.seq, event.hash, event.seq - 1, *params]
    if record is None:
        sql += 'SELECT "id" FROM event'
    else:
        record_columns, record_params = insert_row(record, connection, leave_out=("ledger_event",))
        link = quote(record._meta.get_field("ledger_event").column)  # type: ignore[union-attr,arg-type]
        values = ", ".join(["%s"] * len(record_columns))
        sql += f"INSERT INTO {quote(record._meta.db_table)} ({', '.join(record_columns)}, {link}) "
        sql += f'SELECT {values}, event."id" FROM event RETURNING {link}'  # noqa: S608  # nosec B608
        params += record_params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk = row[0]
    event._state.adding, event._state.db = False, connection.alias
    if record is not None:
        record.ledger_event = event  # type: ignore[attr-defined]
        record._state.adding, record._state.db = False, connection.alias
    return True


# Compiled once (core.compiled), not on each append: the head as committed now, where ledger_append_record's
# compare-and-swap starts from, and the head locked until the transaction ends, which every other append takes.
_HEAD = CompiledQuery(lambda: LedgerHead.objects.filter(pk=1))
_LOCKED_HEAD = CompiledQuery(lambda: LedgerHead.objects.select_for_update().filter(pk=1))


def _read_head() -> LedgerHead:
    """The ledger head as committed now (no lock)."""
    return _head(_HEAD)


def _locked_head() -> LedgerHead:
    """The ledger head, locked until the transaction ends."""
    return _head(_LOCKED_HEAD)


def _head(query: CompiledQuery[LedgerHead]) -> LedgerHead:
    head = query.first()
    if head is None:
        raise LedgerHead.DoesNotExist("The ledger head row is missing; migrations create it.")
    return head


def ledger_lock() -> None:
    """Take the ledger head's row lock now, before the transaction locks any row it will change.

    Every governance decision appends to the ledger, so every one of them takes this lock before it commits.
    A service that first locked a version, a finding or a model and only then waited for the head could hold
    what another decision, already holding the head, waits for: a deadlock, which PostgreSQL ends by refusing
    one of the two. Taking the head first in every decision gives all of them one lock order. It costs no
    concurrency, since decisions queue on the head anyway; the lock is held until the transaction ends.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_lock must be called inside the transaction that records the decision")
    _locked_head()


@dataclass(frozen=True)
class LedgerVerification:
    """Whether the chain is intact; if not, the first row where it breaks and what is wrong there."""

    intact: bool
    checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str = ""


def verify_events(events: Iterable[GovernanceEvent], head: LedgerHead) -> LedgerVerification:
    """Re-compute the chain over ``events`` (in seq order) and compare it with the stored hashes and the head."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0

    def broken(seq: int, problem: str) -> LedgerVerification:
        return LedgerVerification(False, checked, head.seq, head.hash, seq, problem)

    for event in events:
        if event.seq != expected_seq:
            return broken(
                expected_seq,
                f"row #{expected_seq} is missing (the next row is #{event.seq}): rows were deleted",
            )
        if event.prev_hash != expected_prev:
            return broken(event.seq, f"row #{event.seq} does not point to the hash of row #{event.seq - 1}")
        recomputed = event_hash({name: getattr(event, name) for name in HASHED_FIELDS})
        if recomputed != event.hash:
            return broken(event.seq, f"row #{event.seq} was altered: its content no longer matches its hash")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    if checked != head.seq or expected_prev != head.hash:
        return broken(
            checked + 1,
            f"the chain ends at row #{checked} but the ledger head records row #{head.seq}: rows were removed",
        )
    return LedgerVerification(True, checked, head.seq, head.hash)


def verify_ledger() -> LedgerVerification:
    """Verify the whole ledger in the database, reading it in chunks in one consistent snapshot."""
    with transaction.atomic():
        head = LedgerHead.objects.get(pk=1)
        events = GovernanceEvent.objects.filter(seq__lte=head.seq).order_by("seq").iterator(chunk_size=2000)
        return verify_events(events, head)
