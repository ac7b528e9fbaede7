"""The services the portal runs on fail and come back: Redis restarts with tasks queued, Redis is down while people
work, PostgreSQL restarts under load. No decision, audit, export or e-mail is lost or recorded twice, the web
processes recover without a restart, and beat resumes its schedules.

Each test starts the server it breaks (tests/integration/private_services.py): a private ``redis-server`` with
append-only persistence, or a private PostgreSQL cluster, never the machine's own, which CI and other runs share.
The portal runs as production runs it: gunicorn, ``celery worker`` and ``celery beat`` subprocesses.

They carry the ``postgresql_only`` marker for two reasons: the Redis tests' web and worker processes share the
pytest-django test database, which only PostgreSQL lets other processes open; and CI runs the suite twice (once
on PostgreSQL, once on SQLite), while these tests need to run once. Without ``redis-server`` or PostgreSQL's
``initdb`` they fail, naming the missing binary.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from audits.models import AuditRun
from audits.services import evaluation_dataset_create
from core.models import ServiceHeartbeat
from core.services import api_token_issue
from governance.choices import EventType, FindingSeverity, FindingStatus
from governance.models import Finding, GovernanceEvent, Notification
from governance.services.findings import finding_raise
from inventory.choices import VersionState
from reports.choices import ExportStatus
from reports.models import Export
from tests.audits.conftest import GERMAN_MAPPING, GERMAN_PREDICTIONS, upload
from tests.factories import ModelVersionFactory
from tests.governance.conftest import TIER_1_ANSWERS, TIER_3_ANSWERS, approve_tier
from tests.integration.embedded import log_tails, stop, wait_until
from tests.integration.private_services import (
    POSTGRESQL_BIN,
    Answer,
    PrivatePostgres,
    PrivateRedis,
    call,
    free_port,
    require_binary,
    wait_for_web,
    web_process,
)
from tests.integration.test_audit_faults import _assert_recorded_once
from tests.markers import postgresql_only

pytestmark = [pytest.mark.services, postgresql_only, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 60
EMAIL_SUBJECT = "Subject: [ModelOps Portal]"


# --- processes -------------------------------------------------------------------------------------------------


def _database_url() -> str:
    """The pytest-django test database as a ``DATABASE_URL``: committed rows are what the subprocesses see."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


def _environ(tmp_path: Path, database_url: str, redis_url: str | None) -> dict[str, str]:
    """The portal's environment for its processes; without ``redis_url`` the broker is a folder under var/."""
    service_settings = ("DATABASE_", "REDIS_", "CELERY_")
    environ = {key: value for key, value in os.environ.items() if not key.startswith(service_settings)}
    environ.update(
        {
            "DEBUG": "1",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(settings.BASE_DIR),
            "LOG_LEVEL": "WARNING",
        }
    )
    if redis_url:
        environ["REDIS_URL"] = redis_url
    return environ


def _celery(kind: str, environ: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    """``celery worker`` (one task at a time, both of the portal's queues) or ``celery beat`` (the database
    scheduler), logging to ``<kind>.log``; e-mails (console backend) land in the worker's log."""
    options = {
        "worker": ["worker", "--pool=solo", "-Q", "celery,audits", "--without-gossip", "--without-mingle"],
        "beat": ["beat", "--scheduler=django"],
    }[kind]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            *options,
            "--loglevel=INFO",
            f"--logfile={tmp_path}/{kind}.log",
        ],
        cwd=settings.BASE_DIR,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _logs(tmp_path: Path) -> str:
    return log_tails(*(tmp_path / name for name in ("web.log", "worker.log", "beat.log", "redis/redis.log")))


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web(private_redis: PrivateRedis, tmp_path: Path, media: Path) -> Iterator[str]:
    """The portal under gunicorn on the test database with the private Redis as its broker; its base URL."""
    port = free_port()
    process = web_process(
        _environ(tmp_path, _database_url(), private_redis.url()), settings.BASE_DIR, port, tmp_path / "web.log"
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_for_web(process, base_url, tmp_path / "web.log")
        yield base_url
    finally:
        stop(process)


def _token(user: Any) -> str:
    return api_token_issue(actor=user, user=user, name="faults")[1]


def _audit_dataset(personas: Any) -> int:
    """German Credit predictions for a Tier 1 version of model A: its bias audit fails on equalized odds."""
    approve_tier(personas.model_a, TIER_1_ANSWERS, personas.owner_a, personas.risk_officer)
    version = ModelVersionFactory(model=personas.model_a, version="1.0.0", actor=personas.owner_a)
    dataset = evaluation_dataset_create(
        actor=personas.owner_a,
        version=version,
        name="German test split",
        mapping=GERMAN_MAPPING,
        upload=upload(GERMAN_PREDICTIONS.read_bytes()),
    )
    return dataset.pk


def _finding_body(title: str) -> dict[str, str]:
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    return {"model": "RB-0001", "title": title, "severity": "medium", "due_date": due}


def _accepted(answer: Answer, *statuses: int) -> Any:
    assert answer.status in statuses, answer
    return answer.body


def _events(event_type: str, subject_id: int) -> int:
    return GovernanceEvent.objects.filter(event_type=event_type, subject_id=str(subject_id)).count()


def _emails(tmp_path: Path, title: str) -> int:
    log = tmp_path / "worker.log"
    text = log.read_text() if log.exists() else ""
    return sum(1 for line in text.splitlines() if line.startswith(EMAIL_SUBJECT) and title in line)


def _emailed(notification_title: str) -> bool:
    return not Notification.objects.filter(title__contains=notification_title, emailed_at__isnull=True).exists()


# --- Redis -----------------------------------------------------------------------------------------------------


def test_tasks_queued_before_a_redis_restart_each_run_once(
    personas: Any, private_redis: PrivateRedis, web: str, tmp_path: Path
) -> None:
    dataset = _audit_dataset(personas)
    owner, officer = _token(personas.owner_a), _token(personas.risk_officer)

    # Requested through the web while no worker runs: the messages wait in Redis.
    run_id = _accepted(call(web, "POST", "/api/v1/audit-runs/", owner, {"dataset": dataset}), 201, 202)["id"]
    export_id = _accepted(call(web, "POST", "/api/v1/exports/", officer, {"kind": "register_csv"}), 202)["id"]
    finding_id = _accepted(call(web, "POST", "/api/v1/findings/", officer, _finding_body("Queued notice")), 201)["id"]
    queued = private_redis.client()
    assert (queued.llen("audits"), queued.llen("celery")) == (2, 1), "the three tasks are not in Redis"

    private_redis.restart()
    assert (queued.llen("audits"), queued.llen("celery")) == (2, 1), "Redis lost queued tasks in its restart"

    worker = _celery("worker", _environ(tmp_path, _database_url(), private_redis.url()), tmp_path)
    try:
        done = wait_until(
            lambda: (
                worker.poll() is not None
                or (
                    AuditRun.objects.filter(pk=run_id, status__in=("passed", "failed", "error")).exists()
                    and Export.objects.filter(pk=export_id, status=ExportStatus.DONE).exists()
                    and _emailed("Queued notice")
                )
            ),
            seconds=WAIT_SECONDS,
        )
        assert done and worker.poll() is None, f"the queued work did not finish\n{_logs(tmp_path)}"
    finally:
        stop(worker)

    run = AuditRun.objects.get(pk=run_id)
    assert run.attempts == 1
    _assert_recorded_once(run)
    export = Export.objects.get(pk=export_id)
    assert (export.attempts, bool(export.file), export.sha256 != "") == (1, True, True)
    assert _events(EventType.REPORT_EXPORTED, export_id) == 1
    assert _events(EventType.FINDING_RAISED, finding_id) == 1
    assert _emails(tmp_path, "Queued notice") == 1, _logs(tmp_path)
    assert (queued.llen("audits"), queued.llen("celery")) == (0, 0)


def _every_second(name: str, **fields: Any) -> None:
    """Make the default schedule ``name`` fire every second (beat reads the change when it starts)."""
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name=name).update(interval=interval, crontab=None, **fields)


def _heartbeat_since(moment: dt.datetime) -> bool:
    return ServiceHeartbeat.objects.filter(name="scheduler", last_seen__gt=moment).exists()


def test_work_requested_while_redis_is_down_is_done_once_when_it_is_back_and_beat_resumes(
    personas: Any, private_redis: PrivateRedis, web: str, tmp_path: Path
) -> None:
    officer = _token(personas.risk_officer)
    # Beat's heartbeat proves beat, broker and worker alive; the requeue sweep sends again what waited 2 s.
    _every_second("portal-heartbeat")
    _every_second("portal-requeue-stale-work", kwargs='{"older_than_seconds": 2}')
    environ = _environ(tmp_path, _database_url(), private_redis.url())
    with ExitStack() as stack:
        worker = _celery("worker", environ, tmp_path)
        stack.callback(stop, worker)
        beat = _celery("beat", environ, tmp_path)
        stack.callback(stop, beat)
        started = timezone.now()
        assert wait_until(lambda: _heartbeat_since(started), seconds=WAIT_SECONDS), _logs(tmp_path)

        private_redis.stop()
        # The web keeps answering: reads, the health check (broker reported down, still 200: the web can serve),
        # and requests that queue work, which are recorded and answered.
        assert call(web, "GET", "/api/v1/models/", officer).status == 200
        health = call(web, "GET", "/health/")
        assert (health.status, health.body["broker"]) == (200, "error"), health
        export_id = _accepted(call(web, "POST", "/api/v1/exports/", officer, {"kind": "register_csv"}), 202)["id"]
        finding = _accepted(call(web, "POST", "/api/v1/findings/", officer, _finding_body("Notice while down")), 201)
        export = Export.objects.get(pk=export_id)
        assert export.status == ExportStatus.QUEUED and _events(EventType.REPORT_EXPORTED, export_id) == 1
        assert _events(EventType.FINDING_RAISED, finding["id"]) == 1

        private_redis.start()
        back = timezone.now()
        done = wait_until(
            lambda: (
                worker.poll() is not None
                or beat.poll() is not None
                or (
                    Export.objects.filter(pk=export_id, status=ExportStatus.DONE).exists()
                    and _emailed("Notice while down")
                    and _heartbeat_since(back)
                )
            ),
            seconds=WAIT_SECONDS,
        )
        alive = (worker.poll(), beat.poll())
    assert alive == (None, None), f"worker/beat exited (codes {alive})\n{_logs(tmp_path)}"
    assert done, f"the work requested while Redis was down was not done, or beat did not resume\n{_logs(tmp_path)}"
    export = Export.objects.get(pk=export_id)
    assert bool(export.file) and export.error == ""
    assert _events(EventType.REPORT_EXPORTED, export_id) == 1
    assert _events(EventType.FINDING_RAISED, finding["id"]) == 1
    assert _emails(tmp_path, "Notice while down") == 1, _logs(tmp_path)


# --- PostgreSQL ----------------------------------------------------------------------------------------------

VERSIONS = 16
FINDINGS = 16
CLIENTS = 8
RESTART_AFTER = 8
PACE_SECONDS = 0.1
# One decision through the API: who asks (a key of the tokens), the path, the body, and (kind, id) of its object.
Decision = tuple[str, str, dict[str, str], tuple[str, int]]


def _copy_database(target: PrivatePostgres) -> str:
    """The test database (migrated, with this test's rows) copied into the private cluster; its URL."""
    require_binary(POSTGRESQL_BIN / "pg_dump", "PostgreSQL's pg_dump")
    dump = subprocess.run(
        [str(POSTGRESQL_BIN / "pg_dump"), "--no-owner", "--no-privileges", "-d", _database_url()],
        capture_output=True,
        check=True,
    ).stdout
    with closing(psycopg.connect(target.url(), autocommit=True)) as admin:
        admin.execute("CREATE DATABASE portal")
    subprocess.run(
        [str(POSTGRESQL_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", target.url("portal")],
        input=dump,
        capture_output=True,
        check=True,
    )
    return target.url("portal")


def _decisions(url: str) -> tuple[dict[int, str], dict[int, str], dict[tuple[str, str], int]]:
    """Read from the private database: each version's state, each finding's status, events per (type, subject)."""
    with closing(psycopg.connect(url)) as db:
        versions: dict[int, str] = dict(db.execute("SELECT id, state FROM inventory_modelversion").fetchall())
        findings: dict[int, str] = dict(db.execute("SELECT id, status FROM governance_finding").fetchall())
        events = db.execute(
            "SELECT event_type, subject_id, count(*) FROM governance_governanceevent GROUP BY event_type, subject_id"
        ).fetchall()
    return versions, findings, {(kind, subject): count for kind, subject, count in events}


def test_decisions_under_a_postgresql_restart_are_each_recorded_once_or_refused(
    personas: Any, tmp_path: Path, media: Path
) -> None:
    cluster = PrivatePostgres()
    approve_tier(personas.model_b, TIER_3_ANSWERS, personas.owner_b, personas.risk_officer)
    versions = [
        ModelVersionFactory(model=personas.model_b, version=f"1.{n}.0", actor=personas.owner_b).pk
        for n in range(VERSIONS)
    ]
    findings = [
        finding_raise(
            actor=personas.risk_officer,
            model=personas.model_a,
            title=f"Finding {n}",
            severity=FindingSeverity.LOW,
            due_date=timezone.localdate() + dt.timedelta(days=30),
        ).pk
        for n in range(FINDINGS)
    ]
    owner, officer = _token(personas.owner_b), _token(personas.risk_officer)
    requests: list[Decision] = [
        ("owner", f"/api/v1/version-workflow/{pk}/submit/", {}, ("version", pk)) for pk in versions
    ]
    requests += [
        ("officer", f"/api/v1/findings/{pk}/close/", {"resolution": "fixed and checked"}, ("finding", pk))
        for pk in findings
    ]
    # Interleaved, so the restart falls among both kinds of decision.
    requests = [item for pair in zip(requests[:VERSIONS], requests[VERSIONS:], strict=True) for item in pair]
    tokens = {"owner": owner, "officer": officer}

    with ExitStack() as stack:
        stack.callback(cluster.remove)
        cluster.init()
        cluster.start()
        database_url = _copy_database(cluster)
        port = free_port()
        web = f"http://127.0.0.1:{port}"
        process = web_process(_environ(tmp_path, database_url, None), settings.BASE_DIR, port, tmp_path / "web.log")
        stack.callback(stop, process)
        wait_for_web(process, web, tmp_path / "web.log")
        # Every thread of both gunicorn workers opens its persistent connection before the restart.
        with ThreadPoolExecutor(CLIENTS) as warm:
            list(warm.map(lambda _: call(web, "GET", "/api/v1/findings/", officer), range(2 * CLIENTS)))

        def decide(request: Decision) -> Answer:
            who, path, body, _ = request
            return call(web, "POST", path, tokens[who], body)

        # The first decisions go through on a healthy database; the rest are sent by the clients while PostgreSQL
        # restarts, paced so that the restart falls among them however fast the machine is.
        with ThreadPoolExecutor(CLIENTS) as clients:
            answers = list(clients.map(decide, requests[:RESTART_AFTER]))
        assert {answer.status for answer in answers} == {200}, answers
        pending = list(enumerate(requests))[RESTART_AFTER:]
        later: dict[int, Answer] = {}
        lock, restarted = threading.Lock(), threading.Event()

        def client() -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    index, request = pending.pop(0)
                later[index] = decide(request)
                if not restarted.is_set():
                    time.sleep(PACE_SECONDS)

        def restart() -> None:
            cluster.restart()
            restarted.set()

        with ThreadPoolExecutor(CLIENTS + 1) as clients:
            running = [clients.submit(restart), *(clients.submit(client) for _ in range(CLIENTS))]
            for future in running:
                future.result(timeout=WAIT_SECONDS)
        answers += [later[index] for index in range(RESTART_AFTER, len(requests))]

        # The web processes were not restarted: they answer again, on fresh connections.
        assert wait_until(lambda: call(web, "GET", "/health/").status == 200, seconds=WAIT_SECONDS), _logs(tmp_path)

        states, statuses_now, events = _decisions(database_url)
        seen: Counter[str] = Counter()
        written: dict[str, bool] = {}
        for (_, path, _, (kind, pk)), answer in zip(requests, answers, strict=True):
            event = (EventType.VERSION_SUBMITTED if kind == "version" else EventType.FINDING_CLOSED, str(pk))
            done = (
                states[pk] == VersionState.RISK_REVIEW
                if kind == "version"
                else statuses_now[pk] == FindingStatus.CLOSED
            )
            written[path] = done
            # The decision and its ledger event commit together, whatever the answer said.
            assert events.get(event, 0) == (1 if done else 0), f"{path}: {done=} but {events.get(event, 0)} events"
            if answer.status == 200:
                assert done, f"{path} answered 200 but nothing was written"
                seen["succeeded"] += 1
            else:
                assert answer.status == 0 or answer.status >= 500, (path, answer)
                # An error answer means nothing was written, except for a decision that committed an instant before
                # the server went away while its answer was being made: it is in the ledger once, and asking again
                # is refused as already done (below), never recorded a second time.
                seen["written, answer lost" if done else "failed, nothing written"] += 1
        assert seen["succeeded"] and seen["failed, nothing written"], f"the restart did not fall mid-way: {seen}"

        # What failed is simply asked again: it succeeds once, or is refused as done if it had committed.
        for request, answer in zip(requests, answers, strict=True):
            if answer.status != 200:
                again = decide(request)
                assert again.status == (400 if written[request[1]] else 200), (request, again)
        states, statuses_now, events = _decisions(database_url)
        assert set(states[pk] for pk in versions) == {VersionState.RISK_REVIEW}
        assert set(statuses_now[pk] for pk in findings) == {FindingStatus.CLOSED}
        assert all(events[(EventType.VERSION_SUBMITTED, str(pk))] == 1 for pk in versions)
        assert all(events[(EventType.FINDING_CLOSED, str(pk))] == 1 for pk in findings)

        verify = subprocess.run(
            [sys.executable, "manage.py", "verify_ledger"],
            cwd=settings.BASE_DIR,
            env=_environ(tmp_path, database_url, None),
            capture_output=True,
            text=True,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
    # Nothing of this test reached the test database: its rows are as they were copied.
    assert not Finding.objects.filter(status=FindingStatus.CLOSED).exists()
