"""The header's main navigation: which pages each role sees first, and which wait under "More".

Every signed-in person is offered every page (each page refuses or narrows what it shows by itself); the role only
decides which links sit in the bar and which in the "More" list, so a laptop screen shows one row of links.
Pure functions over role names: the context processor in ``core.context_processors`` feeds them the request.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.urls import reverse

from core.roles import ADMIN, AUDITOR, MODEL_OWNER, RISK_OFFICER, VALIDATOR


@dataclass(frozen=True)
class Page:
    """A page the navigation can link to, and the requests (by URL namespace or name) it is the current page of."""

    key: str
    label: str
    url_name: str
    namespaces: frozenset[str] = frozenset()
    url_names: frozenset[str] = frozenset()
    excluded_url_names: frozenset[str] = frozenset()
    staff_only: bool = False

    def is_current(self, namespace: str, url_name: str) -> bool:
        if url_name in self.excluded_url_names:
            return False
        return namespace in self.namespaces or url_name in self.url_names


@dataclass(frozen=True)
class Link:
    """One rendered navigation entry."""

    key: str
    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class Navigation:
    """The bar's links in page order, then the rest under "More" (``more_current`` when one of those is open)."""

    primary: list[Link]
    more: list[Link]

    @property
    def more_current(self) -> bool:
        return any(link.current for link in self.more)


PAGES: tuple[Page, ...] = (
    Page("dashboard", "Dashboard", "dashboard:home", namespaces=frozenset({"dashboard"})),
    Page(
        "inventory",
        "Inventory",
        "inventory:model-list",
        namespaces=frozenset({"inventory"}),
        url_names=frozenset({"model", "assess"}),
        excluded_url_names=frozenset({"unit-list", "runs-where"}),
    ),
    Page("queue", "Review queue", "governance:queue", url_names=frozenset({"queue"})),
    Page("findings", "Findings", "governance:finding-list", url_names=frozenset({"finding-list", "finding-detail"})),
    Page("audits", "Audits", "audits:run-list", namespaces=frozenset({"audits"})),
    Page("monitoring", "Monitoring", "monitoring:portfolio", namespaces=frozenset({"monitoring"})),
    Page("runs-where", "What runs where", "inventory:runs-where", url_names=frozenset({"runs-where"})),
    Page("units", "Business units", "inventory:unit-list", url_names=frozenset({"unit-list"})),
    Page(
        "policies",
        "Policies",
        "governance:policies",
        url_names=frozenset({"policies", "tier-policy-edit", "questionnaire"}),
    ),
    Page("ledger", "Ledger", "governance:ledger", url_names=frozenset({"ledger"})),
    Page("downloads", "Downloads", "reports:downloads", namespaces=frozenset({"reports"})),
    Page("notifications", "Notifications", "governance:notifications", url_names=frozenset({"notifications"})),
    Page("api-docs", "API docs", "api-docs"),
    Page("admin", "Admin", "admin:index", namespaces=frozenset({"admin"}), staff_only=True),
)

# What each role opens most days. A person with several roles gets the union; everyone gets these three.
EVERYONE = ("dashboard", "inventory", "notifications")
PRIMARY_BY_ROLE: dict[str, tuple[str, ...]] = {
    RISK_OFFICER: ("queue", "findings", "audits", "monitoring", "policies"),
    VALIDATOR: ("queue", "findings", "audits", "monitoring"),
    MODEL_OWNER: ("findings", "audits", "monitoring", "runs-where"),
    AUDITOR: ("findings", "audits", "ledger", "downloads"),
    ADMIN: ("units", "policies", "downloads", "admin"),
}


def primary_keys(roles: Iterable[str]) -> set[str]:
    """The keys of the pages that go in the bar for someone holding ``roles``."""
    keys = set(EVERYONE)
    for role in roles:
        keys.update(PRIMARY_BY_ROLE.get(role, ()))
    return keys


def main_navigation(roles: Collection[str], *, is_staff: bool, namespace: str, url_name: str) -> Navigation:
    """The navigation for a person with ``roles`` on the page resolved as ``namespace:url_name``."""
    in_bar = primary_keys(roles)
    primary: list[Link] = []
    more: list[Link] = []
    for page in PAGES:
        if page.staff_only and not is_staff:
            continue
        link = Link(page.key, page.label, reverse(page.url_name), page.is_current(namespace, url_name))
        (primary if page.key in in_bar else more).append(link)
    return Navigation(primary=primary, more=more)
