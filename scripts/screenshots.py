"""Screenshots of the portal's main pages for the README: ``.venv/bin/python scripts/screenshots.py``.

Builds a throwaway demo site under ``var/screenshots-demo/`` (its own SQLite file, media, keys and Celery queue, so
the ``make demo`` site in ``var/`` is left alone), seeds it with ``seed_demo``, runs in this process the audits the
seed queued and today's compliance sweep (what the demo's worker and beat would do), serves it with Django's
development server, signs in as each demo role in Debian's Chromium and saves 1366×900 PNGs to
``docs/screenshots/``. Run by hand, not in CI: it needs Chromium (``CHROMIUM_PATH``, or ``chromium`` on the PATH)
and takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_VAR = BASE_DIR / "var" / "screenshots-demo"
OUT_DIR = BASE_DIR / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}
PASSWORD = "northwind-demo"  # noqa: S105 - the demo logins' published password (README)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# The German Credit model: the demo model with versions, a bias audit, findings and lineage.
DOSSIER_KEY = "CR-0001"


@dataclass(frozen=True)
class Shot:
    """One screenshot: who signs in, which page, the file name, and what must be on the page."""

    username: str
    path: str
    name: str
    heading: str = ""
    # A CSS selector scrolled to the top of the window first, for pages whose point is below the fold.
    scroll_to: str = ""


def site_environment() -> dict[str, str]:
    """The throwaway site's settings: debug on, everything under DEMO_VAR, no Redis even if one is configured."""
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        DEBUG="1",
        VAR_DIR=str(DEMO_VAR),
        DATABASE_URL=f"sqlite:///{DEMO_VAR / 'portal.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.pop("MEDIA_ROOT", None)
    env.pop("STATIC_ROOT", None)
    return env


def manage(*args: str) -> None:
    # Our own interpreter and manage.py with fixed arguments.
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=site_environment(), check=True)  # noqa: S603


RUN_QUEUED_AUDITS = """
from audits.choices import RunStatus
from audits.models import AuditRun
from audits.tasks import run_bias_audit, run_compliance_sweep
for pk in AuditRun.objects.filter(status=RunStatus.QUEUED).values_list("pk", flat=True):
    run_bias_audit(pk)
    print("audit run", pk, AuditRun.objects.get(pk=pk).status)
run_compliance_sweep()
print("compliance sweep done")
"""

FIND_RUN = """
from audits.models import AuditRun
run = AuditRun.objects.filter(dataset__version__model__key="{key}").order_by("-pk").first()
print(run.pk if run else "")
"""


def build_site() -> str:
    """A fresh, seeded demo database with its queued audits run; returns the id of the dossier model's audit run."""
    shutil.rmtree(DEMO_VAR, ignore_errors=True)
    DEMO_VAR.mkdir(parents=True)
    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo")
    manage("shell", "-v", "0", "-c", RUN_QUEUED_AUDITS)
    return dossier_audit_run()


def dossier_audit_run() -> str:
    """The id of the dossier model's latest audit run, or "" if it has none."""
    found = subprocess.run(  # noqa: S603 - our own interpreter and manage.py, fixed arguments
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", FIND_RUN.format(key=DOSSIER_KEY)],
        cwd=BASE_DIR,
        env=site_environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    lines = found.stdout.strip().splitlines()
    return lines[-1].strip() if lines else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int) -> subprocess.Popen[bytes]:
    """Django's development server on the throwaway site, once it answers."""
    log = (DEMO_VAR / "runserver.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py, fixed arguments
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=site_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"The development server did not start; see {DEMO_VAR / 'runserver.log'}")


def shots(run_id: str) -> list[Shot]:
    """What to photograph: every role's dashboard, and each main page as the role that lives in it."""
    key = DOSSIER_KEY
    risk = "risk.officer"
    listing = [
        Shot(user, "/dashboard/", f"dashboard-{user.replace('.', '-')}")
        for user in ("risk.officer", "model.owner", "validator", "auditor", "admin")
    ]
    listing += [
        Shot(risk, "/inventory/models/", "inventory", "Model inventory"),
        Shot(
            risk,
            "/inventory/models/?tier=1&validation_overdue=true",
            "inventory-tier1-overdue",
            "Model inventory",
            scroll_to="#result-count",
        ),
        Shot("model.owner", "/inventory/models/", "inventory-model-owner", "Model inventory"),
        Shot(risk, f"/inventory/models/{key}/", "dossier-overview"),
        Shot(risk, f"/governance/models/{key}/", "dossier-governance"),
        Shot(risk, f"/audits/models/{key}/", "dossier-audits"),
        Shot(risk, f"/inventory/models/{key}/lineage/", "lineage"),
        Shot(risk, "/governance/queue/", "review-queue"),
        Shot("validator", "/governance/queue/", "review-queue-validator"),
        Shot(risk, "/governance/findings/", "findings"),
        Shot(risk, "/audits/runs/", "audit-runs"),
        Shot(risk, "/monitoring/", "monitoring"),
        Shot(risk, "/inventory/runs-where/", "runs-where"),
        Shot(risk, "/reports/", "downloads"),
        Shot("auditor", "/governance/ledger/?verify=1", "ledger-verified"),
        Shot(risk, "/governance/policies/", "policies"),
    ]
    if run_id:
        listing.append(Shot(risk, f"/audits/runs/{run_id}/", "audit-run", "What was audited, how"))
        listing.append(Shot(risk, f"/audits/runs/{run_id}/", "audit-run-charts", scroll_to="#analysis-2"))
    return listing


def photograph(base_url: str, run_id: str) -> list[Path]:
    """Sign in as each role once and save its shots; stop on a page that does not answer 200."""
    from playwright.sync_api import expect, sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    plan = shots(run_id)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for username in dict.fromkeys(shot.username for shot in plan):
            context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            page.goto(f"{base_url}/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
            for shot in (shot for shot in plan if shot.username == username):
                response = page.goto(base_url + shot.path)
                if response is None or response.status != 200:
                    raise SystemExit(f"{username} GET {shot.path}: {response.status if response else 'no answer'}")
                if shot.heading:
                    expect(page.get_by_role("heading", name=shot.heading)).to_be_visible()
                page.wait_for_load_state("networkidle")
                if shot.scroll_to:
                    page.locator(shot.scroll_to).first.evaluate("element => element.scrollIntoView()")
                target = OUT_DIR / f"{shot.name}.png"
                page.screenshot(path=str(target))
                saved.append(target)
                print(f"saved {target.relative_to(BASE_DIR)}  ({username} {shot.path})")
            context.close()
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reuse", action="store_true", help="Keep the demo database of the previous run.")
    args = parser.parse_args()
    reuse = args.reuse and (DEMO_VAR / "portal.sqlite3").exists()
    run_id = dossier_audit_run() if reuse else build_site()
    port = free_port()
    server = serve(port)
    try:
        saved = photograph(f"http://127.0.0.1:{port}", run_id)
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"{len(saved)} screenshots in {OUT_DIR.relative_to(BASE_DIR)}/")


if __name__ == "__main__":
    main()
