"""A web or worker process starts without the numeric and document libraries.

numpy, pandas, pyarrow, scipy, openpyxl, fairlearn and WeasyPrint took more than half of a process's start (about
2 of 4 seconds) and about 140 MiB of each process's 250 MiB, although only bias and drift audits, uploads of their
tables, workbook exports and PDF reports use them. They are imported by the functions that do that work, so a
gunicorn worker or a Celery worker that never runs it never loads them. A module-level import added back anywhere
on the start-up path fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.markers import sqlite_pass

pytestmark = sqlite_pass

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "openpyxl", "fairlearn", "weasyprint", "sklearn", "matplotlib")

# What a gunicorn worker and a Celery worker import before their first request or task: Django's apps (with their
# signal receivers and schedules), every URL (so every view and API module), the Celery app and its task modules.
START = """
import importlib, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.urls import resolve
resolve("/api/v1/")
from config.celery import app
app.loader.import_default_modules()
for name in ("core.tasks", "inventory.tasks", "governance.tasks", "audits.tasks", "monitoring.tasks", "reports.tasks"):
    importlib.import_module(name)
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in HEAVY)))
"""


def loaded_at_start() -> list[str]:
    env = {**os.environ, "DEBUG": "1", "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{START}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return list(json.loads(completed.stdout.strip().splitlines()[-1]))


def test_a_process_starts_without_the_numeric_and_document_libraries() -> None:
    assert loaded_at_start() == []
