"""The inventory's tag filter reads a rare tag from its own models and a common one by walking the inventory; both
list the same models as a plain join to the tags, in the same order, with the same count (docs/performance.md,
"A rare tag")."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from core.filtersets import InCollectedRows
from inventory import filtersets, selectors
from inventory.filtersets import RegisteredModelFilterSet
from inventory.models import RegisteredModel
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models/"


@pytest.fixture
def tagged(personas: Any) -> list[RegisteredModel]:
    """Nine models: "common" on six, "rare" on two, "both" on the models carrying both, one without a tag."""
    made = []
    for number in range(9):
        tags = (["common"] if number < 6 else []) + (["rare"] if number in (4, 7) else [])
        made.append(
            RegisteredModelFactory(
                name=f"Tagged {number}", business_unit=personas.unit, business_owner=personas.owner_a, tags=tags
            )
        )
    return made


def listed(user: Any, query: dict[str, str]) -> tuple[list[str], int | None]:
    visible = selectors.registered_model_filter_base(user=user)
    filtered = RegisteredModelFilterSet(query, queryset=visible).qs
    page, total = selectors.registered_model_records(filtered, offset=0, limit=4, count_up_to=1000)
    return [row["key"] for row in page], total


def joined(user: Any, tag: str, **filters: Any) -> list[str]:
    visible = selectors.registered_model_filter_base(user=user)
    return list(visible.filter(tags__name=tag, **filters).order_by("key").values_list("key", flat=True))


@pytest.mark.parametrize("cap", [0, 1, 2, 5, 6, 2000], ids=lambda cap: f"collected-up-to-{cap}")
@pytest.mark.parametrize("tag", ["common", "rare", "RARE "])
def test_either_reading_lists_what_a_join_to_the_tags_lists(
    personas: Any, tagged: Any, monkeypatch: Any, cap: int, tag: str
) -> None:
    monkeypatch.setattr(filtersets, "COLLECTED_TAG_MODELS", cap)
    expected = joined(personas.risk_officer, tag.strip().lower())
    assert expected  # the fixture gives each tag models

    keys, total = listed(personas.risk_officer, {"tag": tag})

    assert keys == expected[:4]
    assert total == len(expected)


@pytest.mark.parametrize("cap", [0, 2000])
def test_the_tag_combines_with_the_other_filters_and_the_callers_scope(
    personas: Any, tagged: Any, monkeypatch: Any, cap: int
) -> None:
    monkeypatch.setattr(filtersets, "COLLECTED_TAG_MODELS", cap)
    tier = tagged[4].risk_tier
    assert listed(personas.risk_officer, {"tag": "rare", "tier": str(tier)})[0] == joined(
        personas.risk_officer, "rare", risk_tier=tier
    )
    # An owner who owns none of the tagged models sees none of them, whichever way the tag is read.
    assert joined(personas.owner_b, "common") == []
    assert listed(personas.owner_b, {"tag": "common"}) == ([], None)


@pytest.mark.parametrize("tag", ["no-such-tag", "unused"])
def test_a_tag_on_no_model_lists_nothing_in_one_query(personas: Any, tagged: Any, tag: str) -> None:
    from inventory.models import Tag

    Tag.objects.get_or_create(name="unused")
    visible = selectors.registered_model_filter_base(user=personas.risk_officer)
    with CaptureQueriesContext(connection) as queries:
        filtered = RegisteredModelFilterSet({"tag": tag}, queryset=visible).qs
        assert selectors.registered_model_records(filtered, offset=0, limit=4, count_up_to=1000) == ([], None)
    assert len(queries) == 1, [query["sql"] for query in queries]


def test_the_api_lists_a_rare_tag_in_three_queries(personas: Any, tagged: Any, api_client_for: Any) -> None:
    client = api_client_for(personas.risk_officer)
    client.get(MODELS, {"tag": "rare"})  # warms what a process reads once (content types, the token's use)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(MODELS, {"tag": "rare"})
    assert response.status_code == 200
    assert [row["key"] for row in response.json()["results"]] == joined(personas.risk_officer, "rare")
    page_sql = queries[-1]["sql"]
    # The rare tag's models are collected before the inventory is read (see InCollectedRows).
    collected = "= ANY(ARRAY(SELECT" if connection.vendor == "postgresql" else " IN (SELECT"
    assert collected in page_sql
    assert len(queries) <= 3, [query["sql"] for query in queries]


def test_collected_rows_compile_to_an_array_on_postgresql_and_to_in_elsewhere(personas: Any, tagged: Any) -> None:
    rare = RegisteredModel.tags.through.objects.filter(tag__name="rare").values("registeredmodel_id")
    queryset = RegisteredModel.objects.filter(InCollectedRows(F("pk"), rare)).order_by("key")
    sql = str(queryset.query)

    assert list(queryset.values_list("key", flat=True)) == [tagged[4].key, tagged[7].key]
    if connection.vendor == "postgresql":
        assert '"inventory_registeredmodel"."id" = ANY(ARRAY(SELECT' in sql
    else:
        assert '"inventory_registeredmodel"."id" IN (SELECT' in sql
