"""``python -m bench [--size small|full]``: time the audit paths, print the table, write var/bench/<timestamp>.json.

Sizes: ``small`` is 100,000 rows and 2,000 models (under two minutes); ``full`` is 1,000,000 rows and, when
``DATABASE_URL`` points to PostgreSQL, 100,000 models (on SQLite the sweep stays at 2,000 models). ``--rows``,
``--models`` and the run counts override the size. The sweep runs in a scratch database (``--database scratch``,
the default) or in whatever database Django is already connected to (``--database current``, for tests).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bench import audit, sweep
from bench.report import Measurement, table, write_json

SIZES: dict[str, dict[str, int]] = {
    "small": {"rows": 100_000, "models": 2_000, "runs": 5, "fairlearn_runs": 3, "sweep_runs": 3},
    "full": {"rows": 1_000_000, "models": 100_000, "runs": 5, "fairlearn_runs": 2, "sweep_runs": 3},
}
SQLITE_MODELS = 2_000


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line; unset numbers come from ``--size``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    for name in ("rows", "models", "runs", "fairlearn_runs", "sweep_runs"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, default=None)
    parser.add_argument("--database", choices=["scratch", "current"], default="scratch")
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    parser.add_argument("--skip-sweep", action="store_true", help="time only the audit paths")
    arguments = parser.parse_args(argv)
    for name, value in SIZES[arguments.size].items():
        if getattr(arguments, name) is None:
            setattr(arguments, name, value)
    return arguments


def _sweep(arguments: argparse.Namespace, notes: list[str]) -> list[Measurement]:
    import django

    if arguments.database == "current":
        from django.db import connection

        return sweep.run(arguments.models, runs=arguments.sweep_runs, vendor=connection.vendor)
    url = os.environ.get("DATABASE_URL", "")
    models = arguments.models
    if not sweep.is_postgres(url) and models > SQLITE_MODELS:
        notes.append(f"sweep on SQLite capped at {SQLITE_MODELS} models; {models} need DATABASE_URL on PostgreSQL")
        models = SQLITE_MODELS
    with sweep.scratch_database(url, arguments.out):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from django.db import connection

        sweep.migrate()
        return sweep.run(models, runs=arguments.sweep_runs, vendor=connection.vendor)


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmarks, print the table and return the JSON report's path."""
    arguments = parse(argv)
    notes: list[str] = []
    print(f"bench: {arguments.rows} rows × 2 sensitive features, {arguments.runs} runs after a warm-up", flush=True)
    measurements, ratios = audit.run(arguments.rows, runs=arguments.runs, fairlearn_runs=arguments.fairlearn_runs)
    if not arguments.skip_sweep:
        print(f"bench: compliance sweep of {arguments.models} models", flush=True)
        measurements += _sweep(arguments, notes)
    settings: dict[str, Any] = {
        key: getattr(arguments, key) for key in ("size", "rows", "models", "runs", "fairlearn_runs", "sweep_runs")
    }
    settings.update(database=arguments.database, skip_sweep=arguments.skip_sweep, notes=notes)
    print(table(measurements, ratios))
    for note in notes:
        print(f"note: {note}")
    path = write_json(arguments.out, settings=settings, measurements=measurements, ratios=ratios)
    print(f"bench: wrote {path}")
    return path


if __name__ == "__main__":
    main(sys.argv[1:])
