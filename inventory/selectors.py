"""Reads of the inventory. Each starts from the permission gate and loads related rows up front, so a page or
an API answer costs a fixed number of queries whatever its size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from django.core.exceptions import EmptyResultSet
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from core.compiled import fetch_converted, select_converters, values_names
from core.models import User
from core.permissions import restrict
from inventory.choices import APPROVAL_HOLDING_STATES, ArtifactKind, DeploymentStatus
from inventory.models import (
    Artifact,
    BusinessUnit,
    Deployment,
    ExternalRegistryModel,
    ModelDependency,
    ModelVersion,
    RegisteredModel,
    SavedView,
    Tag,
)

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}

# Artifact kinds whose digest names something that can be deployed.
DEPLOYABLE_KINDS = (ArtifactKind.CONTAINER_IMAGE, ArtifactKind.MODEL_FILE)


def approved_digests(version: ModelVersion, recorded: Iterable[str] | None = None) -> frozenset[str]:
    """The digests a deployment of ``version`` may carry: what was approved, nothing added afterwards.

    That is the version's own artifact digest plus the digests of its container images and model files
    recorded before the approval. An image attached after the approval was never reviewed, so it is not
    approved however it is named. A version that holds no approval has no approved digests. ``recorded`` is
    the digests of :func:`approved_artifacts` when the caller read them already (the gate, in its facts query).
    """
    if version.state not in APPROVAL_HOLDING_STATES or version.approved_by_id is None or version.approved_at is None:
        return frozenset()
    if recorded is None:
        recorded = approved_artifacts(version, version.approved_at).values_list("digest", flat=True)
    digests = set(recorded)
    if version.artifact_digest:
        digests.add(version.artifact_digest)
    return frozenset(digests)


def approved_artifacts(version: Any, approved_at: Any) -> QuerySet[Artifact]:
    """The version's deployable artifacts with a digest recorded up to ``approved_at``: what
    :func:`approved_digests` reads. ``version`` and ``approved_at`` may be ``OuterRef``s, for a subquery."""
    return (
        Artifact.objects.filter(version=version, kind__in=DEPLOYABLE_KINDS, created_at__lte=approved_at)
        .exclude(digest="")
        .order_by()  # a set: without this the artifacts' default order joins the version and its model
    )


def registered_model_queryset(*, user: Any, action: str = "view") -> QuerySet[RegisteredModel]:
    """Models the user may act on, with what the inventory list shows loaded in a fixed number of queries."""
    return (
        restrict(user, action, RegisteredModel.objects.all())
        .select_related("business_unit", "business_owner", "technical_owner")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "name")),
        )
    )


def registered_model_get(*, user: Any, key: str, action: str = "view") -> RegisteredModel:
    """One model by key, or 404 when it does not exist or the user may not see (or act on) it."""
    model = (
        registered_model_queryset(user=user, action=action)
        .prefetch_related(Prefetch("validators", queryset=User.objects.order_by("username")))
        .filter(key=key)
        .first()
    )
    if model is None:
        raise Http404(f"No model {key} visible to you.")
    return model


# --- the inventory list at scale ---------------------------------------------------------------------------------

# Rows a list counts exactly; beyond this it says "at least this many". Counting every visible row of a 100,000-model
# inventory was most of a list request's time (docs/performance.md), and nobody pages through 10,000 rows by hand.
INVENTORY_COUNT_CAP = 1_000


class JSONRowsArray(Func):
    """A JSON array of one value per row of the (correlated) subquery it sits in, or NULL when it has no rows.

    ``JSONB_AGG`` on PostgreSQL, ``JSON_GROUP_ARRAY`` on SQLite; with several expressions each element is itself
    an array (``[username, first_name, last_name]``); with ``distinct`` each value appears once. It is written as a
    plain function rather than an ``Aggregate`` so the subquery gets no GROUP BY: it aggregates the rows of one
    model, not groups of them.
    """

    function = "JSONB_AGG"
    output_field = JSONField()

    def __init__(self, *expressions: Any, distinct: bool = False, **extra: Any) -> None:
        super().__init__(*expressions, **extra)
        self.distinct = distinct

    def _template(self, aggregate: str, array: str) -> str:
        value = f"{array}(%(expressions)s)" if len(self.source_expressions) > 1 else "%(expressions)s"
        return f"{aggregate}({'DISTINCT ' if self.distinct else ''}{value})"

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:  # type: ignore[override]
        template = self._template("JSONB_AGG", "JSONB_BUILD_ARRAY")
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = self._template("JSON_GROUP_ARRAY", "JSON_ARRAY")
        return super().as_sql(compiler, connection, template=template, **extra_context)


def json_rows(queryset: QuerySet[Any], *fields: Any, distinct: bool = False) -> Subquery:
    """Annotation: ``fields`` of ``queryset``'s rows as a JSON array (see :class:`JSONRowsArray`), NULL without rows;
    each value (or array of values) once with ``distinct``."""
    rows = queryset.order_by().annotate(_json_rows=JSONRowsArray(*fields, distinct=distinct)).values("_json_rows")
    return Subquery(rows, output_field=JSONField())


def model_tag_names() -> Subquery:
    """Annotation: the model's tag names as a JSON array (NULL without tags), in the list's own SELECT."""
    through = RegisteredModel.tags.through
    return json_rows(through.objects.filter(registeredmodel_id=OuterRef("pk")), "tag__name")


def model_validator_people() -> Subquery:
    """Annotation: the model's validators as ``[[username, first_name, last_name], ...]`` (NULL without any)."""
    through = RegisteredModel.validators.through
    return json_rows(
        through.objects.filter(registeredmodel_id=OuterRef("pk")),
        "user__username",
        "user__first_name",
        "user__last_name",
    )


# What the inventory record (API list and detail) reads: the model's own columns, its unit and owners by join, and
# its tags and validators aggregated per row. One query for a page, whatever its size.
MODEL_RECORD_FIELDS = (
    "key",
    "name",
    "purpose",
    "restrictions_on_use",
    "inputs",
    "outputs",
    "limitations",
    "model_type",
    "vendor_name",
    "lifecycle_stage",
    "business_unit__code",
    "business_unit__name",
    "business_owner__username",
    "business_owner__first_name",
    "business_owner__last_name",
    "technical_owner__username",
    "technical_owner__first_name",
    "technical_owner__last_name",
    "regulatory_uses",
    "data_sensitivity",
    "risk_tier",
    "eu_ai_act_category",
    "last_validated_on",
    "next_validation_due",
    "created_at",
    "updated_at",
)


def registered_model_filter_base(*, user: Any, action: str = "view") -> QuerySet[RegisteredModel]:
    """The models the user may act on, with nothing joined or prefetched: what the inventory's filters and its
    paging narrow before :func:`registered_model_records` or :func:`registered_model_page_objects` load a page."""
    return restrict(user, action, RegisteredModel.objects.all())


def _ordering(queryset: QuerySet[Any]) -> list[Any]:
    return list(queryset.query.order_by) or list(RegisteredModel._meta.ordering or [])


def _page_pks(queryset: QuerySet[Any], offset: int, limit: int) -> QuerySet[Any]:
    # The page is chosen on the narrow filtered query (an index on the filter and the order does it), and only
    # the rows of the page are joined to their unit and owners afterwards: a deep page then skips index entries,
    # not joined rows.
    return queryset.order_by(*_ordering(queryset)).values("pk")[offset : offset + limit]


def _capped_count_sql(queryset: QuerySet[Any], cap: int) -> tuple[str, tuple[Any, ...]]:
    """``SELECT COUNT(*)`` of ``queryset``'s rows up to ``cap + 1``, as SQL and its parameters (EmptyResultSet when
    the queryset is known to be empty)."""
    sql, params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
    # Django's own compiled SQL with its parameters kept apart: nothing from the request is pasted into the text.
    return f"SELECT COUNT(*) FROM ({sql}) AS capped", tuple(params)  # noqa: S608  # nosec B608


def _capped_total(queryset: QuerySet[Any], cap: int) -> RawSQL | Value:
    """How many rows ``queryset`` holds, counted up to ``cap + 1``, as a scalar subquery: a page's query carries
    it beside its rows, so a capped count costs no query of its own. It is not correlated with the outer row, so
    the database computes it once per query."""
    try:
        counted, params = _capped_count_sql(queryset, cap)
    except EmptyResultSet:  # a queryset known to be empty (``.none()``, an impossible filter) compiles to nothing
        return Value(0, output_field=IntegerField())
    return RawSQL(counted, params, output_field=IntegerField())  # noqa: S611  # nosec B611


def _take_total(rows: list[Any], count_up_to: int | None) -> int | None:
    """The capped total the rows carry (removed from each), or None when it was not asked for or there is no row
    to carry it."""
    if count_up_to is None:
        return None
    total = None
    for row in rows:
        total = row.pop("capped_total") if isinstance(row, dict) else row.__dict__.pop("capped_total")
    return total


def registered_model_records(
    queryset: QuerySet[Any], *, offset: int = 0, limit: int | None = None, count_up_to: int | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Rows of ``queryset`` (already restricted and filtered) as plain dicts of :data:`MODEL_RECORD_FIELDS`, with
    ``tag_names`` and ``validator_people`` (JSON arrays, None when empty), in the queryset's order; one query.

    With ``limit``, only that slice from ``offset``; without it, every row (a detail read of one key). With
    ``count_up_to``, the same query also counts the queryset's rows up to that cap + 1 (None on an empty page).
    """
    ordering = tuple(_ordering(queryset))
    if limit:
        return _records_page(queryset, ordering, offset=offset, limit=limit, count_up_to=count_up_to)
    extra = {"capped_total": _capped_total(queryset, count_up_to)} if count_up_to is not None else {}
    rows = list(_records_query(queryset.order_by(*ordering), **extra))
    return rows, _take_total(rows, count_up_to)


def _records_query(source: QuerySet[Any], **extra: Any) -> QuerySet[Any]:
    return source.annotate(tag_names=model_tag_names(), validator_people=model_validator_people(), **extra).values(
        *MODEL_RECORD_FIELDS, "tag_names", "validator_people", *extra
    )


# Stand-ins for the page's own SQL in the records statement that is compiled once (see _records_statement).
_PAGE_MARK = "__inventory_page_ids__"
_COUNT_MARK = "__inventory_capped_count__"


@dataclass(frozen=True)
class _RecordsStatement:
    """The records query of a page in one ordering, compiled once: its text with the page's ids and its capped
    count left as marks (``marks``: in the order they stand in the text, which is the order of their parameters),
    the names of its columns, and the converters Django applies to them."""

    sql: str
    marks: tuple[str, ...]
    names: tuple[str, ...]
    compiler: Any
    converters: Any


@lru_cache(maxsize=32)
def _records_statement(alias: str, ordering: tuple[Any, ...], counted: bool) -> _RecordsStatement:
    # Compiling the records query (26 columns over three joins, two aggregated subqueries) cost about a millisecond
    # and a half per request, more than the database took to run it; only the page's ids and its count differ from
    # one request to the next, and those are compiled from the small filtered query each time.
    # The marks are fixed text of this module, replaced by Django's compiled SQL of the page (parameters apart).
    page_ids = RawSQL(_PAGE_MARK, ())  # noqa: S611  # nosec B611
    count = RawSQL(_COUNT_MARK, (), output_field=IntegerField())  # noqa: S611  # nosec B611
    extra = {"capped_total": count} if counted else {}
    template = _records_query(RegisteredModel.objects.using(alias).filter(pk__in=page_ids).order_by(*ordering), **extra)
    compiler = template.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    if params or sql.count(_PAGE_MARK) != 1 or sql.count(_COUNT_MARK) != int(counted):
        raise RuntimeError("the inventory records statement has parameters or marks it should not have")
    marks = tuple(sorted((_PAGE_MARK, _COUNT_MARK) if counted else (_PAGE_MARK,), key=sql.index))
    return _RecordsStatement(
        sql=sql,
        marks=marks,
        names=values_names(template.query),
        compiler=compiler,
        converters=select_converters(compiler),
    )


def _records_page(
    queryset: QuerySet[Any], ordering: tuple[Any, ...], *, offset: int, limit: int, count_up_to: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """:func:`registered_model_records` for a page: the compiled-once statement around this request's page ids
    and capped count."""
    statement = _records_statement(queryset.db, ordering, count_up_to is not None)
    try:
        parts = {_PAGE_MARK: _page_pks(queryset, offset, limit).query.sql_with_params()}
        if count_up_to is not None:
            parts[_COUNT_MARK] = _capped_count_sql(queryset, count_up_to)
    except EmptyResultSet:  # a queryset known to be empty compiles to nothing
        return [], None
    sql, params = statement.sql, list[Any]()
    # Django's own compiled SQL with its parameters kept apart, in the order the marks stand in the text.
    for mark in statement.marks:
        text, text_params = parts[mark]
        sql = sql.replace(mark, text)
        params.extend(text_params)
    fetched = fetch_converted(queryset.db, sql, params, statement.compiler, statement.converters)
    rows = [dict(zip(statement.names, row, strict=True)) for row in fetched]
    return rows, _take_total(rows, count_up_to)


def registered_model_page_objects(
    queryset: QuerySet[Any],
    *,
    offset: int,
    limit: int,
    annotations: dict[str, Any] | None = None,
    count_up_to: int | None = None,
) -> tuple[list[RegisteredModel], int | None]:
    """A page of ``queryset`` as model instances with unit and owners loaded and ``tag_names`` annotated (the
    inventory page's rows), and the capped total when ``count_up_to`` asks for it; one query."""
    extra = {"capped_total": _capped_total(queryset, count_up_to)} if count_up_to is not None else {}
    rows = list(
        RegisteredModel.objects.filter(pk__in=_page_pks(queryset, offset, limit))
        .select_related("business_unit", "business_owner", "technical_owner")
        .annotate(tag_names=model_tag_names(), **(annotations or {}), **extra)
        .order_by(*_ordering(queryset))
    )
    return rows, _take_total(rows, count_up_to)


@dataclass
class CappedPage:
    """One page of a list whose total is counted only up to a cap.

    ``count`` is exact when ``count_exact``; otherwise the list holds more than ``count`` (the cap) rows and the
    caller pages with ``has_next``. ``rows`` is empty only for a page past the end.
    """

    number: int
    size: int
    rows: list[Any]
    has_next: bool
    count: int
    count_exact: bool

    # The gap in a page range, under the name Django's Paginator gives it, so one pagination template serves both.
    ELLIPSIS: ClassVar[str] = "…"

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.size + len(self.rows)

    @property
    def num_pages(self) -> int | None:
        """The number of pages, when the count is exact."""
        return max(1, -(-self.count // self.size)) if self.count_exact else None

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def object_list(self) -> list[Any]:
        """The rows, under the name Django's ``Page`` gives them."""
        return self.rows

    @property
    def paginator(self) -> CappedPage:
        """The page answers for its paginator (``count``, ``num_pages``), as templates written for Django's
        ``Page`` ask it."""
        return self


def capped_count(queryset: QuerySet[Any], cap: int | None = None) -> tuple[int, bool]:
    """``(rows, True)`` when ``queryset`` holds at most ``cap`` rows, else ``(cap, False)``.

    ``SELECT COUNT(*) FROM (SELECT ... LIMIT cap + 1)``: the database stops after cap + 1 rows instead of counting
    the whole filtered inventory.
    """
    cap = INVENTORY_COUNT_CAP if cap is None else cap
    counted = queryset.order_by().values("pk")[: cap + 1].count()
    return (counted, True) if counted <= cap else (cap, False)


def capped_page(
    queryset: QuerySet[Any],
    *,
    number: int,
    size: int,
    fetch: Any,
    cap: int | None = None,
) -> CappedPage:
    """Page ``number`` of ``queryset``. ``fetch(offset, limit, count_up_to)`` loads the rows (one more than a page,
    to learn whether another follows) and returns them with the total counted up to ``count_up_to`` in the same
    query, or None when it cannot. The total is asked for only on pages before the cap, and used only when the page
    itself cannot tell it: the last page counts itself, a page past the cap says "at least the cap". When the fetch
    gave no total and one is needed, a capped COUNT query runs."""
    cap = INVENTORY_COUNT_CAP if cap is None else cap
    offset = (number - 1) * size
    before_cap = offset + size + 1 <= cap
    fetched, counted = fetch(offset, size + 1, cap if before_cap else None)
    rows = list(fetched)
    has_next = len(rows) > size
    rows = rows[:size]
    if not has_next and (rows or number == 1):
        count, exact = offset + len(rows), True
    elif has_next and not before_cap:
        count, exact = cap, False
    elif counted is not None:
        count, exact = (counted, True) if counted <= cap else (cap, False)
    else:
        count, exact = capped_count(queryset, cap)
    return CappedPage(number=number, size=size, rows=rows, has_next=has_next, count=count, count_exact=exact)


def business_unit_queryset(*, user: Any, action: str = "view") -> QuerySet[BusinessUnit]:
    return restrict(user, action, BusinessUnit.objects.all()).select_related("parent", "head")


def model_version_queryset(*, user: Any, action: str = "view") -> QuerySet[ModelVersion]:
    return restrict(user, action, ModelVersion.objects.all()).select_related(
        "model", "created_by", "submitted_by", "approved_by"
    )


def model_dependency_queryset(*, user: Any, action: str = "view") -> QuerySet[ModelDependency]:
    return restrict(user, action, ModelDependency.objects.all()).select_related("upstream", "downstream")


@dataclass
class FieldChange:
    """One field's old and new value in a history entry (display values for choices and relations)."""

    field: str
    label: str
    old: Any
    new: Any


@dataclass
class HistoryEntry:
    """One change of an object: when, by whom, why, and which fields moved."""

    history_id: int
    date: datetime
    type: str
    user: str | None
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


def _display(record: Any, field_name: str, value: Any, model: type[Any]) -> Any:
    model_field = model._meta.get_field(field_name)
    if value is None:
        return None
    if model_field.many_to_many:
        return sorted(str(item) for item in value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        related = getattr(record, field_name, None)
        return getattr(related, "username", None) or getattr(related, "code", None) or str(related)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _history_records(model: type[Any]) -> QuerySet[Any]:
    """A model's historical records with every related object the entries display, joined in the same query."""
    history = model.history.model
    related = [field.name for field in history._meta.fields if field.is_relation and field.name != "history_user"]
    return model.history.select_related("history_user", *related).order_by("-history_date", "-history_id")


def object_history(*, obj: Any, limit: int | None = None) -> list[HistoryEntry]:
    """The field history of one object, newest first, each entry with the fields it changed."""
    model = type(obj)
    return _history_entries(model, list(_history_records(model).filter(id=obj.pk)), limit=limit)


def objects_history(*, model: type[Any], ids: list[int]) -> dict[int, list[HistoryEntry]]:
    """The field history of many objects of one model, read in one query: object id -> entries, newest first."""
    records_by_object: dict[int, list[Any]] = {pk: [] for pk in ids}
    for record in _history_records(model).filter(id__in=ids):
        records_by_object[record.id].append(record)
    return {pk: _history_entries(model, records) for pk, records in records_by_object.items()}


def _history_entries(model: type[Any], records: list[Any], *, limit: int | None = None) -> list[HistoryEntry]:
    """Entries for one object's historical ``records`` (newest first), each diffed against the one before it."""
    entries = []
    for index, record in enumerate(records[:limit] if limit else records):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes: list[FieldChange] = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, foreign_keys_are_objs=False)
            for change in delta.changes:
                if change.field in {"updated_at"}:
                    continue
                old, new = change.old, change.new
                model_field = model._meta.get_field(change.field)
                if model_field.many_to_many:
                    related = model_field.related_model
                    attribute = model_field.m2m_reverse_field_name()
                    ids = {row[attribute] for row in (old or []) + (new or [])}
                    names = {
                        item.pk: str(getattr(item, "username", None) or item)
                        for item in related.objects.filter(pk__in=ids)
                    }
                    old = sorted(names.get(row[attribute], "?") for row in old or [])
                    new = sorted(names.get(row[attribute], "?") for row in new or [])
                else:
                    old = _display(previous, change.field, old, model)
                    new = _display(record, change.field, new, model)
                changes.append(FieldChange(change.field, str(model_field.verbose_name), old, new))
        entries.append(
            HistoryEntry(
                history_id=record.history_id,
                date=record.history_date,
                type=HISTORY_TYPES.get(record.history_type, record.history_type),
                user=record.history_user.username if record.history_user else None,
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    return entries


def registered_models_as_of(*, user: Any, when: datetime) -> QuerySet[Any]:
    """The inventory as it stood at ``when``: each model the user may see now, with its fields as they were then.

    Models registered after ``when`` are absent; the result holds model instances rebuilt from the history.
    """
    visible = restrict(user, "view", RegisteredModel.objects.all()).values("pk")
    return RegisteredModel.history.as_of(when).filter(id__in=visible).order_by("key")


def _dependency_closure(model_pk: int, max_depth: int) -> tuple[dict[str, dict[int, int]], set[tuple[int, int]]]:
    """Every model reachable from ``model_pk`` through dependencies, by direction, with its distance in hops, and
    the (upstream, downstream) links walked on the way. One query per hop and direction, whatever the fan-out."""
    distances: dict[str, dict[int, int]] = {}
    links: set[tuple[int, int]] = set()
    for direction, this_side, other_side in (
        ("upstream", "downstream_id", "upstream_id"),
        ("downstream", "upstream_id", "downstream_id"),
    ):
        found: dict[int, int] = {}
        frontier = {model_pk}
        for depth in range(1, max_depth + 1):
            pairs = list(
                ModelDependency.objects.filter(**{f"{this_side}__in": frontier}).values_list(this_side, other_side)
            )
            for near, far in pairs:
                links.add((far, near) if direction == "upstream" else (near, far))
            next_ids = {far for _, far in pairs} - set(found) - {model_pk}
            if not next_ids:
                break
            for pk in next_ids:
                found[pk] = depth
            frontier = next_ids
        distances[direction] = found
    return distances, links


def _lineage_rows(
    *, user: Any, model: RegisteredModel, max_depth: int
) -> tuple[dict[str, list[dict[str, Any]]], set[tuple[int, int]]]:
    distances, links = _dependency_closure(model.pk, max_depth)
    visible = restrict(user, "view", RegisteredModel.objects.all())
    result: dict[str, list[dict[str, Any]]] = {}
    for direction, found in distances.items():
        rows = visible.filter(pk__in=found).values("pk", "key", "name", "risk_tier", "lifecycle_stage")
        result[direction] = sorted(
            ({**row, "distance": found[row["pk"]]} for row in rows),
            key=lambda row: (row["distance"], row["key"]),
        )
    return result, links


def model_lineage(*, user: Any, model: RegisteredModel, max_depth: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Models upstream and downstream of ``model`` (transitively, up to ``max_depth`` hops) that the user may
    see, each with its distance, so the risk a model inherits or passes on can be traced."""
    return _lineage_rows(user=user, model=model, max_depth=max_depth)[0]


# --- what runs where ---------------------------------------------------------------------------------------------

# Reports that change what runs in an environment: a success puts a version there, a decommission takes it away.
# A failed or rolled-back report leaves the previous deployment running, so it never counts as the latest.
DECIDING_STATUSES = (DeploymentStatus.SUCCEEDED, DeploymentStatus.DECOMMISSIONED)


class MismatchReason:
    """Why a deployed digest does not match an approval now (the codes the deployment gate uses too)."""

    NOT_APPROVED = "not_approved"
    APPROVAL_EXPIRED = "approval_expired"
    DIGEST_MISMATCH = "digest_mismatch"

    MESSAGES = {
        NOT_APPROVED: "The deployed version holds no approval.",
        APPROVAL_EXPIRED: "The approval of the deployed version has expired.",
        DIGEST_MISMATCH: "The deployed digest is not one that was approved for the version.",
    }


def deployment_approval_annotations(*, now: datetime | None = None) -> dict[str, Any]:
    """Annotations that judge, in SQL, whether each deployment matches its version's approval at ``now``.

    The twin of :func:`approved_digests` for a whole queryset (one query, no per-row look-up):
    ``approval_held`` (the version is in an approval-holding state with an approver and a date),
    ``approval_current`` (no expiry, or one still ahead), ``digest_approved`` (the version's own digest, or a
    container image / model file recorded before the approval) and ``matches_now`` (all three). Unlike the
    ``matches_approval`` stored at report time, these follow approvals that expired or were withdrawn since.
    """
    now = now or timezone.now()
    held = Q(
        version__state__in=list(APPROVAL_HOLDING_STATES),
        version__approved_by__isnull=False,
        version__approved_at__isnull=False,
    )
    current = Q(version__approval_expires_at__isnull=True) | Q(version__approval_expires_at__gt=now)
    approved_artifact = Artifact.objects.filter(
        version_id=OuterRef("version_id"),
        kind__in=DEPLOYABLE_KINDS,
        created_at__lte=OuterRef("version__approved_at"),
        digest=OuterRef("digest"),
    )
    digest_ok = Q(digest=F("version__artifact_digest")) | Q(Exists(approved_artifact))
    return {
        "approval_held": ExpressionWrapper(held, output_field=BooleanField()),
        "approval_current": ExpressionWrapper(current, output_field=BooleanField()),
        "digest_approved": ExpressionWrapper(digest_ok, output_field=BooleanField()),
        "matches_now": ExpressionWrapper(held & current & digest_ok, output_field=BooleanField()),
    }


def mismatch_reason(deployment: Any) -> str | None:
    """The first reason a deployment annotated by :func:`deployment_approval_annotations` does not match, or None."""
    if not deployment.approval_held:
        return MismatchReason.NOT_APPROVED
    if not deployment.approval_current:
        return MismatchReason.APPROVAL_EXPIRED
    if not deployment.digest_approved:
        return MismatchReason.DIGEST_MISMATCH
    return None


def latest_deployments(
    queryset: QuerySet[Deployment], *, per: tuple[str, ...] = ("version__model_id", "environment")
) -> QuerySet[Deployment]:
    """The deployments of ``queryset`` that are the latest deciding report of their group (by default: of their
    model in their environment) and still running, i.e. not a decommission.

    Written as "no later deciding report exists" (an anti-join) rather than a window function or DISTINCT ON:
    it is one query on SQLite and PostgreSQL alike, it keeps every other filter (model, unit, mismatch) in the
    same WHERE clause, so the planner narrows first, and each candidate is checked through the
    ``deployment_version_env_idx`` index instead of sorting every deployment.
    """
    later = Deployment.objects.filter(**{name: OuterRef(name) for name in per}, status__in=DECIDING_STATUSES).filter(
        Q(deployed_at__gt=OuterRef("deployed_at")) | Q(deployed_at=OuterRef("deployed_at"), pk__gt=OuterRef("pk"))
    )
    return queryset.filter(status=DeploymentStatus.SUCCEEDED).exclude(Exists(later))


def runs_where_queryset(*, user: Any, now: datetime | None = None) -> QuerySet[Deployment]:
    """What runs where: for every (model, environment) the user may see, the deployment reported last, with
    whether it matches the approval now; ordered by model key and environment for stable paging.

    A CI account sees the models it is scoped to, owners their own models, Risk Officers and Auditors all.
    Filter it with ``RunsWhereFilterSet``; a page costs one query plus the paginator's count.
    """
    deployments = restrict(user, "view", Deployment.objects.all())
    return (
        latest_deployments(deployments)
        .annotate(**deployment_approval_annotations(now=now))
        .select_related("version__model__business_unit", "reported_by")
        .order_by("version__model__key", "environment")
    )


# --- the lineage of one model ------------------------------------------------------------------------------------

LINEAGE_VERSIONS_DEFAULT = 5
LINEAGE_VERSIONS_MAX = 50
# Artifacts listed per version and kind; the rest are counted. A version rebuilt by CI every night would
# otherwise put thousands of runs on one page.
LINEAGE_ARTIFACTS_PER_KIND = 5


def _person(user: User) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "title": getattr(user, "title", "")}


def _deployment_row(deployment: Deployment, *, running_now: bool | None = None) -> dict[str, Any]:
    reason = mismatch_reason(deployment)
    row = {
        "id": deployment.pk,
        "environment": deployment.environment,
        "target": deployment.target,
        "digest": deployment.digest,
        "status": deployment.status,
        "deployed_at": deployment.deployed_at,
        "reported_by": deployment.reported_by.username if deployment.reported_by else None,
        "matches_approval": reason is None,
        "mismatch_reason": reason,
        "matched_when_reported": deployment.matches_approval,
        "version": deployment.version.version,
    }
    if running_now is not None:
        row["running_now"] = running_now
    return row


def _approval_status(version: ModelVersion, now: datetime) -> str:
    if version.state not in APPROVAL_HOLDING_STATES or version.approved_by_id is None or version.approved_at is None:
        return "not_approved"
    if version.approval_expires_at is not None and version.approval_expires_at <= now:
        return "expired"
    return "approved"


def model_lineage_chain(
    *,
    user: Any,
    key: str,
    max_versions: int = LINEAGE_VERSIONS_DEFAULT,
    max_depth: int = 10,
) -> dict[str, Any]:
    """The whole chain behind one model, as plain data: business unit → owners → model → its latest versions →
    their artifacts (by kind) and deployments, what runs where now, and the upstream/downstream models the user
    may see with the dependency links between them.

    Raises Http404 when the model does not exist or the user may not see it. The cost is a fixed number of
    queries whatever the number of versions, artifacts and deployments (plus one per hop of the dependency
    graph): only the ``max_versions`` newest versions and ``LINEAGE_ARTIFACTS_PER_KIND`` newest artifacts of
    each kind are loaded, and the rest are counted.
    """
    now = timezone.now()
    model = (
        restrict(user, "view", RegisteredModel.objects.all())
        .select_related("business_unit", "business_owner", "technical_owner")
        .filter(key=key)
        .first()
    )
    if model is None:
        raise Http404(f"No model {key} visible to you.")
    # Versions, artifacts and deployments follow the model's visibility, checked once above.
    versions_qs = ModelVersion.objects.filter(model=model).select_related("approved_by")
    versions_total = versions_qs.count()
    versions = list(versions_qs.order_by("-created_at", "-id")[:max_versions])
    version_ids = [version.pk for version in versions]

    partition = [F("version_id"), F("kind")]
    artifacts = (
        Artifact.objects.filter(version_id__in=version_ids)
        .annotate(
            rank=Window(RowNumber(), partition_by=partition, order_by=[F("created_at").desc(), F("id").desc()]),
            kind_total=Window(Count("id"), partition_by=partition),
        )
        .filter(rank__lte=LINEAGE_ARTIFACTS_PER_KIND)
        .order_by("version_id", "kind", "rank")
    )
    by_version: dict[int, dict[str, dict[str, Any]]] = {pk: {} for pk in version_ids}
    for artifact in artifacts:
        group = by_version[artifact.version_id].setdefault(
            artifact.kind,
            {
                "kind": artifact.kind,
                "kind_label": str(ArtifactKind(artifact.kind).label),
                "count": artifact.kind_total,
                "shown": [],
            },
        )
        group["shown"].append(
            {
                "identity": artifact.identity,
                "name": artifact.name or artifact.identity,
                "uri": artifact.uri,
                "digest": artifact.digest,
                "created_at": artifact.created_at,
            }
        )

    running = list(runs_where_queryset(user=user, now=now).filter(version__model=model).order_by("environment"))
    running_ids = {deployment.pk for deployment in running}
    per_version = (
        latest_deployments(Deployment.objects.filter(version_id__in=version_ids), per=("version_id", "environment"))
        .annotate(**deployment_approval_annotations(now=now))
        .select_related("version", "reported_by")
        .order_by("version_id", "environment")
    )
    deployments: dict[int, list[dict[str, Any]]] = {pk: [] for pk in version_ids}
    for deployment in per_version:
        deployments[deployment.version_id].append(_deployment_row(deployment, running_now=deployment.pk in running_ids))

    lineage, links = _lineage_rows(user=user, model=model, max_depth=max_depth)
    keys = {row["pk"]: row["key"] for rows in lineage.values() for row in rows}
    keys[model.pk] = model.key
    for rows in lineage.values():
        for row in rows:
            row.pop("pk")
    unit = model.business_unit
    return {
        "model": {
            "key": model.key,
            "name": model.name,
            "model_type": model.model_type,
            "lifecycle_stage": model.lifecycle_stage,
            "risk_tier": model.risk_tier,
        },
        "business_unit": {"code": unit.code, "name": unit.name, "path": unit.path},
        "business_owner": _person(model.business_owner),
        "technical_owner": _person(model.technical_owner),
        "versions": [
            {
                "id": version.pk,
                "version": version.version,
                "state": version.state,
                "artifact_digest": version.artifact_digest,
                "approved_at": version.approved_at,
                "approved_by": version.approved_by.username if version.approved_by else None,
                "approval_expires_at": version.approval_expires_at,
                "approval_status": _approval_status(version, now),
                "artifacts": [by_version[version.pk][kind] for kind in sorted(by_version[version.pk])],
                "deployments": deployments[version.pk],
            }
            for version in versions
        ],
        "versions_total": versions_total,
        "versions_shown": len(versions),
        "versions_hidden": versions_total - len(versions),
        "running": [_deployment_row(deployment) for deployment in running],
        "upstream": lineage["upstream"],
        "downstream": lineage["downstream"],
        # Links between models the user may see; a model reached only through models they may not see has
        # no link here and is drawn as an indirect dependency.
        "dependencies": sorted(
            ({"upstream": keys[up], "downstream": keys[down]} for up, down in links if up in keys and down in keys),
            key=lambda link: (link["upstream"], link["downstream"]),
        ),
    }


def external_model_queryset(*, user: Any, action: str = "view") -> QuerySet[ExternalRegistryModel]:
    """Models found in MLflow that the user may see (the roles that read the whole inventory), with the linked model."""
    return restrict(user, action, ExternalRegistryModel.objects.all()).select_related("registered_model")


def saved_view_queryset(*, user: Any) -> QuerySet[SavedView]:
    """The user's own saved inventory views, by name. Nobody sees another person's views, not even an
    administrator: they are personal settings, not inventory records, so the role gate does not apply."""
    if not user.is_authenticated:
        return SavedView.objects.none()
    return SavedView.objects.filter(owner=user).order_by("name")
