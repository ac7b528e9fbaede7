"""Browser tests: Playwright drives Debian's Chromium against Django's live server.

Playwright cannot download its own browser here, so the launch arguments (``tests/conftest.py``) point it at the
system Chromium; without Chromium the ``chromium_path`` fixture fails these tests, naming what to install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

LAPTOP = {"width": 1366, "height": 900}


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
