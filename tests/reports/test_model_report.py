"""The model governance report: its PDF holds the model's record, decisions, audits with charts, lineage,
deployments and ledger hashes, for users who may see the model, and nothing of models they may not see."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.http import Http404

from reports.charts import GroupValue, interval_bar_chart
from reports.model_report import model_report_data, model_report_pdf
from reports.pdf import css_string, footer_css
from tests.reports import conftest_pdf
from tests.reports.conftest_pdf import COMMIT, IMAGE_DIGEST, ReportWorld, pdf_text

# The shared world of the PDF report tests (conftest.py belongs to the register tests).
report_world = conftest_pdf.report_world


def _render(world: ReportWorld, user: object, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    model_report_pdf(user=user, model=world.model_a, path=path)
    assert path.read_bytes().startswith(b"%PDF-")
    return pdf_text(path)


@pytest.mark.django_db
def test_report_holds_record_decisions_audits_lineage_deployments_and_ledger(report_world: ReportWorld, tmp_path: Path):
    p = report_world.personas
    text = _render(report_world, p.risk_officer, tmp_path)
    flat = " ".join(text.split())

    # Title page, contents, footer with page numbers, generated-at and generating user.
    assert "Model governance report" in text
    assert "RB-0001 Retail PD scorecard" in flat
    assert "Contents" in text and "8. Ledger entries" in flat
    assert re.search(r"Page 1 of \d+", text)
    assert re.search(r"Generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+ by [^\n]*\(risk_officer\)", text)
    # Ownership and purpose; risk assessment with its reasons.
    assert "Scores applications for credit decisions." in flat
    assert "owner_a" in text and "validator_assigned" in text
    assert "Tier 2 (medium)" in flat
    assert "Reasons" in text and "Score" in text
    # Approval history with approvers and comments; conditions and findings.
    assert "Approved subject to quarterly drift monitoring" in flat
    assert "Conceptually sound and well documented" in flat
    assert "Quarterly drift monitoring report" in flat
    assert "Document the override process" in flat
    assert "Stale calibration evidence" in flat and "overdue" in text
    # Audits: the SVG charts render (their titles and group labels are text in the PDF) with intervals.
    assert "Selection rate by applicant_group (95% interval)" in flat
    assert "True positive rate by applicant_group (95% interval)" in flat
    for group in ("Zephyrgroup", "Quillgroup", "Tinygroup"):
        assert flat.count(group) >= 3  # two charts and the table
    assert "group too small to rank" in flat
    assert "demographic_parity_ratio" in flat and "fail" in text
    assert "CMP-004" in text and "Revalidation was due 5 days ago." in flat
    # Lineage by kind, deployments with the approval check.
    assert "Git commit" in flat and COMMIT in flat.replace(" ", "")
    assert "CI pipeline run" in flat and "jenkins pd-scorecard #4711" in flat
    assert "Container image" in flat and IMAGE_DIGEST in flat.replace(" ", "")
    assert "Dataset version" in flat and "applications v12" in flat
    assert "k8s/prod/scorecard" in flat.replace(" ", "")
    # The ledger entries with their hashes, checkable against the live ledger.
    assert report_world.event_a.hash in flat.replace(" ", "")
    assert report_world.event_a.summary.split(":")[0] in flat
    # Risk officers see the upstream model B.
    assert "RB-0002" in text


@pytest.mark.django_db
def test_owner_report_leaves_out_what_they_may_not_see(report_world: ReportWorld, tmp_path: Path):
    p = report_world.personas
    text = _render(report_world, p.owner_a, tmp_path)
    flat = " ".join(text.split())
    assert "RB-0001" in text and "Approved subject to quarterly drift monitoring" in flat
    # Model B is upstream of A, but owner_a may not see it: neither its key, name, findings nor ledger entries.
    assert "RB-0002" not in text
    assert "Card fraud detector" not in flat
    assert "BETA-SECRET" not in flat
    assert report_world.event_b.summary not in flat
    assert "(owner_a)" in text  # the footer names the generating user


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner_b", "no_role", "ci_unscoped", "validator_other"])
def test_report_refused_for_users_who_may_not_see_the_model(report_world: ReportWorld, tmp_path: Path, who: str):
    path = tmp_path / "report.pdf"
    with pytest.raises(Http404):
        model_report_pdf(user=getattr(report_world.personas, who), model=report_world.model_a, path=path)
    assert not path.exists()


@pytest.mark.django_db
def test_auditor_and_scoped_ci_account_may_have_the_report(report_world: ReportWorld):
    for user in (report_world.personas.auditor, report_world.personas.ci_scoped):
        report = model_report_data(user=user, model=report_world.model_a)
        assert report.model.key == "RB-0001"
        assert [item.version.version for item in report.versions] == ["1.0.0"]


@pytest.mark.django_db
def test_report_data_costs_a_fixed_number_of_queries(report_world: ReportWorld, django_assert_max_num_queries):
    with django_assert_max_num_queries(45):
        report = model_report_data(user=report_world.personas.risk_officer, model=report_world.model_a)
    assert report.audits[0].run.pk == report_world.bias_run.pk
    assert {group.name for group in report.audits[0].analyses[0].groups} == {"Zephyrgroup", "Quillgroup", "Tinygroup"}
    assert report.audits[0].analyses[0].groups_not_charted == 0
    assert report.compliance is not None and report.compliance.run_id == report_world.sweeps[-1].pk
    assert [finding.title for finding in report.conditions] == ["Quarterly drift monitoring report"]


def test_interval_chart_draws_whiskers_escapes_labels_and_marks_undefined_rates():
    svg = interval_bar_chart(
        [
            GroupValue("<script>alert(1)</script>", 0.5, 0.4, 0.6),
            GroupValue("women", 0.25, 0.2, 0.3, small=True),
            GroupValue("nobody", None),
        ],
        title="Selection rate & more",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Selection rate &amp; more" in svg
    assert svg.count("<rect") == 3  # two bars and the "too small" legend swatch; none for the undefined rate
    assert svg.count("<line") == 5 + 2 * 3  # five grid lines, three strokes per interval
    assert "undefined" in svg and "group too small to rank" in svg
    assert "50%" in svg and "25%" in svg


def test_footer_css_escapes_user_text():
    css = footer_css(
        title='Report"}</style>', generated_at=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), generated_by="Eve </style>"
    )
    assert "</style>" not in css and '"}' not in css
    assert css_string("a<b") == '"a\\3c b"'
    assert 'counter(page) " of " counter(pages)' in css
