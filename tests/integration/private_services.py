"""Private Redis and PostgreSQL servers, and a gunicorn web process, for fault tests that stop and restart them.

The machine's own servers are shared with CI and other test runs, so a test that restarts a service starts its own:
a ``redis-server`` with append-only persistence (as production runs it) or a PostgreSQL cluster made by
``initdb``, each on a free port with its files in the test's temporary folder, stopped when the test ends.
Without the binaries the test fails, naming the missing one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.conftest import service_missing
from tests.integration.embedded import log_tails, stop, wait_until

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
POSTGRESQL_BIN = Path(os.environ.get("POSTGRESQL_BIN", "/usr/lib/postgresql/15/bin"))
START_SECONDS = 60


def free_port() -> int:
    """A TCP port nobody listens on this instant (the server started next binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_binary(path: Path | str, what: str) -> None:
    if not os.access(path, os.X_OK):
        service_missing(f"{what} is not installed at {path}")


@dataclass
class PrivateRedis:
    """A ``redis-server`` of one test, persisting every write to its append-only file like a production broker."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)

    def start(self) -> None:
        """Start on the same port and folder as before, so a restart reloads what was persisted."""
        require_binary(REDIS_SERVER, "redis-server")
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        command += ["--appendonly", "yes", "--save", "", "--logfile", "redis.log", "--daemonize", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(self.answers, seconds=START_SECONDS, every=0.05):
            raise AssertionError(f"the private Redis did not start\n{log_tails(self.folder / 'redis.log')}")

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """``SIGTERM``, as ``systemctl stop`` or ``docker stop`` sends: Redis flushes its file and exits."""
        if self.process is not None:
            stop(self.process)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of one test, made by ``initdb`` (trust authentication, listening on localhost only).

    As root, the server must run as the ``postgres`` user, which cannot enter pytest's temporary folders (they
    are private to root): the cluster lives in a folder of its own under the system's temporary directory,
    removed by :meth:`remove`.
    """

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="portal-faults-pg-")))
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _run(self, *command: str) -> subprocess.CompletedProcess[bytes]:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*as_postgres, *command], capture_output=True, timeout=START_SECONDS)
        if result.returncode:
            log = self.folder / "postgresql.log"
            raise AssertionError(f"{' '.join(command)} failed: {result.stderr.decode()}\n{log_tails(log)}")
        return result

    def init(self) -> None:
        require_binary(POSTGRESQL_BIN / "initdb", "PostgreSQL's initdb")
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(POSTGRESQL_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def pg_ctl(self, *arguments: str) -> None:
        # fsync off: the test restarts the server, it does not crash the machine; durability is not under test.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "postgresql.log")
        self._run(str(POSTGRESQL_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", *arguments)

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self) -> None:
        """A fast restart: open sessions are ended and their transactions rolled back, as in a failover."""
        self.pg_ctl("restart", "-m", "fast")

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


def web_process(environ: dict[str, str], cwd: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """The portal under gunicorn, as production serves it: two worker processes with four threads each."""
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "2", "--threads", "4", "--timeout", "60", "--graceful-timeout", "5"]
    command += ["--access-logfile", str(log), "--error-logfile", str(log)]
    # Django's own log (a 500's traceback) goes to standard error: into the same file.
    with log.open("ab") as errors:
        return subprocess.Popen(command, cwd=cwd, env=environ, stdout=subprocess.DEVNULL, stderr=errors)


def wait_for_web(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    def up() -> bool:
        return process.poll() is not None or call(base_url, "GET", "/health/").status != 0

    assert wait_until(up, seconds=START_SECONDS) and process.poll() is None, f"gunicorn did not start\n{log_tails(log)}"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer; status 0 when there was none (connection refused or reset, timeout)."""

    status: int
    body: Any = None


def call(
    base_url: str, method: str, path: str, token: str | None = None, body: Any = None, timeout: float = 30
) -> Answer:
    """One request to the web process, like a pipeline or a browser sends it."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own test server
            return Answer(response.status, _json(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _json(error.read()))
    except (OSError, urllib.error.URLError):
        return Answer(0)


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode(errors="replace")[:500]
