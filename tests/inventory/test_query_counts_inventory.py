"""The inventory list at scale keeps its contract: the fast record equals the documented serializer's, the count
is exact up to the cap and says so beyond it, paging past the cap still works, and the inventory page reads a
page in a fixed number of queries whatever the page size (docs/performance.md, "After the inventory fixes")."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from inventory import selectors
from inventory.api import pagination
from inventory.api.serializers import RegisteredModelOutputSerializer, registered_model_record
from inventory.api.views import RegisteredModelViewSet
from inventory.filtersets import RegisteredModelFilterSet
from inventory.models import RegisteredModel
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models/"
LIST_URL = "/inventory/models/"


@pytest.fixture
def catalogue(personas: Any) -> list[RegisteredModel]:
    """Seven more models with tags, validators and owners that differ, one without tags or validators."""
    made = [
        RegisteredModelFactory(
            name=f"Scale {number}",
            business_unit=personas.unit,
            business_owner=personas.owner_a,
            technical_owner=personas.owner_b,
            tags=["zeta", f"n{number}", "alpha"],
            validators=[personas.validator_other, personas.validator_assigned],
            regulatory_uses=["regulatory_capital", "credit_decision"] if number % 2 else [],
        )
        for number in range(6)
    ]
    made.append(RegisteredModelFactory(name="Bare", business_unit=personas.unit, business_owner=personas.owner_b))
    return made


def test_fast_record_equals_the_serializer(personas: Any, catalogue: Any, api_client_for: Any) -> None:
    request = APIRequestFactory().get(MODELS)
    request.user = personas.risk_officer
    context = {"request": request}
    rows, _ = selectors.registered_model_records(selectors.registered_model_filter_base(user=personas.risk_officer))
    view = RegisteredModelViewSet(request=request, format_kwarg=None, action="list", kwargs={})
    objects = {model.key: model for model in view.get_queryset()}
    assert len(rows) == len(objects) == 9
    for row in rows:
        assert registered_model_record(row, context) == dict(
            RegisteredModelOutputSerializer(objects[row["key"]], context=context).data
        )
    # And through HTTP: list and detail answer the same record.
    client = api_client_for(personas.risk_officer)
    listed = {row["key"]: row for row in client.get(MODELS).json()["results"]}
    for key in (personas.model_a.key, catalogue[-1].key):
        assert client.get(f"{MODELS}{key}/").json() == listed[key]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"ordering": "-key"},
        {"ordering": "name"},
        {"ordering": "-tier"},
        {"ordering": "stage,-updated"},
        {"ordering": "next_validation_due"},
        {"tag": "zeta", "ordering": "-name"},
    ],
)
def test_a_page_equals_the_same_rows_of_the_whole_read(personas: Any, catalogue: Any, query: dict[str, str]) -> None:
    # A page is read with a statement compiled once per ordering; the whole read is compiled by the ORM each time.
    visible = selectors.registered_model_filter_base(user=personas.risk_officer)
    filtered = RegisteredModelFilterSet(query, queryset=visible).qs
    whole, _ = selectors.registered_model_records(filtered)

    page, total = selectors.registered_model_records(filtered, offset=2, limit=3, count_up_to=1000)

    assert len(whole) > 5
    assert page == whole[2:5]
    assert total == len(whole)


def test_an_empty_page_has_no_rows_and_no_total(personas: Any, catalogue: Any) -> None:
    visible = selectors.registered_model_filter_base(user=personas.risk_officer)
    filtered = RegisteredModelFilterSet({"tag": "no-such-tag"}, queryset=visible).qs

    assert selectors.registered_model_records(filtered, offset=0, limit=3, count_up_to=1000) == ([], None)
    assert selectors.registered_model_records(visible.none(), offset=0, limit=3, count_up_to=1000) == ([], None)


def test_count_is_exact_up_to_the_cap_then_a_lower_bound(
    personas: Any, catalogue: Any, api_client_for: Any, monkeypatch: Any
) -> None:
    client = api_client_for(personas.auditor)
    exact = client.get(MODELS, {"page_size": 2}).json()
    assert (exact["count"], exact["count_exact"]) == (9, True)

    monkeypatch.setattr(pagination.CappedCountPagination, "count_cap", 4)
    first = client.get(MODELS, {"page_size": 2}).json()
    assert (first["count"], first["count_exact"]) == (4, False)
    # Paging goes on past the cap, and the last page knows the exact total.
    keys, page = [], first
    while True:
        keys += [row["key"] for row in page["results"]]
        if page["next"] is None:
            break
        page = client.get(page["next"]).json()
    assert keys == sorted(RegisteredModel.objects.values_list("key", flat=True))
    assert (page["count"], page["count_exact"]) == (9, True)
    assert page["previous"] is not None
    assert client.get(MODELS, {"page_size": 2, "page": 6}).status_code == 404
    assert client.get(MODELS, {"page_size": 2, "page": "last"}).json()["results"][0]["key"] == keys[-1]


def test_keyset_paging_walks_every_visible_model_once_with_filters_and_a_fixed_query_count(
    personas: Any, catalogue: Any, api_client_for: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(pagination.CappedCountPagination, "count_cap", 4)
    client = api_client_for(personas.auditor)
    # An empty key starts the walk at the first row.
    keys, page_json, queries = [], client.get(MODELS, {"after": "", "page_size": 2}).json(), set()
    while True:
        keys += [row["key"] for row in page_json["results"]]
        assert page_json["previous"] is None
        if page_json["next"] is None:
            break
        assert "after=" in page_json["next"] and "page=" not in page_json["next"]
        with CaptureQueriesContext(connection) as captured:
            page_json = client.get(page_json["next"]).json()
        queries.add(len(captured.captured_queries))
    assert keys == sorted(RegisteredModel.objects.values_list("key", flat=True))
    # The last page counts itself; every page costs the same number of queries however deep it starts.
    assert (page_json["count"], page_json["count_exact"]) == (1, True)
    assert len(queries) <= 2  # a page with a capped count, or the last page without one
    # Filters narrow the walk; a model the caller may not see is never listed after a key.
    tagged = client.get(MODELS, {"after": catalogue[0].key, "tag": "alpha"}).json()
    assert [row["key"] for row in tagged["results"]] == [model.key for model in catalogue[1:6]]
    scoped = api_client_for(personas.ci_scoped).get(MODELS, {"after": "A"}).json()
    assert [row["key"] for row in scoped["results"]] == [personas.model_a.key]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"after": "RB-0001", "page": "2"}, "not both"),
        ({"after": "RB-0001", "ordering": "-key"}, "key order"),
        ({"after": "RB-0001", "ordering": "name"}, "key order"),
        ({"after": "x" * 201}, "last row"),
        ({"after": "RB-0001", "as_of": "2026-01-01"}, "as_of"),
    ],
)
def test_keyset_paging_refuses_what_it_cannot_honour(
    personas: Any, api_client_for: Any, params: dict[str, str], message: str
) -> None:
    response = api_client_for(personas.risk_officer).get(MODELS, params)
    assert response.status_code == 400
    assert message in str(response.json()["after"])


def test_a_page_is_counted_in_its_own_query_two_queries_with_a_token(
    personas: Any, catalogue: Any, api_client_for: Any
) -> None:
    client = api_client_for(personas.auditor)
    client.get(MODELS)
    for params, expected in (({}, (9, True)), ({"page_size": 2}, (9, True)), ({"page_size": 2, "page": 5}, (9, True))):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(MODELS, params).json()
        assert (body["count"], body["count_exact"]) == expected
        # The token with its user and their permissions, and the page whose query also counts the list up to the cap.
        assert len(queries.captured_queries) == 2, [query["sql"][:80] for query in queries.captured_queries]
        page_query = queries.captured_queries[-1]["sql"]
        assert "capped" in page_query and '"inventory_registeredmodel"."key"' in page_query


def test_schema_documents_the_capped_count() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    page = schema["components"]["schemas"]["PaginatedRegisteredModelOutputList"]
    assert {"count", "count_exact", "next", "previous", "results"} == set(page["properties"])
    assert "at least" in page["properties"]["count"]["description"]


def test_inventory_page_past_the_cap_says_many(client: Any, personas: Any, catalogue: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(selectors, "INVENTORY_COUNT_CAP", 4)
    client.force_login(personas.risk_officer, backend="core.authentication.PersonModelBackend")
    response = client.get(LIST_URL, {"per_page": 2})
    html = response.content.decode()
    assert "More than <strong>4</strong> models, showing 1\N{EN DASH}2" in html
    assert "Page 1 of many" in html
    last = client.get(LIST_URL, {"per_page": 2, "page": 5})
    assert last.context["page_obj"].count_exact and last.context["page_obj"].count == 9
    assert "Page 5 of 5" in last.content.decode()
    # A page past the end shows the last page, as before.
    assert client.get(LIST_URL, {"per_page": 2, "page": 99}).context["page_obj"].number == 5


def test_inventory_page_queries_do_not_grow_with_page_size_or_rows(client: Any, personas: Any, catalogue: Any) -> None:
    client.force_login(personas.risk_officer, backend="core.authentication.PersonModelBackend")
    client.get(LIST_URL)
    counts = []
    for size, extra in ((2, 0), (10, 6)):
        for number in range(extra):
            RegisteredModelFactory(
                name=f"More {number}", business_unit=personas.unit, business_owner=personas.owner_a, tags=["x"]
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST_URL, {"per_page": size, "tag": ""})
        assert len(response.context["page_obj"].object_list) == size
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
