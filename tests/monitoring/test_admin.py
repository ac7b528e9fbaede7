"""Monitoring records are read-only in the admin: targets, observations and drift results change only through
the services (and the ledger)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from monitoring.models import (
    DriftDataset,
    DriftRun,
    DriftSchedule,
    MetricObservation,
    MonitoringTarget,
    TierMonitoringDefault,
)
from tests.monitoring.conftest import agreed_target

pytestmark = pytest.mark.django_db
MODELS = [TierMonitoringDefault, MonitoringTarget, MetricObservation, DriftDataset, DriftSchedule, DriftRun]


@pytest.mark.parametrize("model", MODELS)
def test_changelists_load_and_offer_no_changes(personas: Any, model: Any) -> None:
    client = Client()
    client.force_login(personas.admin)
    opts = model._meta
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403


def test_a_target_cannot_be_edited_in_the_admin(personas: Any) -> None:
    target = agreed_target(personas, personas.model_a, accuracy_min=0.8)
    client = Client()
    client.force_login(personas.admin)
    url = reverse("admin:monitoring_monitoringtarget_change", args=[target.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"accuracy_min": 0.1})
    target.refresh_from_db()
    assert target.accuracy_min == 0.8
