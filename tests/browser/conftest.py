"""Browser tests: Playwright drives Debian's Chromium against Django's live server.

Playwright cannot download its own browser here, so the launch arguments point it at the system Chromium;
without Chromium the ``chromium_path`` fixture skips these tests on a laptop and fails them in CI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 900}

# Playwright's sync API keeps an event loop running in the test thread, and Django refuses ORM calls from such
# a thread. The loop only drives the browser, so the test set-up may safely use the ORM there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any], chromium_path: str) -> dict[str, Any]:
    """Launch the system Chromium headless."""
    return {**browser_type_launch_args, "executable_path": chromium_path, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A laptop-sized window, so screenshots show the layout most users see."""
    return {**browser_context_args, "viewport": LAPTOP}


@pytest.fixture
def screenshot_dir() -> Path:
    """Where screenshots of the pages go, for people to look at the layout (``var/`` is not committed)."""
    path = Path(settings.VAR_DIR) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
