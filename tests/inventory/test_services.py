"""Inventory services: validation, permissions they grant and check, history they write."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core import roles
from core.permissions import restrict, user_can
from inventory import services
from inventory.models import BusinessUnit, ModelDependency, RegisteredModel
from tests.factories import BusinessUnitFactory, ModelVersionFactory, RegisteredModelFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_owner_gets_view_and_change_validator_view_only(personas):
    assert user_can(personas.owner_a, "change", personas.model_a)
    assert user_can(personas.validator_assigned, "view", personas.model_a)
    assert not user_can(personas.validator_assigned, "change", personas.model_a)
    assert not user_can(personas.owner_b, "view", personas.model_a)
    assert user_can(personas.risk_officer, "change", personas.model_a)
    assert user_can(personas.auditor, "view", personas.model_a)
    assert not user_can(personas.auditor, "change", personas.model_a)
    assert list(restrict(personas.owner_a, "view", RegisteredModel.objects.all())) == [personas.model_a]
    assert list(restrict(personas.no_role, "view", RegisteredModel.objects.all())) == []


def test_update_by_non_owner_is_refused_and_writes_nothing(personas):
    with pytest.raises(PermissionDenied):
        services.registered_model_update(actor=personas.owner_b, model=personas.model_a, changes={"name": "x"})
    personas.model_a.refresh_from_db()
    assert personas.model_a.name == "Retail PD scorecard"
    assert personas.model_a.history.count() == 1


def test_update_writes_one_history_record_with_actor_reason_and_m2m(personas):
    services.registered_model_update(
        actor=personas.owner_a,
        model=personas.model_a,
        changes={
            "name": "Retail PD scorecard v2",
            "tags": ["pd", "Retail"],
            "validators": [personas.validator_other],
        },
        reason="Annual refresh",
    )
    records = list(personas.model_a.history.order_by("history_date"))
    assert [r.history_type for r in records] == ["+", "~"]
    latest = records[-1]
    assert latest.history_user == personas.owner_a
    assert latest.history_change_reason == "Annual refresh"
    assert latest.name == "Retail PD scorecard v2"
    assert sorted(t.tag.name for t in latest.tags.all()) == ["pd", "retail"]
    # validator swap moves the object permissions with it
    assert not user_can(personas.validator_assigned, "view", personas.model_a)
    assert user_can(personas.validator_other, "view", personas.model_a)


def test_owner_change_moves_permissions(personas):
    services.registered_model_update(
        actor=personas.risk_officer,
        model=personas.model_a,
        changes={"business_owner": personas.owner_b, "technical_owner": personas.owner_b},
        reason="Owner left the team",
    )
    assert user_can(personas.owner_b, "change", personas.model_a)
    assert not user_can(personas.owner_a, "view", personas.model_a)


def test_key_generated_from_unit_prefix_and_never_changes(personas):
    model = RegisteredModelFactory(
        business_unit=personas.unit, business_owner=personas.owner_a, technical_owner=personas.owner_a
    )
    assert model.key == "RB-0001" or model.key.startswith("RB-")
    assert model.key not in {"RB-0001", "RB-0002"}
    with pytest.raises(ValidationError) as error:
        services.registered_model_update(actor=personas.risk_officer, model=model, changes={"key": "XX-0001"})
    assert "key" in error.value.message_dict


def test_duplicate_key_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        RegisteredModelFactory(key="RB-0001", business_unit=personas.unit)
    assert "key" in error.value.message_dict
    assert RegisteredModel.objects.filter(key="RB-0001").count() == 1


def test_validator_must_be_independent_of_owners(personas):
    with pytest.raises(ValidationError) as error:
        services.registered_model_update(
            actor=personas.risk_officer, model=personas.model_a, changes={"validators": [personas.owner_a]}
        )
    assert "validators" in error.value.message_dict


def test_model_owner_must_own_what_they_register(personas):
    with pytest.raises(ValidationError) as error:
        RegisteredModelFactory(
            actor=personas.owner_a,
            business_unit=personas.unit,
            business_owner=personas.owner_b,
            technical_owner=personas.owner_b,
        )
    assert "business_owner" in error.value.message_dict


def test_vendor_model_needs_vendor_and_regulatory_uses_are_checked(personas):
    with pytest.raises(ValidationError) as error:
        RegisteredModelFactory(business_unit=personas.unit, model_type="vendor", regulatory_uses=["astrology"])
    assert set(error.value.message_dict) >= {"vendor_name", "regulatory_uses"}


def test_dependency_cycle_and_self_are_refused(personas):
    services.model_dependency_create(
        actor=personas.risk_officer, upstream=personas.model_a, downstream=personas.model_b
    )
    with pytest.raises(ValidationError):
        services.model_dependency_create(
            actor=personas.risk_officer, upstream=personas.model_b, downstream=personas.model_a
        )
    with pytest.raises(ValidationError):
        services.model_dependency_create(
            actor=personas.risk_officer, upstream=personas.model_a, downstream=personas.model_a
        )
    assert ModelDependency.objects.count() == 1


def test_dependency_hidden_when_upstream_is_not_visible(personas):
    services.model_dependency_create(
        actor=personas.risk_officer, upstream=personas.model_a, downstream=personas.model_b
    )
    assert restrict(personas.owner_b, "view", ModelDependency.objects.all()).count() == 0
    assert restrict(personas.risk_officer, "view", ModelDependency.objects.all()).count() == 1


def test_unit_move_rewrites_subtree_paths_and_refuses_cycles():
    top = BusinessUnitFactory(code="GROUP")
    retail = BusinessUnitFactory(code="RET", parent=top)
    cards = BusinessUnitFactory(code="CARDS", parent=retail)
    other = BusinessUnitFactory(code="OTHER")
    from tests.factories import system_actor

    services.business_unit_update(actor=system_actor(), unit=retail, changes={"parent": other})
    cards.refresh_from_db()
    assert cards.path == "OTHER/RET/CARDS/"
    with pytest.raises(ValidationError):
        services.business_unit_update(
            actor=system_actor(), unit=BusinessUnit.objects.get(code="OTHER"), changes={"parent": cards}
        )


def test_version_state_is_not_editable_and_metrics_must_be_numbers(personas):
    version = ModelVersionFactory(model=personas.model_a, actor=personas.owner_a)
    with pytest.raises(ValidationError) as error:
        services.model_version_update(actor=personas.owner_a, version=version, changes={"state": "approved"})
    assert "state" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.model_version_update(actor=personas.owner_a, version=version, changes={"metrics": {"auc": "high"}})
    with pytest.raises(PermissionDenied):
        ModelVersionFactory(model=personas.model_a, actor=personas.owner_b)


def test_as_of_returns_the_inventory_as_it_stood(personas):
    before = dt.datetime.now(dt.UTC)
    services.registered_model_update(actor=personas.owner_a, model=personas.model_a, changes={"name": "Renamed"})
    from inventory.selectors import registered_models_as_of

    then = {m.key: m.name for m in registered_models_as_of(user=personas.risk_officer, when=before)}
    assert then["RB-0001"] == "Retail PD scorecard"
    mine = [m.key for m in registered_models_as_of(user=personas.owner_a, when=before)]
    assert mine == ["RB-0001"]


def test_roles_exist_after_migrate():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)
    assert UserFactory(roles=[roles.AUDITOR]).has_perm("inventory.view_registeredmodel")


def test_reporting_grant_for_service_accounts(personas):
    from core.permissions import restrict as gate

    services.registered_model_grant_reporting(
        actor=personas.risk_officer, model=personas.model_b, service_account=personas.ci_unscoped, reason="Jenkins"
    )
    assert list(gate(personas.ci_unscoped, "view", RegisteredModel.objects.all())) == [personas.model_b]
    assert personas.model_b.history.first().history_change_reason == "Jenkins"
    with pytest.raises(PermissionDenied):
        services.registered_model_grant_reporting(
            actor=personas.owner_b, model=personas.model_b, service_account=personas.ci_unscoped
        )
    with pytest.raises(ValidationError):
        services.registered_model_grant_reporting(
            actor=personas.risk_officer, model=personas.model_b, service_account=personas.owner_a
        )
    services.registered_model_revoke_reporting(
        actor=personas.risk_officer, model=personas.model_b, service_account=personas.ci_unscoped
    )
    assert not gate(personas.ci_unscoped, "view", RegisteredModel.objects.all()).exists()
