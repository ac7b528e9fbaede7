"""Every page in the navigation, and every dossier page of models A and B, rendered for every persona who can sign
in: no server error, the status the role should get, and nothing in the HTML about a model the persona may not see.

The navigation is read from the rendered ``base.html`` (the union over all personas), and the dossier pages from
the links a Risk Officer sees on model A's pages, so a new menu entry or a new dossier tab is walked without
editing this file. Service accounts cannot sign in to the web UI, which the last test checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from core.models import User
from governance.services.findings import finding_raise
from governance.services.workflow import version_submit
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_1_ANSWERS, TIER_2_ANSWERS, approve_tier

PERSONAS = (
    "owner_a",
    "owner_b",
    "validator_assigned",
    "validator_other",
    "risk_officer",
    "auditor",
    "admin",
    "no_role",
)

# Who may see, and who may change, each model (the personas' grants in tests/conftest.py).
SEES = {
    "A": {"owner_a", "validator_assigned", "risk_officer", "auditor", "admin"},
    "B": {"owner_b", "risk_officer", "auditor", "admin"},
}
CHANGES = {
    "A": {"owner_a", "risk_officer", "admin"},
    "B": {"owner_b", "risk_officer", "admin"},
}
KEYS = {"A": "RB-0001", "B": "RB-0002"}

# What gives a model away in a page: its key, its name, and the titles of its findings made below.
TELLTALES = {
    "A": ("RB-0001", "Retail PD scorecard", "Calibration drift on thin files"),
    "B": ("RB-0002", "Card fraud detector", "Fraud threshold drift"),
}

# The one table of expected statuses. Navigation pages answer 200 to everyone unless listed here. Dossier pages
# are "read" pages (200 to whoever sees the model, else 404) unless their path ends in one of the "change"
# suffixes (200 to whoever may change the model, 403 to who only sees it, 404 to the rest).
NAV_STATUS: dict[str, dict[str, int]] = {
    # Django's admin site sends anyone who is not staff to its own sign-in page; only Admins see its nav link.
    "/admin/": {persona: 200 if persona == "admin" else 302 for persona in PERSONAS},
}
DOSSIER_CHANGE_SUFFIXES = ("/edit/", "/versions/new/", "/assess/")


@dataclass(frozen=True)
class Expected:
    """A page and the status one persona must get for it."""

    url: str
    status: int


def dossier_status(url: str, persona: str, model: str) -> int:
    """The status a persona gets for a page of model ``model``'s dossier, by the rule above NAV_STATUS."""
    if persona not in SEES[model]:
        return 404
    if urlsplit(url).path.endswith(DOSSIER_CHANGE_SUFFIXES):
        return 200 if persona in CHANGES[model] else 403
    return 200


class LinkParser(HTMLParser):
    """Collects the ``href`` of links, either all of them or only those inside ``<nav aria-label="Main">``."""

    def __init__(self, *, main_nav_only: bool) -> None:
        super().__init__()
        self.main_nav_only = main_nav_only
        self.nav_depth = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "nav" and (self.nav_depth or attributes.get("aria-label") == "Main"):
            self.nav_depth += 1
        elif tag == "a" and attributes.get("href") and (self.nav_depth or not self.main_nav_only):
            self.links.append(str(attributes["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.nav_depth:
            self.nav_depth -= 1


def links(html: str, *, main_nav_only: bool) -> list[str]:
    parser = LinkParser(main_nav_only=main_nav_only)
    parser.feed(html)
    return parser.links


@pytest.fixture
def governed(personas: Any) -> Any:
    """Both models tiered, each with a submitted version and an open finding, so the queue, findings, ledger,
    notifications and dashboard all have something about each model that could leak."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    approve_tier(personas.model_b, TIER_2_ANSWERS, personas.owner_b, personas.risk_officer)
    for model, owner, label in (
        (personas.model_a, personas.owner_a, "2.0.0"),
        (personas.model_b, personas.owner_b, "5.0.0"),
    ):
        version = ModelVersionFactory(model=model, version=label, actor=owner)
        version_submit(actor=owner, version=version, comment="Ready for validation.")
    due = dt.date.today() + dt.timedelta(days=30)
    for model, title in ((personas.model_a, TELLTALES["A"][2]), (personas.model_b, TELLTALES["B"][2])):
        finding_raise(actor=personas.risk_officer, model=model, title=title, severity="high", due_date=due)
    return personas


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def nav_pages(personas: Any) -> list[str]:
    """The union of the main navigation's links over all personas, as each of them sees it rendered."""
    found: dict[str, None] = {}
    for persona in PERSONAS:
        response = client_for(getattr(personas, persona)).get(reverse("home"), follow=True)
        assert response.status_code == 200, persona
        for href in links(response.content.decode(), main_nav_only=True):
            found.setdefault(urlsplit(href).path)
    return list(found)


def dossier_pages(personas: Any) -> list[str]:
    """Model A's dossier pages: the known entry points and every page they link to under the model's key, as a
    Risk Officer (who sees every tab and action) finds them. Paths only: a tab is a page, a fragment is not."""
    key = KEYS["A"]
    seeds = [
        reverse("inventory:model-detail", args=[key]),
        reverse("governance:model", args=[key]),
        reverse("audits:model", args=[key]),
        reverse("inventory:lineage", args=[key]),
    ]
    client = client_for(personas.risk_officer)
    found: dict[str, None] = dict.fromkeys(seeds)
    for seed in seeds:
        response = client.get(seed)
        assert response.status_code == 200, seed
        for href in links(response.content.decode(), main_nav_only=False):
            parts = urlsplit(href)
            if parts.netloc or parts.path.startswith(("/admin/", "/api/")) or f"/{key}/" not in parts.path:
                continue
            found.setdefault(parts.path + (f"?{parts.query}" if parts.query else ""))
    return list(found)


def walk(personas: Any) -> Iterable[tuple[str, Expected]]:
    """Every (persona, page, expected status) the test checks."""
    pages = nav_pages(personas)
    dossier = dossier_pages(personas)
    for persona in PERSONAS:
        for url in pages:
            yield persona, Expected(url, NAV_STATUS.get(url, {}).get(persona, 200))
        for model, key in KEYS.items():
            for url in dossier:
                url = url.replace(KEYS["A"], key)
                yield persona, Expected(url, dossier_status(url, persona, model))


def test_every_page_renders_for_every_role_and_shows_only_what_it_may(governed: Any) -> None:
    personas = governed
    clients = {persona: client_for(getattr(personas, persona)) for persona in PERSONAS}
    problems: list[str] = []
    checked = 0
    for persona, expected in walk(personas):
        response = clients[persona].get(expected.url)
        checked += 1
        if response.status_code != expected.status:
            problems.append(f"{persona} GET {expected.url}: {response.status_code}, expected {expected.status}")
            continue
        if response.status_code == 302:
            continue
        html = response.content.decode(errors="replace")
        for model, telltales in TELLTALES.items():
            if persona in SEES[model]:
                continue
            problems.extend(f"{persona} GET {expected.url} shows {text!r}" for text in telltales if text in html)
    assert not problems, "\n".join(problems)
    # At least the twelve nav pages and four dossier pages per model of this file's first version, for everyone.
    assert checked >= len(PERSONAS) * (12 + 2 * 4)


def test_the_walk_covers_the_navigation_and_the_dossier_tabs(governed: Any) -> None:
    pages = nav_pages(governed)
    for name in (
        "dashboard:home",
        "inventory:model-list",
        "governance:queue",
        "governance:ledger",
        "reports:downloads",
    ):
        assert reverse(name) in pages
    assert "/admin/" in pages  # shown to Admins only, walked for everyone
    dossier = dossier_pages(governed)
    assert reverse("inventory:model-edit", args=["RB-0001"]) in dossier
    assert reverse("audits:model", args=["RB-0001"]) in dossier


@pytest.mark.parametrize("persona", ["ci_scoped", "ci_unscoped"])
def test_service_accounts_cannot_sign_in_to_the_pages(personas: Any, persona: str) -> None:
    client = Client()
    response = client.post(
        reverse("login"), {"username": getattr(personas, persona).username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 200  # the sign-in form again, with its error
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("inventory:model-list")).status_code == 302
