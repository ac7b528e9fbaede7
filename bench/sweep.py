"""The compliance sweep, through the service the scheduled task runs, and the scratch database every group uses.

The inventory it sweeps is the synthetic enterprise (``bench.enterprise``). :func:`scratch_database` gives the run
a database of its own: a temporary SQLite file under var/bench/, or, when ``DATABASE_URL`` points to PostgreSQL, a
temporary ``bench_*`` database on that server, dropped afterwards. The full size (100,000 models) runs only on
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.report import Measurement


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return urlsplit(url).scheme in {"postgres", "postgresql"}


@contextmanager
def scratch_database(url: str, directory: Path) -> Iterator[str]:
    """Point ``DATABASE_URL`` at a new empty database for the benchmark; remove it afterwards.

    Call before ``django.setup()``: the settings read ``DATABASE_URL`` once.
    """
    name = f"bench_{dt.datetime.now(dt.UTC).strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
    previous = os.environ.get("DATABASE_URL")
    if is_postgres(url):
        import psycopg

        parts = urlsplit(url)
        scratch_url = urlunsplit(parts._replace(path=f"/{name}"))
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        cleanup = lambda: _drop_postgres(url, name)  # noqa: E731
    else:
        directory.mkdir(parents=True, exist_ok=True)
        path = (directory / f"{name}.sqlite3").resolve()
        scratch_url = f"sqlite:///{path}"

        def cleanup() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    os.environ["DATABASE_URL"] = scratch_url
    try:
        yield scratch_url
    finally:
        from django.db import connections

        connections.close_all()
        cleanup()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous


def _drop_postgres(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate() -> None:
    """Create the schema in the (scratch) database."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def sweep_once() -> None:
    """One sweep as the scheduler starts it: request a run (not enqueued), then execute it in this process."""
    from audits.sweep import compliance_sweep_execute, compliance_sweep_request

    run = compliance_sweep_request(actor=None, idempotency_key=f"bench:{uuid.uuid4().hex}", enqueue=False)
    compliance_sweep_execute(run_id=run.pk)


def time_sweeps(models: int, *, runs: int, vendor: str) -> list[Measurement]:
    """Time ``runs`` sweeps (after a warm-up) of the inventory already in the database; Django must be set up."""
    from bench.report import timed

    return [
        Measurement(
            "sweep",
            f"compliance sweep of {models} models",
            timed(sweep_once, runs=runs),
            {"models": models, "database": vendor},
        )
    ]
