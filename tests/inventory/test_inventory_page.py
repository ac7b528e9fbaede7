"""The inventory page for a risk officer's morning: compliance status filter and column, saved views, column
choice, and the bulk-action controls (the bulk writes themselves are tested in tests/governance).

Saved views are private: another person's view is a 404 whatever their role.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.choices import AuditKind, RunStatus
from audits.compliance import ComplianceState
from audits.models import AuditRun, ComplianceStatus
from inventory.filtersets import COMPLIANCE_CHOICES, COMPLIANCE_UNKNOWN
from inventory.models import DEFAULT_INVENTORY_COLUMNS, INVENTORY_COLUMNS, RegisteredModel, SavedView
from inventory.services import saved_views
from inventory.views import COLUMNS_SESSION_KEY
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("inventory:model-list")
COLUMNS_URL = reverse("inventory:model-columns")
SAVE_URL = reverse("inventory:saved-view-create")
SAVED_LIST_URL = reverse("inventory:saved-views")
API_MODELS = "/api/v1/models/"
ALL_COLUMNS = [code for code, _ in INVENTORY_COLUMNS]
_keys = itertools.count()


def login(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def listed(response: Any) -> list[str]:
    return [model.key for model in response.context["page_obj"]]


def sweep(finished: dt.datetime, statuses: dict[Any, tuple[str, str]], status: str = RunStatus.FAILED) -> AuditRun:
    """A finished compliance sweep with ``{model: (status, rule_ids)}``."""
    run = AuditRun.objects.create(
        kind=AuditKind.COMPLIANCE,
        status=status,
        idempotency_key=f"inventory-page-{next(_keys)}",
        requested_at=finished,
        finished_at=finished,
    )
    for model, (state, rule_ids) in statuses.items():
        ComplianceStatus.objects.create(run=run, model=model, status=state, rule_ids=rule_ids, evaluated_at=finished)
    return run


@pytest.fixture
def swept(personas: Any) -> Any:
    """An older sweep with A non-compliant; the latest with A compliant and B breaking CMP-003 and CMP-005; a
    newer sweep that errored (ignored); and model C registered after the sweeps (unknown)."""
    now = timezone.now()
    sweep(now - dt.timedelta(days=2), {personas.model_a: ("non_compliant", ",CMP-001,")})
    sweep(
        now - dt.timedelta(days=1),
        {personas.model_a: ("compliant", ""), personas.model_b: ("non_compliant", ",CMP-003,CMP-005,")},
    )
    sweep(now, {personas.model_a: ("non_compliant", ",CMP-009,")}, status=RunStatus.ERROR)
    personas.model_c = RegisteredModelFactory(
        key="RB-0003", name="Collections rules", business_unit=personas.unit, business_owner=personas.owner_a
    )
    return personas


# --- compliance filter and column ------------------------------------------------------------------------------


def test_compliance_choices_follow_the_audit_states() -> None:
    values = {value for value, _ in COMPLIANCE_CHOICES}
    assert values - {COMPLIANCE_UNKNOWN} == set(ComplianceState.values)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"compliance": "compliant"}, ["RB-0001"]),
        ({"compliance": "non_compliant"}, ["RB-0002"]),
        ({"compliance": "unknown"}, ["RB-0003"]),
        ({"compliance": ["compliant", "unknown"]}, ["RB-0001", "RB-0003"]),
        ({"compliance": "exempt"}, []),
        ({"breaks": "CMP-003"}, ["RB-0002"]),
        ({"breaks": "CMP-005", "compliance": "non_compliant"}, ["RB-0002"]),
        # Only the latest finished sweep counts: A broke CMP-001 before and CMP-009 in a sweep that errored.
        ({"breaks": "CMP-001"}, []),
        ({"breaks": "CMP-009"}, []),
    ],
)
def test_compliance_filter_reads_the_latest_finished_sweep(
    client: Any, swept: Any, query: dict, expected: list
) -> None:
    response = login(client, swept.risk_officer).get(LIST_URL, query)
    assert response.status_code == 200
    assert response.context["filters_valid"]
    assert listed(response) == expected


def test_the_api_shares_the_compliance_filter(swept: Any, api_client_for: Any) -> None:
    response = api_client_for(swept.risk_officer).get(API_MODELS, {"breaks": "CMP-003"})
    assert response.status_code == 200
    assert [row["key"] for row in response.json()["results"]] == ["RB-0002"]
    bad = api_client_for(swept.risk_officer).get(API_MODELS, {"compliance": "green"})
    assert bad.status_code == 400
    assert "not one of the available choices" in bad.json()["compliance"][0]


@pytest.mark.parametrize(
    ("query", "field"), [({"compliance": "green"}, "compliance"), ({"breaks": "CMP-3; drop"}, "breaks")]
)
def test_a_bad_compliance_filter_is_shown_on_its_field_and_lists_nothing(
    client: Any, swept: Any, query: dict, field: str
) -> None:
    response = login(client, swept.risk_officer).get(LIST_URL, query)
    assert not response.context["filters_valid"]
    assert field in response.context["form"].errors
    assert listed(response) == []


def test_before_any_sweep_every_model_is_unknown(client: Any, personas: Any) -> None:
    response = login(client, personas.risk_officer).get(LIST_URL, {"compliance": "unknown"})
    assert listed(response) == ["RB-0001", "RB-0002"]
    assert "Unknown" in response.content.decode()


def test_the_compliance_column_shows_each_models_latest_status(client: Any, swept: Any) -> None:
    response = login(client, swept.risk_officer).get(LIST_URL)
    labels = {model.key: model.compliance_label for model in response.context["rows"]}
    assert labels == {"RB-0001": "Compliant", "RB-0002": "Non-compliant", "RB-0003": ""}
    assert '<th scope="col">Compliance</th>' in response.content.decode()


def test_the_owner_sees_only_their_models_with_the_compliance_filter(client: Any, swept: Any) -> None:
    response = login(client, swept.owner_b).get(LIST_URL, {"compliance": ["compliant", "non_compliant", "unknown"]})
    assert listed(response) == ["RB-0002"]


# --- query count -----------------------------------------------------------------------------------------------


def test_first_page_query_count_does_not_grow_with_the_inventory(client: Any, personas: Any) -> None:
    """All columns on, a bulk-action user, a sweep covering every model: 30 and 60 models cost the same."""
    login(client, personas.risk_officer)
    session = client.session
    session[COLUMNS_SESSION_KEY] = ALL_COLUMNS
    session.save()
    saved_views.saved_view_create(actor=personas.risk_officer, name="Mine", query="tier=1", columns=["key"])
    counts = {}
    created = 2
    for total in (30, 60):
        for number in range(created, total):
            RegisteredModelFactory(
                name=f"Bulk {number}", business_unit=personas.unit, business_owner=personas.owner_b, tags=["pd", "x"]
            )
        created = total
        ComplianceStatus.objects.all().delete()
        AuditRun.objects.all().delete()
        sweep(timezone.now(), {model: ("compliant", "") for model in RegisteredModel.objects.all()})
        client.get(LIST_URL)  # warm per-process caches (content types, permissions)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST_URL, {"per_page": 25, "compliance": "compliant"})
        assert response.status_code == 200
        assert response.context["page_obj"].paginator.count == total
        counts[total] = len(queries.captured_queries)
    assert counts[30] == counts[60]


# --- column choice ---------------------------------------------------------------------------------------------


def test_the_default_columns_are_shown(client: Any, personas: Any) -> None:
    response = login(client, personas.owner_a).get(LIST_URL)
    assert response.context["columns"] == list(DEFAULT_INVENTORY_COLUMNS)


def test_choosing_columns_keeps_them_for_the_session_and_keeps_the_filters(client: Any, personas: Any) -> None:
    login(client, personas.risk_officer)
    response = client.post(COLUMNS_URL, {"columns": ["name", "tier", "key"], "query": "stage=development&page=2"})
    assert response.status_code == 302
    assert response.url == f"{LIST_URL}?stage=development"
    page = client.get(response.url)
    assert page.context["columns"] == ["key", "name", "tier"]
    headers = [label for _, label in page.context["column_headers"]]
    assert headers == ["Key", "Name", "Risk tier"]
    assert "Business unit" not in page.content.decode().split("<table>")[1]


@pytest.mark.parametrize(
    ("columns", "message"),
    [([], "Choose at least the key or the name."), (["tier", "tags"], "Choose the key or the name")],
)
def test_a_column_choice_without_a_link_is_refused_on_its_field(
    client: Any, personas: Any, columns: list, message: str
) -> None:
    login(client, personas.risk_officer)
    response = client.post(COLUMNS_URL, {"columns": columns})
    assert response.status_code == 400
    assert message in " ".join(response.context["columns_form"].errors["columns"])
    assert COLUMNS_SESSION_KEY not in client.session
    assert 'id="id_columns_columns_0"' in response.content.decode()


def test_an_unknown_column_is_refused(client: Any, personas: Any) -> None:
    login(client, personas.risk_officer)
    response = client.post(COLUMNS_URL, {"columns": ["key", "salary"]})
    assert response.status_code == 400
    assert "columns" in response.context["columns_form"].errors


def test_a_stale_column_choice_falls_back_to_the_defaults(client: Any, personas: Any) -> None:
    login(client, personas.owner_a)
    session = client.session
    session[COLUMNS_SESSION_KEY] = ["vanished"]
    session.save()
    assert client.get(LIST_URL).context["columns"] == list(DEFAULT_INVENTORY_COLUMNS)


def test_name_without_key_becomes_the_row_link(client: Any, personas: Any) -> None:
    login(client, personas.owner_a)
    client.post(COLUMNS_URL, {"columns": ["name", "stage"]})
    html = client.get(LIST_URL).content.decode()
    assert f'<th scope="row"><a href="{reverse("inventory:model-detail", args=["RB-0001"])}">Retail PD' in html


# --- saved views -----------------------------------------------------------------------------------------------


def test_saving_and_applying_a_view(client: Any, personas: Any) -> None:
    login(client, personas.risk_officer)
    client.post(COLUMNS_URL, {"columns": ["key", "name", "compliance"]})
    response = client.post(SAVE_URL, {"name": "Tier 1 overdue", "query": "tier=1&validation_overdue=true&page=3"})
    assert response.status_code == 302
    view = SavedView.objects.get(owner=personas.risk_officer)
    assert (view.name, view.query, view.columns) == (
        "Tier 1 overdue",
        "tier=1&validation_overdue=true",
        [
            "key",
            "name",
            "compliance",
        ],
    )
    # Another column choice later; applying the view brings its columns and filters back.
    client.post(COLUMNS_URL, {"columns": ["key"]})
    listing = client.get(LIST_URL)
    assert [(v.pk, v.name) for v in listing.context["saved_views"]] == [(view.pk, "Tier 1 overdue")]
    applied = client.get(LIST_URL, {"saved": view.pk})
    assert applied.status_code == 302
    assert applied.url == f"{LIST_URL}?tier=1&validation_overdue=true"
    assert client.get(applied.url).context["columns"] == ["key", "name", "compliance"]


@pytest.mark.parametrize(
    ("name", "message"), [("", "This field is required."), ("  ", "This field is required."), ("Mine", "already")]
)
def test_a_bad_name_is_shown_next_to_the_field_and_nothing_is_saved(
    client: Any, personas: Any, name: str, message: str
) -> None:
    saved_views.saved_view_create(actor=personas.owner_a, name="mine", query="", columns=["key"])
    login(client, personas.owner_a)
    response = client.post(SAVE_URL, {"name": name, "query": "stage=production"})
    assert response.status_code == 400
    assert message in " ".join(response.context["save_form"].errors["name"])
    assert SavedView.objects.count() == 1
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and 'id="id_save_name"' in html
    # The page keeps the filters that were being saved.
    assert response.context["query"] == "stage=production"


def test_another_persons_view_is_a_404_to_apply_rename_or_delete(client: Any, personas: Any) -> None:
    theirs = saved_views.saved_view_create(actor=personas.owner_b, name="B's", query="tier=1", columns=["key"])
    for user in (personas.owner_a, personas.risk_officer, personas.admin, personas.auditor):
        login(client, user)
        assert client.get(LIST_URL, {"saved": theirs.pk}).status_code == 404
        rename = client.post(reverse("inventory:saved-view-rename", args=[theirs.pk]), {"name": "Stolen"})
        assert rename.status_code == 404
        assert client.post(reverse("inventory:saved-view-delete", args=[theirs.pk])).status_code == 404
        assert client.get(LIST_URL).context["saved_views"] == []
        assert "B&#x27;s" not in client.get(SAVED_LIST_URL).content.decode()
    theirs.refresh_from_db()
    assert theirs.name == "B's"
    assert client.get(LIST_URL, {"saved": "x1"}).status_code == 404


def test_the_owner_renames_and_deletes_their_view(client: Any, personas: Any) -> None:
    mine = saved_views.saved_view_create(actor=personas.owner_a, name="Old", query="", columns=["key"])
    other = saved_views.saved_view_create(actor=personas.owner_a, name="Other", query="", columns=["key"])
    login(client, personas.owner_a)
    assert client.get(SAVED_LIST_URL).status_code == 200
    taken = client.post(reverse("inventory:saved-view-rename", args=[mine.pk]), {"name": "other"})
    assert taken.status_code == 400
    assert "already" in taken.content.decode()
    mine.refresh_from_db()
    assert mine.name == "Old"
    renamed = client.post(reverse("inventory:saved-view-rename", args=[mine.pk]), {"name": "New"})
    assert renamed.status_code == 302
    mine.refresh_from_db()
    assert mine.name == "New"
    assert client.post(reverse("inventory:saved-view-delete", args=[mine.pk])).status_code == 302
    assert list(SavedView.objects.values_list("pk", flat=True)) == [other.pk]


def test_the_services_refuse_anyone_but_the_owner(personas: Any) -> None:
    view = saved_views.saved_view_create(actor=personas.owner_a, name="A", query="", columns=["key"])
    with pytest.raises(PermissionDenied):
        saved_views.saved_view_rename(actor=personas.admin, view=view, name="B")
    with pytest.raises(PermissionDenied):
        saved_views.saved_view_delete(actor=personas.risk_officer, view=view)
    assert SavedView.objects.filter(pk=view.pk, name="A").exists()


def test_the_service_reports_every_bad_field_at_once(personas: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        saved_views.saved_view_create(actor=personas.owner_a, name="", query="q=" + "x" * 3000, columns=["tags"])
    assert set(raised.value.message_dict) == {"name", "query", "columns"}
    assert not SavedView.objects.exists()


def test_the_same_name_is_fine_for_two_people(personas: Any) -> None:
    saved_views.saved_view_create(actor=personas.owner_a, name="Mine", query="", columns=["key"])
    saved_views.saved_view_create(actor=personas.owner_b, name="Mine", query="", columns=["key"])
    assert SavedView.objects.count() == 2


# --- bulk-action controls --------------------------------------------------------------------------------------


def test_bulk_controls_are_offered_to_risk_officers_only(client: Any, personas: Any) -> None:
    officer = login(client, personas.risk_officer).get(LIST_URL)
    html = officer.content.decode()
    assert officer.context["can_bulk"]
    assert reverse("governance:bulk-action") in html
    assert 'name="models" value="RB-0001"' in html
    assert "Models, page 1 of 1, 0 selected" in html
    assert [person.username for person in officer.context["bulk_validators"]] == [
        "validator_assigned",
        "validator_other",
    ]
    for user in (personas.owner_a, personas.auditor, personas.validator_assigned):
        page = login(client, user).get(LIST_URL)
        assert not page.context["can_bulk"]
        assert reverse("governance:bulk-action") not in page.content.decode()
        assert 'name="models"' not in page.content.decode()


def test_select_all_ticks_every_row_of_the_page_and_names_the_count(client: Any, personas: Any) -> None:
    response = login(client, personas.risk_officer).get(LIST_URL, {"select": "page"})
    html = response.content.decode()
    ticked = re.findall(r'name="models" value="([^"]+)" id="[^"]+" checked>', html)
    assert ticked == ["RB-0001", "RB-0002"]
    assert "Models, page 1 of 1, 2 selected" in html
