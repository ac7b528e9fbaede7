"""The inventory register: every model the user may see, one row each, as CSV (streamed) or XLSX.

The rows honour the inventory list's filters (the same ``RegisteredModelFilterSet`` the UI and the API use) and,
given ``as_of``, show the register as it stood at the end of that day, rebuilt from the field history. The
columns are what SR 11-7 / SR 26-2 and the EU AI Act (Art. 49 and 71, Annex VIII) ask an inventory to hold; the
mapping is in :data:`REGISTER_COLUMNS` and ``docs/reports.md``.

Rows are read with ``.values()`` through ``iterator(chunk_size=...)`` (a server-side cursor on PostgreSQL) and
each chunk fetches its tags, validators, approvals and open findings in one query each, so memory stays flat and
the number of queries grows with the number of chunks, not of rows.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from governance.choices import OPEN_FINDING_STATUSES
from governance.models import Finding
from inventory.choices import (
    APPROVAL_HOLDING_STATES,
    DataSensitivity,
    EUAIActCategory,
    LifecycleStage,
    ModelType,
    RegulatoryUse,
    RiskTier,
)
from inventory.filtersets import RegisteredModelFilterSet
from inventory.models import ModelVersion, RegisteredModel
from inventory.selectors import registered_model_queryset, registered_models_as_of
from reports.cells import neutralise_row
from reports.monitoring import register_cells, with_monitoring

# Rows read from the database per round trip, and the tags/validators of those rows fetched with them.
REGISTER_CHUNK_SIZE = 2000
# Query parameters of the inventory list that are not filters (paging, the export's own date).
NON_FILTER_PARAMS = frozenset({"page", "page_size", "per_page", "as_of", "format"})


@dataclass(frozen=True)
class Column:
    """One register column: its id, its header, the regulatory field it answers, its type and width in XLSX."""

    id: str
    header: str
    mapping: str
    kind: str = "text"  # text, int, date or datetime: how XLSX stores and formats the cell
    width: int = 18


REGISTER_COLUMNS: list[Column] = [
    Column(
        "key", "Model ID", "SR 11-7/SR 26-2: unique inventory identifier; EU AI Act Annex VIII: reference", "text", 11
    ),
    Column("name", "Model name", "SR 11-7: model name; EU AI Act Annex VIII A: AI system trade name", "text", 30),
    Column(
        "purpose",
        "Purpose and intended use",
        "SR 11-7: purpose and use; EU AI Act Annex VIII A: intended purpose",
        "text",
        45,
    ),
    Column(
        "model_type", "Model type", "SR 11-7: model type (incl. vendor/AI); EU AI Act Art. 3(1) AI system", "text", 14
    ),
    Column(
        "vendor",
        "Vendor / provider",
        "SR 11-7: vendor and third-party models; EU AI Act Annex VIII A: provider",
        "text",
        18,
    ),
    Column("business_unit", "Business unit", "SR 11-7: business line using the model", "text", 22),
    Column("business_owner", "Business owner", "SR 11-7/SR 26-2: model owner (first line)", "text", 24),
    Column("technical_owner", "Developer / technical owner", "SR 11-7: model developer", "text", 24),
    Column("validators", "Validators", "SR 11-7: independent validation (second line)", "text", 24),
    Column(
        "lifecycle_stage",
        "Lifecycle stage",
        "SR 11-7: status (development, in use, retired); EU AI Act Annex VIII A: status of the system",
        "text",
        14,
    ),
    Column("risk_tier", "Risk tier", "SR 11-7/SR 26-2: model risk rating (materiality, complexity)", "text", 15),
    Column(
        "eu_ai_act_category",
        "EU AI Act category",
        "EU AI Act Art. 6 / Annex III: risk classification; high-risk systems are registered (Art. 49) in the "
        "EU database (Art. 71)",
        "text",
        24,
    ),
    Column(
        "regulatory_uses",
        "Regulatory uses",
        "SR 11-7: regulated decisions and reports fed; EU AI Act Annex III area",
        "text",
        30,
    ),
    Column("data_sensitivity", "Data sensitivity", "EU AI Act Art. 10 data governance; GDPR personal data", "text", 16),
    Column(
        "inputs",
        "Inputs and data sources",
        "SR 11-7: inputs and data; EU AI Act Annex VIII A: data and inputs used",
        "text",
        35,
    ),
    Column("outputs", "Outputs and their use", "SR 11-7: outputs and how they are used", "text", 35),
    Column(
        "limitations",
        "Known limitations",
        "SR 11-7: limitations and assumptions; EU AI Act Art. 13 instructions for use",
        "text",
        35,
    ),
    Column("restrictions_on_use", "Restrictions on use", "SR 11-7: uses the model is not approved for", "text", 30),
    Column("approved_version", "Approved version", "SR 11-7: version approved for use", "text", 12),
    Column("approved_on", "Approved on", "SR 11-7: approval date", "date", 12),
    Column("approval_expires", "Approval expires", "SR 11-7: approval validity", "date", 14),
    Column("last_validated_on", "Last validated", "SR 11-7/SR 26-2: date of last validation", "date", 13),
    Column("next_validation_due", "Next validation due", "SR 11-7/SR 26-2: periodic revalidation due date", "date", 16),
    Column("open_findings", "Open findings", "SR 11-7: open validation / audit issues", "int", 10),
    Column("tags", "Tags", "Portal grouping labels", "text", 18),
    Column("registered_on", "Registered on", "SR 11-7: date added to the inventory", "date", 13),
    Column("last_changed", "Last changed", "Audit trail: last change of the record", "datetime", 18),
    Column(
        "monitoring_breach",
        "Breaching targets",
        "SR 26-2: ongoing monitoring against agreed targets; EU AI Act Art. 72 post-market monitoring",
        "text",
        10,
    ),
    Column("last_drift", "Last drift audit", "SR 11-7/SR 26-2: ongoing monitoring (data drift)", "text", 16),
    Column(
        "top_drift_feature", "Top drifting feature", "SR 26-2: what moved most in the latest drift audit", "text", 22
    ),
]

_VALUE_FIELDS = (
    "id",
    "key",
    "name",
    "purpose",
    "model_type",
    "vendor_name",
    "business_unit__code",
    "business_unit__name",
    "business_owner__username",
    "business_owner__first_name",
    "business_owner__last_name",
    "technical_owner__username",
    "technical_owner__first_name",
    "technical_owner__last_name",
    "lifecycle_stage",
    "risk_tier",
    "eu_ai_act_category",
    "regulatory_uses",
    "data_sensitivity",
    "inputs",
    "outputs",
    "limitations",
    "restrictions_on_use",
    "last_validated_on",
    "next_validation_due",
    "created_at",
    "updated_at",
)

_MODEL_TYPES = dict(ModelType.choices)
_STAGES = dict(LifecycleStage.choices)
_TIERS = dict(RiskTier.choices)
_EU_CATEGORIES = dict(EUAIActCategory.choices)
_SENSITIVITY = dict(DataSensitivity.choices)
_REGULATORY_USES = dict(RegulatoryUse.choices)


def _history_m2m(name: str) -> Any:
    """The history table holding the snapshot of the many-to-many ``name`` with each historical record."""
    history_model: Any = RegisteredModel.history.model
    return history_model._meta.get_field(f"historicalregisteredmodel_{name}").related_model


class HistoricalRegisterFilterSet(RegisteredModelFilterSet):
    """The inventory filters applied to the register as it stood on a past date.

    Field filters work unchanged on the historical rows; tags, validators and "revalidation overdue" are read
    from the snapshot kept with each historical record and judged on that date, not today.
    """

    def __init__(self, *args: Any, as_of: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.as_of = as_of

    def filter_validator(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if value is None:
            return queryset
        through = _history_m2m("validators")
        return queryset.filter(Exists(through.objects.filter(history_id=OuterRef("history_id"), user_id=value.pk)))

    def filter_tag(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip().lower()
        if not value:
            return queryset
        through = _history_m2m("tags")
        return queryset.filter(Exists(through.objects.filter(history_id=OuterRef("history_id"), tag__name=value)))

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        overdue = Q(next_validation_due__lt=self.as_of) & ~Q(lifecycle_stage=LifecycleStage.RETIRED)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


def parse_as_of(value: Any) -> datetime.date | None:
    """An "as of" date from a query parameter or a command option (ISO ``YYYY-MM-DD``), or None when blank.

    A malformed date or one after today is refused with a ValidationError naming ``as_of``.
    """
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        try:
            value = datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError({"as_of": [f"Give a date as YYYY-MM-DD (got {str(value)[:40]!r})."]}) from None
    if value > timezone.localdate():
        raise ValidationError({"as_of": ["The register cannot be read as of a future date."]})
    return value


def as_of_moment(as_of: datetime.date) -> datetime.datetime:
    """The end of ``as_of`` in the portal's time zone: the register "as of a day" includes that day's changes."""
    return timezone.make_aware(datetime.datetime.combine(as_of, datetime.time.max))


def filter_data(params: Mapping[str, Any] | None) -> QueryDict:
    """``params`` (a QueryDict, or a dict of values or lists of values) as the FilterSet's form data."""
    data = QueryDict(mutable=True)
    if params is None:
        return data
    keys = params.keys()
    for key in keys:
        if key in NON_FILTER_PARAMS:
            continue
        values: list[Any] | tuple[Any, ...]
        if isinstance(params, QueryDict):
            values = params.getlist(key)
        else:
            raw = params[key]
            values = raw if isinstance(raw, list | tuple) else [raw]
        data.setlist(key, [str(item) for item in values if item is not None])
    return data


def _filtered(*, user: Any, params: Mapping[str, Any] | None, as_of: datetime.date | None) -> QuerySet[Any]:
    """The visible models (current or as of the date) narrowed by the inventory filters; a ValidationError naming
    each bad filter otherwise."""
    data = filter_data(params)
    filterset: RegisteredModelFilterSet
    if as_of is None:
        queryset: QuerySet[Any] = registered_model_queryset(user=user).prefetch_related(None)
        filterset = RegisteredModelFilterSet(data=data, queryset=queryset)
    else:
        queryset = registered_models_as_of(user=user, when=as_of_moment(as_of))
        filterset = HistoricalRegisterFilterSet(data=data, queryset=queryset, as_of=as_of)
    if not filterset.is_valid():
        raise ValidationError({field: list(messages) for field, messages in filterset.errors.items()})
    return filterset.qs


def _approvals(scope: dict[str, Any], when: datetime.datetime | None) -> dict[int, tuple[Any, ...]]:
    """Per model: (label, approved at, approval expires at) of its approved version, as now or as at ``when``.

    Now: the latest version holding an approval. At a past moment: the latest approval granted by then. One query
    per chunk of models, not a subquery per row: on 100,000 models three correlated subqueries cost more than the
    rest of the export.
    """
    versions = ModelVersion.objects.filter(**scope, approved_at__isnull=False)
    if when is None:
        versions = versions.filter(state__in=APPROVAL_HOLDING_STATES)
    else:
        versions = versions.filter(approved_at__lte=when)
    versions = versions.order_by("model_id", "-approved_at", "-id")
    if connection.features.can_distinct_on_fields:
        # PostgreSQL sends only each model's latest approval, not every approved version's times to parse.
        versions = versions.distinct("model_id")
    latest: dict[int, tuple[Any, ...]] = {}
    for model_id, *approval in versions.values_list("model_id", "version", "approved_at", "approval_expires_at"):
        latest.setdefault(model_id, tuple(approval))
    return latest


def _open_findings(scope: dict[str, Any], when: datetime.datetime | None) -> dict[int, int]:
    """Per model: findings open or in remediation now, or raised by ``when`` and not resolved by then."""
    findings = Finding.objects.filter(**scope)
    if when is None:
        findings = findings.filter(status__in=OPEN_FINDING_STATUSES)
    else:
        findings = findings.filter(created_at__lte=when).filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=when))
    counts = findings.order_by().values("model_id").annotate(count=Count("pk")).values_list("model_id", "count")
    return dict(counts)


def _person(row: dict[str, Any], prefix: str) -> str:
    username = row[f"{prefix}__username"] or ""
    full_name = f"{row[f'{prefix}__first_name'] or ''} {row[f'{prefix}__last_name'] or ''}".strip()
    return f"{full_name} ({username})" if full_name else username


def _local_date(value: datetime.datetime | None, tz: datetime.tzinfo) -> datetime.date | None:
    return value.astimezone(tz).date() if value is not None else None


def _row(
    record: dict[str, Any],
    tags: list[str],
    validators: list[str],
    approval: tuple[Any, ...],
    open_findings: int,
    tz: datetime.tzinfo,
) -> list[Any]:
    """One register row in the order of :data:`REGISTER_COLUMNS`: labels for choices, dates as dates, times in
    the portal's time zone."""
    tier = record["risk_tier"]
    return [
        record["key"],
        record["name"],
        record["purpose"],
        _MODEL_TYPES.get(record["model_type"], record["model_type"]),
        record["vendor_name"],
        f"{record['business_unit__name']} ({record['business_unit__code']})",
        _person(record, "business_owner"),
        _person(record, "technical_owner"),
        "; ".join(sorted(validators)),
        _STAGES.get(record["lifecycle_stage"], record["lifecycle_stage"]),
        _TIERS.get(tier, str(tier)) if tier is not None else "Not assessed",
        _EU_CATEGORIES.get(record["eu_ai_act_category"], record["eu_ai_act_category"]) or "Not assessed",
        "; ".join(_REGULATORY_USES.get(use, str(use)) for use in record["regulatory_uses"] or []),
        _SENSITIVITY.get(record["data_sensitivity"], record["data_sensitivity"]),
        record["inputs"],
        record["outputs"],
        record["limitations"],
        record["restrictions_on_use"],
        approval[0],
        _local_date(approval[1], tz),
        _local_date(approval[2], tz),
        record["last_validated_on"],
        record["next_validation_due"],
        open_findings,
        "; ".join(sorted(tags)),
        _local_date(record["created_at"], tz),
        record["updated_at"].astimezone(tz),
        *register_cells(record, tz),
    ]


_NO_APPROVAL = ("", None, None)


def _scope(chunk: list[dict[str, Any]], relation: str, *, link: str, by_key: bool) -> dict[str, Any]:
    """The filter that selects a chunk's related rows through ``relation``.

    When the rows come in key order, a chunk is one contiguous range of keys: an indexed range join, instead of
    a list of 2,000 ids for Django and the driver to bind (which cost more than the query on 100,000 models).
    Rows of models outside the chunk cannot fall inside its range, since the range follows the same order.
    """
    if by_key:
        return {f"{relation}__key__range": (chunk[0]["key"], chunk[-1]["key"])}
    return {f"{relation}_id__in": [record[link] for record in chunk]}


def _chunks(queryset: QuerySet[Any], *, when: datetime.datetime | None, chunk_size: int) -> Iterator[list[list[Any]]]:
    """The register rows, ``chunk_size`` at a time; each chunk loads its tags, validators, approvals and open
    findings in one query each."""
    historical = when is not None
    link = "history_id" if historical else "id"
    fields = (*_VALUE_FIELDS, "history_id") if historical else _VALUE_FIELDS
    # Monitoring status as two correlated subqueries of this one query, not queries of their own per chunk.
    records = (
        with_monitoring(queryset, when)
        .values(*fields, "monitoring_breach", "last_drift")
        .iterator(chunk_size=chunk_size)
    )
    if historical:
        tag_table, validator_table, owner_field = _history_m2m("tags"), _history_m2m("validators"), "history_id"
    else:
        tag_table = RegisteredModel.tags.through
        validator_table = RegisteredModel.validators.through
        owner_field = "registeredmodel_id"
    by_key = tuple(queryset.query.order_by) in {(), ("key",)}
    # A model's history holds many snapshots of its tags and validators: those of the chunk's records are picked
    # by their history ids, not by key.
    m2m_relation = "history" if historical else "registeredmodel"
    tz = timezone.get_current_timezone()
    while chunk := list(islice(records, chunk_size)):
        approvals = _approvals(_scope(chunk, "model", link="id", by_key=by_key), when)
        open_findings = _open_findings(_scope(chunk, "model", link="id", by_key=by_key), when)
        m2m_scope = _scope(chunk, m2m_relation, link=link, by_key=by_key and not historical)
        tags: dict[int, list[str]] = {}
        for owner, name in tag_table.objects.filter(**m2m_scope).values_list(owner_field, "tag__name"):
            tags.setdefault(owner, []).append(name)
        validators: dict[int, list[str]] = {}
        for owner, username in validator_table.objects.filter(**m2m_scope).values_list(owner_field, "user__username"):
            validators.setdefault(owner, []).append(username)
        yield [
            neutralise_row(
                _row(
                    record,
                    tags.get(record[link], []),
                    validators.get(record[link], []),
                    approvals.get(record["id"], _NO_APPROVAL),
                    open_findings.get(record["id"], 0),
                    tz,
                )
            )
            for record in chunk
        ]


def register_chunks(
    *,
    user: Any,
    params: Mapping[str, Any] | None = None,
    as_of: datetime.date | None = None,
    chunk_size: int = REGISTER_CHUNK_SIZE,
) -> Iterator[list[list[Any]]]:
    """The register rows in chunks (cells already neutralised). Filters are checked now, before the first row:
    a bad filter is a ValidationError naming it, never an error halfway through a download."""
    queryset = _filtered(user=user, params=params, as_of=as_of)
    return _chunks(queryset, when=as_of_moment(as_of) if as_of else None, chunk_size=chunk_size)


def register_rows(
    *, user: Any, params: Mapping[str, Any] | None = None, as_of: datetime.date | None = None
) -> Iterator[list[Any]]:
    """The register, one list of cell values per model the user may see, in :data:`REGISTER_COLUMNS` order.

    ``params`` are the inventory list's query parameters; ``as_of`` gives the register at the end of that day.
    Text cells that would start a spreadsheet formula are neutralised.
    """
    chunks = register_chunks(user=user, params=params, as_of=as_of)
    return (row for chunk in chunks for row in chunk)


_DATE_COLUMNS = [index for index, column in enumerate(REGISTER_COLUMNS) if column.kind == "date"]
_DATETIME_COLUMNS = [index for index, column in enumerate(REGISTER_COLUMNS) if column.kind == "datetime"]


def _csv_values(row: list[Any]) -> list[Any]:
    """A register row with its dates and times as ISO 8601 text (in place: the row is not used again)."""
    for index in _DATE_COLUMNS:
        if row[index] is not None:
            row[index] = row[index].isoformat()
    for index in _DATETIME_COLUMNS:
        if row[index] is not None:
            row[index] = row[index].isoformat(timespec="seconds")
    return row


def register_csv(
    *,
    user: Any,
    params: Mapping[str, Any] | None = None,
    as_of: datetime.date | None = None,
    chunk_size: int = REGISTER_CHUNK_SIZE,
) -> Iterator[str]:
    """The register as CSV text, header first, one piece per chunk of rows, so it streams in constant memory.

    Dates are ISO 8601 (``2026-03-31``), times ISO 8601 with their offset. Filters are checked before the first
    piece is produced.
    """
    chunks = register_chunks(user=user, params=params, as_of=as_of, chunk_size=chunk_size)

    def pieces() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([column.header for column in REGISTER_COLUMNS])
        yield buffer.getvalue()
        for chunk in chunks:
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(_csv_values(row) for row in chunk)
            yield buffer.getvalue()

    return pieces()


def register_check(*, user: Any, params: Mapping[str, Any] | None = None, as_of: datetime.date | None = None) -> None:
    """Refuse bad filters now (a ValidationError naming each), without reading any row."""
    _filtered(user=user, params=params, as_of=as_of)


def register_count(*, user: Any, params: Mapping[str, Any] | None = None, as_of: datetime.date | None = None) -> int:
    """How many models the register will hold (to report an export's progress)."""
    return _filtered(user=user, params=params, as_of=as_of).count()


def write_register_csv(
    *,
    user: Any,
    params: Mapping[str, Any] | None = None,
    as_of: datetime.date | None = None,
    path: Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the register CSV to ``path``; returns the number of model rows.

    The file is UTF-8 with a byte-order mark, so spreadsheet programs read names with accents right; the
    content is otherwise what :func:`register_csv` streams. ``progress`` gets the rows written after each chunk.
    """
    written = 0
    chunks = register_chunks(user=user, params=params, as_of=as_of)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column.header for column in REGISTER_COLUMNS])
        for chunk in chunks:
            writer.writerows(_csv_values(row) for row in chunk)
            written += len(chunk)
            if progress is not None:
                progress(written)
    return written


_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def _xlsx_cell(sheet: Any, value: Any, column: Column, cell_type: Any) -> Any:
    """A typed cell: dates carry a date format, times become naive local times (Excel has no time zones). Empty
    text is no cell at all, which keeps a sparse register's file smaller and faster to write."""
    if value == "":
        return None
    if value is None or column.kind in {"text", "int"}:
        return value
    if isinstance(value, datetime.datetime):
        cell = cell_type(sheet, value=value.replace(tzinfo=None))
        cell.number_format = _DATETIME_FORMAT
        return cell
    cell = cell_type(sheet, value=value)
    cell.number_format = _DATE_FORMAT
    return cell


def register_xlsx(
    *,
    user: Any,
    params: Mapping[str, Any] | None = None,
    as_of: datetime.date | None = None,
    path: Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the register to ``path`` as an XLSX workbook; returns the number of model rows written.

    A write-only (streaming) workbook: a bold header row, an autofilter over the data, the header row and key
    column frozen, column widths set, dates stored as dates. A second sheet says what the register is (as of
    when, which filters) and maps each column to the regulatory field it answers. ``progress`` is called with
    the rows written so far after each chunk.
    """
    # openpyxl is imported by the export that writes a workbook, not with the module: the web and worker processes
    # import this module when they start (tests/test_startup_imports.py).
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    chunks = register_chunks(user=user, params=params, as_of=as_of)
    workbook = Workbook(write_only=True)
    sheet: Any = workbook.create_sheet("Register")
    for index, column in enumerate(REGISTER_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "B2"
    header = []
    font, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F3A5F")
    alignment = Alignment(wrap_text=True, vertical="top")
    for column in REGISTER_COLUMNS:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font, cell.fill, cell.alignment = font, fill, alignment
        header.append(cell)
    sheet.append(header)
    written = 0
    for chunk in chunks:
        for row in chunk:
            sheet.append(
                [
                    _xlsx_cell(sheet, value, column, WriteOnlyCell)
                    for value, column in zip(row, REGISTER_COLUMNS, strict=True)
                ]
            )
        written += len(chunk)
        if progress is not None:
            progress(written)
    last_column = get_column_letter(len(REGISTER_COLUMNS))
    sheet.auto_filter.ref = f"A1:{last_column}{written + 1}"
    _about_sheet(workbook, user=user, params=params, as_of=as_of, rows=written)
    workbook.save(path)
    return written


def _about_sheet(
    workbook: Any, *, user: Any, params: Mapping[str, Any] | None, as_of: datetime.date | None, rows: int
) -> None:
    """What the register is: generated when and by whom, as of which date, with which filters; the mapping."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheet = workbook.create_sheet("About")
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 40
    sheet.column_dimensions["C"].width = 100
    bold = Font(bold=True)

    def label(text: str) -> Any:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    filters = filter_data(params)
    described = "; ".join(f"{key}={','.join(filters.getlist(key))}" for key in sorted(filters)) or "none"
    sheet.append([label("Inventory register")])
    sheet.append(["Generated at", timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")])
    sheet.append(["Generated by", getattr(user, "username", "")])
    sheet.append(["As of", as_of.isoformat() if as_of else "now"])
    sheet.append(neutralise_row(["Filters", described]))
    sheet.append(["Models", rows])
    sheet.append([])
    sheet.append([label("Column"), label("Header"), label("Regulatory field")])
    for column in REGISTER_COLUMNS:
        sheet.append([column.id, column.header, column.mapping])
