"""Inventory API v1: visibility per role, filters, writes through the services, history, as_of, lineage, and the
fixed query cost of the hot lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from inventory import services
from inventory.choices import LifecycleStage, ModelType
from inventory.models import BusinessUnit, ModelDependency, ModelVersion, RegisteredModel, Tag
from tests.factories import (
    BusinessUnitFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    UserFactory,
    system_actor,
)

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models/"
UNITS = "/api/v1/business-units/"
VERSIONS = "/api/v1/versions/"
DEPENDENCIES = "/api/v1/dependencies/"
LONG = "x" * 10_001


def keys(response: Any) -> list[str]:
    """Model keys on a page of the models list."""
    assert response.status_code == 200, response.content
    return [row["key"] for row in response.json()["results"]]


def snapshot() -> tuple[int, ...]:
    """Row counts of everything a write could leave behind, history included."""
    return (
        RegisteredModel.objects.count(),
        RegisteredModel.history.count(),
        ModelVersion.objects.count(),
        ModelVersion.history.count(),
        ModelDependency.objects.count(),
        ModelDependency.history.count(),
        BusinessUnit.objects.count(),
        BusinessUnit.history.count(),
        Tag.objects.count(),
    )


def refused_before_the_body(
    refused: Any, permitted: Any, method: str, url: str, body: dict[str, Any], message: str
) -> set[str]:
    """``body`` sent by a caller who may not write is 403 with ``message``; sent by one who may, it is the 400,
    whose fields are returned (PUT adds the required fields left out). Nothing is written either way."""
    before = snapshot()
    response = getattr(refused, method)(url, body, format="json")
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": message}
    response = getattr(permitted, method)(url, body, format="json")
    assert response.status_code == 400, response.content
    assert snapshot() == before
    return set(response.json())


def model_body(**overrides: Any) -> dict[str, Any]:
    """A valid registration body for a model owned by owner_a in the RETAIL unit."""
    body = {
        "name": "Mortgage LGD",
        "purpose": "Estimates loss given default for mortgages.",
        "model_type": "statistical",
        "business_unit": "RETAIL",
        "business_owner": "owner_a",
        "technical_owner": "owner_a",
    }
    body.update(overrides)
    return body


def persona(personas: Any, name: str) -> Any:
    return getattr(personas, name)


def new_model(**fields: Any) -> RegisteredModel:
    """A model registered through the service, factory defaults for what is not given."""
    model = RegisteredModelFactory(**fields)
    assert isinstance(model, RegisteredModel)
    return model


def new_version(**fields: Any) -> ModelVersion:
    """A draft version added through the service."""
    version = ModelVersionFactory(**fields)
    assert isinstance(version, ModelVersion)
    return version


# --- visibility -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("owner_a", ["RB-0001"]),
        ("owner_b", ["RB-0002"]),
        ("validator_assigned", ["RB-0001"]),
        ("validator_other", []),
        ("risk_officer", ["RB-0001", "RB-0002"]),
        ("auditor", ["RB-0001", "RB-0002"]),
        ("admin", ["RB-0001", "RB-0002"]),
        ("ci_scoped", ["RB-0001"]),
        ("ci_unscoped", []),
        ("no_role", []),
    ],
)
def test_models_list_shows_what_each_role_may_see(personas, api_client_for, name, expected):
    response = api_client_for(persona(personas, name)).get(MODELS)
    assert keys(response) == expected
    assert response.json()["count"] == len(expected)


def test_anonymous_is_refused_everywhere_with_a_message(personas):
    client = APIClient()
    for url in (MODELS, f"{MODELS}RB-0001/", UNITS, VERSIONS, DEPENDENCIES, f"{MODELS}RB-0001/history/"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        assert response["WWW-Authenticate"] == "Token"
    response = client.post(MODELS, model_body(), format="json")
    assert response.status_code == 401
    assert RegisteredModel.objects.count() == 2


def test_model_detail_is_404_when_invisible(personas, api_client_for):
    assert api_client_for(personas.owner_b).get(f"{MODELS}RB-0001/").status_code == 404
    assert api_client_for(personas.ci_scoped).get(f"{MODELS}RB-0002/").status_code == 404
    assert api_client_for(personas.no_role).get(f"{MODELS}RB-0001/").status_code == 404
    assert api_client_for(personas.auditor).get(f"{MODELS}NOPE-0001/").status_code == 404


def test_model_detail_renders_the_inventory_record(personas, api_client_for):
    services.registered_model_update(
        actor=personas.risk_officer,
        model=personas.model_a,
        changes={"tags": ["pd", "retail"], "regulatory_uses": ["credit_decision"]},
    )
    response = api_client_for(personas.auditor).get(f"{MODELS}RB-0001/")
    assert response.status_code == 200
    body = response.json()
    assert body["key"] == "RB-0001"
    assert body["name"] == "Retail PD scorecard"
    assert body["business_unit"] == {"code": "RETAIL", "name": "Retail Banking"}
    assert body["business_owner"] == {"username": "owner_a", "display_name": personas.owner_a.display_name}
    assert body["technical_owner"]["username"] == "owner_a"
    assert body["validators"] == [
        {"username": "validator_assigned", "display_name": personas.validator_assigned.display_name}
    ]
    assert body["tags"] == ["pd", "retail"]
    assert body["regulatory_uses"] == ["credit_decision"]
    assert body["risk_tier"] is None
    assert body["eu_ai_act_category"] == ""
    for field in ("purpose", "restrictions_on_use", "inputs", "outputs", "limitations", "vendor_name"):
        assert field in body
    for field in ("model_type", "lifecycle_stage", "data_sensitivity", "last_validated_on", "next_validation_due"):
        assert field in body
    assert body["links"] == {
        "self": "http://testserver/api/v1/models/RB-0001/",
        "history": "http://testserver/api/v1/models/RB-0001/history/",
        "lineage": "http://testserver/api/v1/models/RB-0001/lineage/",
        "versions": "http://testserver/api/v1/versions/?model=RB-0001",
        "web": "http://testserver/inventory/models/RB-0001/",
    }


# --- filters and ordering ---------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(personas):
    """Models across a unit hierarchy with different types, stages, tiers, tags and due dates.

    GROUP > RETAIL2 > CARDS, and OTHER; all owned by owner_a, except one by owner_b.
    """
    actor = system_actor()
    group = services.business_unit_create(actor=actor, code="GROUP", name="Group", key_prefix="GR")
    retail = services.business_unit_create(actor=actor, code="RETAIL2", name="Retail", parent=group, key_prefix="RT")
    cards = services.business_unit_create(actor=actor, code="CARDS", name="Cards", parent=retail, key_prefix="CD")
    other = services.business_unit_create(actor=actor, code="OTHER", name="Other", key_prefix="OT")
    owner = personas.owner_a
    made = {
        "group": new_model(
            name="Group capital model",
            business_unit=group,
            business_owner=owner,
            model_type=ModelType.STATISTICAL,
            lifecycle_stage=LifecycleStage.PRODUCTION,
            tags=["capital"],
        ),
        "retail": new_model(
            name="Retail churn",
            business_unit=retail,
            business_owner=owner,
            model_type=ModelType.MACHINE_LEARNING,
            lifecycle_stage=LifecycleStage.DEVELOPMENT,
            tags=["marketing"],
            next_validation_due=timezone.localdate() - dt.timedelta(days=3),
            last_validated_on=timezone.localdate() - dt.timedelta(days=400),
        ),
        "cards": new_model(
            name="Card fraud LLM triage",
            business_unit=cards,
            business_owner=owner,
            model_type=ModelType.LLM,
            lifecycle_stage=LifecycleStage.PRODUCTION,
            tags=["fraud", "genai"],
            next_validation_due=timezone.localdate() + dt.timedelta(days=30),
        ),
        "other": new_model(
            name="Vendor AML screening",
            business_unit=other,
            business_owner=personas.owner_b,
            model_type=ModelType.VENDOR,
            vendor_name="Acme",
            lifecycle_stage=LifecycleStage.VALIDATION,
        ),
    }
    RegisteredModel.objects.filter(pk=made["group"].pk).update(risk_tier=1)
    RegisteredModel.objects.filter(pk=made["cards"].pk).update(risk_tier=2)
    return {name: model.key for name, model in made.items()}


def catalogue_keys(client: APIClient, query: str, catalogue: dict[str, str]) -> set[str]:
    """Which catalogue models (by name) a filtered list shows."""
    shown = set(keys(client.get(f"{MODELS}?{query}&page_size=200")))
    return {name for name, key in catalogue.items() if key in shown}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("unit=GROUP", {"group", "retail", "cards"}),
        ("unit=RETAIL2", {"retail", "cards"}),
        ("unit=CARDS", {"cards"}),
        ("owner=owner_b", {"other"}),
        ("owner=owner_a", {"group", "retail", "cards"}),
        ("model_type=llm", {"cards"}),
        ("model_type=llm&model_type=vendor", {"cards", "other"}),
        ("stage=production", {"group", "cards"}),
        ("tier=1", {"group"}),
        ("tier=1&tier=2", {"group", "cards"}),
        ("tag=genai", {"cards"}),
        ("tag=GenAI", {"cards"}),
        ("q=fraud", {"cards"}),
        ("q=owner_b", {"other"}),
        ("validation_overdue=true", {"retail"}),
        ("validation_overdue=false", {"group", "cards", "other"}),
    ],
)
def test_models_list_filters(personas, catalogue, api_client_for, query, expected):
    assert catalogue_keys(api_client_for(personas.risk_officer), query, catalogue) == expected


def test_filters_never_widen_what_a_user_sees(personas, catalogue, api_client_for):
    client = api_client_for(personas.owner_b)
    assert catalogue_keys(client, "unit=GROUP", catalogue) == set()
    assert catalogue_keys(client, "owner=owner_a", catalogue) == set()
    assert keys(client.get(f"{MODELS}?q=RB-0001")) == []


def test_models_list_ordering(personas, catalogue, api_client_for):
    client = api_client_for(personas.risk_officer)
    ascending = keys(client.get(f"{MODELS}?ordering=key&page_size=200"))
    assert ascending == sorted(ascending)
    assert keys(client.get(f"{MODELS}?ordering=-key&page_size=200")) == sorted(ascending, reverse=True)
    by_name = keys(client.get(f"{MODELS}?ordering=name&unit=GROUP"))
    assert by_name == [catalogue["cards"], catalogue["group"], catalogue["retail"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("unit=NOPE", "unit"),
        ("owner=ghost", "owner"),
        ("model_type=spreadsheet", "model_type"),
        ("stage=forgotten", "stage"),
        ("tier=9", "tier"),
        ("ordering=purpose", "ordering"),
        ("page_size=500", "page_size"),
        ("page_size=ten", "page_size"),
        ("page_size=0", "page_size"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(personas, api_client_for, query, field):
    response = api_client_for(personas.auditor).get(f"{MODELS}?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_pagination(personas, catalogue, api_client_for):
    client = api_client_for(personas.auditor)
    first = client.get(f"{MODELS}?page_size=2&ordering=key").json()
    assert first["count"] == 6
    assert len(first["results"]) == 2
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [row["key"] for row in second["results"]] != [row["key"] for row in first["results"]]
    assert client.get(f"{MODELS}?page=99").status_code == 404


# --- create -----------------------------------------------------------------------------------------------------


def test_owner_registers_a_model_with_a_generated_key(personas, api_client_for):
    response = api_client_for(personas.owner_a).post(
        MODELS,
        model_body(tags=["LGD", "mortgage"], validators=["validator_other"], change_reason="New IRB model"),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"].startswith("RB-")
    assert body["key"] not in {"RB-0001", "RB-0002"}
    assert response["Location"] == body["links"]["self"] == f"http://testserver/api/v1/models/{body['key']}/"
    assert body["tags"] == ["lgd", "mortgage"]
    assert [v["username"] for v in body["validators"]] == ["validator_other"]
    assert body["lifecycle_stage"] == "proposed"
    model = RegisteredModel.objects.get(key=body["key"])
    record = model.history.get()
    assert record.history_user == personas.owner_a
    assert record.history_change_reason == "New IRB model"


def test_register_with_an_explicit_key(personas, api_client_for):
    response = api_client_for(personas.risk_officer).post(MODELS, model_body(key="RB-0100"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["key"] == "RB-0100"


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"key": "RB-0001"}, {"key"}),
        ({"key": "lower-1"}, {"key"}),
        ({"business_unit": "NOPE"}, {"business_unit"}),
        ({"business_owner": "ghost"}, {"business_owner"}),
        ({"validators": ["owner_a"]}, {"validators"}),
        ({"validators": "validator_other"}, {"validators"}),
        ({"name": 123}, {"name"}),
        ({"name": None}, {"name"}),
        ({"name": ""}, {"name"}),
        ({"model_type": "spreadsheet"}, {"model_type"}),
        ({"tags": "pd"}, {"tags"}),
        ({"tags": ["Not A Tag!"]}, {"tags"}),
        ({"regulatory_uses": ["astrology"]}, {"regulatory_uses"}),
        ({"regulatory_uses": "credit_decision"}, {"regulatory_uses"}),
        ({"last_validated_on": 5}, {"last_validated_on"}),
        ({"last_validated_on": "yesterday"}, {"last_validated_on"}),
        ({"model_type": "vendor"}, {"vendor_name"}),
        ({"purpose": LONG}, {"purpose"}),
        ({"purpose": LONG, "limitations": LONG, "inputs": LONG}, {"purpose", "limitations", "inputs"}),
        ({"name": "n" * 201}, {"name"}),
        ({"change_reason": "r" * 1001}, {"change_reason"}),
        ({"colour": "blue"}, {"colour"}),
        ({"risk_tier": 1, "name": 5}, {"risk_tier", "name"}),
        ({"eu_ai_act_category": "minimal"}, {"eu_ai_act_category"}),
        ({"business_owner": "owner_b", "technical_owner": "owner_b"}, {"business_owner"}),
    ],
)
def test_bad_registration_is_400_per_field_and_writes_nothing(personas, api_client_for, overrides, fields):
    before = snapshot()
    response = api_client_for(personas.owner_a).post(MODELS, model_body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert snapshot() == before


def test_registration_names_every_missing_field(personas, api_client_for):
    before = snapshot()
    response = api_client_for(personas.owner_a).post(MODELS, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {
        "name",
        "purpose",
        "model_type",
        "business_unit",
        "business_owner",
        "technical_owner",
    }
    assert response.json()["name"] == ["This field is required."]
    assert snapshot() == before


def test_unknown_and_read_only_fields_are_named_with_a_reason(personas, api_client_for):
    response = api_client_for(personas.owner_a).post(MODELS, model_body(colour="blue", risk_tier=1), format="json")
    assert response.status_code == 400
    assert response.json()["colour"][0].startswith("Unknown field.")
    assert "business_unit" in response.json()["colour"][0]
    assert response.json()["risk_tier"] == ["The risk tier follows from the approved risk assessment."]


def test_a_body_that_is_not_an_object_is_refused(personas, api_client_for):
    client = api_client_for(personas.owner_a)
    response = client.post(MODELS, ["not", "an", "object"], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    response = client.post(MODELS, "{broken", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_invisible_business_unit_reads_as_missing(personas, api_client_for):
    services.business_unit_create(actor=system_actor(), code="SECRET", name="Secret unit")
    # Every role sees the units; someone who may register models but holds no view on units gets, for a unit that
    # exists, the same answer as for NOPE. (A person without a role is refused before the body is read.)
    registrar = UserFactory(username="registrar")
    registrar.user_permissions.add(
        Permission.objects.get(content_type__app_label="inventory", codename="add_registeredmodel")
    )
    client = api_client_for(registrar)
    for code in ("SECRET", "NOPE"):
        body = model_body(business_unit=code, business_owner="registrar", technical_owner="registrar")
        response = client.post(MODELS, body, format="json")
        assert response.status_code == 400
        assert response.json()["business_unit"] == [f"Business unit {code} does not exist."]


@pytest.mark.parametrize("name", ["validator_assigned", "auditor", "ci_scoped", "no_role"])
@pytest.mark.parametrize("body", ["valid", {}, {"name": "", "model_type": "crystal ball", "business_unit": "NOPE"}])
def test_roles_without_registration_right_are_403_whatever_the_body(personas, api_client_for, name, body):
    # The permission comes before the body: a service account, which may not see the owners a valid body names, is
    # refused for registering at all rather than told that the owners do not exist.
    before = snapshot()
    client = api_client_for(persona(personas, name))
    sent = model_body(business_owner=name, technical_owner=name) if body == "valid" else body
    response = client.post(MODELS, sent, format="json")
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": "You may not register models."}
    assert snapshot() == before


# --- update -----------------------------------------------------------------------------------------------------


def test_owner_changes_own_model_and_the_change_shows_in_history(personas, api_client_for):
    client = api_client_for(personas.owner_a)
    before = timezone.now()
    response = client.patch(
        f"{MODELS}RB-0001/",
        {"name": "Retail PD scorecard 2026", "lifecycle_stage": "validation", "change_reason": "Annual recalibration"},
        format="json",
    )
    after = timezone.now()
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Retail PD scorecard 2026"

    history = client.get(f"{MODELS}RB-0001/history/")
    assert history.status_code == 200
    entries = history.json()["results"]
    assert [entry["type"] for entry in entries] == ["changed", "created"]
    latest = entries[0]
    assert latest["user"] == "owner_a"
    assert latest["reason"] == "Annual recalibration"
    assert before <= dt.datetime.fromisoformat(latest["date"]) <= after
    changes = {change["field"]: change for change in latest["changes"]}
    assert changes["name"]["old"] == "Retail PD scorecard"
    assert changes["name"]["new"] == "Retail PD scorecard 2026"
    assert changes["lifecycle_stage"]["old"] == "Development"
    assert changes["lifecycle_stage"]["new"] == "Validation"


def test_history_names_the_tags_and_validators_that_changed(personas, api_client_for):
    client = api_client_for(personas.owner_a)
    response = client.patch(
        f"{MODELS}RB-0001/", {"tags": ["pd", "retail"], "validators": ["validator_other"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["pd", "retail"]
    history = client.get(f"{MODELS}RB-0001/history/")
    assert history.status_code == 200
    changes = {change["field"]: change for change in history.json()["results"][0]["changes"]}
    assert (changes["tags"]["old"], changes["tags"]["new"]) == ([], ["pd", "retail"])
    assert (changes["validators"]["old"], changes["validators"]["new"]) == (["validator_assigned"], ["validator_other"])


def test_put_needs_the_required_fields_and_changes_only_what_is_given(personas, api_client_for):
    client = api_client_for(personas.owner_a)
    response = client.put(f"{MODELS}RB-0001/", {"name": "Only a name"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"purpose", "model_type", "business_unit", "business_owner", "technical_owner"}
    body = model_body(name="Retail PD scorecard (full)")
    response = client.put(f"{MODELS}RB-0001/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Retail PD scorecard (full)"
    assert [v["username"] for v in response.json()["validators"]] == ["validator_assigned"]


def test_changing_another_owners_model_is_404_and_writes_nothing(personas, api_client_for):
    before = snapshot()
    for name in ("owner_b", "validator_other", "ci_unscoped", "no_role"):
        response = api_client_for(persona(personas, name)).patch(f"{MODELS}RB-0001/", {"name": "x"}, format="json")
        assert response.status_code == 404, name
    assert snapshot() == before
    personas.model_a.refresh_from_db()
    assert personas.model_a.name == "Retail PD scorecard"


@pytest.mark.parametrize("name", ["validator_assigned", "auditor", "ci_scoped"])
def test_seeing_without_changing_is_403(personas, api_client_for, name):
    before = snapshot()
    response = api_client_for(persona(personas, name)).patch(f"{MODELS}RB-0001/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not change model RB-0001."}
    assert snapshot() == before


def test_risk_officer_hands_a_model_to_another_owner(personas, api_client_for):
    response = api_client_for(personas.risk_officer).patch(
        f"{MODELS}RB-0001/",
        {"business_owner": "owner_b", "technical_owner": "owner_b", "change_reason": "Team change"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert keys(api_client_for(personas.owner_b).get(MODELS)) == ["RB-0001", "RB-0002"]
    assert keys(api_client_for(personas.owner_a).get(MODELS)) == []


def test_owner_handing_away_their_model_still_gets_the_result(personas, api_client_for):
    response = api_client_for(personas.owner_a).patch(
        f"{MODELS}RB-0001/", {"business_owner": "owner_b", "technical_owner": "owner_b"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["business_owner"]["username"] == "owner_b"
    assert api_client_for(personas.owner_a).get(f"{MODELS}RB-0001/").status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"key": "RB-0999"}, {"key"}),
        ({}, {"non_field_errors"}),
        ({"change_reason": "nothing else"}, {"non_field_errors"}),
        ({"business_unit": "NOPE"}, {"business_unit"}),
        ({"validators": ["owner_a"]}, {"validators"}),
        ({"purpose": LONG}, {"purpose"}),
        ({"name": ["a", "list"]}, {"name"}),
        ({"next_validation_due": "2000-01-01", "last_validated_on": "2001-01-01"}, {"next_validation_due"}),
        ({"lifecycle_stage": "archived"}, {"lifecycle_stage"}),
        ({"created_at": "2020-01-01T00:00:00Z"}, {"created_at"}),
    ],
)
def test_bad_update_is_400_per_field_and_writes_nothing(personas, api_client_for, body, fields):
    before = snapshot()
    response = api_client_for(personas.owner_a).patch(f"{MODELS}RB-0001/", body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_seeing_without_changing_is_403_whatever_the_body(personas, api_client_for, method):
    fields = refused_before_the_body(
        api_client_for(personas.auditor),
        api_client_for(personas.owner_a),
        method,
        f"{MODELS}RB-0001/",
        {"lifecycle_stage": "nonsense", "key": "RB-9999"},
        "You may not change model RB-0001.",
    )
    assert {"lifecycle_stage", "key"} <= fields


def test_key_change_is_refused_with_the_reason(personas, api_client_for):
    response = api_client_for(personas.risk_officer).patch(f"{MODELS}RB-0001/", {"key": "RB-0999"}, format="json")
    assert response.json() == {"key": ["The key of a model never changes."]}


def test_history_of_an_invisible_model_is_404(personas, api_client_for):
    assert api_client_for(personas.owner_b).get(f"{MODELS}RB-0001/history/").status_code == 404
    assert api_client_for(personas.auditor).get(f"{MODELS}RB-0001/history/").status_code == 200


# --- as_of ------------------------------------------------------------------------------------------------------


def test_as_of_returns_the_inventory_as_it_stood(personas, api_client_for):
    client = api_client_for(personas.auditor)
    moment = timezone.now()
    services.registered_model_update(
        actor=personas.risk_officer,
        model=personas.model_a,
        changes={"name": "Renamed later", "tags": ["later"], "validators": [personas.validator_other]},
        reason="after the snapshot",
    )
    new_model(key="RB-0050", business_unit=personas.unit, business_owner=personas.owner_a)

    now = client.get(MODELS).json()["results"]
    assert [row["key"] for row in now] == ["RB-0001", "RB-0002", "RB-0050"]

    response = client.get(MODELS, {"as_of": moment.isoformat()})
    assert response.status_code == 200, response.content
    past = response.json()
    assert past["count"] == 2
    model_a = past["results"][0]
    assert model_a["key"] == "RB-0001"
    assert model_a["name"] == "Retail PD scorecard"
    assert model_a["tags"] == []
    assert [v["username"] for v in model_a["validators"]] == ["validator_assigned"]
    assert model_a["business_unit"] == {"code": "RETAIL", "name": "Retail Banking"}
    assert model_a["links"]["self"] == "http://testserver/api/v1/models/RB-0001/"

    assert client.get(MODELS, {"as_of": "2000-01-01"}).json()["count"] == 0
    assert client.get(MODELS, {"as_of": "2999-12-31"}).json()["count"] == 3


def test_as_of_keeps_to_what_the_user_may_see_and_filters(personas, catalogue, api_client_for):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert keys(api_client_for(personas.owner_b).get(MODELS, {"as_of": tomorrow})) == [catalogue["other"], "RB-0002"]
    client = api_client_for(personas.risk_officer)
    assert set(keys(client.get(MODELS, {"as_of": tomorrow, "unit": "RETAIL2"}))) == {
        catalogue["retail"],
        catalogue["cards"],
    }
    assert keys(client.get(MODELS, {"as_of": tomorrow, "stage": "validation"})) == [catalogue["other"]]
    ordered = keys(client.get(MODELS, {"as_of": tomorrow, "ordering": "-key"}))
    assert ordered == sorted(ordered, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2026-13-45"}, "as_of"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": ""}, "as_of"),
        ({"as_of": "2026-06-30", "tag": "pd"}, "tag"),
        ({"as_of": "2026-06-30", "unit": "NOPE"}, "unit"),
    ],
)
def test_bad_as_of_is_400_naming_the_parameter(personas, api_client_for, params, field):
    response = api_client_for(personas.auditor).get(MODELS, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_as_of_a_date_means_the_end_of_that_day(personas, api_client_for):
    today = timezone.localdate().isoformat()
    assert api_client_for(personas.auditor).get(MODELS, {"as_of": today}).json()["count"] == 2


# --- lineage ----------------------------------------------------------------------------------------------------


def test_lineage_lists_visible_models_both_ways(personas, api_client_for):
    actor = system_actor()
    model_c = new_model(key="RB-0003", business_unit=personas.unit, business_owner=personas.owner_b)
    services.model_dependency_create(actor=actor, upstream=personas.model_a, downstream=personas.model_b)
    services.model_dependency_create(actor=actor, upstream=personas.model_b, downstream=model_c)

    response = api_client_for(personas.auditor).get(f"{MODELS}RB-0003/lineage/")
    assert response.status_code == 200
    upstream = response.json()["upstream"]
    assert [(node["key"], node["distance"]) for node in upstream] == [("RB-0002", 1), ("RB-0001", 2)]
    assert upstream[0]["url"] == "http://testserver/api/v1/models/RB-0002/"
    assert response.json()["downstream"] == []

    # owner_b owns B and C but may not see A: the lineage stops at what they may see.
    response = api_client_for(personas.owner_b).get(f"{MODELS}RB-0003/lineage/")
    assert [node["key"] for node in response.json()["upstream"]] == ["RB-0002"]
    assert api_client_for(personas.owner_a).get(f"{MODELS}RB-0003/lineage/").status_code == 404


# --- business units ---------------------------------------------------------------------------------------------


def test_units_are_visible_to_roles_that_need_them(personas, api_client_for):
    for name in ("owner_a", "validator_other", "auditor", "ci_scoped"):
        response = api_client_for(persona(personas, name)).get(UNITS)
        assert [row["code"] for row in response.json()["results"]] == ["RETAIL"], name
    assert api_client_for(personas.no_role).get(UNITS).json()["results"] == []
    assert api_client_for(personas.no_role).get(f"{UNITS}RETAIL/").status_code == 404


def test_risk_officer_adds_and_changes_a_unit(personas, api_client_for):
    client = api_client_for(personas.risk_officer)
    response = client.post(
        UNITS,
        {"code": "CARDS", "name": "Cards", "parent": "RETAIL", "key_prefix": "CD", "head": "owner_a"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == "http://testserver/api/v1/business-units/CARDS/"
    assert body["path"] == "RETAIL/CARDS/"
    assert body["parent"] == {"code": "RETAIL", "name": "Retail Banking"}
    assert body["head"]["username"] == "owner_a"
    assert body["depth"] == 1
    assert body["links"]["models"] == "http://testserver/api/v1/models/?unit=CARDS"

    response = client.patch(f"{UNITS}CARDS/", {"name": "Cards & Payments", "change_reason": "Merger"}, format="json")
    assert response.status_code == 200
    entries = client.get(f"{UNITS}CARDS/history/").json()["results"]
    assert entries[0]["reason"] == "Merger"
    assert entries[0]["user"] == "risk_officer"
    assert [row["code"] for row in client.get(UNITS, {"within": "RETAIL"}).json()["results"]] == ["RETAIL", "CARDS"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"code": "RETAIL", "name": "Again"}, {"code"}),
        ({"code": "bad code", "name": "Bad"}, {"code"}),
        ({"code": "NEW", "name": "New", "parent": "NOPE"}, {"parent"}),
        ({"code": "NEW", "name": "New", "head": "ghost"}, {"head"}),
        ({"code": "NEW", "name": "New", "key_prefix": "lower"}, {"key_prefix"}),
        ({"code": "NEW", "name": "New", "description": LONG}, {"description"}),
        ({"code": "NEW"}, {"name"}),
        ({"code": "NEW", "name": "New", "path": "X/"}, {"path"}),
    ],
)
def test_bad_unit_body_is_400_and_writes_nothing(personas, api_client_for, body, fields):
    before = snapshot()
    response = api_client_for(personas.risk_officer).post(UNITS, body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert snapshot() == before


def test_unit_writes_refused_to_other_roles(personas, api_client_for):
    before = snapshot()
    owner = api_client_for(personas.owner_a)
    assert owner.post(UNITS, {"code": "NEW", "name": "New"}, format="json").status_code == 403
    assert owner.patch(f"{UNITS}RETAIL/", {"name": "Mine now"}, format="json").status_code == 403
    response = api_client_for(personas.risk_officer).patch(f"{UNITS}RETAIL/", {"code": "RET"}, format="json")
    assert response.json() == {"code": ["The code of a business unit never changes."]}
    assert api_client_for(personas.no_role).patch(f"{UNITS}RETAIL/", {"name": "x"}, format="json").status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("name", ["owner_a", "auditor", "ci_scoped", "no_role"])
@pytest.mark.parametrize("body", [{}, {"code": "bad code", "name": LONG}])
def test_unit_create_is_403_whatever_the_body_to_who_may_not_add_units(personas, api_client_for, name, body):
    before = snapshot()
    response = api_client_for(persona(personas, name)).post(UNITS, body, format="json")
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": "You may not add business units."}
    assert snapshot() == before


def test_unit_create_with_an_empty_body_names_the_missing_fields_to_who_may_add_units(personas, api_client_for):
    before = snapshot()
    response = api_client_for(personas.risk_officer).post(UNITS, {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"code": ["This field is required."], "name": ["This field is required."]}
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_unit_change_is_403_whatever_the_body_to_who_may_not_change_units(personas, api_client_for, method):
    fields = refused_before_the_body(
        api_client_for(personas.auditor),
        api_client_for(personas.risk_officer),
        method,
        f"{UNITS}RETAIL/",
        {"parent": "NOPE", "description": LONG},
        "You may not change business units.",
    )
    assert {"parent", "description"} <= fields


# --- versions ---------------------------------------------------------------------------------------------------


DIGEST = "sha256:" + "a" * 64


def test_owner_adds_and_edits_a_version(personas, api_client_for):
    client = api_client_for(personas.owner_a)
    response = client.post(
        VERSIONS,
        {
            "model": "RB-0001",
            "version": "1.0.0",
            "artifact_digest": DIGEST,
            "metrics": {"auc": 0.81, "gini": 0.62},
            "change_reason": "First build",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["model"] == {"key": "RB-0001", "name": "Retail PD scorecard"}
    assert body["state"] == "draft"
    assert body["created_by"]["username"] == "owner_a"
    assert body["metrics"] == {"auc": 0.81, "gini": 0.62}
    assert response["Location"] == f"http://testserver/api/v1/versions/{body['id']}/"

    response = client.patch(f"{VERSIONS}{body['id']}/", {"description": "Retrained on 2025 data"}, format="json")
    assert response.status_code == 200
    assert response.json()["description"] == "Retrained on 2025 data"
    history = client.get(f"{VERSIONS}{body['id']}/history/").json()["results"]
    assert [(entry["type"], entry["reason"]) for entry in history] == [("changed", ""), ("created", "First build")]
    assert [row["id"] for row in client.get(VERSIONS, {"model": "RB-0001"}).json()["results"]] == [body["id"]]
    assert client.get(VERSIONS, {"model": "RB-0002"}).json()["results"] == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"model": "RB-0002", "version": "1.0"}, {"model"}),
        ({"model": "NOPE-0001", "version": "1.0"}, {"model"}),
        ({"version": "1.0"}, {"model"}),
        ({"model": "RB-0001"}, {"version"}),
        ({"model": "RB-0001", "version": "has space"}, {"version"}),
        ({"model": "RB-0001", "version": "1.0", "artifact_digest": "md5:abc"}, {"artifact_digest"}),
        ({"model": "RB-0001", "version": "1.0", "metrics": {"auc": "high"}}, {"metrics"}),
        ({"model": "RB-0001", "version": "1.0", "metrics": [0.8]}, {"metrics"}),
        ({"model": "RB-0001", "version": "1.0", "description": LONG}, {"description"}),
        ({"model": "RB-0001", "version": "1.0", "state": "approved"}, {"state"}),
        ({"model": "RB-0001", "version": 1}, {"version"}),
    ],
)
def test_bad_version_body_is_400_and_writes_nothing(personas, api_client_for, body, fields):
    before = snapshot()
    response = api_client_for(personas.owner_a).post(VERSIONS, body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert snapshot() == before


def test_duplicate_version_label_is_refused(personas, api_client_for):
    new_version(model=personas.model_a, version="1.0")
    before = snapshot()
    response = api_client_for(personas.owner_a).post(VERSIONS, {"model": "RB-0001", "version": "1.0"}, format="json")
    assert response.status_code == 400
    assert "Version" in str(response.json())
    assert snapshot() == before


def test_version_writes_refused_to_who_may_not_change_the_model(personas, api_client_for):
    version = new_version(model=personas.model_a, version="1.0")
    before = snapshot()
    validator = api_client_for(personas.validator_assigned)
    assert validator.post(VERSIONS, {"model": "RB-0001", "version": "2.0"}, format="json").status_code == 403
    assert validator.patch(f"{VERSIONS}{version.pk}/", {"description": "x"}, format="json").status_code == 403
    other = api_client_for(personas.owner_b)
    assert other.patch(f"{VERSIONS}{version.pk}/", {"description": "x"}, format="json").status_code == 404
    assert other.get(f"{VERSIONS}{version.pk}/").status_code == 404
    assert api_client_for(personas.owner_a).get(f"{VERSIONS}abc/").status_code == 404
    owner = api_client_for(personas.owner_a)
    response = owner.patch(f"{VERSIONS}{version.pk}/", {"state": "approved", "version": "9"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"state", "version"}
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_version_change_is_403_whatever_the_body_to_who_may_not_change_the_model(personas, api_client_for, method):
    version = new_version(model=personas.model_a, version="1.0")
    fields = refused_before_the_body(
        api_client_for(personas.validator_assigned),
        api_client_for(personas.owner_a),
        method,
        f"{VERSIONS}{version.pk}/",
        {"description": LONG, "state": "approved"},
        "You may not change versions of model RB-0001.",
    )
    assert fields == {"description", "state"}


# --- dependencies -----------------------------------------------------------------------------------------------


@pytest.fixture
def model_c(personas):
    """A second model of owner_a, so owner_a may link A and C."""
    return new_model(key="RB-0003", business_unit=personas.unit, business_owner=personas.owner_a)


def test_owner_declares_changes_and_removes_a_dependency(personas, model_c, api_client_for):
    client = api_client_for(personas.owner_a)
    response = client.post(
        DEPENDENCIES,
        {"upstream": "RB-0001", "downstream": "RB-0003", "kind": "input", "change_reason": "PD feeds pricing"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["upstream"]["key"] == "RB-0001"
    assert body["downstream"]["key"] == "RB-0003"
    assert response["Location"] == f"http://testserver/api/v1/dependencies/{body['id']}/"
    url = f"{DEPENDENCIES}{body['id']}/"

    response = client.patch(url, {"kind": "fallback"}, format="json")
    assert response.status_code == 200
    assert response.json()["kind"] == "fallback"
    assert [row["id"] for row in client.get(DEPENDENCIES, {"model": "RB-0003"}).json()["results"]] == [body["id"]]

    assert api_client_for(personas.owner_b).delete(url).status_code == 404
    assert api_client_for(personas.auditor).delete(url).status_code == 403
    response = client.delete(url, {"change_reason": "Replaced by bureau score"}, format="json")
    assert response.status_code == 204
    assert not ModelDependency.objects.exists()
    removal = ModelDependency.history.get(history_type="-")
    assert removal.history_change_reason == "Replaced by bureau score"
    assert removal.history_user == personas.owner_a


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"upstream": "RB-0002", "downstream": "RB-0003"}, {"upstream"}),
        ({"upstream": "RB-0001", "downstream": "RB-0001"}, {"upstream"}),
        ({"upstream": "RB-0001"}, {"downstream"}),
        ({"upstream": "RB-0001", "downstream": "RB-0003", "kind": "friendship"}, {"kind"}),
        ({"upstream": "RB-0001", "downstream": "RB-0003", "description": LONG}, {"description"}),
        ({"upstream": "RB-0001", "downstream": "RB-0003", "weight": 3}, {"weight"}),
    ],
)
def test_bad_dependency_body_is_400_and_writes_nothing(personas, model_c, api_client_for, body, fields):
    before = snapshot()
    response = api_client_for(personas.owner_a).post(DEPENDENCIES, body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert snapshot() == before


def test_dependency_rules_come_from_the_service(personas, model_c, api_client_for):
    client = api_client_for(personas.owner_a)
    assert client.post(DEPENDENCIES, {"upstream": "RB-0001", "downstream": "RB-0003"}, format="json").status_code == 201
    before = snapshot()
    duplicate = client.post(DEPENDENCIES, {"upstream": "RB-0001", "downstream": "RB-0003"}, format="json")
    assert duplicate.status_code == 400
    assert list(duplicate.json()) == ["upstream"]
    cycle = client.post(DEPENDENCIES, {"upstream": "RB-0003", "downstream": "RB-0001"}, format="json")
    assert cycle.status_code == 400
    assert "cycle" in cycle.json()["upstream"][0]
    dependency = ModelDependency.objects.get()
    moved = client.patch(f"{DEPENDENCIES}{dependency.pk}/", {"upstream": "RB-0002"}, format="json")
    assert moved.status_code == 400
    assert list(moved.json()) == ["upstream"]
    validator = api_client_for(personas.validator_assigned)
    refused = validator.post(DEPENDENCIES, {"upstream": "RB-0003", "downstream": "RB-0001"}, format="json")
    assert refused.status_code == 400  # RB-0003 is not visible to the validator
    assert snapshot() == before


def test_dependency_writes_are_403_whatever_the_body_to_who_sees_but_may_not_change(personas, api_client_for):
    # Model A uses model B: the Auditor sees the dependency, only a Risk Officer (who sees both) changes it.
    dependency = services.model_dependency_create(
        actor=system_actor(), upstream=personas.model_b, downstream=personas.model_a
    )
    url = f"{DEPENDENCIES}{dependency.pk}/"
    auditor, officer = api_client_for(personas.auditor), api_client_for(personas.risk_officer)
    changed = {"kind": "friendship", "upstream": "RB-0001"}
    for method in ("put", "patch"):
        fields = refused_before_the_body(auditor, officer, method, url, changed, "You may not change this dependency.")
        assert {"kind", "upstream"} <= fields
    removed = refused_before_the_body(
        auditor, officer, "delete", url, {"weight": 3}, "You may not remove this dependency."
    )
    assert removed == {"weight"}


def test_dependency_on_an_invisible_upstream_is_hidden(personas, api_client_for):
    services.model_dependency_create(actor=system_actor(), upstream=personas.model_a, downstream=personas.model_b)
    assert api_client_for(personas.owner_b).get(DEPENDENCIES).json()["results"] == []
    assert len(api_client_for(personas.auditor).get(DEPENDENCIES).json()["results"]) == 1


# --- query cost -------------------------------------------------------------------------------------------------


@pytest.fixture
def many_models(personas):
    """45 more models of owner_a, each with tags, a validator and a version."""
    for number in range(45):
        model = new_model(
            name=f"Bulk model {number}",
            business_unit=personas.unit,
            business_owner=personas.owner_a,
            validators=[personas.validator_assigned],
            tags=["bulk", f"t{number % 3}"],
        )
        new_version(model=model, version="1.0")
    return personas


def query_count(client: APIClient, url: str, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == params["page_size"]
    return len(queries)


@pytest.mark.parametrize("name", ["owner_a", "risk_officer"])
@pytest.mark.parametrize(
    ("url", "extra"),
    [
        (MODELS, {}),
        (MODELS, {"ordering": "-updated", "tag": "bulk", "q": "Bulk"}),
        (MODELS, {"as_of": "2999-01-01"}),
        (VERSIONS, {}),
    ],
)
def test_hot_lists_cost_the_same_queries_whatever_the_page_size(many_models, api_client_for, name, url, extra):
    client = api_client_for(persona(many_models, name))
    client.get(url, {"page_size": 1, **extra})  # the first request also records the token's use
    small = query_count(client, url, {"page_size": 5, **extra})
    large = query_count(client, url, {"page_size": 40, **extra})
    assert small == large


def test_units_created_by_factory_are_listed_in_path_order(personas, api_client_for):
    BusinessUnitFactory(code="AAA", name="First", parent=personas.unit)
    codes = [row["code"] for row in api_client_for(personas.auditor).get(UNITS).json()["results"]]
    assert codes == ["RETAIL", "AAA"]
