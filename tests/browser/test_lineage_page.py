"""A risk officer in a real browser: opens a model's lineage and sees the drawn graph with a mismatch marked, follows
a node to an upstream model, then finds the mismatch highlighted on "what runs where"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from inventory import services
from inventory.choices import ArtifactKind
from tests.factories import ModelVersionFactory, RegisteredModelFactory
from tests.inventory.test_lineage import approve, artifact, deploy

pytestmark = [pytest.mark.browser, pytest.mark.services]

PASSWORD = "correct-horse-battery"  # the factories' password
APPROVED = "sha256:" + "a" * 64
ROGUE = "sha256:" + "f" * 64


@pytest.fixture
def deployed(personas):
    """Model A: version 2.0.0 approved and running in prod; a rogue digest of it running in dr; one upstream."""
    now = timezone.now()
    version = ModelVersionFactory(model=personas.model_a, version="2.0.0", artifact_digest=APPROVED)
    approve(version, by=personas.risk_officer, at=now - dt.timedelta(days=3))
    artifact(version, ArtifactKind.GIT_COMMIT, "github.com/bank/pd@" + "1" * 40, at=now - dt.timedelta(days=4))
    artifact(version, ArtifactKind.CONTAINER_IMAGE, APPROVED, digest_=APPROVED, at=now - dt.timedelta(days=4))
    deploy(version, "prod", APPROVED, at=now - dt.timedelta(days=2), by=personas.ci_scoped)
    deploy(version, "dr", ROGUE, at=now - dt.timedelta(days=1), by=personas.ci_scoped)
    upstream = RegisteredModelFactory(
        key="RB-0003",
        name="Bureau feature store",
        business_unit=personas.unit,
        business_owner=personas.owner_a,
        technical_owner=personas.owner_a,
    )
    services.model_dependency_create(actor=personas.risk_officer, upstream=upstream, downstream=personas.model_a)
    return personas


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_risk_officer_reads_lineage_and_runs_where(page: Page, live_server, deployed, screenshot_dir):
    sign_in(page, live_server.url, "risk_officer")
    page.goto(f"{live_server.url}/inventory/models/RB-0001/")
    page.locator("#lineage-link").click()
    expect(page).to_have_url(re.compile(r"/inventory/models/RB-0001/lineage/$"))
    expect(page.get_by_role("heading", name=re.compile("Lineage of RB-0001"))).to_be_visible()

    graph = page.locator("svg#lineage-graph")
    expect(graph).to_be_visible()
    for node in ("unit:RETAIL", "owner:owner_a", "model:RB-0001", "model:RB-0003"):
        expect(graph.locator(f'[data-node="{node}"]')).to_be_visible()
    mismatched = graph.locator(".node--deployment.node--mismatch")
    expect(mismatched).to_have_count(1)
    expect(mismatched).to_contain_text("dr")
    expect(graph.locator(".node--deployment.node--ok")).to_contain_text("prod")
    # The boxes are really drawn: the mismatched one has a size on screen.
    box = mismatched.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 30
    expect(page.get_by_role("alert")).to_contain_text("does not match its approval")
    expect(page.locator("#lineage-running")).to_contain_text("dr")
    page.screenshot(path=str(screenshot_dir / "lineage.png"), full_page=True)

    # Nodes link to the models' pages.
    graph.locator('a:has([data-node="model:RB-0003"])').click()
    expect(page).to_have_url(re.compile(r"/inventory/models/RB-0003/lineage/$"))

    # A Risk Officer finds "What runs where" under the navigation's "More" disclosure.
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="What runs where")).to_be_hidden()
    navigation.locator("summary", has_text="More").click()
    navigation.get_by_role("link", name="What runs where").click()
    expect(page.get_by_role("heading", name="What runs where", exact=True)).to_be_visible()
    dr = page.locator('tr[data-model="RB-0001"][data-environment="dr"]')
    expect(dr).to_have_class(re.compile(r"row--mismatch"))
    expect(dr).to_contain_text("Does not match")
    prod = page.locator('tr[data-model="RB-0001"][data-environment="prod"]')
    expect(prod).not_to_have_class(re.compile(r"row--mismatch"))
    expect(prod).to_contain_text("Matches")
    page.screenshot(path=str(screenshot_dir / "runs-where.png"), full_page=True)

    page.get_by_label("Approval now").select_option("true")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#result-count")).to_contain_text("1 deployment")
    expect(page.locator("tr.runs-row")).to_have_count(1)
