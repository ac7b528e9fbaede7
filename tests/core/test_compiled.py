"""CompiledQuery runs a queryset compiled once with other values and gives what the queryset gives."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from core.compiled import CompiledQuery, insert_row
from inventory.models import ModelVersion, RegisteredModel
from tests.factories import ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db

BY_KEY: CompiledQuery[RegisteredModel] = CompiledQuery(
    lambda key: (
        RegisteredModel.objects.select_related("business_unit", "business_owner")
        .annotate(version_count=Count("versions"))
        .filter(key=key)
    ),
    key=str,
)
BY_MODEL_AND_NUMBER: CompiledQuery[ModelVersion] = CompiledQuery(
    lambda model_id, version: ModelVersion.objects.select_related("model").filter(model_id=model_id, version=version),
    model_id=int,
    version=str,
)


def test_the_objects_equal_those_of_the_queryset_with_related_rows_and_annotations_loaded() -> None:
    model = RegisteredModelFactory(key="CR-0001")
    ModelVersionFactory(model=model, version="1.0.0")
    ModelVersionFactory(model=model, version="1.1.0")
    RegisteredModelFactory(key="CR-0002")

    (found,) = BY_KEY.all(key="CR-0001")

    expected = RegisteredModel.objects.get(key="CR-0001")
    assert found.pk == expected.pk
    assert {field.attname: getattr(found, field.attname) for field in RegisteredModel._meta.concrete_fields} == {
        field.attname: getattr(expected, field.attname) for field in RegisteredModel._meta.concrete_fields
    }
    assert found.version_count == 2  # type: ignore[attr-defined]
    assert found._state.db == "default" and not found._state.adding
    with CaptureQueriesContext(connection) as queries:
        assert (found.business_unit.code, found.business_owner.username) == (
            model.business_unit.code,
            model.business_owner.username,
        )
    assert len(queries) == 0


def test_other_values_run_the_same_statement_with_other_parameters() -> None:
    for key in ("CR-0001", "CR-0002", "CR-0003"):
        RegisteredModelFactory(key=key)

    with CaptureQueriesContext(connection) as queries:
        found = [BY_KEY.first(key=key) for key in ("CR-0003", "CR-0001", "CR-0404")]

    assert [model.key if model else None for model in found] == ["CR-0003", "CR-0001", None]
    texts = {query["sql"].replace("CR-0003", "?").replace("CR-0001", "?").replace("CR-0404", "?") for query in queries}
    assert len(queries) == 3 and len(texts) == 1


def test_integer_and_text_slots_together() -> None:
    model = RegisteredModelFactory()
    other = RegisteredModelFactory()
    wanted = ModelVersionFactory(model=model, version="2.0.0")
    ModelVersionFactory(model=other, version="2.0.0")

    (found,) = BY_MODEL_AND_NUMBER.all(model_id=model.pk, version="2.0.0")

    assert found.pk == wanted.pk and found.model.key == model.key
    assert BY_MODEL_AND_NUMBER.all(model_id=other.pk + 1000, version="2.0.0") == []


def test_a_slot_the_query_rewrites_is_refused_when_compiled() -> None:
    contains: CompiledQuery[Any] = CompiledQuery(
        lambda text: RegisteredModel.objects.filter(name__icontains=text), text=str
    )

    with pytest.raises(ValueError, match="text"):
        contains.all(text="credit")


def test_slots_must_be_text_or_integers_and_all_be_given() -> None:
    with pytest.raises(TypeError, match="str or int"):
        CompiledQuery(lambda when: RegisteredModel.objects.filter(created_at=when), when=object)
    with pytest.raises(TypeError, match="exactly the slots"):
        BY_KEY.all(name="CR-0001")


def test_timestamps_read_with_psycopgs_loader_equal_what_django_reads() -> None:
    import datetime as dt

    from core.compiled import native_timestamps

    model = RegisteredModelFactory()
    RegisteredModel.objects.filter(pk=model.pk).update(
        created_at=dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    )
    expected = RegisteredModel.objects.values_list("created_at", "updated_at").get(pk=model.pk)

    with connection.cursor() as cursor:
        native_timestamps(cursor)
        cursor.execute('SELECT "created_at", "updated_at" FROM "inventory_registeredmodel" WHERE "id" = %s', [model.pk])
        (row,) = cursor.fetchall()
        if connection.vendor == "postgresql":
            loader = cursor.cursor.adapters.get_loader(1184, 0)  # timestamptz, text
            assert loader.__module__.startswith(("psycopg_binary", "psycopg_c", "psycopg.types"))
        ops: Any = connection.ops  # SQLite's operations convert its text timestamps
        values = (
            row
            if connection.vendor == "postgresql"
            else tuple(ops.convert_datetimefield_value(value, None, connection) for value in row)
        )

    assert values == expected
    assert values[1] == dt.datetime(2025, 12, 31, 19, 0, tzinfo=dt.UTC)
    assert all(value.utcoffset() == dt.timedelta(0) for value in values)


def test_a_values_query_gives_dicts_by_column_name() -> None:
    model = RegisteredModelFactory(key="CR-0007")
    ModelVersionFactory(model=model, version="1.0.0")
    ModelVersionFactory(model=model, version="2.0.0")
    by_model: CompiledQuery[Any] = CompiledQuery(
        lambda model_id: (
            ModelVersion.objects.filter(model_id=model_id)
            .annotate(model_key=F("model__key"))
            .order_by("version")
            .values("version", "model_key")
        ),
        model_id=int,
    )

    assert by_model.dicts(model_id=model.pk) == [
        {"version": "1.0.0", "model_key": "CR-0007"},
        {"version": "2.0.0", "model_key": "CR-0007"},
    ]
    with pytest.raises(TypeError, match="dicts"):
        by_model.all(model_id=model.pk)
    with pytest.raises(TypeError, match="all"):
        BY_KEY.dicts(key="CR-0007")


def test_insert_row_sends_what_the_orm_insert_sends() -> None:
    import datetime as dt
    import uuid

    from django.db.models import sql

    from gate.models import GateDecision
    from governance.models import GovernanceEvent

    model = RegisteredModelFactory()
    event = GovernanceEvent(
        seq=7,
        event_type="finding.raised",
        occurred_at=dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
        actor=None,
        model=model,
        model_key=model.key,
        summary="s",
        payload={"a": [1, "b"]},
        prev_hash="0" * 64,
        hash="1" * 64,
    )
    decision = GateDecision(
        id=uuid.uuid4(),
        model=model,
        version_label="1.0.0",
        environment="production",
        digest="sha256:" + "a" * 64,
        decision="allow",
        reasons=[{"code": "x", "message": "y"}],
        requested_by=model.business_owner,
        created_at=event.occurred_at,
        expires_at=event.occurred_at,
        token="t",
    )
    for obj, leave_out in ((event, ()), (decision, ("ledger_event",))):
        meta = obj._meta
        fields = [
            f for f in meta.local_concrete_fields if f not in meta.db_returning_fields and f.name not in leave_out
        ]
        query = sql.InsertQuery(type(obj))
        query.insert_values(fields, [obj])
        [(_, orm_values)] = query.get_compiler(connection=connection).as_sql()
        columns, values = insert_row(obj, connection, leave_out=leave_out)
        assert columns == tuple(connection.ops.quote_name(f.column) for f in fields)
        assert [repr(value) for value in values] == [repr(value) for value in orm_values]
        # The event's id is the database's to make; the decision's (a UUID) is sent.
        assert (connection.ops.quote_name("id") in columns) == (obj is decision)
