"""Model queries compiled to SQL once per process and run again with other values.

Django compiles a queryset to SQL every time it runs it, which for a lookup on the path of every API request (the
token and its user, a gate decision's version) costs more than the database takes to answer. A
:class:`CompiledQuery` compiles its queryset once per database alias, with a stand-in value for each parameter
it names, and from then on only puts the request's values where the stand-ins stand: the SQL text is the same
on every run, so with server-side binding PostgreSQL also plans it once per connection. The rows become model
instances the way Django's own iterator makes them (the columns' converters, ``select_related`` objects and
annotations), so callers get what the queryset would have given them.

Only scalar parameters can be slots (a value compared with ``=``, for example); a lookup that rewrites its value
(``contains``, ``iexact``) or a list whose length shapes the SQL would not find its stand-in, and compiling
refuses it.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]
from django.db.models.signals import post_migrate
from django.dispatch import receiver

ModelT = TypeVar("ModelT", bound=Model)

# Stand-ins nobody stores: a control character no form accepts, and integers far below any primary key.
_TEXT_STAND_IN = "\x1e{name}\x1e"
_INTEGER_STAND_IN = -(2**62)


@dataclass(frozen=True)
class _Statement:
    """One compiled query: its SQL, its parameters with the slots' positions, and how rows become objects."""

    sql: str
    params: tuple[Any, ...]
    slots: dict[str, tuple[int, ...]]
    compiler: Any
    converters: dict[int, Any]
    # A query of model objects: how a row becomes one.
    model: type[Model] | None = None
    init_list: tuple[str, ...] = ()
    fields: slice | None = None
    related_populators: tuple[Any, ...] = ()
    annotations: tuple[tuple[str, int], ...] = ()
    # A values() query: its columns' names.
    names: tuple[str, ...] = ()


class CompiledQuery(Generic[ModelT]):
    """A queryset built by ``build(**slots)`` and compiled once per alias; :meth:`all` runs it with values (or
    :meth:`dicts`, for a ``values()`` queryset).

    ``slots`` maps each parameter's name to its type (``str`` or ``int``); a slot named in ``may_be_unused`` may
    be left out of the SQL by ``build`` (the permission gate leaves out the user's id for roles that see every
    row)::

        TOKEN = CompiledQuery(lambda lookup: ApiToken.objects.select_related("user").filter(lookup=lookup)[:1],
                              lookup=str)
        tokens = TOKEN.all(lookup="abc123")
    """

    def __init__(
        self, build: Callable[..., QuerySet[ModelT]], *, may_be_unused: tuple[str, ...] = (), **slots: type
    ) -> None:
        unknown = {name: kind for name, kind in slots.items() if kind not in (str, int)}
        if unknown:
            raise TypeError(f"compiled query slots must be str or int, not {unknown}")
        self.build = build
        self.slot_types = slots
        self.may_be_unused = frozenset(may_be_unused)
        self._statements: dict[str, _Statement] = {}
        self._lock = threading.Lock()
        _ALL.add(self)

    def forget(self) -> None:
        """Compile again on the next run (after migrations: a query may name rows they recreate)."""
        with self._lock:
            self._statements.clear()

    def all(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[ModelT]:
        """The queryset's objects for these slot values, in one query."""
        statement, rows = self._run(using, values)
        if statement.model is None:
            raise TypeError("a values() query gives rows: call dicts()")
        return [self._object(statement, using, row) for row in rows]

    def dicts(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[dict[str, Any]]:
        """The rows of a ``values()`` queryset for these slot values, as dictionaries, in one query."""
        statement, rows = self._run(using, values)
        if statement.model is not None:
            raise TypeError("a query of model objects gives objects: call all()")
        return [dict(zip(statement.names, row, strict=True)) for row in rows]

    def _run(self, using: str, values: dict[str, Any]) -> tuple[_Statement, Any]:
        if values.keys() != self.slot_types.keys():
            raise TypeError(f"give exactly the slots {sorted(self.slot_types)}, not {sorted(values)}")
        statement = self._statements.get(using) or self._compile(using)
        params = list(statement.params)
        for name, positions in statement.slots.items():
            value = values[name]
            for position in positions:
                # The compiled parameter's own type (Django wraps some integers for psycopg) keeps the statement's
                # parameter types, and so its prepared plan, the same from run to run.
                stand_in = statement.params[position]
                params[position] = value if value is None or type(stand_in) in (str, int) else type(stand_in)(value)
        return statement, fetch_converted(using, statement.sql, params, statement.compiler, statement.converters)

    def first(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> ModelT | None:
        """The first object for these values, or None."""
        found = self.all(using, **values)
        return found[0] if found else None

    @staticmethod
    def _object(statement: _Statement, using: str, row: Any) -> Any:
        model: Any = statement.model
        obj = model.from_db(using, statement.init_list, row[statement.fields or slice(0)])
        for populator in statement.related_populators:
            populator.populate(row, obj)
        for name, position in statement.annotations:
            setattr(obj, name, row[position])
        return obj

    def _compile(self, using: str) -> _Statement:
        with self._lock:
            if using in self._statements:
                return self._statements[using]
            counter = itertools.count()
            stand_ins = {
                name: _TEXT_STAND_IN.format(name=name) if kind is str else _INTEGER_STAND_IN - next(counter)
                for name, kind in self.slot_types.items()
            }
            queryset = self.build(**stand_ins).using(using)
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            slots = {
                name: tuple(
                    position
                    for position, param in enumerate(params)
                    if type(param) is not bool and isinstance(param, type(stand_in)) and param == stand_in
                )
                for name, stand_in in stand_ins.items()
            }
            missing = sorted(
                name for name, positions in slots.items() if not positions and name not in self.may_be_unused
            )
            if missing:
                raise ValueError(f"the compiled query does not take {missing} as plain parameters")
            klass_info = compiler.klass_info
            select = compiler.select
            converters = select_converters(compiler)
            shared = {
                "sql": sql,
                "params": tuple(params),
                "slots": slots,
                "compiler": compiler,
                "converters": converters,
            }
            if queryset._iterable_class is not ModelIterable:  # a values() query: plain rows
                statement = _Statement(**shared, names=values_names(queryset.query))
            else:
                model_fields = klass_info["select_fields"]
                fields = slice(model_fields[0], model_fields[-1] + 1)
                statement = _Statement(
                    **shared,
                    model=klass_info["model"],
                    init_list=tuple(column[0].target.attname for column in select[fields]),
                    fields=fields,
                    related_populators=tuple(get_related_populators(klass_info, select, using)),
                    annotations=tuple(compiler.annotation_col_map.items()),
                )
            self._statements[using] = statement
            return statement


def select_converters(compiler: Any) -> dict[int, Any]:
    """The converters Django applies to the columns of a compiled SELECT (``compiler.as_sql()`` has run)."""
    return compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])


def values_names(query: Any) -> tuple[str, ...]:
    """The column names of a ``values()`` query, in the order its SELECT has them."""
    return (*query.extra_select, *query.values_select, *query.annotation_select)


def fetch_converted(using: str, sql: str, params: Any, compiler: Any, converters: dict[int, Any]) -> Any:
    """Run a statement compiled earlier by ``compiler`` and give its rows as Django would: converted column by
    column (an iterable of rows, to read once)."""
    with connections[using].cursor() as cursor:
        native_timestamps(cursor)
        cursor.execute(sql, params)
        rows: Any = cursor.fetchall()
    return compiler.apply_converters(rows, converters) if converters else rows


def native_timestamps(cursor: Any) -> None:
    """Let this cursor read ``timestamptz`` values with psycopg's own loader (its C one, with psycopg[binary]).

    Django installs a loader of its own on PostgreSQL connections, a Python subclass of psycopg's Python loader
    that sets the connection's time zone on each value; a page of 50 records has 100 timestamps, and reading them
    took 0.3 ms of the page. When the session's time zone is UTC (``USE_TZ`` on, no ``TIME_ZONE`` for the
    database: the portal's settings) psycopg's loader gives the very same aware UTC datetimes, so only this
    cursor is switched to it; elsewhere, and on SQLite, nothing changes.
    """
    wrapper = cursor.db
    if wrapper.vendor != "postgresql" or not settings.USE_TZ or wrapper.timezone_name != "UTC":
        return
    import psycopg
    from psycopg.postgres import types

    oid = types["timestamptz"].oid
    cursor.cursor.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, psycopg.pq.Format.TEXT))


def insert_row(obj: Model, connection: Any, *, leave_out: tuple[str, ...] = ()) -> tuple[tuple[str, ...], list[Any]]:
    """The quoted columns and the values Django's own insert of ``obj`` would send, for an INSERT written by hand
    (inside a statement that does more than insert, which the ORM cannot write).

    The fields are those ``Model.save`` inserts (every local concrete field but a primary key the database makes),
    less the fields named in ``leave_out`` (which the statement fills itself); each value is prepared as the ORM
    prepares it (``pre_save``, then ``get_db_prep_save``). A field that needs its own SQL placeholder is refused.
    """
    key = (type(obj), leave_out, connection.vendor)
    found = _INSERT_FIELDS.get(key)
    if found is None:
        found = _INSERT_FIELDS[key] = _insert_fields(type(obj), leave_out, connection.ops.quote_name)
    fields, columns = found
    return columns, [field.get_db_prep_save(field.pre_save(obj, True), connection=connection) for field in fields]


# Per model, fields left out and database vendor: what insert_row sends is the same for every row.
_INSERT_FIELDS: dict[tuple[type[Model], tuple[str, ...], str], tuple[tuple[Any, ...], tuple[str, ...]]] = {}


def _insert_fields(
    model: type[Model], leave_out: tuple[str, ...], quote: Callable[[str], str]
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """The fields ``insert_row`` sends for ``model`` and their quoted columns."""
    meta = model._meta
    fields = tuple(
        field
        for field in meta.local_concrete_fields
        if field not in meta.db_returning_fields and field.name not in leave_out
    )
    special = [field.name for field in fields if hasattr(field, "get_placeholder")]
    if special:
        raise TypeError(f"insert_row: {', '.join(special)} need their own placeholder; save {meta.label} instead")
    return fields, tuple(quote(field.column) for field in fields)


_ALL: weakref.WeakSet[CompiledQuery[Any]] = weakref.WeakSet()


@receiver(post_migrate)
def _forget_compiled_queries(**kwargs: Any) -> None:
    # A query built with ids read from the database (the permission gate names permission rows by id) must not
    # outlive a test database that was flushed and filled again.
    for query in list(_ALL):
        query.forget()
