"""The Audits tab of a model's dossier: per-group charts with intervals, small-group warnings, the compare form,
and the refused users."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audits.models import AuditRun
from audits.services import bias_audit_execute, bias_audit_request, evaluation_dataset_create
from audits.views import _analyses
from audits.views_dossier import CHART_METRICS, analysis_charts
from tests.audits.conftest import GERMAN_MAPPING, upload

pytestmark = pytest.mark.django_db

RESULT = {
    "analyses": {
        "sex": {
            "by_group": {
                "female": {"count": 310, "selection_rate": 0.6, "tpr": 0.7, "fpr": 0.3},
                "male": {"count": 690, "selection_rate": 0.75, "tpr": 0.8, "fpr": None},
                "<b>x</b>": {"count": 12, "small": True, "selection_rate": 0.5, "tpr": 0.5, "fpr": 0.25},
            },
            "intervals": {
                "by_group": {
                    "female": {"selection_rate": [0.55, 0.65], "tpr": [0.6, 0.8], "fpr": [0.2, 0.4]},
                    "male": {"selection_rate": [0.7, 0.8]},
                }
            },
            "disparities": {"demographic_parity_ratio": 0.8},
            "small_groups": ["<b>x</b>"],
            "min_group_size": 30,
        }
    }
}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def audit(personas: Any, version: Any, csv: bytes, name: str) -> AuditRun:
    dataset = evaluation_dataset_create(
        actor=personas.owner_a, version=version, name=name, mapping=GERMAN_MAPPING, upload=upload(csv)
    )
    return bias_audit_execute(run_id=bias_audit_request(actor=personas.owner_a, dataset=dataset, enqueue=False).pk)


@pytest.fixture
def two_runs(personas: Any, version_a: Any, german_csv: bytes) -> list[AuditRun]:
    return [audit(personas, version_a, german_csv, "first split"), audit(personas, version_a, german_csv, "second")]


def test_charts_draw_each_rate_per_group_with_whiskers_and_pale_small_groups() -> None:
    (charted,) = analysis_charts(_analyses(RESULT))
    assert charted.name == "sex" and charted.small_groups == ["<b>x</b>"] and charted.min_group_size == 30
    assert [chart.metric for chart in charted.charts] == list(CHART_METRICS)
    selection = charted.charts[0]
    assert selection.svg.count('class="chart__bar"') == 2 and selection.svg.count("chart__bar--small") == 1
    assert selection.svg.count('class="chart__whisker"') == 6  # female and male have intervals, the small group not
    assert "<b>x</b>" not in selection.svg and "&lt;b&gt;x&lt;/b&gt;" in selection.svg
    assert "female: 60.0% (55.0%–65.0%)" in selection.caption
    fpr = charted.charts[2]
    assert "male: undefined" in fpr.caption and ">undefined</text>" in fpr.svg
    assert "style=" not in "".join(chart.svg for chart in charted.charts)


def test_no_figures_no_charts() -> None:
    assert analysis_charts(_analyses({})) == []


def test_audits_tab_shows_the_latest_runs_charts_and_a_compare_form(personas: Any, two_runs: list[AuditRun]) -> None:
    first, second = two_runs
    response = client_for(personas.auditor).get(reverse("audits:model", args=[personas.model_a.key]))
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["latest_run"] == second
    charts = re.search(r'<section[^>]*id="charts".*?</section>', page, re.S)
    assert charts and f'href="{reverse("audits:run", args=[second.pk])}"' in charts.group(0)
    assert charts.group(0).count('<svg xmlns="http://www.w3.org/2000/svg"') == 3 * len(second.result["analyses"])
    assert 'id="chart-latest-1-selection_rate"' in page and "95% bootstrap interval" in page
    assert "style=" not in page
    # The compare form opens the compare page with the newest run as B and the one before as A.
    form = re.search(r'<form method="get" action="([^"]+)" class="filters">(.*?)</form>', page, re.S)
    assert form and form.group(1) == reverse("audits:compare")
    assert re.search(rf'<select name="a" id="compare-a">.*?<option value="{first.pk}" selected>', form.group(2), re.S)
    assert re.search(rf'<select name="b" id="compare-b">\s*<option value="{second.pk}" selected>', form.group(2))
    compared = client_for(personas.auditor).get(reverse("audits:compare"), {"a": first.pk, "b": second.pk})
    assert compared.status_code == 200 and compared.context["comparison"] is not None


def test_audits_tab_before_any_finished_run(personas: Any, version_a: Any) -> None:
    page = client_for(personas.owner_a).get(reverse("audits:model", args=[personas.model_a.key])).content.decode()
    assert "No bias audit has finished yet" in page and "Two finished bias audits are needed" in page
    assert '<nav class="dossier-tabs"' in page


def test_run_page_draws_the_charts_under_the_dossier_header(personas: Any, two_runs: list[AuditRun]) -> None:
    run = two_runs[0]
    response = client_for(personas.validator_assigned).get(reverse("audits:run", args=[run.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and page.count("<h1") == 1
    assert f'<span aria-current="page">Run #{run.pk}</span>' in page
    assert f'href="{reverse("audits:model", args=[personas.model_a.key])}" aria-current="true">Audits</a>' in page
    assert page.count('class="chart-figure"') == 3 * len(run.result["analyses"])
    assert "style=" not in page


def test_small_groups_are_warned_on_the_run_page(personas: Any, two_runs: list[AuditRun]) -> None:
    run = two_runs[0]
    AuditRun.objects.filter(pk=run.pk).update(result=RESULT)
    page = client_for(personas.owner_a).get(reverse("audits:run", args=[run.pk])).content.decode()
    assert "Fewer than 30 rows, reported but not ranked (drawn pale): &lt;b&gt;x&lt;/b&gt;" in page
    assert "group too small to rank" in page


def test_audits_tab_and_runs_refuse_who_may_not_see_the_model(personas: Any, two_runs: list[AuditRun]) -> None:
    for user in (personas.owner_b, personas.validator_other, personas.no_role):
        client = client_for(user)
        assert client.get(reverse("audits:model", args=[personas.model_a.key])).status_code == 404
        assert client.get(reverse("audits:run", args=[two_runs[0].pk])).status_code == 404
        compared = client.get(reverse("audits:compare"), {"a": two_runs[0].pk, "b": two_runs[1].pk})
        assert compared.status_code == 400 and compared.context["comparison"] is None
