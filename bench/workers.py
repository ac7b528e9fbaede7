"""Scale-out: a batch of bias audits through real Celery workers on Redis, with 1 and then 2 worker processes.

Each audit is a queued ``AuditRun`` of the same stored evaluation data (synthetic predictions, two sensitive
features, bootstrap intervals as the product computes them), sent to the ``audits`` queue exactly as
``bias_audit_request`` enqueues it. A worker (``celery -A config worker -Q audits --concurrency N``) runs the
batch; throughput is audits per second from the first send to the last finished run.

While the two processes are busy, a separate worker on the default queue (``-Q celery``) runs a heartbeat task:
its latency shows that short tasks are not stuck behind audits (CELERY_TASK_ROUTES), and gate decisions are timed
in process meanwhile, next to the same decisions with the workers idle. Redis database 8 is the broker (emptied
before and after); ``BENCH_REDIS_URL`` overrides it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.enterprise import Enterprise
from bench.report import Measurement

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
FINISHED = ("passed", "failed", "error")
MAPPING = {"label": "label", "prediction": "prediction", "sensitive": ["sex", "age_group"]}


@contextlib.contextmanager
def worker(queues: str, concurrency: int, folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker on ``queues`` with ``concurrency`` processes, started in its own session; waits until ready."""
    name = f"bench-{queues}-{concurrency}-{uuid.uuid4().hex[:6]}"
    log = folder / f"{name}.log"
    env = {**os.environ, "REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": REDIS_URL, "CELERY_RESULT_BACKEND": REDIS_URL}
    # One numeric thread per worker process: processes are the unit of scale-out, and a BLAS pool per process
    # would have one process already spread over every core, leaving nothing for a second to gain.
    env.update({name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "config",
        "worker",
        "-Q",
        queues,
        "--concurrency",
        str(concurrency),
        "--pool",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
        "-n",
        f"{name}@%h",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and tools, fixed arguments
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 300
        while b" ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _sender() -> Any:
    """A Celery app that only sends, to the bench's Redis, with the portal's queues and routes."""
    from celery import Celery
    from django.conf import settings

    app = Celery("bench-sender", broker=REDIS_URL)
    app.conf.update(task_queues=settings.CELERY_TASK_QUEUES, task_routes=settings.CELERY_TASK_ROUTES)
    return app


def _dataset(ent: Enterprise, rows: int) -> Any:
    """Evaluation data stored once, through the service, on a model the Risk Officer may audit."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from audits.services import evaluation_dataset_create
    from bench.audit import synthetic
    from core.models import User
    from inventory.models import ModelVersion

    officer = User.objects.get(pk=ent.risk_officer_id)
    version = (
        ModelVersion.objects.filter(model__risk_tier__isnull=False, model__key__in=ent.ci_keys)
        .select_related("model")
        .order_by("pk")
        .first()
    )
    if version is None:
        raise RuntimeError("no tiered model to audit")
    buffer = io.StringIO()
    synthetic(rows, seed=3).to_csv(buffer, index=False)
    upload = SimpleUploadedFile("predictions.csv", buffer.getvalue().encode(), content_type="text/csv")
    return evaluation_dataset_create(actor=officer, version=version, name="bench", mapping=MAPPING, upload=upload)


def _batch(ent: Enterprise, dataset: Any, count: int, app: Any) -> float:
    """Queue ``count`` audits of ``dataset`` and wait until every one finished; seconds from first send to last."""
    from audits.models import AuditRun
    from audits.services import bias_audit_request
    from core.models import User

    officer = User.objects.get(pk=ent.risk_officer_id)
    runs = [
        bias_audit_request(actor=officer, dataset=dataset, idempotency_key=f"bench:{uuid.uuid4().hex}", enqueue=False)
        for _ in range(count)
    ]
    ids = [run.pk for run in runs]
    start = time.perf_counter()
    for run_id in ids:
        app.send_task("audits.tasks.run_bias_audit", args=[run_id])
    deadline = time.monotonic() + 1800
    while AuditRun.objects.filter(pk__in=ids, status__in=FINISHED).count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError("audits did not finish in 30 minutes")
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    errors = AuditRun.objects.filter(pk__in=ids, status="error").count()
    if errors:
        raise RuntimeError(f"{errors} of {count} audits ended in error")
    return elapsed


def _heartbeat_latency(app: Any) -> float:
    """Seconds from sending a heartbeat task on the default queue until its row shows it ran."""
    from core.models import ServiceHeartbeat

    marker = uuid.uuid4().hex
    start = time.perf_counter()
    app.send_task("core.tasks.record_heartbeat", kwargs={"sent_at": marker})
    deadline = time.monotonic() + 120
    while not ServiceHeartbeat.objects.filter(name="scheduler", details__sent_at=marker).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the heartbeat task did not run in 2 minutes")
        time.sleep(0.02)
    return time.perf_counter() - start


def run(ent: Enterprise, *, audits: int, figures: dict[str, Any], notes: list[str]) -> list[Measurement]:
    """Throughput with 1 and 2 worker processes; gate and a default-queue task while the audits run."""
    import redis

    from bench import web

    # Big enough that an audit takes seconds, so the batch measures the audits rather than the queue.
    rows = 500_000 if ent.counts["models"] > 10_000 else 200_000
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    app = _sender()
    dataset = _dataset(ent, rows)
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    measurements: list[Measurement] = []
    params = {"audits": audits, "rows": rows, "broker": REDIS_URL}
    try:
        idle_gate = web.gate(ent, runs=10)
        seconds: dict[int, float] = {}
        for concurrency in (1, 2):
            with worker("audits", concurrency, folder):
                if concurrency == 1:
                    seconds[1] = _batch(ent, dataset, audits, app)
                    continue
                with worker("celery", 1, folder):
                    # Start the batch, then measure the gate and a short task while both processes are busy.
                    from audits.models import AuditRun
                    from audits.services import bias_audit_request
                    from core.models import User

                    officer = User.objects.get(pk=ent.risk_officer_id)
                    runs = [
                        bias_audit_request(
                            actor=officer, dataset=dataset, idempotency_key=f"bench:{uuid.uuid4().hex}", enqueue=False
                        )
                        for _ in range(audits)
                    ]
                    ids = [each.pk for each in runs]
                    start = time.perf_counter()
                    for run_id in ids:
                        app.send_task("audits.tasks.run_bias_audit", args=[run_id])
                    time.sleep(0.5)
                    busy_gate = web.gate(ent, runs=10)
                    heartbeat = [_heartbeat_latency(app) for _ in range(3)]
                    while AuditRun.objects.filter(pk__in=ids, status__in=FINISHED).count() < audits:
                        time.sleep(0.1)
                    seconds[2] = time.perf_counter() - start
                    if AuditRun.objects.filter(pk__in=ids, status="error").count():
                        notes.append("workers: some audits ended in error")
        for concurrency, elapsed in seconds.items():
            label = "1 worker process" if concurrency == 1 else f"{concurrency} worker processes"
            figures[f"bias audits ({rows} rows each), {label}: audits/s"] = audits / elapsed
            measurements.append(
                Measurement(
                    "workers", f"batch of {audits} audits, {label}", [elapsed], {**params, "concurrency": concurrency}
                )
            )
        figures["2 workers / 1 worker throughput (target ≥ 1.7)"] = seconds[1] / seconds[2]
        for item, when in ((idle_gate, "workers idle"), (busy_gate, "2 audit workers busy")):
            for measurement in item:
                measurement.name = f"gate decision, {when}"
                measurement.group = "workers"
                measurements.append(measurement)
        measurements.append(
            Measurement(
                "workers", "default-queue task latency, audits running", heartbeat, {"task": "record_heartbeat"}
            )
        )
    finally:
        client.flushdb()
        shutil.rmtree(folder, ignore_errors=True)
        # The stored copy lives under MEDIA_ROOT, outside the scratch database that is dropped afterwards.
        from django.core.files.storage import default_storage

        if dataset.file.name:
            default_storage.delete(dataset.file.name)
    return measurements
