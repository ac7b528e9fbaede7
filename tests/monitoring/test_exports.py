"""Monitoring in the exports: register columns, the model report's monitoring chapter, the portfolio's breaching
models and the evidence pack's drift audits and observations."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring.models import DriftRun
from monitoring.services import drift_audit_execute, drift_audit_request, drift_dataset_create, metric_batch_ingest
from reports.evidence import evidence_pack_build
from reports.model_report import model_report_data, model_report_pdf
from reports.portfolio import portfolio_data, portfolio_pdf
from reports.register import REGISTER_COLUMNS, register_csv, register_rows
from tests.factories import RegisteredModelFactory
from tests.monitoring.conftest import agreed_target, upload
from tests.reports.conftest_pdf import pdf_text

pytestmark = pytest.mark.django_db
COLUMN = {column.id: index for index, column in enumerate(REGISTER_COLUMNS)}
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.fixture
def monitored(personas: Any, version_a: Any) -> Any:
    """Model A: accuracy below its target in production for one window (a deterioration finding) and a drift
    audit in which ``x`` moved (a feature drift finding)."""
    agreed_target(personas, personas.model_a, accuracy_min=0.8, consecutive_windows=1, psi_feature_max=0.1)
    metric_batch_ingest(
        actor=personas.ci_scoped,
        observations=[
            {
                "model": "RB-0001",
                "version": "1.0.0",
                "environment": "production",
                "metric": "accuracy",
                "window_start": (START + dt.timedelta(days=day)).isoformat(),
                "window_end": (START + dt.timedelta(days=day + 1)).isoformat(),
                "value": value,
            }
            for day, value in enumerate([0.9, 0.7])
        ],
    )
    rows = "\n".join(f"{i % 10},{i % 3}" for i in range(500))
    moved = "\n".join(f"{(i % 10) + 6},{i % 3}" for i in range(500))
    tables = [
        drift_dataset_create(
            actor=personas.owner_a, version=version_a, name=name, upload=upload(f"x,c\n{body}\n".encode())
        )
        for name, body in (("Training", rows), ("November", moved))
    ]
    run = drift_audit_request(actor=personas.owner_a, reference=tables[0], current=tables[1], features=["x", "c"])
    return drift_audit_execute(run_id=run.pk)


def test_the_register_shows_breach_verdict_and_top_mover(personas: Any, monitored: Any) -> None:
    RegisteredModelFactory(key="RB-0003", business_unit=personas.unit, business_owner=personas.owner_a)
    rows = {row[0]: row for row in register_rows(user=personas.risk_officer)}
    a, quiet = rows["RB-0001"], rows["RB-0003"]
    assert a[COLUMN["monitoring_breach"]] == "Yes"
    assert a[COLUMN["last_drift"]].startswith("drift ")
    assert a[COLUMN["top_drift_feature"]].startswith("x (PSI ")
    psi = monitored.result["top_movers"][0]["psi"]
    assert a[COLUMN["top_drift_feature"]] == f"x (PSI {psi:.3f})"
    assert [quiet[COLUMN[name]] for name in ("monitoring_breach", "last_drift", "top_drift_feature")] == ["No", "", ""]
    header = next(register_csv(user=personas.risk_officer))
    assert header.rstrip().endswith("Breaching targets,Last drift audit,Top drifting feature")


def test_the_monitoring_columns_add_no_query(personas: Any, monitored: Any) -> None:
    list(register_csv(user=personas.risk_officer))  # warms the user's permission cache
    for number in range(3, 9):
        RegisteredModelFactory(key=f"RB-{number:04d}", business_unit=personas.unit, business_owner=personas.owner_a)

    def queries(chunk_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            list(register_csv(user=personas.risk_officer, chunk_size=chunk_size))
        return len(captured)

    # Four queries per chunk (approvals, open findings, tags, validators), none for monitoring.
    assert queries(2) - queries(4) == 4 * (4 - 2)


def test_the_register_as_of_a_day_shows_only_what_had_finished_by_then(personas: Any, monitored: Any) -> None:
    DriftRun.objects.filter(pk=monitored.pk).update(finished_at=timezone.now() + dt.timedelta(days=2))
    row = {row[0]: row for row in register_rows(user=personas.risk_officer, as_of=timezone.localdate())}["RB-0001"]
    assert (row[COLUMN["monitoring_breach"]], row[COLUMN["last_drift"]]) == ("Yes", "")


def test_the_model_report_has_a_monitoring_chapter(personas: Any, monitored: Any, tmp_path: Path) -> None:
    section = model_report_data(user=personas.risk_officer, model=personas.model_a).monitoring
    assert section["target"].revision == 1
    accuracy = next(row for row in section["observations"] if row["metric"] == "accuracy")
    assert (accuracy["value"], accuracy["limit"], accuracy["breached"]) == (0.7, "≥ 0.8", True)
    assert section["drift_runs"][0]["id"] == monitored.pk and section["drift_runs"][0]["drifted_features"] == "x"
    assert section["top_movers"][0]["name"] == "x"
    assert len(section["findings"]) == 2

    path = tmp_path / "report.pdf"
    model_report_pdf(user=personas.risk_officer, model=personas.model_a, path=path)
    flat = " ".join(pdf_text(path).split())
    assert "9. Monitoring" in flat and "Latest observations against the target" in flat
    assert "Training → November" in flat and "breach" in flat


def test_the_portfolio_lists_models_breaching_targets(personas: Any, monitored: Any, tmp_path: Path) -> None:
    data = portfolio_data(user=personas.risk_officer)
    assert [row["model"].key for row in data.breaching] == ["RB-0001"]
    assert len(data.breaching[0]["findings"]) == 2
    assert portfolio_data(user=personas.owner_b).breaching == []

    path = tmp_path / "portfolio.pdf"
    portfolio_pdf(user=personas.risk_officer, path=path)
    flat = " ".join(pdf_text(path).split())
    assert "7. Models breaching monitoring targets" in flat and "RB-0001" in flat


def test_the_evidence_pack_holds_drift_audits_and_observations(personas: Any, monitored: Any, tmp_path: Path) -> None:
    path = tmp_path / "pack.zip"
    evidence_pack_build(user=personas.risk_officer, model_keys=["RB-0001"], path=path)
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("models/RB-0001/audits.json"))["monitoring"]
    assert document["observations_total"] == 2
    assert {row["value"] for row in document["observations"]} == {0.9, 0.7}
    (drift,) = document["drift_audits"]
    assert drift["id"] == monitored.pk and drift["status"] == "failed"
    assert drift["reference_sha256"] == monitored.reference.sha256
    assert drift["result"]["drifted_features"] == ["x"]
    assert document["targets"][0]["accuracy_min"] == 0.8
