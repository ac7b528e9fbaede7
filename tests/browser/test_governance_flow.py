"""A Tier 1 version's way to approval in a real browser: the owner submits it, the assigned validator starts and
passes validation, two different Risk Officers approve it from the review queue, and the version shows Approved.
The owner is never offered the approval, and a forged approval from the owner's browser gets the 403 page naming
the segregation-of-duties rule."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from core import roles
from inventory.models import ModelVersion
from tests.factories import ModelVersionFactory, UserFactory
from tests.governance.conftest import TIER_1_ANSWERS, approve_tier

pytestmark = [pytest.mark.browser, pytest.mark.services]

PASSWORD = "correct-horse-battery"  # the factories' password


@pytest.fixture
def tier1_draft(personas: Any) -> ModelVersion:
    """Model A approved at Tier 1 (two approvers needed) with a draft version 2.0.0 by its owner."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    UserFactory(username="risk_officer_2", first_name="Rita", last_name="Second", roles=[roles.RISK_OFFICER])
    return ModelVersionFactory(model=personas.model_a, version="2.0.0", actor=personas.owner_a)


@pytest.fixture
def signed_in(
    browser: Browser, browser_context_args: dict[str, Any], live_server: Any
) -> Iterator[Callable[[str], Page]]:
    """Open a browser window of its own for a person and sign them in; each person keeps their own session."""
    contexts: list[BrowserContext] = []

    def open_as(username: str) -> Page:
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
        return page

    yield open_as
    for context in contexts:
        context.close()


def decide_from_queue(page: Page, version: ModelVersion, comment: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    item = page.locator(f"#queue-version-{version.pk}")
    expect(item).to_contain_text("RB-0001 v2.0.0")
    expect(item).to_contain_text("Tier 1 (high)")
    item.locator("summary", has_text="Approve or reject").click()
    item.get_by_label("Decision comment").fill(comment)
    item.get_by_role("button", name="Approve", exact=True).click()


def test_tier1_version_is_approved_by_two_risk_officers(
    signed_in: Callable[[str], Page], live_server: Any, tier1_draft: ModelVersion, screenshot_dir: Any
) -> None:
    version = tier1_draft
    governance_url = f"{live_server.url}/governance/models/RB-0001/"

    # The owner submits the draft from the model's governance page.
    owner = signed_in("owner_a")
    owner.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory", exact=True).click()
    owner.get_by_role("link", name="RB-0001").click()
    owner.get_by_role("link", name="Governance", exact=True).click()
    expect(owner).to_have_url(governance_url)
    expect(owner.locator("#tier")).to_contain_text("Tier 1")
    expect(owner.locator("#tier")).to_contain_text("High-risk (Annex III)")
    panel = owner.locator(f"#version-{version.pk}")
    panel.locator("summary", has_text="Submit for approval").click()
    panel.get_by_label("Comment").fill("Retrained on 2025 applications; ready for validation.")
    panel.get_by_role("button", name="Submit for approval").click()
    expect(owner.get_by_role("status")).to_contain_text("RB-0001 v2.0.0 is now submitted")

    # The assigned validator takes it up from the queue and passes it.
    validator = signed_in("validator_assigned")
    validator.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    item = validator.locator(f"#queue-version-{version.pk}")
    item.locator("summary", has_text="Start validation").click()
    item.get_by_role("button", name="Start validation").click()
    expect(validator.get_by_role("status")).to_contain_text("is now in validation")
    item = validator.locator(f"#queue-version-{version.pk}")
    item.locator("summary", has_text="Record the validation outcome").click()
    item.get_by_label("Validation conclusion").fill("Discrimination and stability hold on the 2025 out-of-time sample.")
    item.get_by_role("button", name="Pass validation").click()
    expect(validator.get_by_role("status")).to_contain_text("is now risk review")

    # The first Risk Officer approves from the queue: one of two approvals, the version stays in risk review.
    first = signed_in("risk_officer")
    first.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    first.locator(f"#queue-version-{version.pk} summary", has_text="Approve or reject").click()
    first.screenshot(path=str(screenshot_dir / "governance-queue.png"), full_page=True)
    decide_from_queue(first, version, "Validation evidence is sufficient.")
    expect(first.get_by_role("status")).to_contain_text("is now risk review")
    expect(first.locator(f"#queue-version-{version.pk}")).to_have_count(0)

    # The owner sees 1 of 2 approvals and no approval button; a forged approval names the rule that forbids it.
    owner.goto(governance_url)
    panel = owner.locator(f"#version-{version.pk}")
    expect(panel.locator(".approvals")).to_contain_text("1 of 2 (risk_officer)")
    expect(panel.locator("summary", has_text="Approve or reject")).to_have_count(0)
    expect(owner.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    token = owner.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    forge = """([url, token]) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = url;
        const fields = {csrfmiddlewaretoken: token, outcome: "approve", comment: "Approving my own model"};
        for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement("input");
            input.type = "hidden";
            input.name = name;
            input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
    }"""
    decide_url = f"/governance/versions/{version.pk}/decide/"
    with owner.expect_response(re.compile(re.escape(decide_url))) as forged:
        owner.evaluate(forge, [decide_url, token])
    assert forged.value.status == 403
    expect(owner.get_by_role("heading", name="You may not do this")).to_be_visible()
    expect(owner.get_by_text(re.compile("SOD-2: an owner of the model cannot validate or approve"))).to_be_visible()
    owner.screenshot(path=str(screenshot_dir / "governance-forbidden.png"), full_page=True)

    # A second, different Risk Officer approves: now the version is approved.
    second = signed_in("risk_officer_2")
    decide_from_queue(second, version, "Agree; revalidate in a year.")
    expect(second.get_by_role("status")).to_contain_text("RB-0001 v2.0.0 is now approved")

    owner.goto(governance_url)
    panel = owner.locator(f"#version-{version.pk}")
    expect(panel.locator(".badge--state")).to_have_text("Approved")
    expect(panel.locator(".approvals")).to_contain_text("2 of 2 (risk_officer, risk_officer_2)")
    expect(panel.locator(".timeline > li")).to_have_count(4)
    expect(owner.locator("#ledger")).to_contain_text("Version approved")
    owner.screenshot(path=str(screenshot_dir / "governance-model.png"), full_page=True)
    version.refresh_from_db()
    assert version.state == "approved"
