"""``python -m bench [--size small|full] [--only GROUPS]``: time the portal, print the table, write var/bench/*.json.

Groups: ``audit`` (bias audit vs fairlearn and a bare count, no database), ``drift`` (a drift audit of N rows ×
20 features as one worker runs it, no database), and on a synthetic enterprise
inventory built once in a scratch database (``bench.enterprise``): ``sweep`` (compliance sweep), ``web`` (list,
detail and dashboard, API and pages), ``gate`` (gate decisions), ``ingest`` (artifact ingestion), ``export``
(CSV / XLSX register, one PDF), ``mlflow`` (a real MLflow tracking server side by side with the portal under
gunicorn), ``load`` (wrk against gunicorn) and ``workers`` (bias audits through 1 and 2 Celery workers on Redis).

Sizes: ``small`` is 100,000 audit rows and 2,000 models (under two minutes); ``full`` is 1,000,000 rows and
100,000 models, on PostgreSQL (``DATABASE_URL``); on SQLite the inventory stays at 2,000 models. ``--models``,
``--rows`` and the run counts override the size. The inventory is built in a scratch database (``--database
scratch``, the default: a temporary SQLite file or ``bench_*`` PostgreSQL database, removed afterwards) or in
whatever database Django is already connected to (``--database current``, for tests).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import audit, sweep
from bench.report import Measurement, table, write_json

SIZES: dict[str, dict[str, int]] = {
    "small": {
        "rows": 100_000,
        "models": 2_000,
        "runs": 5,
        "fairlearn_runs": 3,
        "sweep_runs": 3,
        "web_runs": 10,
        "ingest": 100,
        "load_seconds": 8,
        "audits": 8,
        "drift_runs": 3,
    },
    "full": {
        "rows": 1_000_000,
        "models": 100_000,
        "runs": 5,
        "fairlearn_runs": 2,
        "sweep_runs": 3,
        "web_runs": 25,
        "ingest": 1_000,
        "load_seconds": 30,
        "audits": 16,
        "drift_runs": 2,
    },
}
SQLITE_MODELS = 2_000
GROUPS = ("audit", "drift", "sweep", "web", "gate", "ingest", "export", "mlflow", "load", "workers")
INVENTORY_GROUPS = frozenset(GROUPS) - {"audit", "drift"}


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line; unset numbers come from ``--size``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    for name in SIZES["full"]:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, default=None)
    parser.add_argument("--database", choices=["scratch", "current"], default="scratch")
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated groups to run, of: {', '.join(GROUPS)}"
    )
    parser.add_argument("--skip-sweep", action="store_true", help="leave out the sweep group")
    arguments = parser.parse_args(argv)
    for name, value in SIZES[arguments.size].items():
        if getattr(arguments, name) is None:
            setattr(arguments, name, value)
    groups = [group.strip() for group in arguments.only.split(",") if group.strip()]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"--only: unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    if arguments.skip_sweep:
        groups = [group for group in groups if group != "sweep"]
    arguments.groups = groups
    return arguments


def _missing(module: str) -> bool:
    """Whether a feature the bench measures is not in the code base yet."""
    import importlib.util

    return importlib.util.find_spec(module) is None


def _inventory_groups(
    arguments: argparse.Namespace,
    notes: list[str],
    figures: dict[str, Any],
    ratios: dict[str, float],
    settings: dict[str, Any],
) -> list[Measurement]:
    """Build the enterprise inventory, then run every selected group on it."""
    from django.db import connection

    from bench import enterprise, web

    groups = [group for group in arguments.groups if group in INVENTORY_GROUPS]
    size = "small" if arguments.models <= enterprise.SIZES["small"]["models"] else "full"
    print(f"bench: building the enterprise inventory ({arguments.models} models) on {connection.vendor}", flush=True)
    started = time.perf_counter()
    ent = enterprise.build(size, models=arguments.models)
    _took(settings, "build", started)
    settings["inventory"] = ent.counts
    figures["inventory build (s, once)"] = ent.seconds
    measurements = [Measurement("build", f"enterprise inventory of {arguments.models} models", [ent.seconds])]
    for group in groups:
        print(f"bench: {group}", flush=True)
        started = time.perf_counter()
        try:
            if group == "sweep":
                measurements += sweep.time_sweeps(arguments.models, runs=arguments.sweep_runs, vendor=connection.vendor)
            elif group == "web":
                measurements += web.inventory(ent, runs=arguments.web_runs)
            elif group == "gate":
                measurements += web.gate(ent, runs=arguments.web_runs)
            elif group == "ingest":
                measurements += web.ingestion(ent, count=arguments.ingest, figures=figures)
            elif group == "export":
                if _missing("reports.register") or _missing("reports.model_report"):
                    notes.append("export: reports.register / reports.model_report not in the code base yet")
                    continue
                export_runs = 1 if arguments.models > 10_000 else 2
                measurements += web.exports(ent, runs=export_runs, figures=figures)
                measurements += web.pdf(ent, runs=max(2, export_runs))
            elif group == "mlflow":
                from bench import mlflow_side

                measurements += mlflow_side.run(
                    ent, runs=arguments.web_runs, figures=figures, ratios=ratios, notes=notes
                )
            elif group == "load":
                from bench import load

                measurements += load.run(ent, seconds=arguments.load_seconds, figures=figures, notes=notes)
            elif group == "workers":
                from bench import workers

                measurements += workers.run(ent, audits=arguments.audits, figures=figures, notes=notes)
        except Exception as error:  # one failing group must not lose the others' figures
            notes.append(f"{group}: failed after {time.perf_counter() - started:.1f} s: {error}")
            print(f"bench: {group} failed: {error}", flush=True)
        _took(settings, group, started)
    return measurements


def _took(settings: dict[str, Any], group: str, started: float) -> None:
    """Print and keep (``group_seconds`` in the JSON report) how long a group ran: where a run's time goes."""
    seconds = time.perf_counter() - started
    settings.setdefault("group_seconds", {})[group] = round(seconds, 1)
    print(f"bench: {group} took {seconds:.1f} s", flush=True)


def _with_inventory(
    arguments: argparse.Namespace,
    notes: list[str],
    figures: dict[str, Any],
    ratios: dict[str, float],
    settings: dict[str, Any],
) -> list[Measurement]:
    """Run the inventory groups in the current database or in a scratch one (migrated, removed afterwards)."""
    import django

    if arguments.database == "current":
        # The database Django is connected to (a test's), or the one DATABASE_URL names, migrated beforehand.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        return _inventory_groups(arguments, notes, figures, ratios, settings)
    url = os.environ.get("DATABASE_URL", "")
    if not sweep.is_postgres(url) and arguments.models > SQLITE_MODELS:
        notes.append(
            f"inventory on SQLite capped at {SQLITE_MODELS} models; {arguments.models} need DATABASE_URL on PostgreSQL"
        )
        arguments.models = SQLITE_MODELS
    from django.apps import apps

    if apps.ready:
        raise RuntimeError(
            "Django was set up before the scratch database was chosen; the inventory would be built in "
            "the database DATABASE_URL names"
        )
    with sweep.scratch_database(url, arguments.out):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        sweep.migrate()
        return _inventory_groups(arguments, notes, figures, ratios, settings)


def reference_workload(runs: int = 7) -> float:
    """Milliseconds a fixed pure-Python workload takes here (median of ``runs``): how fast the machine is now.

    The same code measures 20-30% apart from one run to the next on a shared virtual machine; this figure, taken at
    the start and the end of a run, tells a slower machine from slower code when two reports are compared.
    """
    import json
    import statistics

    def once() -> float:
        started = time.perf_counter()
        sum(number * number for number in range(1_000_000))
        json.loads(json.dumps([{"key": number, "value": str(number) * 3} for number in range(50_000)]))
        return (time.perf_counter() - started) * 1000

    return statistics.median(once() for _ in range(runs))


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmarks, print the table and return the JSON report's path."""
    arguments = parse(argv)
    notes: list[str] = []
    figures: dict[str, Any] = {}
    at_start = reference_workload()
    measurements: list[Measurement] = []
    ratios: dict[str, float] = {}
    settings: dict[str, Any] = {key: getattr(arguments, key) for key in ("size", *SIZES["full"])}
    settings.update(database=arguments.database, groups=arguments.groups, notes=notes)
    if "audit" in arguments.groups:
        print(f"bench: {arguments.rows} rows × 2 sensitive features, {arguments.runs} runs after a warm-up", flush=True)
        started = time.perf_counter()
        measurements, ratios = audit.run(arguments.rows, runs=arguments.runs, fairlearn_runs=arguments.fairlearn_runs)
        _took(settings, "audit", started)
    if INVENTORY_GROUPS & set(arguments.groups):
        measurements += _with_inventory(arguments, notes, figures, ratios, settings)
        settings["models"] = arguments.models
    # After the inventory: the drift group sets Django up (it uses no database), and settings read DATABASE_URL
    # once, so setting it up first would build the inventory in the database DATABASE_URL names, not a scratch one.
    if "drift" in arguments.groups:
        from bench import drift

        print(f"bench: drift audit of {arguments.rows} rows × 20 features, {arguments.drift_runs} runs", flush=True)
        started = time.perf_counter()
        measurements += drift.run(arguments.rows, runs=arguments.drift_runs)
        _took(settings, "drift", started)
    figures["machine: reference workload, ms at start / end (lower is faster)"] = (
        f"{at_start:.0f} / {reference_workload():.0f}"
    )
    print(table(measurements, ratios, figures))
    for note in notes:
        print(f"note: {note}")
    path = write_json(arguments.out, settings=settings, measurements=measurements, ratios=ratios, figures=figures)
    print(f"bench: wrote {path}")
    return path


if __name__ == "__main__":
    main(sys.argv[1:])
