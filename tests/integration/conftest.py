"""Fixtures for tests that start the portal's own processes on the embedded default (SQLite, filesystem broker)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings

from tests.integration.embedded import embedded_environ


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded database file with every migration applied, made once by ``manage.py migrate``.

    The default schedules are installed by ``migrate`` and never rewritten afterwards, so the heartbeat's interval
    is chosen here: one second, or beat would send its first heartbeat a minute after it starts.
    """
    var_dir = tmp_path_factory.mktemp("migrated")
    subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=embedded_environ(var_dir, HEARTBEAT_SECONDS="1"),
        check=True,
    )
    return var_dir / "portal.sqlite3"


@pytest.fixture
def embedded_var_dir(migrated_database: Path, tmp_path: Path) -> Path:
    """A fresh ``VAR_DIR`` for one test, holding its own copy of the migrated database."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    # SQLite's backup API copies a consistent database whatever state its WAL file is in.
    with (
        closing(sqlite3.connect(migrated_database)) as source,
        closing(sqlite3.connect(var_dir / "portal.sqlite3")) as target,
    ):
        source.backup(target)
    return var_dir
