"""A whole mojito on loopback, started and stopped by a chaos run, and the handles to hurt it.

- PostgreSQL: a cluster of its own (initdb, pg_ctl) in a temporary folder, on a free port.
  Run as the `postgres` OS user when this process is root (PostgreSQL refuses root).
- Redis: `redis-server` on a free port, no persistence (`--save ""`), its folder temporary:
  a restart loses every queued message, as a crashed broker would.
- The Meta sandbox: `SandboxServer` in a thread of this process (its state and request log
  read directly), with every Graph request's token noted by a hash (`TokenLog`), so that a
  run can tell which team's token called which account.
- gunicorn serving mojito, two or more Celery workers and beat: subprocesses, each in a
  process group of its own (SIGKILL / SIGSTOP reach it and only it), logs to files.

Nothing here touches the machine's shared servers (5432, 6379): every port is a free one
asked of the kernel, every data folder is under the run's temporary folder, and every process
stopped is one this module started (by its pid or process group).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from glob import glob
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests

from platforms.meta.sandbox import SandboxServer
from platforms.meta.sandbox.graph import Graph
from tests.images import LoopbackServer, make_png

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
LOOPBACK = "127.0.0.1"
SHARED_PORTS = {5432, 6379}  # the machine's own PostgreSQL and Redis: never ours
FINAL = {"SUCCESS", "FAILED", "PARTIAL_SUCCESS", "CANCELLED"}

# The workers' settings (all env-driven): short retries, pauses and polls, a short lease so
# that a killed worker's job comes back within seconds, no periodic sync (its reads would only
# blur the request log).
WORKER_ENV = {
    "MEDIA_FETCH_ALLOW_PRIVATE": "true",
    "JOB_RETRY_BASE_SECONDS": "0.3",
    "JOB_RETRY_MAX_SECONDS": "2",
    "META_USAGE_PAUSE_SECONDS": "1",
    "META_VIDEO_POLL_SECONDS": "0.3",
    "JOB_LEASE_SECONDS": "6",
    "META_REQUEST_TIMEOUT": "2",
    "MEDIA_FETCH_TIMEOUT": "2",
    "MEDIA_FETCH_CONNECT_TIMEOUT": "1",
    "JOB_SWEEP_INTERVAL_SECONDS": "1",
    "JOB_REPUBLISH_AFTER_SECONDS": "3",
    "JOB_MAX_ATTEMPTS": "8",
    "JOB_ACCOUNT_BUSY_RETRY_SECONDS": "0.3",
    "META_SYNC_INTERVAL_SECONDS": "0",
    # No API request limits: a run's load (hundreds of jobs, polled) from one token per team
    # would meet them, and they are not a fault under test (tests/test_throttling.py is).
    "API_THROTTLE_RATE": "",
    "API_THROTTLE_ANON_RATE": "",
    "LOG_LEVEL": "DEBUG",
    "PYTHONUNBUFFERED": "1",
}


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
        if port not in SHARED_PORTS:
            return port


def port_answers(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- processes -----------------------------------------------------------------------------------


@dataclass
class Proc:
    """A subprocess in a process group of its own, its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None
    stopped: bool = False  # SIGSTOPped

    def start(self) -> Proc:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S603 (our own binaries, fixed arguments)
                self.argv,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.stopped = False
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: int) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown, no ack, nothing written."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(10)

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self.stopped = False

    def stop(self, timeout: float = 10) -> None:
        if not self.alive:
            return
        if self.stopped:
            self.resume()
        self.signal(signal.SIGTERM)
        try:
            assert self.popen is not None
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_for_log(self, pattern: str, timeout: float, start: int = 0) -> None:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if regex.search(self.log()[start:]):
                return
            if not self.alive:
                raise RuntimeError(f"{self.name} exited:\n{tail(self.log_path)}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name}: no {pattern!r} in {timeout} s:\n{tail(self.log_path)}")


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    def version(path: str) -> tuple[int, ...]:
        number = path.split("/")[4]
        return tuple(int(p) for p in number.split(".") if p.isdigit())

    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)  # the newest
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found (PostgreSQL server binaries)")
    return path


class Postgres:
    """A private cluster: its own data folder, port and socket folder; trust auth on loopback."""

    def __init__(self, root: Path) -> None:
        self.root = root / "pg"
        self.data = self.root / "data"
        self.log_path = root / "logs" / "postgres.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        command = list(argv)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(  # noqa: S603 (PostgreSQL's own tools, fixed arguments)
            command, check=check, capture_output=True, text=True, timeout=120
        )

    def init(self) -> None:
        self.root.mkdir(parents=True)
        self.log_path.touch()
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            for path in (self.root, self.log_path):
                os.chown(path, user.pw_uid, user.pw_gid)
            # The folders above ours must let the postgres user through.
            for parent in (self.root.parent, self.log_path.parent):
                parent.chmod(0o755)
        self._run(
            _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        # fsync and full-page writes guard against a crash of the machine, which no run
        # makes. A commit stays synchronous: `pg_ctl stop -m immediate` (postgres_restart)
        # is a crash of the server, and an asynchronous commit acknowledged before its WAL
        # was written would be lost with it, a write-ahead mark included (a duplicate that
        # production, where commits are synchronous, would not see).
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={LOOPBACK} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back open transactions and closes connections; `immediate` is a crash."""
        if (self.data / "postmaster.pid").exists():
            self._run(
                _pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False
            )

    def restart(self, down_seconds: float = 0.0, mode: str = "fast") -> None:
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def url(self, db: str = "mojito") -> str:
        return f"postgres://postgres@{LOOPBACK}:{self.port}/{db}"

    def create_database(self, name: str = "mojito") -> None:
        self._run(_pg_bin("createdb"), "-h", LOOPBACK, "-p", str(self.port), "-U", "postgres", name)

    def dump(self, name: str = "mojito") -> bytes:
        """The whole database as SQL (every table, every row): the canary hunt reads it."""
        result = subprocess.run(  # noqa: S603
            [_pg_bin("pg_dump"), "-h", LOOPBACK, "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
            timeout=300,
        )
        return result.stdout


# --- Redis ---------------------------------------------------------------------------------------


class Redis:
    def __init__(self, root: Path) -> None:
        self.dir = root / "redis"
        self.port = free_port()
        self.proc = Proc(
            "redis",
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--protected-mode", "yes",
            ],
            env=dict(os.environ),
            log_path=root / "logs" / "redis.log",
        )  # fmt: skip

    def start(self) -> None:
        self.dir.mkdir(exist_ok=True)
        self.proc.start()
        wait_for(lambda: port_answers(self.port), 20, "redis")

    def stop(self) -> None:
        self.proc.stop()

    def url(self, db: int = 0) -> str:
        return f"redis://{LOOPBACK}:{self.port}/{db}"

    def client(self, db: int = 0) -> Any:
        import redis

        return redis.Redis.from_url(self.url(db), socket_timeout=5)


# --- the Meta sandbox and who called it --------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


_ACT = re.compile(r"act_(\d+)")


class TokenLog:
    """Which token (by hash) asked what of which ad account, for every Graph request: the
    sandbox's own request log leaves tokens out. Installed around `Graph.handle_http` in this
    process, where the sandbox runs."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        # (token hash, account digits, path, time.time()) of every Graph request
        self.entries: list[tuple[str, str, str, float]] = []
        self.lock = threading.Lock()
        self._original: Callable | None = None
        # Called in the sandbox's thread after a request created something, before its answer
        # leaves: a run may kill the caller there, between Meta's create and mojito's commit.
        self.after_create: Callable[[Any, Any], None] | None = None

    def install(self) -> None:
        original = Graph.handle_http
        log = self

        def handle_http(graph: Graph, call: Any) -> Any:
            outcome = original(graph, call)
            with contextlib.suppress(Exception):
                log.note(call, outcome)
            hook = log.after_create
            if hook is not None and _created(outcome):
                hook(call, outcome)
            return outcome

        self._original = original
        Graph.handle_http = handle_http  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            Graph.handle_http = self._original  # type: ignore[method-assign]

    def _accounts_of(self, path: str) -> set[str]:
        accounts = set(_ACT.findall(path))
        for segment in path.strip("/").split("/"):
            if segment.isdigit() or "_" in segment:
                obj = self.server.state.objects.get(segment)
                if obj is not None and getattr(obj, "account_id", None):
                    accounts.add(str(obj.account_id))
        return accounts

    def note(self, call: Any, outcome: Any) -> None:
        token = call.params.get("access_token")
        if not token and call.authorization:
            token = call.authorization.partition(" ")[2]
        if not token:
            return
        paths = [call.path]
        if call.params.get("batch"):
            with contextlib.suppress(ValueError, TypeError):
                batch = call.params["batch"]
                for op in json.loads(batch) if isinstance(batch, str) else batch:
                    paths.append(str(op.get("relative_url", "")).split("?")[0])
        digest = token_hash(str(token))
        now = time.time()
        with self.lock:
            for account in getattr(outcome, "account_ids", None) or []:
                self.entries.append((digest, str(account).removeprefix("act_"), call.path, now))
            for path in paths:
                for account in self._accounts_of(path):
                    self.entries.append((digest, account, path, now))


def _created(outcome: Any) -> bool:
    if outcome.created_ids:
        return True
    return any(op.get("created_ids") for op in outcome.operations or [])


def pid_of_client_port(port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the loopback TCP connection whose local port is `port`."""
    inodes = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            parts = line.split()
            local_port = int(parts[1].split(":")[1], 16)
            if local_port == port:
                inodes.add(f"socket:[{parts[9]}]")
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        with contextlib.suppress(OSError):
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None


# --- media ---------------------------------------------------------------------------------------


PNG = make_png(3, 2, rgb=b"\x10\x80\x40")
THUMB = make_png(4, 4, rgb=b"\x00\x80\xff")


class MediaServer(LoopbackServer):
    """Images for the creatives: /img/<anything>.png answers a PNG, /thumb.png a thumbnail."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = THUMB if self.path.startswith("/thumb") else PNG
                if not self.path.startswith(("/img/", "/thumb")):
                    body = b"not found"
                    self.send_response(404)
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


# --- the stack ---------------------------------------------------------------------------------


@dataclass
class StackConfig:
    workers: int = 2
    concurrency: int = 4
    gunicorn_workers: int = 2
    gunicorn_threads: int = 4
    worker_env: dict[str, str] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)
    keep: bool = False  # keep the temporary folder (logs, data) after the run
    # Restart a worker or beat that exits, as compose's `restart: unless-stopped` does
    # (worker_kill restarts its victims itself).
    supervise: bool = True


class Stack:
    """Everything a run needs, started in order (`start`) and stopped in reverse (`stop`)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.root = Path(tempfile.mkdtemp(prefix="mojito-chaos-"))
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.postgres = Postgres(self.root)
        self.redis = Redis(self.root)
        self.sandbox = SandboxServer(seed=False)
        self.token_log = TokenLog(self.sandbox)
        self.media = MediaServer()
        self.web_port = free_port()
        self.web: Proc | None = None
        self.workers: list[Proc] = []
        self.beat: Proc | None = None
        self._spawned = 0
        self.env = self._env()
        self.exits: list[str] = []  # what the supervisor restarted: "<log name> (<code>)"
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- environment ---------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTEST", "META_", "JOB_", "CELERY_", "CACHE_"))
        }
        env.update(
            DEBUG="false",
            SECRET_KEY="chaos-only-secret-key",  # noqa: S106 (a throwaway stack)
            FERNET_KEYS="chaos-only-fernet-key",
            DATABASE_URL=self.postgres.url(),
            CELERY_BROKER_URL=self.redis.url(0),
            META_GRAPH_URL=self.sandbox.base_url,
            STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
            DJANGO_SETTINGS_MODULE="mojito.settings",
            # Do not wait long for a database that is down: the API answers 503 sooner.
            DB_CONNECT_TIMEOUT="2",
            CONN_MAX_AGE="0",
        )
        env.update(WORKER_ENV)
        env.update(self.config.worker_env)
        return env

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.web_port}"

    def media_url(self, path: str) -> str:
        return self.media.url(path)

    # --- start / stop ------------------------------------------------------------------------

    def _log_sandbox_to_file(self) -> None:
        """The sandbox's and aiohttp's log lines (a killed client's reset connection, for
        one) go to a file of the run, scanned for the canary with the others."""
        handler = logging.FileHandler(self.logs / "sandbox.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        for name in ("aiohttp", "platforms.meta.sandbox"):
            logger = logging.getLogger(name)
            logger.handlers = [handler]
            logger.propagate = False
            logger.setLevel(logging.INFO)

    def start(self) -> Stack:
        self._log_sandbox_to_file()
        self.postgres.init()
        self.postgres.start()
        self.postgres.create_database()
        self.redis.start()
        self.token_log.install()
        self.sandbox.start()
        self.configure_sandbox(
            {"video_ready_after": 0.5, "throttle_score": 1_000_000, "max_log_entries": 10**7}
            | self.config.sandbox
        )
        self.manage("migrate", "--verbosity", "0")
        self.start_web()
        for _ in range(self.config.workers):
            self.start_worker()
        self.start_beat()
        if self.config.supervise:
            self._supervisor = threading.Thread(
                target=self._supervise, name="chaos-supervisor", daemon=True
            )
            self._supervisor.start()
        return self

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            for proc in [*self.workers, self.beat]:
                if proc is None or proc.popen is None or proc.alive or self._stopping.is_set():
                    continue
                self.exits.append(f"{proc.log_path.name} ({proc.popen.returncode})")
                with contextlib.suppress(Exception):
                    if proc is self.beat:
                        self.start_beat()
                    else:
                        self.workers.remove(proc)
                        self.start_worker()

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(70)
        for proc in [self.beat, *self.workers, self.web]:
            if proc is not None:
                with contextlib.suppress(Exception):
                    proc.stop()
        with contextlib.suppress(Exception):
            self.redis.stop()
        with contextlib.suppress(Exception):
            self.postgres.stop("fast")
        with contextlib.suppress(Exception):
            self.sandbox.stop()
        self.token_log.uninstall()
        with contextlib.suppress(Exception):
            self.media.close()

    def cleanup(self) -> None:
        if not self.config.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- mojito's processes ----------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def _proc(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        self._spawned += 1
        log_path = self.logs / f"{self._spawned:02d}-{name}.log"
        return Proc(name, argv, env or self.env, log_path)

    def start_web(self) -> Proc:
        self.web = self._proc(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"), "mojito.wsgi", "--bind", f"{LOOPBACK}:{self.web_port}",
                "--workers", str(self.config.gunicorn_workers),
                "--threads", str(self.config.gunicorn_threads),
                "--timeout", "60", "--access-logfile", "-", "--error-logfile", "-",
                "--capture-output", "--no-control-socket",
            ],
        ).start()  # fmt: skip
        wait_for(lambda: self._answers("/healthz"), 60, "gunicorn")
        return self.web

    def _answers(self, path: str) -> bool:
        try:
            return requests.get(self.base_url + path, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start_worker(self) -> Proc:
        name = f"chaos-{self._spawned + 1}-{uuid.uuid4().hex[:4]}@%h"
        worker = self._proc(
            "worker",
            [
                str(VENV_BIN / "celery"), "-A", "mojito", "worker", "-P", "threads",
                "-c", str(self.config.concurrency), "--without-gossip", "--without-mingle",
                "--without-heartbeat", "-l", "INFO", "-n", name,
            ],
        ).start()  # fmt: skip
        worker.wait_for_log(r" ready\.", timeout=60)
        self.workers.append(worker)
        return worker

    def start_beat(self) -> Proc:
        self.beat = self._proc(
            "beat",
            [
                str(VENV_BIN / "celery"), "-A", "mojito", "beat", "-l", "INFO",
                "-s", str(self.root / "beat-schedule"),
            ],
        ).start()  # fmt: skip
        self.beat.wait_for_log(r"beat: Starting", timeout=60)
        return self.beat

    def live_workers(self) -> list[Proc]:
        return [w for w in self.workers if w.alive]

    def log_paths(self) -> list[Path]:
        return sorted(self.logs.iterdir())

    # --- the sandbox -----------------------------------------------------------------------

    def control(self, verb: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(
            verb, f"{self.sandbox.base_url}/__sandbox__/{path}", json=body, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def configure_sandbox(self, values: dict[str, Any]) -> dict[str, Any]:
        return self.control("POST", "config", values)

    def register_account(self, token: str, act_id: str, page_id: str) -> None:
        self.sandbox.state.register(token, act_id, page_ids=[page_id])

    def sandbox_objects(self) -> list[dict[str, Any]]:
        return self.control("GET", "objects")["data"]

    def request_log(self, since: int = 0) -> list[dict[str, Any]]:
        return self.sandbox.state.request_log(since)

    def last_seq(self) -> int:
        with self.sandbox.state.lock:
            return self.sandbox.state.last_seq
