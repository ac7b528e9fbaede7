"""Governance records are read-only in the admin: changes must go through the services and the ledger."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from governance.models import Finding, GovernanceEvent, PolicyPack, TierPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(personas):
    client = Client()
    client.force_login(personas.admin)
    return client


@pytest.mark.parametrize("model", [GovernanceEvent, Finding, TierPolicy, PolicyPack])
def test_changelists_load_and_offer_no_changes(admin_client_for, model):
    opts = model._meta
    response = admin_client_for.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    assert admin_client_for.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403


def test_policy_cannot_be_edited_in_the_admin(admin_client_for):
    policy = TierPolicy.objects.get(pack__code="sr-11-7", tier=1)
    url = reverse("admin:governance_tierpolicy_change", args=[policy.pk])
    admin_client_for.post(url, {"required_approvers": 1})
    policy.refresh_from_db()
    assert policy.required_approvers == 2
