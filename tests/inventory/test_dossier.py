"""The model dossier's tab bar, breadcrumbs and History tab: who sees what, and the refused users."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.services.workflow import version_submit
from inventory.services import registered_model_update
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_2_ANSWERS, approve_tier

pytestmark = pytest.mark.django_db

TAB_URLS = {
    "Overview": ("inventory:model-detail", ""),
    "Risk assessment": ("governance:model", "#tier"),
    "Versions &amp; workflow": ("governance:model", "#versions"),
    "Audits": ("audits:model", ""),
    "Findings": ("governance:model-findings", ""),
    "Lineage": ("inventory:lineage", ""),
    "History": ("inventory:model-history", ""),
    "Ledger": ("governance:model-ledger", ""),
}
# The tab each page marks as the current one, and its last breadcrumb.
PAGES = {
    "inventory:model-detail": ("Overview", None),
    "governance:model": ("Risk assessment", "Risk assessment"),
    "audits:model": ("Audits", "Audits"),
    "governance:model-findings": ("Findings", "Findings"),
    "inventory:lineage": ("Lineage", "Lineage"),
    "inventory:model-history": ("History", "History"),
    "governance:model-ledger": ("Ledger", "Ledger"),
}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tab_bar(page: str) -> str:
    match = re.search(r'<nav class="dossier-tabs".*?</nav>', page, re.S)
    assert match, "the page has no dossier tab bar"
    return match.group(0)


def breadcrumbs(page: str) -> list[str]:
    match = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S)
    assert match
    return [re.sub(r"<[^>]+>|\s+", " ", item).strip() for item in re.findall(r"<li>(.*?)</li>", match.group(0), re.S)]


@pytest.mark.parametrize("url_name", PAGES)
def test_every_tab_page_shows_the_tab_bar_with_its_own_tab_current(personas: Any, url_name: str) -> None:
    key = personas.model_a.key
    response = client_for(personas.owner_a).get(reverse(url_name, args=[key]))
    assert response.status_code == 200
    page = response.content.decode()
    tabs = tab_bar(page)
    for label, (target, anchor) in TAB_URLS.items():
        assert f'href="{reverse(target, args=[key])}{anchor}"' in tabs, label
    current, crumb = PAGES[url_name]
    assert re.findall(r'<a href="[^"]*" aria-current="page">([^<]*)</a>', tabs) == [current]
    assert "dossier.css" in page
    assert page.count("<h1") == 1 and "Retail PD scorecard" in page
    expected = ["Inventory", key] + ([crumb] if crumb else [])
    assert breadcrumbs(page) == expected


@pytest.mark.parametrize("url_name", PAGES)
def test_tab_pages_are_404_for_a_model_the_user_may_not_see(personas: Any, url_name: str) -> None:
    url = reverse(url_name, args=[personas.model_a.key])
    assert client_for(personas.owner_b).get(url).status_code == 404
    assert client_for(personas.no_role).get(url).status_code == 404
    assert client_for(personas.owner_b).get(reverse(url_name, args=["RB-9999"])).status_code == 404
    assert Client().get(url).status_code == 302


def test_history_tab_merges_model_and_version_history_newest_first(personas: Any) -> None:
    model = personas.model_a
    ModelVersionFactory(model=model, version="1.0.0", actor=personas.owner_a)
    registered_model_update(
        actor=personas.owner_a, model=model, changes={"limitations": "Not for SME loans."}, reason="Validation note"
    )
    url = reverse("inventory:model-history", args=[model.key])
    page = client_for(personas.auditor).get(url).content.decode()
    subjects = re.findall(r'<span class="history-subject">([^<]*)</span>', page)
    # Newest first: the record's edit, the version's creation, the record's creation.
    assert subjects == ["Model record", "Version 1.0.0", "Model record"]
    assert "Reason: Validation note" in page and "Not for SME loans." in page
    assert "owner_a" in page


def test_history_tab_is_paginated(personas: Any) -> None:
    model = personas.model_a
    for number in range(3):
        ModelVersionFactory(model=model, version=f"1.{number}.0", actor=personas.owner_a)
    url = reverse("inventory:model-history", args=[model.key])
    client = client_for(personas.owner_a)
    first = client.get(url, {"per_page": 2}).content.decode()
    assert first.count('class="history-subject"') == 2 and 'rel="next"' in first
    last = client.get(url, {"per_page": 2, "page": 2}).content.decode()
    assert last.count('class="history-subject"') == 2 and "Version 1.0.0" in last
    # A page past the end shows the last page rather than an error.
    assert client.get(url, {"per_page": 2, "page": 99}).status_code == 200
    assert client.get(url, {"per_page": "x", "page": "y"}).status_code == 200


def test_history_tab_lists_only_versions_and_models_through_the_gate(personas: Any) -> None:
    ModelVersionFactory(model=personas.model_b, version="9.9.9", actor=personas.owner_b)
    page = client_for(personas.owner_a).get(reverse("inventory:model-history", args=[personas.model_a.key]))
    assert "9.9.9" not in page.content.decode()


def test_history_tab_runs_the_same_queries_for_three_or_nine_versions(personas: Any) -> None:
    approve_tier(personas.model_a, TIER_2_ANSWERS, personas.owner_a, personas.risk_officer)
    client = client_for(personas.risk_officer)
    url = reverse("inventory:model-history", args=[personas.model_a.key])

    def queries_with(versions: int) -> int:
        for number in range(versions - personas.model_a.versions.count()):
            version = ModelVersionFactory(
                model=personas.model_a, version=f"2.{versions}.{number}", actor=personas.owner_a
            )
            version_submit(actor=personas.owner_a, version=version)
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    three, nine = queries_with(3), queries_with(9)
    # The versions' history is one query whatever their number, the related objects it shows come with it.
    assert three == nine
    # Session, user, permission gate, the header's counts, the model, its versions and the two histories.
    assert nine <= 15


def test_lineage_tab_shows_the_header_from_its_plain_data(personas: Any) -> None:
    page = client_for(personas.owner_a).get(reverse("inventory:lineage", args=[personas.model_a.key]))
    header = re.search(r'<header class="dossier-header">.*?</header>', page.content.decode(), re.S)
    assert header and "Retail Banking" in header.group(0) and "Development" in header.group(0)
