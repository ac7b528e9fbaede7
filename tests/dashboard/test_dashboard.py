"""The dashboard: every figure counts only what the user may see, links to the list it counts, and costs a
fixed number of queries whatever the inventory's size."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.compliance import ComplianceState
from audits.models import AuditRun, ComplianceStatus
from dashboard.charts import TrendPoint, bars, trend_chart
from dashboard.selectors import dashboard_for
from governance.choices import FindingSeverity, FindingSource
from governance.services.findings import finding_raise
from inventory.choices import LifecycleStage
from inventory.models import RegisteredModel
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


def _run(model: Any, status: str, finished: dt.datetime, kind: str = AuditKind.BIAS) -> AuditRun:
    return AuditRun.objects.create(
        kind=kind,
        model=model,
        status=status,
        idempotency_key=f"test-{next(_keys)}",
        requested_at=finished,
        finished_at=finished,
    )


def _sweep(finished: dt.datetime, statuses: dict[Any, str]) -> AuditRun:
    run = _run(None, RunStatus.FAILED, finished, kind=AuditKind.COMPLIANCE)
    for model, status in statuses.items():
        ComplianceStatus.objects.create(run=run, model=model, status=status, evaluated_at=finished)
    return run


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_home_opens_the_dashboard_and_strangers_are_sent_to_sign_in(personas: Any) -> None:
    assert Client().get(reverse("dashboard:home")).status_code == 302
    assert reverse("login") in Client().get(reverse("dashboard:home"))["Location"]
    response = _client(personas.owner_a).get(reverse("home"))
    assert response["Location"] == reverse("dashboard:home")


def test_counts_cover_only_models_the_user_may_see(personas: Any) -> None:
    personas.model_a.risk_tier = 1
    personas.model_a.save()
    owner_view = dashboard_for(user=personas.owner_a)
    officer_view = dashboard_for(user=personas.risk_officer)
    assert owner_view.total_models == 1
    assert officer_view.total_models == 2
    assert [bar.value for bar in owner_view.by_tier if bar.label.startswith("Tier 1")] == [1]
    assert dashboard_for(user=personas.no_role).total_models == 0


def test_each_tier_bar_links_to_the_inventory_list_it_counts(personas: Any) -> None:
    personas.model_b.risk_tier = 2
    personas.model_b.save()
    tier_2 = next(bar for bar in dashboard_for(user=personas.risk_officer).by_tier if bar.label.startswith("Tier 2"))
    page = _client(personas.risk_officer).get(tier_2.url)
    assert page.status_code == 200
    assert page.context["page_obj"].paginator.count == tier_2.value == 1
    assert [model.key for model in page.context["page_obj"]] == ["RB-0002"]


def test_overdue_revalidations_skip_retired_models(personas: Any) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    personas.model_a.next_validation_due = yesterday
    personas.model_a.save()
    retired = RegisteredModelFactory(business_unit=personas.unit, next_validation_due=yesterday)
    RegisteredModel.objects.filter(pk=retired.pk).update(lifecycle_stage=LifecycleStage.RETIRED)
    view = dashboard_for(user=personas.risk_officer)
    assert view.overdue_revalidations == 1
    listed = _client(personas.risk_officer).get(view.overdue_revalidations_url)
    assert listed.context["page_obj"].paginator.count == 1


def test_failing_bias_counts_the_latest_verdict_per_model(personas: Any) -> None:
    now = timezone.now()
    _run(personas.model_a, RunStatus.PASSED, now - dt.timedelta(days=2))
    _run(personas.model_a, RunStatus.FAILED, now - dt.timedelta(days=1))
    _run(personas.model_a, RunStatus.ERROR, now)  # an error is no verdict: the failure still stands
    _run(personas.model_b, RunStatus.FAILED, now - dt.timedelta(days=2))
    _run(personas.model_b, RunStatus.PASSED, now - dt.timedelta(days=1))
    officer_view = dashboard_for(user=personas.risk_officer)
    assert [model.key for model in officer_view.failing_bias_models] == ["RB-0001"]
    assert officer_view.failing_bias_count == 1
    assert dashboard_for(user=personas.owner_b).failing_bias_count == 0


def test_findings_are_counted_by_severity_age_and_overdue(personas: Any) -> None:
    today = timezone.localdate()
    for model, severity, due in (
        (personas.model_a, FindingSeverity.HIGH, today - dt.timedelta(days=3)),
        (personas.model_a, FindingSeverity.HIGH, today + dt.timedelta(days=30)),
        (personas.model_b, FindingSeverity.CRITICAL, today + dt.timedelta(days=30)),
    ):
        finding_raise(
            actor=personas.risk_officer,
            model=model,
            title="Check",
            severity=severity,
            due_date=due,
            source=FindingSource.MANUAL,
            owner=model.business_owner,
            check_permission=False,
        )
    rows = {row.severity: row for row in dashboard_for(user=personas.owner_a).findings}
    assert rows[FindingSeverity.HIGH].total == 2
    assert rows[FindingSeverity.HIGH].overdue == 1
    assert rows[FindingSeverity.HIGH].buckets == [2, 0, 0]
    assert rows[FindingSeverity.CRITICAL].total == 0  # model B's finding is not owner A's to see
    listed = _client(personas.owner_a).get(rows[FindingSeverity.HIGH].overdue_url)
    assert listed.status_code == 200
    assert "Check" in listed.content.decode()
    assert dashboard_for(user=personas.risk_officer).findings[0].total == 1  # critical first


def test_compliance_trend_follows_sweeps_oldest_first_within_visibility(personas: Any) -> None:
    now = timezone.now()
    _sweep(
        now - dt.timedelta(days=2),
        {personas.model_a: ComplianceState.NON_COMPLIANT, personas.model_b: ComplianceState.COMPLIANT},
    )
    latest = _sweep(now, {personas.model_a: ComplianceState.COMPLIANT, personas.model_b: ComplianceState.COMPLIANT})
    officer = dashboard_for(user=personas.risk_officer)
    assert [(point.compliant, point.non_compliant) for point in officer.trend] == [(1, 1), (2, 0)]
    assert officer.latest_sweep is not None and officer.latest_sweep.run_id == latest.pk
    owner = dashboard_for(user=personas.owner_a)
    assert [(point.compliant, point.non_compliant) for point in owner.trend] == [(0, 1), (1, 0)]
    page = _client(personas.risk_officer).get(reverse("dashboard:home")).content.decode()
    assert 'id="trend-svg"' in page
    assert reverse("audits:run", args=[latest.pk]) in page


def _grow(personas: Any, count: int) -> None:
    for index in range(count):
        model = RegisteredModelFactory(business_unit=personas.unit)
        RegisteredModel.objects.filter(pk=model.pk).update(risk_tier=1 + index % 3)
        _run(model, RunStatus.FAILED, timezone.now())
    _sweep(timezone.now(), {model: ComplianceState.COMPLIANT for model in RegisteredModel.objects.all()})


def test_query_count_does_not_grow_with_the_inventory(personas: Any, django_assert_max_num_queries: Any) -> None:
    client = _client(personas.risk_officer)
    _grow(personas, 11)  # more failing models than the page lists, so the small case counts them too
    client.get(reverse("dashboard:home"))  # warm caches (content types, sessions)
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("dashboard:home"))
    _grow(personas, 25)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("dashboard:home"))
    assert response.context["dashboard"].failing_bias_count == 36


@pytest.mark.parametrize("persona", ["owner_a", "validator_assigned", "risk_officer", "auditor", "admin", "no_role"])
def test_every_role_gets_the_page(personas: Any, persona: str) -> None:
    response = _client(getattr(personas, persona)).get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert b"Dashboard" in response.content


def test_dashboard_refuses_writes(personas: Any) -> None:
    assert _client(personas.risk_officer).post(reverse("dashboard:home")).status_code == 405


def test_bars_scale_to_the_largest_value_and_keep_zero_rows_visible() -> None:
    scaled = bars([("a", 4, "/a"), ("b", 2, "/b"), ("c", 0, "/c")])
    assert [bar.width for bar in scaled] == [100.0, 50.0, 0.5]
    assert [bar.width for bar in bars([("a", 0, "")])] == [0.5]


def test_trend_chart_skips_sweeps_that_assessed_nothing() -> None:
    points = [
        TrendPoint(run_id=1, label="one", compliant=1, non_compliant=1, exempt=0),
        TrendPoint(run_id=2, label="two", compliant=0, non_compliant=0, exempt=3),
        TrendPoint(run_id=3, label="three", compliant=4, non_compliant=0, exempt=0),
    ]
    chart = trend_chart(points, width=120, height=120, margin=10)
    assert [(x, y, point.run_id) for x, y, point in chart.points] == [(10.0, 60.0, 1), (110.0, 10.0, 3)]
    assert chart.polyline == "10.0,60.0 110.0,10.0"


def test_trend_chart_keeps_its_labels_outside_the_plot() -> None:
    points = [
        TrendPoint(run_id=1, label="2026-11-01 04:00", compliant=3, non_compliant=1, exempt=0),
        TrendPoint(run_id=2, label="2026-11-27 04:00", compliant=9, non_compliant=1, exempt=2),
    ]
    chart = trend_chart(points, width=640, height=220, gutter=36, band=24)
    # The share labels sit in the left gutter, the sweep dates in the band under the plot.
    assert (chart.left, chart.right, chart.top, chart.bottom) == (56, 620, 20, 176)
    assert [(line.y, line.label) for line in chart.gridlines] == [(20.0, "100%"), (98.0, "50%"), (176.0, "0%")]
    assert [(label.x, label.label, label.anchor) for label in chart.x_labels] == [
        (56.0, "2026-11-01 04:00", "start"),
        (620.0, "2026-11-27 04:00", "end"),
    ]
    assert all(chart.left <= x <= chart.right and chart.top <= y <= chart.bottom for x, y, _ in chart.points)
    assert chart.latest_share_label == "90%"
    assert trend_chart([], band=24).x_labels == () and trend_chart([]).latest_share_label == ""


def test_the_header_search_finds_models_by_key_name_or_owner_within_visibility(personas: Any) -> None:
    page = _client(personas.owner_a).get(reverse("dashboard:home")).content.decode()
    assert 'role="search"' in page and 'name="q"' in page
    by_owner = _client(personas.risk_officer).get(reverse("inventory:model-list"), {"q": "owner_b"})
    assert [model.key for model in by_owner.context["page_obj"]] == ["RB-0002"]
    hidden = _client(personas.owner_a).get(reverse("inventory:model-list"), {"q": "RB-0002"})
    assert hidden.context["page_obj"].paginator.count == 0
