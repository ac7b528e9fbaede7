"""Export delivery: the request service, the task, the schedule, the command and the Downloads pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from core.schedules import default_schedules, install_default_schedules
from governance.choices import EventType
from governance.models import GovernanceEvent
from reports import services
from reports.choices import ExportKind, ExportStatus
from reports.models import Export
from reports.selectors import export_queryset
from reports.services import export_execute, export_request, export_schedule_monthly
from reports.tasks import monthly_portfolio_report, run_export
from tests.celery_apps import close_worker_thread_connections
from tests.integration.embedded import STOP_SECONDS, wait_until

pytestmark = pytest.mark.django_db


def export_events() -> list[GovernanceEvent]:
    return list(GovernanceEvent.objects.filter(event_type=EventType.REPORT_EXPORTED).order_by("seq"))


def stored_files(export: Export, media_root: str) -> list[Path]:
    return sorted((Path(media_root) / "exports" / str(export.pk)).iterdir())


@pytest.fixture
def queued(monkeypatch: Any) -> list[int]:
    """Ids handed to the export task's ``delay`` (the tests run the task themselves)."""
    sent: list[int] = []
    monkeypatch.setattr(run_export, "delay", sent.append)
    return sent


# --- requesting ----------------------------------------------------------------------------------------------


def test_a_request_is_recorded_in_the_ledger_and_queued_on_commit(
    personas: Any, inventory: Any, queued: list[int], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(
            actor=personas.owner_a,
            kind=ExportKind.REGISTER_XLSX,
            params={"stage": ["production"]},
        )

    assert export.status == ExportStatus.QUEUED
    assert export.requested_by == personas.owner_a
    assert export.params == {"stage": ["production"]}
    assert queued == [export.pk]
    [event] = export_events()
    assert event.actor_username == "owner_a"
    assert event.subject_type == "export" and event.subject_id == str(export.pk)
    assert event.payload == {"export": export.pk, "kind": "register_xlsx", "params": {"stage": ["production"]}}


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("register_pdf", {}, "kind"),
        (ExportKind.REGISTER_CSV, {"stage": ["bogus"]}, "stage"),
        (ExportKind.REGISTER_CSV, {"colour": "red"}, "colour"),
        (ExportKind.REGISTER_CSV, {"unit": "NOPE"}, "unit"),
        (ExportKind.REGISTER_CSV, {"as_of": "31/01/2026"}, "as_of"),
        (ExportKind.REGISTER_CSV, {"as_of": "2999-01-01"}, "as_of"),
        (ExportKind.REGISTER_CSV, {"stage": [{"x": 1}]}, "stage"),
        (ExportKind.PORTFOLIO_PDF, {"unit": "RETAIL"}, "params"),
        (ExportKind.MODEL_PDF, {}, "model"),
        (ExportKind.MODEL_PDF, {"model": "RB-0002"}, "model"),  # owner_b's model: owner_a may not see it
        (ExportKind.MODEL_PDF, {"model": "RB-0001", "extra": 1}, "extra"),
        (ExportKind.EVIDENCE_PACK, {"models": []}, "models"),
        (ExportKind.EVIDENCE_PACK, {"models": ["RB-0001", "CB-0001"]}, "models"),
        (ExportKind.EVIDENCE_PACK, {"models": "RB-0001"}, "models"),
    ],
)
def test_bad_requests_name_the_field_and_write_nothing(
    personas: Any, inventory: Any, queued: list[int], kind: str, params: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        export_request(actor=personas.owner_a, kind=kind, params=params)

    assert field in refused.value.message_dict
    assert not Export.objects.exists()
    assert export_events() == []


def test_anonymous_may_not_export(personas: Any) -> None:
    with pytest.raises(PermissionDenied):
        export_request(actor=AnonymousUser(), kind=ExportKind.REGISTER_CSV)  # type: ignore[arg-type]


def test_the_requester_sees_the_export_and_the_oversight_roles_see_all(personas: Any, queued: list[int]) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)

    for user in (personas.owner_a, personas.risk_officer, personas.auditor, personas.admin):
        assert list(export_queryset(user=user)) == [export], user.username
    for user in (personas.owner_b, personas.validator_assigned, personas.ci_scoped, personas.no_role):
        assert list(export_queryset(user=user)) == [], user.username


# --- executing -----------------------------------------------------------------------------------------------


def test_the_task_writes_the_register_as_the_requester(
    personas: Any, inventory: Any, queued: list[int], settings: Any
) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_XLSX)

    run_export(export.pk)

    export.refresh_from_db()
    assert export.status == ExportStatus.DONE
    assert (export.progress, export.row_count, export.attempts) == (100, 2, 1)
    [path] = stored_files(export, settings.MEDIA_ROOT)
    assert path.name == f"register_xlsx-{export.requested_at:%Y%m%d}-{export.pk}.xlsx"
    import hashlib

    assert export.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert export.size == path.stat().st_size
    keys = [row[0] for row in load_workbook(path)["Register"].iter_rows(min_row=2, values_only=True)]
    assert keys == ["RB-0001", "RB-0003"]  # never the confidential CB-0001 of another unit


def test_csv_export_reads_back_with_filters_and_as_of(personas: Any, inventory: Any, queued: list[int]) -> None:
    export = export_request(actor=personas.risk_officer, kind=ExportKind.REGISTER_CSV, params={"unit": "CORP"})
    export = export_execute(export_id=export.pk)

    with export.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Model ID"
    assert [row[0] for row in rows[1:]] == ["CB-0001"]
    assert export.row_count == 1


def test_the_task_is_idempotent(personas: Any, queued: list[int], settings: Any) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)

    run_export(export.pk)
    first = Export.objects.get(pk=export.pk)
    run_export(export.pk)  # redelivered after it finished
    second = Export.objects.get(pk=export.pk)

    assert len(stored_files(export, settings.MEDIA_ROOT)) == 1
    assert (second.sha256, second.finished_at, second.attempts) == (first.sha256, first.finished_at, 1)
    assert len(export_events()) == 1


def test_an_interrupted_attempt_is_replaced_not_duplicated(personas: Any, queued: list[int], settings: Any) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)
    run_export(export.pk)
    # As if a worker died after storing the file but before recording it: the row says running again.
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, sha256="", file="")

    run_export(export.pk)

    export.refresh_from_db()
    [path] = stored_files(export, settings.MEDIA_ROOT)
    assert export.status == ExportStatus.DONE and export.file.name.endswith(path.name)
    assert export.attempts == 2


def test_a_failing_export_ends_in_error_with_its_message(personas: Any, queued: list[int], monkeypatch: Any) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValidationError({"unit": ["Business unit RETAIL was removed."]})

    monkeypatch.setattr(services, "_produce", broken)
    run_export(export.pk)

    export.refresh_from_db()
    assert export.status == ExportStatus.ERROR
    assert "RETAIL was removed" in export.error
    assert not export.file


def test_a_bug_ends_the_export_in_error_not_running(personas: Any, queued: list[int], monkeypatch: Any) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)
    monkeypatch.setattr(services, "_produce", lambda *args: 1 / 0)

    run_export(export.pk)

    export.refresh_from_db()
    assert export.status == ExportStatus.ERROR
    assert "unexpectedly" in export.error


def test_model_report_and_portfolio_are_made_by_their_functions(
    personas: Any, queued: list[int], monkeypatch: Any
) -> None:
    calls: list[tuple[str, Any, Any]] = []

    def fake_model_pdf(*, user: Any, model: Any, path: Path) -> None:
        calls.append(("model", user, model))
        path.write_bytes(b"%PDF-1.7 model")

    def fake_portfolio_xlsx(*, user: Any, path: Path) -> None:
        calls.append(("portfolio", user, None))
        path.write_bytes(b"PK portfolio")

    monkeypatch.setattr("reports.model_report.model_report_pdf", fake_model_pdf)
    monkeypatch.setattr("reports.portfolio.portfolio_xlsx", fake_portfolio_xlsx)
    model_export = export_request(actor=personas.owner_a, kind=ExportKind.MODEL_PDF, params={"model": "RB-0001"})
    portfolio_export = export_request(actor=personas.owner_a, kind=ExportKind.PORTFOLIO_XLSX)

    assert export_execute(export_id=model_export.pk).status == ExportStatus.DONE
    assert export_execute(export_id=portfolio_export.pk).status == ExportStatus.DONE
    assert calls == [("model", personas.owner_a, personas.model_a), ("portfolio", personas.owner_a, None)]
    [model_event, _] = export_events()
    assert model_event.model_key == "RB-0001"


def test_the_scheduled_portfolio_workbook_is_produced_for_real(personas: Any, inventory: Any) -> None:
    xlsx = next(e for e in export_schedule_monthly(enqueue=False) if e.kind == ExportKind.PORTFOLIO_XLSX)

    finished = export_execute(export_id=xlsx.pk)

    assert finished.status == ExportStatus.DONE, finished.error
    with finished.file.open("rb") as handle:
        assert load_workbook(handle).sheetnames


def test_a_model_out_of_sight_by_run_time_is_an_error(personas: Any, queued: list[int]) -> None:
    from inventory.services import registered_model_update

    export = export_request(actor=personas.owner_a, kind=ExportKind.MODEL_PDF, params={"model": "RB-0001"})
    registered_model_update(
        actor=personas.risk_officer,
        model=personas.model_a,
        changes={"business_owner": personas.owner_b, "technical_owner": personas.owner_b},
        reason="Handed over",
    )

    finished = export_execute(export_id=export.pk)

    assert finished.status == ExportStatus.ERROR
    assert "RB-0001" in finished.error


def _finished(pk: int) -> bool:
    try:
        return Export.objects.filter(pk=pk, status__in=[ExportStatus.DONE, ExportStatus.ERROR]).exists()
    except OperationalError:
        # SQLite's shared in-memory test database answers "table is locked" while the worker thread writes.
        return False


@pytest.mark.services
def test_a_real_worker_produces_the_export(
    redis_app: Celery,
    transactional_db: Any,
    personas: Any,
    inventory: Any,
) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_XLSX, enqueue=False)
    task_postrun.connect(close_worker_thread_connections, weak=False)
    try:
        with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=STOP_SECONDS):
            redis_app.send_task(run_export.name, args=[export.pk])
            finished = wait_until(lambda: _finished(export.pk))
    finally:
        task_postrun.disconnect(close_worker_thread_connections)

    assert finished, "the worker did not finish the export"
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE, export.error
    with export.file.open("rb") as handle:
        sheet = load_workbook(handle)["Register"]
        assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["RB-0001", "RB-0003"]


# --- schedule ------------------------------------------------------------------------------------------------


def test_monthly_portfolio_report_is_scheduled_by_default(db: Any) -> None:
    names = {schedule.name: schedule for schedule in default_schedules()}
    assert names["reports-monthly-portfolio"].task == "reports.tasks.monthly_portfolio_report"
    PeriodicTask.objects.filter(name="reports-monthly-portfolio").delete()

    assert install_default_schedules() == 1

    crontab = PeriodicTask.objects.get(name="reports-monthly-portfolio").crontab
    assert (crontab.day_of_month, crontab.hour, crontab.minute) == ("1", "5", "0")


def test_the_monthly_report_is_made_once_a_month_for_the_oversight_roles(
    personas: Any, queued: list[int], django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    readers: list[Any] = []

    def fake_portfolio_pdf(*, user: Any, path: Path) -> None:
        readers.append(user)
        path.write_bytes(b"%PDF-1.7 portfolio")

    monkeypatch.setattr("reports.portfolio.portfolio_pdf", fake_portfolio_pdf)
    with django_capture_on_commit_callbacks(execute=True):
        first = monthly_portfolio_report()
        again = monthly_portfolio_report()

    assert first == again and len(first) == 2
    assert sorted(queued) == sorted(first)
    assert len(export_events()) == 2
    pdf = Export.objects.get(kind=ExportKind.PORTFOLIO_PDF)
    assert pdf.requested_by is None
    assert export_execute(export_id=pdf.pk).status == ExportStatus.DONE
    assert readers[0].is_superuser and readers[0].pk is None
    assert pdf in export_queryset(user=personas.risk_officer)
    assert pdf in export_queryset(user=personas.auditor)
    assert pdf not in export_queryset(user=personas.owner_a)
    assert len(export_schedule_monthly(enqueue=False)) == 2
    assert Export.objects.count() == 2


# --- command -------------------------------------------------------------------------------------------------


def test_command_writes_the_register(personas: Any, inventory: Any, tmp_path: Path) -> None:
    output = tmp_path / "register.csv"
    out = io.StringIO()

    call_command(
        "export_report",
        "register_csv",
        "--user",
        "owner_a",
        "--output",
        str(output),
        "--filter",
        "stage=production",
        stdout=out,
    )

    rows = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["RB-0003"]
    assert "1 rows" in out.getvalue()
    assert Export.objects.get().requested_by == personas.owner_a
    assert len(export_events()) == 1


def test_command_as_of_writes_xlsx(personas: Any, inventory: Any, tmp_path: Path) -> None:
    from django.utils import timezone

    output = tmp_path / "register.xlsx"
    call_command(
        "export_report",
        "register_xlsx",
        "--user",
        "risk_officer",
        "--output",
        str(output),
        "--as-of",
        timezone.localdate().isoformat(),
        stdout=io.StringIO(),
    )

    assert load_workbook(output)["Register"].max_row == 5


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["register_csv", "--user", "nobody"], "No active user"),
        (["register_csv", "--user", "owner_a", "--filter", "stage=bogus"], "stage"),
        (["register_csv", "--user", "owner_a", "--filter", "nofilter"], "NAME=VALUE"),
        (["register_csv", "--user", "owner_a", "--model", "RB-0001"], "--model"),
        (["model_pdf", "--user", "owner_a"], "exactly one --model"),
        (["model_pdf", "--user", "owner_a", "--model", "RB-0002"], "RB-0002 does not exist"),
        (["portfolio_pdf", "--user", "owner_a", "--as-of", "2026-01-01"], "register only"),
    ],
)
def test_command_refusals(personas: Any, tmp_path: Path, arguments: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("export_report", *arguments, "--output", str(tmp_path / "out"), stdout=io.StringIO())
    assert not Export.objects.exists()


# --- pages ---------------------------------------------------------------------------------------------------


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_downloads_page_lists_own_exports_only(personas: Any, queued: list[int]) -> None:
    mine = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)
    theirs = export_request(actor=personas.owner_b, kind=ExportKind.REGISTER_XLSX)
    url = reverse("reports:downloads")

    owner_page = client_for(personas.owner_a).get(url)
    officer_page = client_for(personas.risk_officer).get(url)

    assert owner_page.status_code == 200
    assert [export.pk for export in owner_page.context["page_obj"]] == [mine.pk]
    assert {export.pk for export in officer_page.context["page_obj"]} == {mine.pk, theirs.pk}
    assert b'http-equiv="refresh"' in owner_page.content  # queued exports: the page follows them
    mine_only = client_for(personas.risk_officer).get(url, {"mine": "true"})
    assert list(mine_only.context["page_obj"]) == []
    assert Client().get(url).status_code == 302  # to the sign-in page


def test_inventory_export_link_carries_the_filters(personas: Any) -> None:
    client = client_for(personas.owner_a)
    page = client.get(reverse("inventory:model-list"), {"stage": "production", "q": "PD"})

    link = f"{reverse('reports:downloads')}?filters=stage%3Dproduction%26q%3DPD"
    assert link.encode() in page.content
    downloads = client.get(reverse("reports:downloads"), {"filters": "stage=production&q=PD"})
    assert downloads.context["filter_summary"] == [("q", "PD"), ("stage", "production")]
    assert b"stage=production" in downloads.content


def test_start_an_export_from_the_page(personas: Any, inventory: Any, queued: list[int]) -> None:
    client = client_for(personas.owner_a)

    response = client.post(
        reverse("reports:export-start"),
        {"kind": ExportKind.REGISTER_XLSX, "filters": "stage=production&page=2", "as_of": ""},
    )

    assert response.status_code == 302
    export = Export.objects.get()
    assert export.params == {"stage": "production"}
    assert queued == []  # queued on commit; the test transaction never commits
    refused = client.post(reverse("reports:export-start"), {"kind": ExportKind.REGISTER_XLSX, "filters": "stage=bogus"})
    assert refused.status_code == 400
    assert any(error.startswith("stage:") for error in refused.context["errors"])
    no_model = client.post(reverse("reports:export-start"), {"kind": ExportKind.MODEL_PDF, "model": "CB-0001"})
    assert no_model.status_code == 400
    assert "model: Model CB-0001 does not exist." in no_model.context["errors"]
    evidence = client.post(
        reverse("reports:export-start"), {"kind": ExportKind.EVIDENCE_PACK, "models": "RB-0001, RB-0003"}
    )
    assert evidence.status_code == 302
    assert Export.objects.get(kind=ExportKind.EVIDENCE_PACK).params == {"models": ["RB-0001", "RB-0003"]}


def test_download_a_file_from_the_page(personas: Any, inventory: Any, queued: list[int]) -> None:
    export = export_request(actor=personas.owner_a, kind=ExportKind.REGISTER_CSV)
    url = reverse("reports:export-download", args=[export.pk])

    assert client_for(personas.owner_a).get(url).status_code == 409  # not done yet
    export_execute(export_id=export.pk)
    response = client_for(personas.owner_a).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"RB-0003" in b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert client_for(personas.owner_b).get(url).status_code == 404
    assert client_for(personas.no_role).get(url).status_code == 404
    assert client_for(personas.auditor).get(url).status_code == 200
    assert client_for(personas.owner_a).get(reverse("reports:export-download", args=[99999])).status_code == 404


def test_register_csv_streams_with_the_filters_and_is_recorded(personas: Any, inventory: Any) -> None:
    url = reverse("reports:register-csv")

    response = client_for(personas.owner_a).get(url, {"stage": "production"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="register-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert [row[0] for row in csv.reader(io.StringIO(text))] == ["Model ID", "RB-0003"]
    [event] = export_events()
    assert event.payload["params"] == {"stage": ["production"], "streamed": True}
    everything = b"".join(client_for(personas.owner_a).get(url).streaming_content)  # type: ignore[attr-defined]
    assert b"CB-0001" not in everything and b"RB-0002" not in everything


@pytest.mark.parametrize(("query", "field"), [({"stage": "bogus"}, "stage"), ({"as_of": "yesterday"}, "as_of")])
def test_register_csv_refuses_bad_input_with_400(personas: Any, query: dict[str, str], field: str) -> None:
    response = client_for(personas.owner_a).get(reverse("reports:register-csv"), query)

    assert response.status_code == 400
    assert any(error.startswith(f"{field}:") for error in response.context["errors"])
    assert export_events() == []


def test_register_csv_needs_sign_in(personas: Any) -> None:
    assert Client().get(reverse("reports:register-csv")).status_code == 302


def test_starting_an_export_needs_sign_in(personas: Any) -> None:
    response = Client().post(reverse("reports:export-start"), {"kind": ExportKind.REGISTER_CSV})

    assert response.status_code == 302
    assert not Export.objects.exists()


def test_the_downloads_page_refuses_bad_list_filters(personas: Any) -> None:
    response = client_for(personas.owner_a).get(reverse("reports:downloads"), {"status": "bogus"})

    assert response.status_code == 400
    assert "status" in response.context["form"].errors
