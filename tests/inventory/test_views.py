"""Inventory pages: who sees what, filters, paging, the dossier, and writes through the forms.

Every page is tried by a user who must be refused: invisible models are a 404, visible but unchangeable a 403.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import roles
from core.permissions import user_can
from inventory import services
from inventory.choices import LifecycleStage, ModelType, RegulatoryUse
from inventory.models import BusinessUnit, ModelVersion, RegisteredModel, Tag
from inventory.selectors import FieldChange
from inventory.templatetags.inventory_extras import (
    display_value,
    field_label,
    regulatory_use_label,
    stage_label,
    tier_label,
)
from tests.factories import BusinessUnitFactory, ModelVersionFactory, RegisteredModelFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("inventory:model-list")
CREATE_URL = reverse("inventory:model-create")
UNITS_URL = reverse("inventory:unit-list")


def detail_url(key: str) -> str:
    return reverse("inventory:model-detail", args=[key])


def edit_url(key: str) -> str:
    return reverse("inventory:model-edit", args=[key])


def version_url(key: str) -> str:
    return reverse("inventory:version-create", args=[key])


def login(client, user):
    client.force_login(user)
    return client


def listed_keys(response) -> list[str]:
    return [model.key for model in response.context["page_obj"]]


def edit_data(model: RegisteredModel, **overrides) -> dict:
    """The edit form as the browser would post it for ``model`` unchanged, with ``overrides`` applied."""
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
        "regulatory_uses": list(model.regulatory_uses),
        "data_sensitivity": model.data_sensitivity,
        "tags": ", ".join(tag.name for tag in model.tags.all()),
        "last_validated_on": model.last_validated_on.isoformat() if model.last_validated_on else "",
        "next_validation_due": model.next_validation_due.isoformat() if model.next_validation_due else "",
        "change_reason": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def create_data(personas, **overrides) -> dict:
    data = {
        "key": "",
        "name": "Mortgage affordability model",
        "business_unit": personas.unit.pk,
        "model_type": ModelType.STATISTICAL,
        "lifecycle_stage": LifecycleStage.DEVELOPMENT,
        "purpose": "Estimates the affordability of a mortgage for a household.",
        "business_owner": personas.owner_a.pk,
        "technical_owner": personas.owner_a.pk,
        "data_sensitivity": "personal",
        "regulatory_uses": [RegulatoryUse.CREDIT_DECISION],
        "tags": "mortgage, Retail",
        "change_reason": "New product launch",
    }
    data.update(overrides)
    return data


# --- every page needs a signed-in user -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [LIST_URL, CREATE_URL, UNITS_URL, detail_url("RB-0001"), edit_url("RB-0001"), version_url("RB-0001")],
)
def test_anonymous_users_are_sent_to_sign_in(client, personas, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- inventory list ------------------------------------------------------------------------------------------


def test_owner_lists_only_the_models_they_own(client, personas):
    response = login(client, personas.owner_a).get(LIST_URL)
    assert response.status_code == 200
    assert listed_keys(response) == ["RB-0001"]
    assert b"RB-0002" not in response.content
    assert b'href="/inventory/models/RB-0001/"' in response.content


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("risk_officer", ["RB-0001", "RB-0002"]),
        ("auditor", ["RB-0001", "RB-0002"]),
        ("validator_assigned", ["RB-0001"]),
        ("validator_other", []),
        ("no_role", []),
    ],
)
def test_list_shows_what_each_role_may_see(client, personas, persona, expected):
    response = login(client, getattr(personas, persona)).get(LIST_URL)
    assert response.status_code == 200
    assert listed_keys(response) == expected


def test_list_shows_the_inventory_columns(client, personas):
    services.registered_model_update(
        actor=personas.risk_officer,
        model=personas.model_a,
        changes={"tags": ["pd", "irb"], "next_validation_due": dt.date(2020, 1, 31)},
    )
    response = login(client, personas.owner_a).get(LIST_URL)
    html = response.content.decode()
    for text in ("Retail PD scorecard", "Retail Banking", "Machine learning", "Development", "2020-01-31", "Overdue"):
        assert text in html
    assert "<li>irb</li>" in html and "<li>pd</li>" in html
    assert personas.owner_a.get_full_name() in html


def test_register_button_only_for_roles_that_may_add(client, personas):
    assert CREATE_URL.encode() in login(client, personas.owner_a).get(LIST_URL).content
    assert CREATE_URL.encode() not in login(client, personas.auditor).get(LIST_URL).content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "fraud"}, ["RB-0002"]),
        ({"q": "rb-0001"}, ["RB-0001"]),
        ({"q": "owner_b"}, ["RB-0002"]),
        ({"owner": "owner_a"}, ["RB-0001"]),
        ({"validator": "validator_assigned"}, ["RB-0001"]),
        ({"stage": ["development", "production"]}, ["RB-0001", "RB-0002"]),
        ({"stage": "production"}, []),
        ({"model_type": "ml"}, ["RB-0001", "RB-0002"]),
        ({"ordering": "-key"}, ["RB-0002", "RB-0001"]),
    ],
)
def test_filters_and_ordering(client, personas, query, expected):
    response = login(client, personas.risk_officer).get(LIST_URL, query)
    assert response.status_code == 200
    assert response.context["filters_valid"]
    assert listed_keys(response) == expected


def test_unit_filter_includes_units_below(client, personas):
    cards = BusinessUnitFactory(code="CARDS", name="Cards", parent=personas.unit, key_prefix="CC")
    other = BusinessUnitFactory(code="WHOLESALE", name="Wholesale", key_prefix="WS")
    RegisteredModelFactory(key="CC-0001", business_unit=cards)
    RegisteredModelFactory(key="WS-0001", business_unit=other)
    client = login(client, personas.risk_officer)
    assert listed_keys(client.get(LIST_URL, {"unit": "RETAIL"})) == ["CC-0001", "RB-0001", "RB-0002"]
    assert listed_keys(client.get(LIST_URL, {"unit": "CARDS"})) == ["CC-0001"]


def test_tag_and_overdue_filters(client, personas):
    services.registered_model_update(
        actor=personas.risk_officer,
        model=personas.model_b,
        changes={"tags": ["fraud"], "next_validation_due": dt.date(2000, 1, 1)},
    )
    client = login(client, personas.risk_officer)
    assert listed_keys(client.get(LIST_URL, {"tag": "fraud"})) == ["RB-0002"]
    assert listed_keys(client.get(LIST_URL, {"validation_overdue": "true"})) == ["RB-0002"]
    assert listed_keys(client.get(LIST_URL, {"validation_overdue": "false"})) == ["RB-0001"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"unit": "NO-SUCH-UNIT"}, "unit"),
        ({"stage": "launched"}, "stage"),
        ({"owner": "nobody-here"}, "owner"),
        ({"ordering": "password"}, "ordering"),
    ],
)
def test_bad_filters_are_shown_on_the_form_and_list_nothing(client, personas, query, field):
    response = login(client, personas.risk_officer).get(LIST_URL, query)
    assert response.status_code == 200
    assert not response.context["filters_valid"]
    assert field in response.context["form"].errors
    assert listed_keys(response) == []
    html = response.content.decode()
    assert "Some filters are not valid" in html
    assert 'class="errorlist"' in html


@pytest.fixture
def many_models(personas):
    """45 models across two units, with tags and several owners, all visible to the risk officer."""
    units = [personas.unit, BusinessUnitFactory(code="CARDS", name="Cards", parent=personas.unit, key_prefix="CC")]
    owners = [UserFactory(roles=[roles.MODEL_OWNER]) for _ in range(4)]
    for number in range(43):
        RegisteredModelFactory(
            name=f"Model {number:02d}",
            business_unit=units[number % 2],
            business_owner=owners[number % 4],
            technical_owner=owners[(number + 1) % 4],
            tags=[f"tag{number % 5}", "bulk"],
        )
    return personas


def test_list_query_count_does_not_grow_with_page_size(client, many_models):
    client = login(client, many_models.risk_officer)
    client.get(LIST_URL)  # warm caches that belong to the process, not to the page (content types)
    counts = {}
    for size in (5, 40):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST_URL, {"per_page": size, "stage": "development"})
        assert response.status_code == 200
        assert len(response.context["page_obj"].object_list) == size
        counts[size] = len(queries.captured_queries)
    assert counts[5] == counts[40]


def test_list_query_count_for_an_owner_does_not_grow_with_page_size(client, personas):
    for number in range(12):
        RegisteredModelFactory(
            name=f"Owned {number}", business_unit=personas.unit, business_owner=personas.owner_a, tags=["x", "y"]
        )
    client = login(client, personas.owner_a)
    client.get(LIST_URL)
    counts = []
    for size in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST_URL, {"per_page": size})
        assert len(response.context["page_obj"].object_list) == size
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_paging_keeps_filters_and_caps_the_page_size(client, many_models):
    client = login(client, many_models.risk_officer)
    response = client.get(LIST_URL, {"per_page": 10, "tag": "bulk", "page": 2})
    assert response.context["page_obj"].number == 2
    assert response.context["page_obj"].paginator.count == 43
    html = response.content.decode()
    assert "43</strong> models, showing 11\N{EN DASH}20" in html
    assert "?per_page=10&amp;tag=bulk&amp;page=3" in html
    assert client.get(LIST_URL, {"per_page": 5000}).context["per_page"] == 200
    assert client.get(LIST_URL, {"per_page": "lots"}).context["per_page"] == 50
    assert client.get(LIST_URL, {"page": 999}).context["page_obj"].number == 1


def test_ties_in_the_chosen_order_are_broken_by_key(client, many_models):
    client = login(client, many_models.risk_officer)
    seen = []
    for page in (1, 2, 3, 4, 5):
        seen += listed_keys(client.get(LIST_URL, {"ordering": "stage", "per_page": 10, "page": page}))
    assert len(seen) == len(set(seen)) == 45


# --- model detail --------------------------------------------------------------------------------------------


def test_detail_shows_the_dossier(client, personas):
    RegisteredModelFactory(key="RB-0100", name="Bureau score", business_unit=personas.unit)
    upstream = RegisteredModel.objects.get(key="RB-0100")
    services.model_dependency_create(actor=personas.risk_officer, upstream=upstream, downstream=personas.model_a)
    services.model_dependency_create(
        actor=personas.risk_officer, upstream=personas.model_a, downstream=personas.model_b
    )
    ModelVersionFactory(model=personas.model_a, version="1.4.0", artifact_digest="sha256:" + "a" * 64)
    services.registered_model_update(
        actor=personas.owner_a,
        model=personas.model_a,
        changes={
            "restrictions_on_use": "Not for small business lending.",
            "regulatory_uses": [RegulatoryUse.REGULATORY_CAPITAL],
            "tags": ["pd"],
        },
        reason="Scope clarified by the credit committee",
    )
    response = login(client, personas.risk_officer).get(detail_url("RB-0001"))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Purpose and use",
        "Scores applications for credit decisions.",
        "Not for small business lending.",
        "Regulatory capital (IRB / Basel)",
        "validator_assigned",
        "1.4.0",
        "Draft",
        "sha256:aaaa",
        "RB-0100",  # upstream
        "RB-0002",  # downstream
        "Scope clarified by the credit committee",
        "owner_a",
    ):
        assert text in html, text
    history = response.context["history"]
    assert history[0].user == "owner_a"
    assert {change.field for change in history[0].changes} >= {"restrictions_on_use", "regulatory_uses", "tags"}


def test_owner_does_not_see_lineage_they_may_not_see(client, personas):
    services.model_dependency_create(
        actor=personas.risk_officer, upstream=personas.model_a, downstream=personas.model_b
    )
    response = login(client, personas.owner_a).get(detail_url("RB-0001"))
    assert response.context["lineage"]["downstream"] == []
    assert b"RB-0002" not in response.content


@pytest.mark.parametrize(
    ("persona", "status", "can_change"),
    [
        ("owner_a", 200, True),
        ("risk_officer", 200, True),
        ("validator_assigned", 200, False),
        ("auditor", 200, False),
        ("owner_b", 404, None),
        ("validator_other", 404, None),
        ("no_role", 404, None),
    ],
)
def test_detail_visibility_and_edit_button(client, personas, persona, status, can_change):
    response = login(client, getattr(personas, persona)).get(detail_url("RB-0001"))
    assert response.status_code == status
    if status == 404:
        assert b"Page not found" in response.content
        assert b"Retail PD scorecard" not in response.content
        return
    assert response.context["can_change"] is can_change
    assert (edit_url("RB-0001").encode() in response.content) is can_change


def test_unknown_model_is_a_404(client, personas):
    assert login(client, personas.risk_officer).get(detail_url("XX-9999")).status_code == 404


# --- register a model ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["validator_assigned", "auditor", "no_role"])
def test_register_is_refused_without_add_permission(client, personas, persona):
    client = login(client, getattr(personas, persona))
    assert client.get(CREATE_URL).status_code == 403
    response = client.post(CREATE_URL, create_data(personas))
    assert response.status_code == 403
    assert b"You may not do this" in response.content
    assert not RegisteredModel.objects.filter(name="Mortgage affordability model").exists()


def test_register_form_offers_people_and_visible_units(client, personas):
    response = login(client, personas.owner_a).get(CREATE_URL)
    assert response.status_code == 200
    form = response.context["form"]
    people = set(form.fields["business_owner"].queryset.values_list("username", flat=True))
    assert {"owner_a", "owner_b", "risk_officer"} <= people
    assert not people & {"ci_scoped", "ci_unscoped"}
    assert form.fields["business_owner"].initial == personas.owner_a.pk
    assert list(form.fields["business_unit"].queryset) == [personas.unit]
    html = response.content.decode()
    assert '<label for="id_purpose">' in html
    assert 'type="checkbox" name="regulatory_uses"' in html


def test_owner_registers_a_model(client, personas):
    response = login(client, personas.owner_a).post(CREATE_URL, create_data(personas))
    model = RegisteredModel.objects.get(name="Mortgage affordability model")
    assert response.status_code == 302
    assert response["Location"] == detail_url(model.key)
    assert model.key == "RB-0003"
    assert model.regulatory_uses == ["credit_decision"]
    assert sorted(model.tags.values_list("name", flat=True)) == ["mortgage", "retail"]
    assert user_can(personas.owner_a, "change", model)
    record = model.history.get()
    assert record.history_user == personas.owner_a
    assert record.history_change_reason == "New product launch"
    page = client.get(response["Location"])
    assert "is registered" in page.content.decode()


def test_register_with_a_chosen_key(client, personas):
    login(client, personas.risk_officer).post(CREATE_URL, create_data(personas, key="RB-0042"))
    assert RegisteredModel.objects.filter(key="RB-0042", name="Mortgage affordability model").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"purpose": ""}, "purpose"),
        ({"business_unit": 999999}, "business_unit"),
        ({"business_unit": "retail"}, "business_unit"),
        ({"model_type": "quantum"}, "model_type"),
        ({"key": "rb-1"}, "key"),
        ({"key": "RB-0001"}, "key"),  # duplicate, refused by the service
        ({"purpose": "x" * 10_001}, "purpose"),
        ({"name": "n" * 201}, "name"),
        ({"tags": "good, Bad Tag!"}, "tags"),  # refused by the service, which names the tag
        ({"regulatory_uses": ["none", "fraud"]}, "regulatory_uses"),
        ({"model_type": "vendor", "vendor_name": ""}, "vendor_name"),
        ({"last_validated_on": "2026-13-45"}, "last_validated_on"),
        ({"last_validated_on": "2026-06-01", "next_validation_due": "2026-01-01"}, "next_validation_due"),
        ({"validators": ["abc"]}, "validators"),
        ({"change_reason": "r" * 1001}, "change_reason"),
    ],
)
def test_bad_input_is_shown_on_the_field_and_writes_nothing(client, personas, overrides, field):
    before = (RegisteredModel.objects.count(), Tag.objects.count())
    response = login(client, personas.risk_officer).post(CREATE_URL, create_data(personas, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert (RegisteredModel.objects.count(), Tag.objects.count()) == before
    assert "Nothing was saved" in response.content.decode()


def test_service_account_cannot_be_chosen_as_owner(client, personas):
    response = login(client, personas.risk_officer).post(
        CREATE_URL, create_data(personas, business_owner=personas.ci_scoped.pk)
    )
    assert response.status_code == 400
    assert "business_owner" in response.context["form"].errors


def test_model_owner_must_own_what_they_register(client, personas):
    response = login(client, personas.owner_a).post(
        CREATE_URL,
        create_data(personas, business_owner=personas.owner_b.pk, technical_owner=personas.owner_b.pk),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["business_owner"] == [
        "You must be the business or technical owner of a model you register."
    ]
    assert not RegisteredModel.objects.filter(name="Mortgage affordability model").exists()


# --- edit a model --------------------------------------------------------------------------------------------


def test_owner_edits_their_model_and_the_change_is_in_the_history(client, personas):
    model = personas.model_a
    client = login(client, personas.owner_a)
    form_page = client.get(edit_url(model.key))
    assert form_page.status_code == 200
    assert form_page.context["form"].initial["validators"] == [personas.validator_assigned.pk]
    response = client.post(
        edit_url(model.key),
        edit_data(model, purpose="Scores retail credit applications.", change_reason="Wording agreed with risk"),
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(model.key)
    model.refresh_from_db()
    assert model.purpose == "Scores retail credit applications."
    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert "are saved and recorded in its history" in html
    entry = detail.context["history"][0]
    assert entry.user == "owner_a"
    assert entry.reason == "Wording agreed with risk"
    assert [(c.field, c.old, c.new) for c in entry.changes] == [
        ("purpose", "Scores applications for credit decisions.", "Scores retail credit applications.")
    ]
    assert timezone.localtime(entry.date).strftime("%Y-%m-%d %H:%M:%S") in html


def test_edit_sends_only_changed_fields(client, personas):
    model = personas.model_a
    login(client, personas.owner_a).post(
        edit_url(model.key),
        edit_data(model, tags="pd, retail", validators=[personas.validator_other.pk], change_reason="New validator"),
    )
    assert sorted(model.tags.values_list("name", flat=True)) == ["pd", "retail"]
    assert not user_can(personas.validator_assigned, "view", model)
    assert user_can(personas.validator_other, "view", model)
    changed = {change.field for change in client.get(detail_url(model.key)).context["history"][0].changes}
    assert changed == {"tags", "validators"}


def test_owner_who_hands_a_model_over_is_sent_back_to_the_inventory(client, personas):
    model = personas.model_a
    client = login(client, personas.owner_a)
    response = client.post(
        edit_url(model.key),
        edit_data(
            model,
            business_owner=personas.owner_b.pk,
            technical_owner=personas.owner_b.pk,
            change_reason="Moved to the cards team",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert "no longer own or validate RB-0001" in client.get(LIST_URL).content.decode()
    assert user_can(personas.owner_b, "change", model)


def test_edit_without_changes_records_nothing(client, personas):
    model = personas.model_a
    response = login(client, personas.owner_a).post(edit_url(model.key), edit_data(model, change_reason="No-op"))
    assert response.status_code == 302
    assert model.history.count() == 1


def test_edit_needs_a_reason(client, personas):
    model = personas.model_a
    response = login(client, personas.owner_a).post(edit_url(model.key), edit_data(model, name="Renamed"))
    assert response.status_code == 400
    assert "change_reason" in response.context["form"].errors
    model.refresh_from_db()
    assert model.name == "Retail PD scorecard"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"business_unit": 999999}, "business_unit"),
        ({"validators": [0]}, "validators"),
        ({"purpose": "p" * 10_001}, "purpose"),
        ({"business_owner": ""}, "business_owner"),
    ],
)
def test_edit_bad_input_writes_nothing(client, personas, overrides, field):
    model = personas.model_a
    response = login(client, personas.owner_a).post(
        edit_url(model.key), edit_data(model, change_reason="Try", **overrides)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert model.history.count() == 1


def test_validator_cannot_be_an_owner_of_the_same_model(client, personas):
    model = personas.model_a
    response = login(client, personas.owner_a).post(
        edit_url(model.key),
        edit_data(model, validators=[personas.owner_a.pk], change_reason="Self-validation"),
    )
    assert response.status_code == 400
    assert "independent" in " ".join(response.context["form"].errors["validators"])
    assert model.history.count() == 1


@pytest.mark.parametrize(("persona", "status"), [("owner_b", 404), ("validator_other", 404), ("no_role", 404)])
def test_edit_of_an_invisible_model_is_a_404(client, personas, persona, status):
    client = login(client, getattr(personas, persona))
    assert client.get(edit_url("RB-0001")).status_code == status
    response = client.post(edit_url("RB-0001"), edit_data(personas.model_a, name="Hijacked", change_reason="x"))
    assert response.status_code == status
    personas.model_a.refresh_from_db()
    assert personas.model_a.name == "Retail PD scorecard"


@pytest.mark.parametrize("persona", ["validator_assigned", "auditor"])
def test_edit_of_a_visible_but_unchangeable_model_is_a_403(client, personas, persona):
    client = login(client, getattr(personas, persona))
    response = client.get(edit_url("RB-0001"))
    assert response.status_code == 403
    assert b"You may read RB-0001 but not change it." in response.content
    response = client.post(edit_url("RB-0001"), edit_data(personas.model_a, name="Hijacked", change_reason="x"))
    assert response.status_code == 403
    personas.model_a.refresh_from_db()
    assert personas.model_a.name == "Retail PD scorecard"


# --- versions ------------------------------------------------------------------------------------------------


def test_owner_adds_a_version(client, personas):
    client = login(client, personas.owner_a)
    assert client.get(version_url("RB-0001")).status_code == 200
    response = client.post(
        version_url("RB-0001"),
        {
            "version": "2.0.0",
            "description": "Refit on 2025 data",
            "artifact_digest": "sha256:" + "b" * 64,
            "metrics": '{"auc": 0.81}',
        },
    )
    assert response.status_code == 302
    version = ModelVersion.objects.get(model=personas.model_a, version="2.0.0")
    assert version.metrics == {"auc": 0.81}
    assert version.created_by == personas.owner_a
    assert "2.0.0" in client.get(detail_url("RB-0001")).content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"version": ""}, "version"),
        ({"version": "two point oh"}, "version"),
        ({"version": "1.0.0", "artifact_digest": "md5:abc"}, "artifact_digest"),
        ({"version": "1.0.0", "metrics": "{not json"}, "metrics"),
        ({"version": "1.0.0", "metrics": '{"auc": "high"}'}, "metrics"),
        ({"version": "1.0.0", "metrics": "[1, 2]"}, "metrics"),
    ],
)
def test_bad_version_input_writes_nothing(client, personas, data, field):
    response = login(client, personas.owner_a).post(version_url("RB-0001"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ModelVersion.objects.exists()


def test_duplicate_version_is_refused(client, personas):
    ModelVersionFactory(model=personas.model_a, version="1.0.0")
    response = login(client, personas.owner_a).post(version_url("RB-0001"), {"version": "1.0.0"})
    assert response.status_code == 400
    assert response.context["form"].errors
    assert ModelVersion.objects.count() == 1


def test_version_create_refusals(client, personas):
    assert login(client, personas.owner_b).get(version_url("RB-0001")).status_code == 404
    assert login(client, personas.validator_assigned).get(version_url("RB-0001")).status_code == 403
    response = client.post(version_url("RB-0001"), {"version": "9.9.9"})
    assert response.status_code == 403
    assert not ModelVersion.objects.exists()


# --- business units ------------------------------------------------------------------------------------------


def test_units_page_shows_the_tree_with_visible_model_counts(client, personas):
    cards = BusinessUnitFactory(code="CARDS", name="Cards", parent=personas.unit, key_prefix="CC")
    RegisteredModelFactory(key="CC-0001", business_unit=cards, business_owner=personas.owner_a)
    RegisteredModelFactory(key="CC-0002", business_unit=cards)

    response = login(client, personas.risk_officer).get(UNITS_URL)
    assert response.status_code == 200
    counts = {unit.code: (unit.depth, unit.model_count, unit.subtree_count) for unit in response.context["units"]}
    assert counts == {"RETAIL": (0, 2, 4), "CARDS": (1, 2, 2)}
    html = response.content.decode()
    assert 'href="/inventory/models/?unit=CARDS"' in html
    assert "tree-depth-1" in html  # a class, not an inline style: the CSP allows none (docs/security.md)

    response = login(client, personas.owner_a).get(UNITS_URL)
    visible_counts = {unit.code: (unit.model_count, unit.subtree_count) for unit in response.context["units"]}
    assert visible_counts == {"RETAIL": (1, 2), "CARDS": (1, 1)}


def test_units_page_counts_with_a_correlated_subquery(client, personas):
    with CaptureQueriesContext(connection) as queries:
        login(client, personas.risk_officer).get(UNITS_URL)
    unit_query = next(q["sql"] for q in queries.captured_queries if 'FROM "inventory_businessunit"' in q["sql"])
    assert "GROUP BY" not in unit_query
    assert unit_query.count("COUNT(") == 2


def test_units_page_search_and_refusal(client, personas):
    BusinessUnitFactory(code="CARDS", name="Cards", parent=personas.unit)
    response = login(client, personas.owner_a).get(UNITS_URL, {"q": "card"})
    assert [unit.code for unit in response.context["units"]] == ["CARDS"]
    response = login(client, personas.no_role).get(UNITS_URL)
    assert response.status_code == 200
    assert list(response.context["units"]) == []
    assert BusinessUnit.objects.count() == 2


# --- display helpers -----------------------------------------------------------------------------------------


def test_display_filters():
    assert display_value(None) == "—"
    assert display_value([]) == "—"
    assert display_value(["pd", "irb"]) == "pd, irb"
    assert display_value(True) == "yes"
    assert tier_label(1) == "Tier 1 (high)"
    assert tier_label(None) == "—"
    assert stage_label("production") == "Production"
    assert regulatory_use_label("fraud") == "Fraud detection"
    assert regulatory_use_label("retired-code") == "retired-code"
    assert field_label(FieldChange("eu_ai_act_category", "EU AI Act category", None, "high_risk")) == (
        "EU AI Act category"
    )
    assert field_label(FieldChange("next_validation_due", "next validation due", None, None)) == ("Next validation due")
