"""Django admin: every page loads for an Admin, nobody else gets in, and admin saves keep derived state right
(object permissions of owners and validators, business-unit paths, revoked tokens)."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from core.models import ApiToken, ServiceHeartbeat
from core.permissions import user_can
from core.services import api_token_issue, heartbeat_record
from inventory.models import BusinessUnit, RegisteredModel
from tests.factories import BusinessUnitFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db

PORTAL_APPS = {"core", "inventory", "auth"}


def portal_admin_models():
    return [model for model in admin.site._registry if model._meta.app_label in PORTAL_APPS]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def model_change_data(model: RegisteredModel, **overrides) -> dict:
    """The admin change form of ``model`` as posted unchanged, with ``overrides`` applied."""
    data = {
        "name": model.name,
        "business_unit": model.business_unit_id,
        "model_type": model.model_type,
        "vendor_name": model.vendor_name,
        "lifecycle_stage": model.lifecycle_stage,
        "purpose": model.purpose,
        "restrictions_on_use": model.restrictions_on_use,
        "inputs": model.inputs,
        "outputs": model.outputs,
        "limitations": model.limitations,
        "business_owner": model.business_owner_id,
        "technical_owner": model.technical_owner_id,
        "validators": [person.pk for person in model.validators.all()],
        "risk_tier": model.risk_tier or "",
        "eu_ai_act_category": model.eu_ai_act_category,
        "regulatory_uses": "[]",
        "data_sensitivity": model.data_sensitivity,
        "tags": [tag.pk for tag in model.tags.all()],
        "last_validated_on": "",
        "next_validation_due": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_every_portal_changelist_and_add_page_loads_for_an_admin(client, personas):
    ModelVersionFactory(model=personas.model_a)
    api_token_issue(actor=personas.admin, user=personas.ci_scoped, name="pipeline")
    heartbeat_record(name="worker")
    client.force_login(personas.admin)
    models = portal_admin_models()
    assert {m._meta.model_name for m in models} >= {
        "user",
        "apitoken",
        "serviceheartbeat",
        "businessunit",
        "registeredmodel",
        "modelversion",
        "modeldependency",
        "tag",
    }
    for model in models:
        response = client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model
        model_admin = admin.site._registry[model]
        request = response.wsgi_request
        if model_admin.has_add_permission(request):
            assert client.get(admin_url(model, "add")).status_code == 200, model


def test_change_and_history_pages_load(client, personas):
    client.force_login(personas.admin)
    for obj in (personas.model_a, personas.unit, personas.owner_a):
        assert client.get(admin_url(type(obj), "change", obj.pk)).status_code == 200
        assert client.get(admin_url(type(obj), "history", obj.pk)).status_code == 200


@pytest.mark.parametrize("persona", ["owner_a", "risk_officer", "auditor"])
def test_people_without_the_admin_role_are_kept_out(client, personas, persona):
    client.force_login(getattr(personas, persona))
    response = client.get(admin_url(RegisteredModel, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_owner_change_moves_object_permissions(client, personas):
    model = personas.model_a
    client.force_login(personas.admin)
    response = client.post(
        admin_url(RegisteredModel, "change", model.pk),
        model_change_data(model, business_owner=personas.owner_b.pk, technical_owner=personas.owner_b.pk),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    model.refresh_from_db()
    assert model.business_owner == personas.owner_b
    assert user_can(personas.owner_b, "change", model)
    assert not user_can(personas.owner_a, "view", model)
    # what the role did not give is left alone: the validator and the scoped service account keep their access
    assert user_can(personas.validator_assigned, "view", model)
    assert user_can(personas.ci_scoped, "view", model)


def test_admin_validator_change_moves_object_permissions(client, personas):
    model = personas.model_a
    client.force_login(personas.admin)
    client.post(
        admin_url(RegisteredModel, "change", model.pk),
        model_change_data(model, validators=[personas.validator_other.pk]),
    )
    assert not user_can(personas.validator_assigned, "view", model)
    assert user_can(personas.validator_other, "view", model)
    assert user_can(personas.owner_a, "change", model)


def test_admin_created_model_grants_its_owners(client, personas):
    client.force_login(personas.admin)
    data = model_change_data(personas.model_b, key="RB-0500", name="Admin-made model", validators=[])
    response = client.post(admin_url(RegisteredModel, "add"), data)
    assert response.status_code == 302
    model = RegisteredModel.objects.get(key="RB-0500")
    assert model.created_by == personas.admin
    assert user_can(personas.owner_b, "change", model)
    assert not user_can(personas.owner_a, "view", model)


def test_model_key_is_read_only_after_creation(client, personas):
    client.force_login(personas.admin)
    response = client.get(admin_url(RegisteredModel, "change", personas.model_a.pk))
    assert "key" not in response.context["adminform"].form.fields
    client.post(
        admin_url(RegisteredModel, "change", personas.model_a.pk),
        model_change_data(personas.model_a, key="XX-0001", name="Renamed"),
    )
    personas.model_a.refresh_from_db()
    assert (personas.model_a.key, personas.model_a.name) == ("RB-0001", "Renamed")


def test_admin_owner_choices_are_people(client, personas):
    client.force_login(personas.admin)
    response = client.get(admin_url(RegisteredModel, "change", personas.model_a.pk))
    owners = response.context["adminform"].form.fields["business_owner"].queryset
    assert not owners.filter(is_service_account=True).exists()


def test_business_unit_created_and_moved_in_the_admin_keeps_paths(client, personas):
    BusinessUnitFactory(code="CARDS", name="Cards", parent=personas.unit)
    cards = BusinessUnit.objects.get(code="CARDS")
    BusinessUnitFactory(code="CARDS-UK", name="Cards UK", parent=cards)
    client.force_login(personas.admin)
    response = client.post(
        admin_url(BusinessUnit, "add"),
        {"code": "GROUP", "name": "Group", "parent": "", "key_prefix": "GR", "description": "", "head": ""},
    )
    assert response.status_code == 302
    group = BusinessUnit.objects.get(code="GROUP")
    assert group.path == "GROUP/"
    response = client.post(
        admin_url(BusinessUnit, "change", cards.pk),
        {"name": "Cards", "parent": group.pk, "key_prefix": "TS", "description": "", "head": ""},
    )
    assert response.status_code == 302
    assert BusinessUnit.objects.get(code="CARDS").path == "GROUP/CARDS/"
    assert BusinessUnit.objects.get(code="CARDS-UK").path == "GROUP/CARDS/CARDS-UK/"
    assert cards.history.latest().history_user == personas.admin


def test_business_unit_parent_choices_exclude_its_own_subtree(client, personas):
    BusinessUnitFactory(code="CARDS", name="Cards", parent=personas.unit)
    cards = BusinessUnit.objects.get(code="CARDS")
    BusinessUnitFactory(code="CARDS-UK", name="Cards UK", parent=cards)
    client.force_login(personas.admin)
    response = client.get(admin_url(BusinessUnit, "change", cards.pk))
    choices = {unit.code for unit in response.context["adminform"].form.fields["parent"].queryset}
    assert choices == {"RETAIL"}
    select = re.search(r'<select name="parent".*?</select>', response.content.decode(), re.S)
    assert select is not None
    offered = set(re.findall(r'<option value="(\d+)"', select.group(0)))
    assert offered == {str(personas.unit.pk)}


def test_tokens_are_read_only_and_revoked_by_the_action(client, personas):
    token, _ = api_token_issue(actor=personas.admin, user=personas.ci_scoped, name="pipeline")
    client.force_login(personas.admin)
    assert client.get(admin_url(ApiToken, "add")).status_code == 403
    change_page = client.get(admin_url(ApiToken, "change", token.pk))
    assert change_page.status_code == 200
    assert 'name="name"' not in change_page.content.decode()
    response = client.post(
        admin_url(ApiToken, "changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_heartbeats_are_read_only(client, personas):
    beat = heartbeat_record(name="beat")
    client.force_login(personas.admin)
    assert client.get(admin_url(ServiceHeartbeat, "add")).status_code == 403
    page = client.get(admin_url(ServiceHeartbeat, "change", beat.pk))
    assert page.status_code == 200
    assert 'name="hostname"' not in page.content.decode()
