#!/usr/bin/env bash
# Serve the portal the way `make demo` and `make run` do: Django's development server, a real Celery worker and
# Celery beat (django-celery-beat's database scheduler). Ctrl-C, or SIGTERM to this script, stops all three.
# Worker and beat write their pid files to $VAR_DIR/run/ and their logs to $VAR_DIR/log/.
#
# Settings come from the environment like everywhere else; with none, the portal runs embedded (SQLite and a
# filesystem broker under var/), so no server is needed.
set -euo pipefail

cd "$(dirname "$0")/.."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
VENV="${VENV:-.venv}"
VAR_DIR="${VAR_DIR:-var}"
RUN_DIR="$VAR_DIR/run"
LOG_DIR="$VAR_DIR/log"
# A worker finishing a task on Ctrl-C gets this long before it is killed.
STOP_SECONDS=20
# Imports, the database and the broker must come up within this time on a slow laptop.
START_SECONDS=60

export DEBUG="${DEBUG:-1}"
mkdir -p "$RUN_DIR" "$LOG_DIR"
SERVER_PID=""
declare -A STARTED=()

is_celery() {
    # A pid file may outlive its process (a crash, a reboot); only signal a pid that is still a Celery process.
    local cmdline
    cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")" || return 1
    [[ "$cmdline" == *celery* ]]
}

stop_celery() {
    local name="$1" pidfile="$RUN_DIR/$1.pid" pid waited=0
    # The pid this script started; otherwise one a previous run left in its pid file. Celery removes its pid file
    # itself when it stops (Ctrl-C reaches it too), so the file may vanish at any moment.
    pid="${STARTED[$name]:-}"
    [[ -n "$pid" ]] || pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && is_celery "$pid"; then
        echo "Stopping the Celery $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        while is_celery "$pid" && ((waited < STOP_SECONDS * 10)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if is_celery "$pid"; then
            echo "The Celery $name did not stop within ${STOP_SECONDS}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

stop_all() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    stop_celery beat
    stop_celery worker
}

start_celery() {
    local name="$1" pid waited=0
    shift
    "$VENV/bin/celery" -A config "$@" --pidfile="$RUN_DIR/$name.pid" >>"$LOG_DIR/$name.log" 2>&1 &
    pid=$!
    STARTED[$name]=$pid
    # Celery writes its pid file once it has started; a process that exits first has failed.
    until [[ -s "$RUN_DIR/$name.pid" ]]; do
        if ! kill -0 "$pid" 2>/dev/null || ((waited >= START_SECONDS * 10)); then
            echo "The Celery $name did not start; the end of $LOG_DIR/$name.log:" >&2
            tail -n 30 "$LOG_DIR/$name.log" >&2
            exit 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    echo "Celery $name running (pid $pid, log $LOG_DIR/$name.log)"
}

# Processes left by an earlier run that was killed without its trap running.
stop_all
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_celery worker worker --loglevel=INFO --concurrency=2 --hostname="portal-worker@%h"
start_celery beat beat --scheduler=django --loglevel=INFO

cat <<EOF

  ModelOps portal: http://$HOST:$PORT/
  ${SERVE_NOTE:-}
  Worker and beat run in the background (logs in $LOG_DIR/). Press Ctrl-C to stop everything.

EOF

# In the background so that a signal reaches the traps at once (bash runs traps only between commands) and
# without the autoreloader, whose child process would outlive a SIGTERM to its parent; the worker does not
# reload code either, so the three stay on the same code.
"$VENV/bin/python" manage.py runserver --noreload "$HOST:$PORT" &
SERVER_PID=$!
wait "$SERVER_PID"
