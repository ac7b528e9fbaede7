"""``scripts/serve.sh``, what ``make demo`` and ``make run`` end with: the web server, a worker and beat come up
together on the embedded default, the portal answers, and Ctrl-C takes all three down."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.integration.embedded import (
    STOP_SECONDS,
    embedded_environ,
    is_running,
    log_tails,
    read_heartbeat,
    wait_until,
)


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET, (0, b"") while nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local http URL built here
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def health(base: str) -> dict[str, Any]:
    status, body = get(f"{base}/health/")
    return json.loads(body) if status in {200, 503} else {}


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.single_pass
def test_serve_runs_web_worker_and_beat_and_ctrl_c_stops_them(embedded_var_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = embedded_environ(
        embedded_var_dir,
        HOST="127.0.0.1",
        PORT=str(port),
        VENV=str(Path(sys.executable).parent.parent),
        HEARTBEAT_SECONDS="1",
    )
    output = embedded_var_dir / "serve.out"
    run_dir, log_dir = embedded_var_dir / "run", embedded_var_dir / "log"
    logs = (output, log_dir / "worker.log", log_dir / "beat.log")
    with output.open("wb") as out:
        # Its own process group, like a terminal's foreground job, so Ctrl-C can be sent the way a terminal does.
        serve = subprocess.Popen(
            ["bash", str(settings.BASE_DIR / "scripts" / "serve.sh")],
            cwd=settings.BASE_DIR,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A test run started in the background of a script inherits SIGINT ignored, and a shell that starts
            # with a signal ignored cannot trap it: give serve.sh the default a user's terminal gives it.
            preexec_fn=_default_sigint,
        )
        try:
            healthy = wait_until(
                lambda: health(base).get("scheduler", {}).get("status") == "ok" or serve.poll() is not None
            )
            report = health(base)
            login_status, login_page = get(f"{base}/login/")
            pids = {name: int((run_dir / f"{name}.pid").read_text()) for name in ("worker", "beat")}
            running = {name: is_running(pid) for name, pid in pids.items()}

            signal_sent = serve.poll() is None
            if signal_sent:
                # Ctrl-C in a terminal signals the whole foreground process group.
                os.killpg(serve.pid, signal.SIGINT)
            serve.wait(STOP_SECONDS * 2)
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()

    assert healthy, f"the portal never reported a fresh heartbeat\n{log_tails(*logs)}"
    assert report["status"] == "ok"
    assert report["database"] == report["broker"] == "ok"
    assert read_heartbeat(embedded_var_dir / "portal.sqlite3") is not None
    assert login_status == 200
    assert b'name="password"' in login_page
    assert running == {"worker": True, "beat": True}
    assert signal_sent, f"serve.sh exited by itself\n{log_tails(*logs)}"
    # After Ctrl-C: nothing left running, nothing left listening, no stale pid files.
    assert not any(is_running(pid) for pid in pids.values()), log_tails(*logs)
    assert get(f"{base}/login/")[0] == 0
    assert sorted(run_dir.iterdir()) == []
