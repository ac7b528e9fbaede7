"""The portfolio compliance report: counts, non-compliance by rule, overdue work with ageing, failing bias audits,
the trend and the EU AI Act register, for the models the reader may see, as data, PDF and XLSX."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reports.charts import Series, trend_line_chart
from reports.portfolio import portfolio_data, portfolio_pdf, portfolio_xlsx
from tests.reports import conftest_pdf
from tests.reports.conftest_pdf import ReportWorld, pdf_text

# The shared world of the PDF report tests (conftest.py belongs to the register tests).
report_world = conftest_pdf.report_world


@pytest.mark.django_db
def test_portfolio_data_for_a_risk_officer(report_world: ReportWorld, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        data = portfolio_data(user=report_world.personas.risk_officer, periods=4)
    assert data.total == 2
    assert {row.label: row.count for row in data.by_tier}["Tier 2 (medium)"] == 2
    stages = {row.label: row.count for row in data.by_stage}
    assert stages["Production"] == 1 and stages["Development"] == 1
    assert [(row.label, row.count) for row in data.by_unit] == [("Retail Banking (RETAIL)", 2)]
    assert {row.label: row.count for row in data.by_type}["Machine learning"] == 2
    # The latest sweep: model A breaks CMP-004, model B complies.
    assert data.latest_sweep is not None and data.latest_sweep.pk == report_world.sweeps[-1].pk
    assert data.sweep_counts == {"compliant": 1, "non_compliant": 1}
    assert [(row.rule, row.title, row.count, row.keys) for row in data.rules] == [
        ("CMP-004", "Revalidation not overdue", 1, ["RB-0001"])
    ]
    assert [(row.key, row.days_overdue) for row in data.overdue_validations] == [("RB-0001", 5)]
    overdue = data.overdue_findings
    assert [(row.key, row.title, row.days_overdue, row.age_days) for row in overdue] == [
        ("RB-0001", "Stale calibration evidence", 12, 40)
    ]
    assert len(data.open_findings) == 4
    critical = next(row for row in data.ageing if row.severity == "Critical")
    assert critical.buckets == [0, 1, 0, 0] and critical.overdue == 1 and critical.total == 1
    assert [(row.key, row.run_id) for row in data.failing_bias] == [("RB-0001", report_world.bias_run.pk)]
    assert data.failing_bias[0].failing[0].startswith("demographic_parity_ratio by applicant_group 0.")
    assert [(row.run_id, row.compliant, row.non_compliant) for row in data.trend] == [
        (report_world.sweeps[0].pk, 1, 1),
        (report_world.sweeps[1].pk, 0, 2),
        (report_world.sweeps[2].pk, 1, 1),
    ]
    assert [(row.key, row.annex_iii, row.compliance) for row in data.high_risk] == [
        ("RB-0002", ["4 employment and workers management"], "Compliant")
    ]


@pytest.mark.django_db
def test_owner_portfolio_counts_only_their_models(report_world: ReportWorld):
    data = portfolio_data(user=report_world.personas.owner_a)
    assert data.total == 1
    assert data.sweep_counts == {"non_compliant": 1}
    assert [(row.compliant, row.non_compliant) for row in data.trend] == [(0, 1), (0, 1), (0, 1)]
    assert {row.key for row in data.open_findings} == {"RB-0001"}
    assert data.high_risk == []
    assert all("RB-0002" not in row.keys for row in data.rules)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["no_role", "ci_unscoped"])
def test_users_who_see_no_model_get_an_empty_portfolio(report_world: ReportWorld, who: str):
    data = portfolio_data(user=getattr(report_world.personas, who))
    assert data.total == 0 and data.rules == [] and data.open_findings == [] and data.high_risk == []
    assert all(row.compliant == row.non_compliant == 0 for row in data.trend)


@pytest.mark.django_db
def test_trend_covers_the_last_periods(report_world: ReportWorld):
    data = portfolio_data(user=report_world.personas.auditor, periods=2)
    assert [row.run_id for row in data.trend] == [sweep.pk for sweep in report_world.sweeps[1:]]
    assert data.trend[0].share == 0.0 and data.trend[1].share == 0.5


@pytest.mark.django_db
def test_portfolio_pdf(report_world: ReportWorld, tmp_path: Path):
    path = tmp_path / "portfolio.pdf"
    portfolio_pdf(user=report_world.personas.risk_officer, path=path)
    text = pdf_text(path)
    flat = " ".join(text.split())
    assert "Portfolio compliance report" in text and "Contents" in text
    assert "6. EU AI Act register of high-risk systems" in flat
    assert "Page 1 of" in text and "(risk_officer)" in text
    assert "CMP-004" in text and "Revalidation not overdue" in flat
    assert "Stale calibration evidence" in flat
    assert "demographic_parity_ratio by applicant_group" in flat
    assert "Card fraud detector" in flat and "4 employment and workers management" in flat
    # The SVG charts are drawn: their titles and legends are text in the PDF.
    assert "By risk tier" in text and "By business unit" in flat and "Compliant share per sweep" in flat
    assert "Models per sweep" in flat


@pytest.mark.django_db
def test_owner_portfolio_pdf_shows_nothing_of_other_models(report_world: ReportWorld, tmp_path: Path):
    path = tmp_path / "portfolio.pdf"
    portfolio_pdf(user=report_world.personas.owner_a, path=path)
    flat = " ".join(pdf_text(path).split())
    assert "RB-0001" in flat
    for leaked in ("RB-0002", "Card fraud detector", "BETA-SECRET", "employment"):
        assert leaked not in flat


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.django_db
def test_portfolio_xlsx(report_world: ReportWorld, tmp_path: Path):
    # A name a spreadsheet would run as a formula is written as text.
    type(report_world.model_b).objects.filter(pk=report_world.model_b.pk).update(name='=HYPERLINK("http://x.example")')
    path = tmp_path / "portfolio.xlsx"
    portfolio_xlsx(user=report_world.personas.risk_officer, path=path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == [
        "Summary",
        "Non-compliant by rule",
        "Non-compliant models",
        "Overdue validations",
        "Open findings",
        "Finding ageing",
        "Failing bias audits",
        "Compliance trend",
        "EU AI Act register",
    ]
    overdue = workbook["Overdue validations"]
    assert overdue.freeze_panes == "A2" and overdue.auto_filter.ref == "A1:H2"
    assert overdue["A1"].font.b
    header, row = _rows(overdue)
    assert header[0] == "Model" and row[0] == "RB-0001" and row[-1] == 5
    assert isinstance(row[6], dt.datetime) and overdue["G2"].number_format == "yyyy-mm-dd"
    summary = {(group, item): value for group, item, value in _rows(workbook["Summary"])[1:]}
    assert summary[("Report", "Models")] == 2
    assert summary[("Latest sweep", "Non-compliant")] == 1
    assert summary[("Risk tier", "Tier 2 (medium)")] == 2
    assert _rows(workbook["Non-compliant models"])[1][:4] == (
        "RB-0001",
        "Retail PD scorecard",
        "Retail Banking",
        "CMP-004",
    )
    findings = _rows(workbook["Open findings"])[1:]
    assert len(findings) == 4 and ("RB-0001", "Stale calibration evidence") in {row[:2] for row in findings}
    trend = _rows(workbook["Compliance trend"])[1:]
    assert [(row[2], row[3]) for row in trend] == [(1, 1), (0, 2), (1, 1)]
    register = _rows(workbook["EU AI Act register"])
    assert register[1][0] == "RB-0002"
    assert register[1][1] == '\'=HYPERLINK("http://x.example")'
    assert register[1][5] == "4 employment and workers management"


@pytest.mark.django_db
def test_owner_portfolio_xlsx_has_no_other_model(report_world: ReportWorld, tmp_path: Path):
    path = tmp_path / "portfolio.xlsx"
    portfolio_xlsx(user=report_world.personas.owner_a, path=path)
    workbook = load_workbook(path, read_only=True)
    cells = [str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True) for value in row]
    assert "RB-0001" in cells
    assert not [value for value in cells if "RB-0002" in value or "BETA-SECRET" in value or "fraud" in value]


def test_trend_chart_breaks_the_line_where_a_period_has_no_value():
    svg = trend_line_chart(
        ["2026-01", "2026-02", "2026-03", "2026-04"],
        [Series("Compliant <share>", [0.5, None, 0.75, 1.0])],
        title="Trend",
        maximum=1.0,
        percent=True,
    )
    assert svg.count("<circle") == 3
    assert svg.count("<polyline") == 1  # the lone first point is not joined across the gap
    assert "Compliant &lt;share&gt;" in svg and "100%" in svg
    assert "No data yet" in trend_line_chart([], [], title="Empty")
