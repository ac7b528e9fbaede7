"""A model owner's day in a real browser: sign in, find their model, edit it, see the change in its history,
and be shown the 404 page for a model that is not theirs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from inventory import services
from inventory.choices import ModelType, RegulatoryUse
from inventory.models import RegisteredModel
from tests.factories import BusinessUnitFactory, ModelVersionFactory, RegisteredModelFactory

pytestmark = [pytest.mark.browser, pytest.mark.services]

PASSWORD = "correct-horse-battery"  # the factories' password


@pytest.fixture
def owner_inventory(personas):
    """owner_a owns a handful of models besides model A, so the inventory page looks like a real one."""
    cards = BusinessUnitFactory(code="CARDS", name="Cards", parent=personas.unit, key_prefix="CC")
    rows = [
        ("Card limit increase model", ModelType.MACHINE_LEARNING, ["cards", "limits"], dt.date(2024, 3, 31)),
        ("Collections propensity", ModelType.STATISTICAL, ["collections"], dt.date(2027, 1, 15)),
        ("Complaint triage assistant", ModelType.LLM, ["genai", "complaints"], None),
        ("Vendor bureau score", ModelType.VENDOR, ["bureau"], dt.date(2026, 12, 1)),
    ]
    for name, model_type, tags, due in rows:
        RegisteredModelFactory(
            name=name,
            business_unit=cards,
            model_type=model_type,
            vendor_name="Bureau Ltd" if model_type == ModelType.VENDOR else "",
            business_owner=personas.owner_a,
            technical_owner=personas.owner_a,
            tags=tags,
            next_validation_due=due,
        )
    # Tiers come from approved risk assessments, which are not part of the inventory services.
    RegisteredModel.objects.filter(key__in=["RB-0001", "CC-0001"]).update(risk_tier=1)
    RegisteredModel.objects.filter(key="CC-0002").update(risk_tier=2)
    services.registered_model_update(
        actor=personas.risk_officer,
        model=personas.model_a,
        changes={
            "tags": ["pd", "irb"],
            "regulatory_uses": [RegulatoryUse.CREDIT_DECISION, RegulatoryUse.REGULATORY_CAPITAL],
            "restrictions_on_use": "Not for small-business lending.",
            "inputs": "Bureau data, application form, account behaviour.",
            "outputs": "12-month probability of default, used for approve/decline and limits.",
            "limitations": "Thin-file applicants are scored with less confidence.",
            "last_validated_on": dt.date(2025, 6, 30),
            "next_validation_due": dt.date(2026, 6, 30),
        },
        reason="Record completed after validation",
    )
    ModelVersionFactory(model=personas.model_a, version="3.1.0", artifact_digest="sha256:" + "c" * 64)
    services.model_dependency_create(
        actor=personas.risk_officer, upstream=personas.model_a, downstream=RegisteredModel.objects.get(key="CC-0001")
    )
    return personas


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signing in lands on the dashboard; the inventory is one click away in the main navigation.
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory", exact=True).click()


def listed_keys(page: Page) -> list[str]:
    return page.locator("table tbody th a").all_inner_texts()


def test_owner_finds_edits_and_sees_history(page: Page, live_server, owner_inventory, screenshot_dir):
    personas = owner_inventory
    sign_in(page, live_server.url, "owner_a")

    # The inventory shows the owner's models only.
    expect(page).to_have_url(re.compile(r"/inventory/models/$"))
    expect(page.get_by_role("heading", name="Model inventory")).to_be_visible()
    own_keys = set(RegisteredModel.objects.filter(business_owner=personas.owner_a).values_list("key", flat=True))
    keys = listed_keys(page)
    assert set(keys) == own_keys and len(keys) == 5
    assert "RB-0002" not in keys
    expect(page.locator("#result-count")).to_contain_text("5 models")
    page.screenshot(path=str(screenshot_dir / "inventory.png"), full_page=True)

    # Filter by text and by stage.
    page.get_by_label("Search", exact=True).fill("scorecard")
    page.get_by_role("group", name="Stage").get_by_label("Development").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#result-count")).to_contain_text("1 model")
    assert listed_keys(page) == ["RB-0001"]

    # Open the dossier and edit the purpose with a reason.
    page.get_by_role("link", name="RB-0001").click()
    expect(page.get_by_role("heading", name="Purpose and use")).to_be_visible()
    page.get_by_role("link", name="Edit record").click()
    page.get_by_label("Purpose and intended use").fill("Scores retail credit applications for approve/decline.")
    page.get_by_label("Reason for change").fill("Wording agreed with the credit committee")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(re.compile(r"/inventory/models/RB-0001/$"))
    expect(page.get_by_role("status")).to_contain_text("saved and recorded in its history")
    expect(page.locator("#purpose-text")).to_have_text("Scores retail credit applications for approve/decline.")
    latest = page.locator("#history ol > li").first
    expect(latest.locator(".history__user")).to_have_text("owner_a")
    expect(latest).to_contain_text("Wording agreed with the credit committee")
    expect(latest).to_contain_text("Scores retail credit applications for approve/decline.")
    expect(latest.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    page.screenshot(path=str(screenshot_dir / "model-detail.png"), full_page=True)

    # Someone else's model does not exist as far as this user can tell.
    response = page.goto(f"{live_server.url}/inventory/models/RB-0002/edit/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_text("Card fraud detector")).to_have_count(0)


def test_inventory_fits_a_tablet_and_is_keyboard_usable(page: Page, live_server, owner_inventory, screenshot_dir):
    page.set_viewport_size({"width": 820, "height": 1180})
    sign_in(page, live_server.url, "owner_a")
    expect(page.get_by_role("heading", name="Model inventory")).to_be_visible()
    # The page itself never scrolls sideways: the wide table scrolls inside its own region.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / "inventory-tablet.png"), full_page=True)
    # The first Tab reaches the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
