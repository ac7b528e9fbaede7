"""What the dashboard costs: a fixed number of queries for every role, figures from a sweep's recorded counts for
people who see every model, and every figure still limited to what a restricted user may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.compliance import ComplianceState
from audits.models import AuditRun, ComplianceStatus
from dashboard.selectors import dashboard_for
from governance.choices import FindingSeverity
from governance.services.findings import finding_raise
from inventory.choices import LifecycleStage
from inventory.models import RegisteredModel
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db

# Session, user and permissions (3); the layout's unread notifications (1); models by tier, stage and type with
# the overdue ones (1); by unit (1); failing bias audits (1); the sweeps (1); what waits for the user (1); open
# findings by severity and age (1). Then, for a user who does not see every model, the sweeps' statuses counted
# over their models (1); and once more than ten failing models are listed, their count (1).
DASHBOARD_QUERIES = 11 + 2


def _sweep(finished: dt.datetime, statuses: dict[Any, str], *, recorded: bool) -> AuditRun:
    """A finished compliance sweep; ``recorded``: with the counts by status a real sweep writes in its result."""
    by_status = {state: list(statuses.values()).count(state) for state in ComplianceState}
    run = AuditRun.objects.create(
        kind=AuditKind.COMPLIANCE,
        status=RunStatus.FAILED if by_status[ComplianceState.NON_COMPLIANT] else RunStatus.PASSED,
        idempotency_key=f"sweep-{finished.isoformat()}",
        requested_at=finished,
        finished_at=finished,
        result={"by_status": by_status} if recorded else {},
    )
    for model, status in statuses.items():
        ComplianceStatus.objects.create(run=run, model=model, status=status, evaluated_at=finished)
    return run


def _bias(model: Any, status: str, finished: dt.datetime) -> None:
    AuditRun.objects.create(
        kind=AuditKind.BIAS,
        model=model,
        status=status,
        idempotency_key=f"bias-{model.pk}-{finished.isoformat()}",
        requested_at=finished,
        finished_at=finished,
    )


def _grow(personas: Any, count: int) -> None:
    now = timezone.now()
    for index in range(count):
        model = RegisteredModelFactory(business_unit=personas.unit)
        RegisteredModel.objects.filter(pk=model.pk).update(
            risk_tier=1 + index % 3, next_validation_due=timezone.localdate() - dt.timedelta(days=1)
        )
        _bias(model, RunStatus.FAILED, now - dt.timedelta(minutes=index))
        finding_raise(
            actor=personas.risk_officer,
            model=model,
            title=f"F{index}",
            severity=FindingSeverity.HIGH,
            due_date=timezone.localdate() + dt.timedelta(days=30),
        )
    models = RegisteredModel.objects.all()
    _sweep(now - dt.timedelta(minutes=count), dict.fromkeys(models, ComplianceState.COMPLIANT), recorded=True)


def _queries(user: Any) -> int:
    client = Client()
    client.force_login(user)
    client.get(reverse("dashboard:home"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dashboard:home")).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("persona", ["risk_officer", "owner_a", "auditor", "admin", "no_role"])
def test_the_page_costs_a_fixed_number_of_queries_for_every_role(personas: Any, persona: str) -> None:
    user = getattr(personas, persona)
    _grow(personas, 4)
    small = _queries(user)
    _grow(personas, 15)
    assert small <= DASHBOARD_QUERIES
    assert _queries(user) <= DASHBOARD_QUERIES


def test_people_who_see_every_model_read_a_sweeps_recorded_counts(personas: Any) -> None:
    now = timezone.now()
    _sweep(
        now,
        {personas.model_a: ComplianceState.NON_COMPLIANT, personas.model_b: ComplianceState.COMPLIANT},
        recorded=True,
    )
    with CaptureQueriesContext(connection) as queries:
        officer = dashboard_for(user=personas.risk_officer)
    assert [(point.compliant, point.non_compliant) for point in officer.trend] == [(1, 1)]
    assert not [q for q in queries.captured_queries if "audits_compliancestatus" in q["sql"]]


def test_a_restricted_user_counts_only_their_own_models_in_every_figure(personas: Any) -> None:
    """The recorded counts of a sweep are the whole portfolio's: an owner's trend is counted over their models."""
    now = timezone.now()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    RegisteredModel.objects.filter(pk=personas.model_b.pk).update(next_validation_due=yesterday, risk_tier=1)
    _bias(personas.model_b, RunStatus.FAILED, now)
    finding_raise(
        actor=personas.risk_officer,
        model=personas.model_b,
        title="B",
        severity=FindingSeverity.CRITICAL,
        due_date=timezone.localdate() + dt.timedelta(days=30),
    )
    _sweep(
        now,
        {personas.model_a: ComplianceState.COMPLIANT, personas.model_b: ComplianceState.NON_COMPLIANT},
        recorded=True,
    )

    owner = dashboard_for(user=personas.owner_a)
    assert owner.total_models == 1
    assert [bar.value for bar in owner.by_tier if bar.label.startswith("Tier 1")] == [0]
    assert owner.overdue_revalidations == owner.failing_bias_count == 0
    assert sum(row.total for row in owner.findings) == 0
    assert [(point.compliant, point.non_compliant) for point in owner.trend] == [(1, 0)]

    officer = dashboard_for(user=personas.risk_officer)
    assert officer.total_models == 2
    assert officer.overdue_revalidations == officer.failing_bias_count == 1
    assert [(point.compliant, point.non_compliant) for point in officer.trend] == [(1, 1)]


def test_retired_models_failing_bias_are_left_out(personas: Any) -> None:
    _bias(personas.model_a, RunStatus.FAILED, timezone.now())
    RegisteredModel.objects.filter(pk=personas.model_a.pk).update(lifecycle_stage=LifecycleStage.RETIRED)
    assert dashboard_for(user=personas.risk_officer).failing_bias_count == 0
