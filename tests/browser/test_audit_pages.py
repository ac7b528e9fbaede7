"""The bias-audit pages in a real browser: a model owner uploads the German Credit predictions of their version,
requests a bias audit, the run is executed as the worker would execute it, and the run page shows the per-group
figures and the verdict. An auditor, who reads but may not audit, sees the data and the runs but no upload form
and no button to start an audit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from audits import tasks
from audits.models import AuditRun, EvaluationDataset
from inventory.models import ModelVersion
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_1_ANSWERS, approve_tier

pytestmark = [pytest.mark.browser, pytest.mark.services]

PASSWORD = "correct-horse-battery"  # the factories' password
GERMAN_PREDICTIONS = Path(__file__).resolve().parents[2] / "demo" / "data" / "german_lr_predictions.csv"


@pytest.fixture
def version_a(personas: Any, settings: Any, tmp_path: Path) -> ModelVersion:
    """Model A approved at Tier 1 (four-fifths rule, equalized odds difference ≤ 0.1) with version 1.0.0."""
    # Uploads go to the test's own folder, not var/media.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    return ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Run ids the pages enqueue, kept here instead of going to the broker (which no worker of this test reads)."""
    enqueued: list[int] = []
    monkeypatch.setattr(tasks.run_bias_audit, "delay", enqueued.append)
    return enqueued


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


def test_owner_uploads_audits_and_reads_the_result(
    signed_in: Callable[[str], Page],
    live_server: Any,
    version_a: ModelVersion,
    queued: list[int],
    screenshot_dir: Path,
) -> None:
    owner = signed_in("owner_a")
    owner.goto(f"{live_server.url}/governance/models/RB-0001/")
    owner.get_by_role("link", name="Bias audits").click()
    expect(owner).to_have_url(f"{live_server.url}/audits/models/RB-0001/")
    expect(owner.get_by_text("No evaluation data yet.")).to_be_visible()

    form = owner.locator("form", has=owner.get_by_role("button", name="Store and check"))
    form.get_by_label("Version").select_option(value=str(version_a.pk))
    form.get_by_label(re.compile(r"^Name")).fill("German Credit test split")
    form.get_by_label("Evaluation data", exact=True).set_input_files(str(GERMAN_PREDICTIONS))
    form.get_by_label("True label column").fill("y_true")
    form.get_by_label("Prediction column").fill("y_pred")
    form.get_by_label("Sensitive feature columns").fill("sex, age_group")
    form.get_by_role("button", name="Store and check").click()

    expect(owner.get_by_role("status")).to_contain_text("Evaluation data stored: 300 rows")
    dataset = EvaluationDataset.objects.get()
    row = owner.get_by_role("row", name=re.compile("German Credit test split"))
    expect(row).to_contain_text(dataset.sha256)
    row.get_by_role("button", name="Run bias audit").click()

    run = AuditRun.objects.get()
    expect(owner).to_have_url(f"{live_server.url}/audits/runs/{run.pk}/")
    expect(owner.locator(".badge--run-queued")).to_have_text("Queued")
    expect(owner.get_by_text("The figures appear here once the run has finished.")).to_be_visible()

    # What the worker does with the enqueued message: run the task with the run id.
    assert queued == [run.pk]
    tasks.run_bias_audit(run.pk)
    owner.reload()

    expect(owner.locator(".badge--run-failed")).to_have_text("Failed")
    sex = owner.get_by_role("region", name="Groups by sex", exact=True)
    female = sex.get_by_role("row", name=re.compile("^female"))
    # German Credit reference: 96 women, selection rate 0.6771, TPR 0.7937, FPR 0.4545.
    expect(female).to_contain_text("96")
    expect(female).to_contain_text("0.6771")
    expect(female).to_contain_text("0.7937")
    expect(female).to_contain_text("0.4545")
    expect(sex.get_by_role("row", name=re.compile("^male"))).to_contain_text("204")
    verdicts = owner.get_by_role("region", name="Verdicts by sex", exact=True)
    expect(verdicts.get_by_role("row", name=re.compile("equalized_odds_difference"))).to_contain_text("fail")
    expect(verdicts.get_by_role("row", name=re.compile("demographic_parity_ratio"))).to_contain_text("pass")
    expect(owner.get_by_role("heading", name="By sex × age_group")).to_be_visible()
    expect(owner.get_by_role("note").first).to_contain_text("reported but not ranked")
    expect(owner.locator(".hash").first).to_have_text(dataset.sha256)
    owner.screenshot(path=str(screenshot_dir / "audit-run.png"), full_page=True)

    # The auditor reads the same model's data and runs, without a form or a button to change anything.
    auditor = signed_in("auditor")
    auditor.goto(f"{live_server.url}/audits/models/RB-0001/")
    expect(auditor.get_by_role("row", name=re.compile("German Credit test split"))).to_be_visible()
    expect(auditor.get_by_role("link", name=re.compile(f"^#{run.pk} "))).to_be_visible()
    expect(auditor.get_by_role("heading", name="Add evaluation data")).to_have_count(0)
    expect(auditor.locator("input[type=file]")).to_have_count(0)
    expect(auditor.get_by_role("button", name="Run bias audit")).to_have_count(0)
    expect(auditor.get_by_role("button", name="Store and check")).to_have_count(0)
    assert queued == [run.pk]
