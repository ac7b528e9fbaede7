"""The compliance sweep on M synthetic models, through the service the scheduled task runs.

The portfolio is built with bulk inserts (one owner, one unit, M models and one version each, in mixed states),
so 100,000 models take seconds to minutes, not hours. :func:`scratch_database` gives the run a database of its
own: a temporary SQLite file under var/bench/, or, when ``DATABASE_URL`` points to PostgreSQL, a temporary
database on that server, dropped afterwards. The full size (100,000 models) runs only on PostgreSQL.
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

BATCH = 5000


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


def build_portfolio(models: int) -> None:
    """Insert ``models`` models, each with one version, in bulk; states and tiers vary so the rules have work."""
    from django.utils import timezone

    from core.models import User
    from inventory.choices import LifecycleStage, ModelType, RiskTier, VersionState
    from inventory.models import BusinessUnit, ModelVersion, RegisteredModel

    now = timezone.now()
    owner = User.objects.create(username=f"bench-owner-{uuid.uuid4().hex[:8]}", title="Benchmark owner")
    unit = BusinessUnit.objects.create(
        code=f"BENCH{uuid.uuid4().hex[:6].upper()}", name="Benchmark", path="BENCH/", key_prefix="BN"
    )
    tiers = [tier.value for tier in RiskTier]
    stages = [LifecycleStage.PRODUCTION, LifecycleStage.VALIDATION, LifecycleStage.DEVELOPMENT]
    states = [VersionState.DEPLOYED, VersionState.APPROVED, VersionState.DRAFT, VersionState.APPROVED_WITH_CONDITIONS]
    start = RegisteredModel.objects.count()
    for first in range(0, models, BATCH):
        numbers = range(start + first, start + min(first + BATCH, models))
        created = RegisteredModel.objects.bulk_create(
            [
                RegisteredModel(
                    key=f"BN-{number:06d}",
                    name=f"Benchmark model {number}",
                    purpose="Synthetic model for the compliance sweep benchmark.",
                    model_type=ModelType.MACHINE_LEARNING,
                    lifecycle_stage=stages[number % len(stages)],
                    business_unit=unit,
                    business_owner=owner,
                    technical_owner=owner,
                    risk_tier=tiers[number % len(tiers)],
                    next_validation_due=(now + dt.timedelta(days=(number % 400) - 100)).date(),
                )
                for number in numbers
            ]
        )
        if any(model.pk is None for model in created):  # backends that return no ids on bulk insert
            created = list(RegisteredModel.objects.filter(key__in=[model.key for model in created]))
        ModelVersion.objects.bulk_create(
            [
                ModelVersion(
                    model=model,
                    version="1.0.0",
                    state=states[model.pk % len(states)],
                    artifact_digest="sha256:" + "0" * 64,
                    training_data_ref="s3://bench/training",
                    approved_at=now - dt.timedelta(days=30),
                    approval_expires_at=now + dt.timedelta(days=(model.pk % 200) - 50),
                )
                for model in created
            ]
        )


def sweep_once() -> None:
    """One sweep as the scheduler starts it: request a run (not enqueued), then execute it in this process."""
    from audits.sweep import compliance_sweep_execute, compliance_sweep_request

    run = compliance_sweep_request(actor=None, idempotency_key=f"bench:{uuid.uuid4().hex}", enqueue=False)
    compliance_sweep_execute(run_id=run.pk)


def run(models: int, *, runs: int, vendor: str) -> list[Measurement]:
    """Build the portfolio (timed once), then time ``runs`` sweeps after a warm-up; Django must be set up."""
    import time

    from bench.report import timed

    start = time.perf_counter()
    build_portfolio(models)
    built = time.perf_counter() - start
    params = {"models": models, "database": vendor}
    return [
        Measurement("sweep", f"build {models} models (bulk insert, once)", [built], params),
        Measurement("sweep", f"compliance sweep of {models} models", timed(sweep_once, runs=runs), params),
    ]
