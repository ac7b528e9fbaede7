"""The portal under load: gunicorn (2 workers on this 2-core machine) and wrk with 32 connections for a fixed time.

The mix is a Lua script (``bench/wrk_mix.lua``): 80% reads (inventory list first page, filtered list, model
detail), 15% gate decisions, 5% artifact writes (a new git commit each), all as the CI service account with its
API token, as pipelines call the portal. Then two single-endpoint runs give the ceilings the issue names: the list
API alone and the gate alone (8 connections). wrk reports requests/s, latency percentiles and errors (socket
errors and non-2xx answers); every error is counted, and the target is none.

:func:`serve_portal` starts gunicorn on the scratch database and is shared with the MLflow comparison.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.enterprise import Enterprise
from bench.report import Measurement

GUNICORN_WORKERS = 2  # one per core on this 2-core machine; documented in docs/performance.md
CONNECTIONS = 32
SCRIPT = Path(__file__).with_name("wrk_mix.lua")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, *, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Wait until ``url`` answers (any HTTP status); fail with the log's tail if the process died or stalled."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout:.0f} s: {log.read_text()[-2000:]}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session, with everything it forked."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def serve_portal(*, workers: int = GUNICORN_WORKERS) -> Iterator[str]:
    """Serve the portal with gunicorn on the database ``DATABASE_URL`` names; yields its base URL.

    Production-like: DEBUG off (no query log), persistent database connections as configured, sync workers.
    """
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="bench-gunicorn-"))
    log = folder / "gunicorn.log"
    env = os.environ.copy()
    env.update(
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        GATE_KEY_DIR=str(folder / "keys"),
    )
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi:application",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and tools, fixed arguments
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/v1/", process=process, timeout=120, log=log)
        yield url
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def _wrk(url: str, *, connections: int, seconds: int, env: dict[str, str]) -> dict[str, Any]:
    """Run wrk with the mix script; the summary the script prints as JSON, plus wrk's own error lines."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (make system-packages, or apt-get install wrk)")
    completed = subprocess.run(  # noqa: S603 - our own interpreter and tools, fixed arguments
        [wrk, "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(SCRIPT), url],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        timeout=seconds + 60,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed: {completed.stderr[-1000:]}")
    match = re.search(r"^BENCH_JSON (.+)$", completed.stdout, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no summary: {completed.stdout[-1000:]}")
    return dict(json.loads(match.group(1)))


def _mix_env(ent: Enterprise, mix: str) -> dict[str, str]:
    targets = ent.gate_targets[:500]
    return {
        "BENCH_TOKEN": ent.ci_token,
        "BENCH_READ_TOKEN": ent.officer_token,
        "BENCH_MIX": mix,
        "BENCH_TARGETS": ";".join(",".join(target) for target in targets),
        "BENCH_TAG": ent.tag,
    }


def run(ent: Enterprise, *, seconds: int, figures: dict[str, Any], notes: list[str]) -> list[Measurement]:
    """The mixed load with 32 connections, then the list API and the gate alone with 8; figures per run."""
    if not ent.gate_targets:
        notes.append("load: no deployed model the CI account may report for; nothing to load")
        return []
    runs = [
        ("mix 80/15/5", "mix", CONNECTIONS),
        ("list API only", "list", 8),
        ("gate only", "gate", 8),
    ]
    results: list[dict[str, Any]] = []
    with serve_portal() as url:
        for label, mix, connections in runs:
            summary = _wrk(url, connections=connections, seconds=seconds, env=_mix_env(ent, mix))
            errors = summary["errors"]
            name = f"load {label}, {connections} connections, {GUNICORN_WORKERS} workers"
            figures[f"{name}: requests/s"] = summary["rps"]
            figures[f"{name}: p50 / p95 / p99 ms"] = (
                f"{summary['p50'] / 1000:.1f} / {summary['p95'] / 1000:.1f} / {summary['p99'] / 1000:.1f}"
            )
            figures[f"{name}: errors (of {summary['requests']})"] = errors
            if errors:
                notes.append(f"load {label}: {errors} errors ({summary['error_detail']})")
            results.append({"label": label, "connections": connections, "seconds": seconds, **summary})
    figures["_load_runs"] = results  # kept in the JSON report, not printed
    # Load figures are rates and percentiles over thousands of requests, not per-run seconds: no table rows.
    return []
