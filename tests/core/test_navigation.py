"""The main navigation by role: what each role finds in the bar, and that every page stays one click away."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from core.navigation import PAGES, main_navigation
from core.roles import ADMIN, AUDITOR, MODEL_OWNER, RISK_OFFICER, VALIDATOR


def keys(links: list[Any]) -> list[str]:
    return [link.key for link in links]


@pytest.mark.parametrize(
    ("roles", "in_bar", "not_in_bar"),
    [
        ([RISK_OFFICER], {"queue", "findings", "audits", "monitoring", "policies"}, {"ledger", "units"}),
        ([VALIDATOR], {"queue", "findings", "audits"}, {"policies", "ledger"}),
        ([MODEL_OWNER], {"findings", "audits", "runs-where"}, {"queue", "policies"}),
        ([AUDITOR], {"findings", "ledger", "downloads"}, {"queue", "policies"}),
        ([], set(), {"queue", "findings", "ledger"}),
    ],
)
def test_each_role_finds_its_daily_pages_in_the_bar_and_the_rest_under_more(
    roles: list[str], in_bar: set[str], not_in_bar: set[str]
) -> None:
    navigation = main_navigation(roles, is_staff=False, namespace="dashboard", url_name="home")
    primary, more = keys(navigation.primary), keys(navigation.more)
    assert {"dashboard", "inventory", "notifications"} <= set(primary)
    assert in_bar <= set(primary)
    assert not (not_in_bar & set(primary)) and not_in_bar <= set(more)
    # Every page is offered exactly once, in the order of PAGES within each list; Admin only to staff.
    assert sorted(primary + more) == sorted(page.key for page in PAGES if not page.staff_only)
    order = [page.key for page in PAGES]
    assert primary == sorted(primary, key=order.index) and more == sorted(more, key=order.index)
    # A laptop screen holds the bar on one row: no single role gets more than eight entries.
    assert len(primary) <= 8


def test_a_person_with_two_roles_gets_both_bars_and_admin_only_when_staff() -> None:
    navigation = main_navigation([MODEL_OWNER, AUDITOR], is_staff=False, namespace="", url_name="")
    assert {"runs-where", "ledger", "downloads"} <= set(keys(navigation.primary))
    assert "admin" not in keys(navigation.primary) + keys(navigation.more)
    staff = main_navigation([ADMIN], is_staff=True, namespace="", url_name="")
    assert "admin" in keys(staff.primary)
    staff_without_role = main_navigation([], is_staff=True, namespace="", url_name="")
    assert "admin" in keys(staff_without_role.more)


@pytest.mark.parametrize(
    ("namespace", "url_name", "current"),
    [
        ("inventory", "model-list", "inventory"),
        ("inventory", "model-detail", "inventory"),
        ("governance", "model", "inventory"),
        ("inventory", "unit-list", "units"),
        ("inventory", "runs-where", "runs-where"),
        ("governance", "finding-detail", "findings"),
        ("governance", "tier-policy-edit", "policies"),
        ("audits", "run", "audits"),
        ("reports", "downloads", "downloads"),
        ("governance", "notifications", "notifications"),
    ],
)
def test_exactly_one_entry_is_current(namespace: str, url_name: str, current: str) -> None:
    navigation = main_navigation([RISK_OFFICER], is_staff=False, namespace=namespace, url_name=url_name)
    links = navigation.primary + navigation.more
    assert [link.key for link in links if link.current] == [current]
    assert navigation.more_current == (current in keys(navigation.more))


def test_the_header_renders_the_bar_and_the_more_list_for_the_signed_in_role(personas: Any) -> None:
    client = Client()
    client.force_login(personas.owner_a)
    html = client.get(reverse("inventory:unit-list")).content.decode()
    bar, more = html.split('<li class="nav-more">', 1)
    bar = bar[bar.index('aria-label="Main"') :]
    more = more[: more.index("</nav>")]
    assert f'href="{reverse("inventory:runs-where")}"' in bar
    assert f'href="{reverse("governance:queue")}"' not in bar
    assert f'href="{reverse("governance:queue")}"' in more
    # The open page is under "More", so the disclosure says so and the link carries aria-current.
    assert 'class="nav-more__current"' in more
    assert f'href="{reverse("inventory:unit-list")}" aria-current="page"' in more
    assert 'href="/admin/"' not in html
