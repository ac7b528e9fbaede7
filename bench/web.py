"""Server-side timings on the enterprise inventory: pages and API calls through Django's in-process test client.

Each request runs once untimed (warm-up), then ``runs`` times; the queries of one timed run are counted with
``CaptureQueriesContext``. People sign in with ``Client.force_login``; the CI service account uses its API token,
as a pipeline does. Exports run in a subprocess each (``python -m bench.web export csv|xlsx``), which reports its
time and its peak memory (``VmHWM``; see :func:`_peak_rss_mib` for why not ``getrusage``), next to the same figure
for a subprocess that only starts Django (the baseline).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.enterprise import Enterprise
from bench.report import Measurement

LIST_API = "/api/v1/models/"
WARMUP_RUNS = 10
LIST_PAGE = "/inventory/models/"


class RequestFailed(RuntimeError):
    """A benchmarked request answered with an unexpected status: its timing would mean nothing."""


def _client(user_id: int | None = None, token: str | None = None) -> Any:
    from django.test import Client

    from core.models import User

    defaults: dict[str, Any] = {"SERVER_NAME": "127.0.0.1"}
    if token:
        defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    # The test client's default host is "testserver", which ALLOWED_HOSTS does not list outside the test runner.
    client = Client(**defaults)
    if user_id is not None:
        client.force_login(User.objects.get(pk=user_id))
    return client


def time_request(
    group: str,
    name: str,
    client: Any,
    path: str,
    *,
    runs: int,
    method: str = "get",
    body: Any = None,
    expect: tuple[int, ...] = (200,),
    params: dict[str, Any] | None = None,
) -> Measurement:
    """Time ``runs`` requests after :data:`WARMUP_RUNS` warm-ups and one run whose queries are counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    def once() -> Any:
        if method == "post":
            data = body() if callable(body) else body
            response = client.post(path, data=json.dumps(data), content_type="application/json")
        else:
            response = client.get(path)
        if response.status_code not in expect:
            raise RequestFailed(f"{method.upper()} {path}: {response.status_code} {response.content[:300]!r}")
        if getattr(response, "streaming", False):
            for _ in response.streaming_content:
                pass
        else:
            _ = response.content
        return response

    # A server's connection has prepared a request's statements after its first few requests of that kind (psycopg
    # prepares a statement on its fifth run, PostgreSQL plans the first five executions itself before it keeps a
    # generic plan): the timings are of that steady state, not of a new connection's first requests.
    for _ in range(WARMUP_RUNS):
        once()
    # The queries are counted on a run of their own; the timed runs go without Django's debug query log, which
    # `make bench` (DEBUG=1, so pages find their static files without collectstatic) would otherwise keep for every
    # statement, as production (DEBUG off) does not.
    with CaptureQueriesContext(connection) as captured:
        once()
    queries = len(captured.captured_queries)
    seconds = []
    with override_settings(DEBUG=False):
        for _ in range(runs):
            start = time.perf_counter()
            once()
            seconds.append(time.perf_counter() - start)
    return Measurement(group, name, seconds, {"path": path, **(params or {})}, queries=queries)


def _deep_page(models: int) -> int:
    """A page far into the listing: half-way, at most page 1,000 (offset 50,000)."""
    return max(1, min(1000, models // 50 // 2))


def inventory(ent: Enterprise, *, runs: int) -> list[Measurement]:
    """Inventory list API and page, model detail API and page, dashboard, as a Risk Officer and as an owner."""
    officer = _client(ent.risk_officer_id)
    # API clients (pipelines, scripts) send a token; the signed-in cases above are the browser's.
    officer_api = _client(token=ent.officer_token)
    owner = _client(ent.owner_id)
    deep = _deep_page(ent.counts["models"])
    filtered = f"?tier={ent.tier}&stage={ent.stage}"
    rare = ent.rare_tag
    key = ent.gate_targets[0][0] if ent.gate_targets else ent.ci_keys[0]
    cases = [
        ("web", "list API first page (risk officer)", officer, LIST_API),
        ("web", f"list API tier={ent.tier}+stage={ent.stage} (risk officer)", officer, LIST_API + filtered),
        ("web", f"list API tag={ent.tag} (risk officer)", officer, f"{LIST_API}?tag={ent.tag}"),
        ("web", f"list API deep page {deep} (risk officer)", officer, f"{LIST_API}?page={deep}"),
        ("web", "list API first page (risk officer, token)", officer_api, LIST_API),
        ("web", f"list API tier={ent.tier}+stage={ent.stage} (risk officer, token)", officer_api, LIST_API + filtered),
        ("web", f"list API tag={ent.tag} (risk officer, token)", officer_api, f"{LIST_API}?tag={ent.tag}"),
        ("web", f"list API rare tag={ent.rare_tag} (risk officer, token)", officer_api, f"{LIST_API}?tag={rare}"),
        ("web", f"list API first page (owner of {ent.owner_models})", owner, LIST_API),
        ("web", "list API tier+stage (owner)", owner, LIST_API + filtered),
        ("web", "list page first (risk officer)", officer, LIST_PAGE),
        ("web", "list page tier+stage (risk officer)", officer, LIST_PAGE + filtered),
        ("web", f"list page deep page {deep} (risk officer)", officer, f"{LIST_PAGE}?page={deep}"),
        ("web", "list page first (owner)", owner, LIST_PAGE),
        ("web", "model detail API (risk officer)", officer, f"{LIST_API}{key}/"),
        ("web", "model detail API (risk officer, token)", officer_api, f"{LIST_API}{key}/"),
        ("web", "model detail page (risk officer)", officer, f"{LIST_PAGE}{key}/"),
        ("web", "dashboard page (risk officer)", officer, "/dashboard/"),
    ]
    return [time_request(group, name, client, path, runs=runs) for group, name, client, path in cases]


def gate(ent: Enterprise, *, runs: int) -> list[Measurement]:
    """Gate decisions asked by the scoped CI account with its token (each one is recorded and signed)."""
    if not ent.gate_targets:
        return []
    client = _client(token=ent.ci_token)
    targets = iter(ent.gate_targets * (runs // max(1, len(ent.gate_targets)) + 2))

    def body() -> dict[str, str]:
        key, label, digest = next(targets)
        return {"model": key, "version": label, "environment": "production", "digest": digest}

    return [
        time_request(
            "gate", "gate decision (CI token)", client, "/api/v1/gate/check/", runs=runs, method="post", body=body
        )
    ]


def ingestion(ent: Enterprise, *, count: int, figures: dict[str, Any]) -> list[Measurement]:
    """``count`` git-commit artifacts posted one by one by the CI account; artifacts per second end to end."""
    if not ent.gate_targets:
        return []
    client = _client(token=ent.ci_token)
    rng = random.Random(7)  # noqa: S311 - synthetic commit SHAs
    targets = ent.gate_targets

    def body() -> dict[str, str]:
        key, label, _digest = targets[rng.randrange(len(targets))]
        return {
            "model": key,
            "version": label,
            "kind": "git_commit",
            "repository": f"https://git.example.com/models/{key.lower()}",
            "sha": f"{rng.getrandbits(160):040x}",
        }

    measurement = time_request(
        "ingest",
        "artifact POST (CI token)",
        client,
        "/api/v1/artifacts/",
        runs=count,
        method="post",
        body=body,
        expect=(201,),
    )
    figures["artifact ingestion through the API (artifacts/s, one client)"] = count / sum(measurement.seconds)
    return [measurement]


def pdf(ent: Enterprise, *, runs: int) -> list[Measurement]:
    """One model's governance report as PDF, in process."""
    import logging

    # WeasyPrint logs every layout step at INFO; the table is what the reader wants.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    from core.models import User
    from inventory.models import RegisteredModel
    from reports.model_report import model_report_pdf

    user = User.objects.get(pk=ent.risk_officer_id)
    model = RegisteredModel.objects.get(key=ent.gate_targets[0][0] if ent.gate_targets else ent.ci_keys[0])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        from bench.report import timed

        seconds = timed(lambda: model_report_pdf(user=user, model=model, path=path), runs=runs)
        size = path.stat().st_size
    return [Measurement("export", "model report PDF (one model)", seconds, {"bytes": size, "model": model.key})]


def _subprocess(kind: str, user_id: int) -> dict[str, Any]:
    """Run one export in a fresh interpreter; its own report (seconds, rows, bytes, max RSS)."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and tools, fixed arguments
        [sys.executable, "-m", "bench.web", "export", kind, str(user_id)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    if completed.returncode != 0:
        raise RuntimeError(f"export {kind} failed: {completed.stderr[-2000:]}")
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def exports(ent: Enterprise, *, runs: int, figures: dict[str, Any]) -> list[Measurement]:
    """CSV and XLSX register of every model, each run in its own subprocess: time and peak memory."""
    baseline = _subprocess("none", ent.risk_officer_id)
    figures["export baseline: Django started, nothing exported (max RSS MiB)"] = baseline["max_rss_mib"]
    measurements = []
    for kind in ("csv", "xlsx"):
        reports = [_subprocess(kind, ent.risk_officer_id) for _ in range(runs)]
        rss = max(report["max_rss_mib"] for report in reports)
        figures[f"register {kind.upper()} of all models: peak memory (max RSS MiB)"] = rss
        measurements.append(
            Measurement(
                "export",
                f"register {kind.upper()} of all {reports[0]['rows']} models",
                [report["seconds"] for report in reports],
                {"rows": reports[0]["rows"], "bytes": reports[0]["bytes"], "max_rss_mib": rss},
            )
        )
    return measurements


def _export_main(kind: str, user_id: int) -> None:
    """The subprocess side of :func:`exports`: export once, print one JSON line."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from core.models import User
    from reports.register import register_csv, register_xlsx

    user = User.objects.get(pk=user_id)
    rows = 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"register.{kind}"
        start = time.perf_counter()
        if kind == "csv":
            with path.open("w", encoding="utf-8", newline="") as handle:
                for piece in register_csv(user=user):
                    handle.write(piece)
            rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
        elif kind == "xlsx":
            rows = register_xlsx(user=user, path=path)
        seconds = time.perf_counter() - start
        size = path.stat().st_size if path.exists() else 0
    print(json.dumps({"seconds": seconds, "rows": rows, "bytes": size, "max_rss_mib": round(_peak_rss_mib(), 1)}))


def _peak_rss_mib() -> float:
    """This process's peak resident memory in MiB.

    ``VmHWM`` from /proc, not ``ru_maxrss``: on Linux a forked child starts with its parent's ``ru_maxrss`` and
    keeps it across exec, so ``getrusage(RUSAGE_SELF)`` in the child (or ``RUSAGE_CHILDREN`` in the parent) reports
    at least the parent's peak, here the bench process holding the inventory build: every export would show the
    same figure. ``VmHWM`` belongs to the new address space exec created.
    """
    import resource

    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    # Elsewhere, the best there is (KiB on Linux, bytes on macOS; both are only a fallback here).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "export":
        _export_main(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit("usage: python -m bench.web export csv|xlsx|none USER_ID")
