"""A risk officer's morning in a real browser, and the two people who must not change what they see.

The Risk Officer filters the inventory to Tier 1 models overdue for revalidation, opens the one listed, goes to
its governance page, gives the last approval a waiting version needs, with a comment, and finds the decision in
the model's ledger. The owner of a model is offered no approval of their own version and a forged one is refused
with 403; an auditor opens every page, is offered no button that changes anything, and a forged POST is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from core import roles
from governance.models import ApprovalDecision, GovernanceEvent
from governance.services.workflow import version_decide, version_start_validation, version_submit, version_validate
from inventory import services
from inventory.models import ModelVersion, RegisteredModel
from tests.factories import ModelVersionFactory, RegisteredModelFactory, UserFactory
from tests.governance.conftest import TIER_1_ANSWERS, TIER_2_ANSWERS, approve_tier

pytestmark = [pytest.mark.browser, pytest.mark.services]

PASSWORD = "correct-horse-battery"  # the factories' password


def own_preferences() -> tuple[str, ...]:
    """Where a POST changes only the signed-in user's own session or preferences, or asks for an export (a read
    that runs in the background)."""
    return (
        reverse("reports:export-start"),
        reverse("logout"),
        reverse("inventory:model-columns"),
        reverse("inventory:saved-views"),
        reverse("governance:notifications-read"),
    )


COMMENT = "Out-of-time results hold; revalidation booked for next quarter."


def overdue(actor: Any, model: RegisteredModel, days: int) -> None:
    """Set the model's next validation ``days`` from today (negative: overdue), through the inventory service."""
    services.registered_model_update(
        actor=actor,
        model=model,
        changes={"next_validation_due": dt.date.today() + dt.timedelta(days=days)},
        reason="Validation plan for the year",
    )


@pytest.fixture
def morning(personas: Any) -> ModelVersion:
    """Model A: Tier 1 and overdue, with version 2.0.0 validated and approved by one of the two Risk Officers its
    tier needs. Around it, a Tier 1 model that is not overdue and a Tier 2 model that is, so the filter matters."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    approve_tier(personas.model_b, TIER_2_ANSWERS, personas.owner_b, personas.risk_officer)
    on_time = RegisteredModelFactory(
        name="Mortgage affordability model",
        business_unit=personas.unit,
        business_owner=personas.owner_b,
        technical_owner=personas.owner_b,
    )
    approve_tier(on_time, TIER_1_ANSWERS, personas.owner_b, personas.risk_officer)
    overdue(personas.risk_officer, personas.model_a, -20)
    overdue(personas.risk_officer, personas.model_b, -5)
    overdue(personas.risk_officer, on_time, 200)

    first = UserFactory(username="risk_officer_2", roles=[roles.RISK_OFFICER])
    version = ModelVersionFactory(model=personas.model_a, version="2.0.0", actor=personas.owner_a)
    version_submit(actor=personas.owner_a, version=version, comment="Retrained on 2025 applications.")
    version_start_validation(actor=personas.validator_assigned, version=version)
    version_validate(
        actor=personas.validator_assigned, version=version, passed=True, comment="Discrimination and stability hold."
    )
    version_decide(actor=first, version=version, approve=True, comment="Evidence is sufficient.")
    version.refresh_from_db()
    assert version.state == "risk_review"
    return version


@pytest.fixture
def signed_in(
    browser: Browser, browser_context_args: dict[str, Any], live_server: Any
) -> Iterator[Callable[[str], Page]]:
    """Open a browser window of its own for a person and sign them in."""
    contexts: list[BrowserContext] = []

    def open_as(username: str) -> Page:
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return page

    yield open_as
    for context in contexts:
        context.close()


def listed_keys(page: Page) -> list[str]:
    return page.locator("table tbody th a").all_inner_texts()


def forge_decision(page: Page, live_server: Any, version: ModelVersion) -> int:
    """POST an approval of ``version`` from this browser's session, with a valid CSRF token: what a user who
    rebuilt the form by hand would send. Returns the status."""
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    url = live_server.url + reverse("governance:version-step", args=[version.pk, "decide"])
    response = page.request.post(
        url,
        form={"csrfmiddlewaretoken": token, "outcome": "approve", "comment": "Approving it myself"},
        headers={"Referer": page.url},
    )
    return response.status


def decisions_and_ledger(version: ModelVersion) -> tuple[str, int, int]:
    version.refresh_from_db()
    return version.state, ApprovalDecision.objects.filter(version=version).count(), GovernanceEvent.objects.count()


def test_risk_officer_filters_opens_approves_and_sees_the_ledger(
    signed_in: Callable[[str], Page], live_server: Any, morning: ModelVersion, screenshot_dir: Any
) -> None:
    version = morning
    page = signed_in("risk_officer")

    # The inventory, filtered to Tier 1 models overdue for revalidation: model A only.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory").click()
    expect(page.get_by_role("heading", name="Model inventory")).to_be_visible()
    assert {"RB-0001", "RB-0002", "RB-0003"} <= set(listed_keys(page))
    page.get_by_role("group", name="Risk tier").get_by_label("Tier 1 (high)").check()
    page.get_by_label("Revalidation overdue").select_option(value="true")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#result-count")).to_contain_text("1 model")
    assert listed_keys(page) == ["RB-0001"]
    expect(page.locator("table tbody tr").first.locator(".badge--overdue")).to_have_text("Overdue")

    # Open it, then its governance page: the version waits for the second of two approvals.
    page.get_by_role("link", name="RB-0001").click()
    expect(page).to_have_url(re.compile(r"/inventory/models/RB-0001/$"))
    tabs = page.get_by_role("navigation", name="Dossier of RB-0001")
    tabs.get_by_role("link", name="Versions & workflow").click()
    expect(page).to_have_url(re.compile(r"/governance/models/RB-0001/#versions$"))
    panel = page.locator(f"#version-{version.pk}")
    expect(panel.locator(".approvals")).to_contain_text("1 of 2 (risk_officer_2)")

    # Approve with a comment.
    panel.locator("summary", has_text="Approve or reject").click()
    panel.get_by_label("Decision comment").fill(COMMENT)
    panel.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("RB-0001 v2.0.0 is now approved")

    expect(page.locator(f"#version-{version.pk} .badge--state")).to_have_text("Approved")

    # The decision is in the model's ledger, newest first, with who decided and the comment in its payload.
    page.get_by_role("navigation", name="Dossier of RB-0001").get_by_role("link", name="Ledger").click()
    expect(page).to_have_url(re.compile(r"/governance/models/RB-0001/ledger/$"))
    latest = page.locator("#model-ledger tbody tr").first
    expect(latest).to_contain_text("Version approved")
    expect(latest).to_contain_text("risk_officer")
    expect(latest).to_contain_text("Matches")
    latest.locator("summary", has_text="Payload").click()
    expect(latest.locator(".payload")).to_contain_text(COMMENT)
    page.screenshot(path=str(screenshot_dir / "morning-approved.png"), full_page=True)

    event = GovernanceEvent.objects.order_by("-seq").first()
    assert event is not None and event.event_type == "version.approved" and event.payload["comment"] == COMMENT
    version.refresh_from_db()
    assert version.state == "approved" and version.approved_by is not None
    assert version.approved_by.username == "risk_officer"


def test_owner_is_offered_no_approval_and_a_forged_one_is_refused(
    signed_in: Callable[[str], Page], live_server: Any, morning: ModelVersion
) -> None:
    version = morning
    page = signed_in("owner_a")
    page.goto(f"{live_server.url}/governance/models/RB-0001/")
    panel = page.locator(f"#version-{version.pk}")
    expect(panel.locator(".badge--state")).to_have_text("Risk review")
    expect(panel.locator("summary", has_text="Approve or reject")).to_have_count(0)
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)

    before = decisions_and_ledger(version)
    assert forge_decision(page, live_server, version) == 403
    assert decisions_and_ledger(version) == before


def auditor_pages(live_server: Any, page: Page) -> list[str]:
    """Every page of the main navigation as the auditor sees it, and every tab of model A's and B's dossiers."""
    page.goto(f"{live_server.url}/dashboard/")
    # The links under the closed "More" disclosure count too: they are one click away.
    links = page.get_by_role("navigation", name="Main").get_by_role("link", include_hidden=True)
    # The API's live reference is a page of its own, not the portal's; its "Try it out" sends nothing by itself.
    pages = [href for href in links.evaluate_all("els => els.map(e => e.href)") if "/api/docs/" not in href]
    for key in ("RB-0001", "RB-0002"):
        page.goto(live_server.url + reverse("inventory:model-detail", args=[key]))
        tabs = page.get_by_role("navigation", name=f"Dossier of {key}").get_by_role("link")
        pages += tabs.evaluate_all("els => els.map(e => e.href.split('#')[0])")
    return list(dict.fromkeys(pages))


def test_auditor_reads_every_page_and_is_offered_no_change(
    signed_in: Callable[[str], Page], live_server: Any, morning: ModelVersion
) -> None:
    version = morning
    page = signed_in("auditor")
    pages = auditor_pages(live_server, page)
    assert len(pages) >= 12 + 2 * 6
    for url in pages:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        # Forms that read (filters, search) use GET. The only POSTs an auditor is offered keep their own
        # preferences (columns, saved views, notifications read) or start an export: no part of the governed record.
        posts = page.locator("form[method=post], form[method=POST]").evaluate_all(
            "forms => forms.map(f => new URL(f.action).pathname)"
        )
        changes = [action for action in posts if not action.startswith(own_preferences())]
        assert not changes, f"{url} offers forms that change something: {changes}"
        for label in ("Approve", "Reject", "Edit record", "Add a version", "Register a model", "Submit for approval"):
            expect(page.get_by_role("button", name=label, exact=True)).to_have_count(0)
            expect(page.get_by_role("link", name=label, exact=True)).to_have_count(0)

    page.goto(f"{live_server.url}/governance/models/RB-0001/")
    before = decisions_and_ledger(version)
    assert forge_decision(page, live_server, version) == 403
    assert decisions_and_ledger(version) == before
