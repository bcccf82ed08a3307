"""Every blocking call of a worker gives up on its own: on the threads pool Celery's time limits
never fire (mojito/settings.py, at CELERY_TASK_TIME_LIMIT), so a statement stuck on a lock, a
database or a Redis that stopped answering would otherwise hold a worker thread for good.

The timeouts come from the environment, so each test starts a fresh process with small values
and times one real call there: PostgreSQL, Redis, or a TCP server that accepts and never answers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.postgres import plain_connection

ROOT = Path(__file__).resolve().parent.parent

# Runs `timed(<call>)` after django.setup(): prints how the call ended and how long it took.
PRELUDE = """
import json, time
import django
django.setup()
from django.core.cache import cache
from django.db import connection
from mojito.celery import app

def timed(call):
    start = time.monotonic()
    outcome = {"error": None, "cause": None, "message": ""}
    try:
        call()
    except Exception as exc:
        outcome = {
            "error": type(exc).__name__,
            "cause": type(exc.__cause__).__name__ if exc.__cause__ else None,
            "message": str(exc),
        }
    print(json.dumps({**outcome, "seconds": time.monotonic() - start}))
"""

# Longer than any bounded call below takes: past it, the call is taken to be blocked for good.
BLOCKED_AFTER = 20


def run_timed(call: str, **env: str) -> dict[str, Any]:
    """Time `call` (Python, with mojito's settings from this environment plus `env`) in a new
    process."""
    try:
        result = subprocess.run(  # noqa: S603 - this interpreter, code of this module
            [sys.executable, "-c", f"{PRELUDE}\ntimed({call})"],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "mojito.settings", **env},
            capture_output=True,
            text=True,
            timeout=BLOCKED_AFTER,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{call} was still blocked after {BLOCKED_AFTER} s")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections.append(conn)  # kept open, never read, never answered

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.connections:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def _database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


@pytest.fixture
def test_database_url(django_db_setup: None) -> str:
    """pytest-django's test database (its NAME once django_db_setup ran), for other processes."""
    return _database_url(connection.settings_dict)


@pytest.fixture
def probe_row(django_db_setup: None) -> Iterator[None]:
    """A committed row, id 1 of table timeouts_probe in the test database."""
    with plain_connection() as conn:
        conn.execute("DROP TABLE IF EXISTS timeouts_probe")
        conn.execute("CREATE TABLE timeouts_probe (id int PRIMARY KEY, n int NOT NULL)")
        conn.execute("INSERT INTO timeouts_probe VALUES (1, 0)")
    yield
    with plain_connection() as conn:
        conn.execute("DROP TABLE timeouts_probe")


@pytest.mark.django_db
def test_every_database_session_carries_the_configured_timeouts():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout')"
        )
        server = dict(cursor.fetchall())
    assert server == {  # milliseconds
        "statement_timeout": str(round(settings.DB_STATEMENT_TIMEOUT * 1000)),
        "lock_timeout": str(round(settings.DB_LOCK_TIMEOUT * 1000)),
        "idle_in_transaction_session_timeout": str(settings.DB_IDLE_IN_TRANSACTION_TIMEOUT * 1000),
    }
    assert connection.get_connection_params()["connect_timeout"] == settings.DB_CONNECT_TIMEOUT


def test_a_statement_waiting_for_a_row_lock_gives_up_after_the_lock_timeout(
    test_database_url, probe_row
):
    with plain_connection() as holder, holder.transaction():
        # Another connection holds the row (a worker in the middle of its transaction).
        holder.execute("SELECT * FROM timeouts_probe WHERE id = 1 FOR UPDATE")
        outcome = run_timed(
            "lambda: connection.cursor().execute("
            "'UPDATE timeouts_probe SET n = n + 1 WHERE id = 1')",
            DATABASE_URL=test_database_url,
            DB_LOCK_TIMEOUT="0.5",
        )
    assert outcome["cause"] == "LockNotAvailable", outcome
    assert 0.4 < outcome["seconds"] < 3, outcome


def test_a_statement_running_past_the_statement_timeout_is_cancelled(test_database_url):
    outcome = run_timed(
        "lambda: connection.cursor().execute('SELECT pg_sleep(5)')",
        DATABASE_URL=test_database_url,
        DB_STATEMENT_TIMEOUT="0.5",
    )
    assert outcome["cause"] == "QueryCanceled", outcome
    assert "statement timeout" in outcome["message"]
    assert outcome["seconds"] < 3, outcome


def test_connecting_to_a_database_that_never_answers_gives_up_after_the_connect_timeout(
    silent_server,
):
    outcome = run_timed(
        "connection.ensure_connection",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_server.port}/mojito",
        DB_CONNECT_TIMEOUT="2",  # libpq's least
    )
    assert outcome["error"] == "OperationalError", outcome
    assert outcome["seconds"] < 5, outcome


def test_a_cache_call_to_a_redis_that_never_answers_gives_up_after_the_socket_timeout(
    silent_server,
):
    # The rate-limit pauses every worker reads before its Meta calls live in this cache.
    outcome = run_timed(
        "lambda: cache.get('engine:pause:1')",
        CACHE_URL=f"rediscache://127.0.0.1:{silent_server.port}/0",
        CACHE_SOCKET_TIMEOUT="0.5",
    )
    assert outcome["error"] == "TimeoutError", outcome
    assert outcome["seconds"] < 2.5, outcome


def test_publishing_to_a_broker_that_never_answers_gives_up_after_the_socket_timeout(
    silent_server,
):
    # The way job_publish sends a job (in the request path, and from the worker's retries).
    outcome = run_timed(
        "lambda: app.send_task('campaigns.tasks.job_run', args=['x'], retry=False)",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{silent_server.port}/0",
        CELERY_BROKER_SOCKET_TIMEOUT="0.5",
        CACHE_URL="locmemcache://",
    )
    assert outcome["error"] is not None, outcome
    assert outcome["seconds"] < 3, outcome
