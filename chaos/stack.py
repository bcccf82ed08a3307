"""A whole mojito on loopback, started and stopped by a chaos run, and the handles to hurt it.

In start order (`Stack.start`; `Stack.stop` goes in reverse):

- PostgreSQL and Redis of the run's own (`chaos/servers.py`);
- the Meta sandbox: `SandboxServer` in a thread of this process (its state and request log
  read directly), with every Graph request's token noted by a hash (`chaos/token_log.py`),
  and the media server the creatives point at (`chaos/media.py`);
- gunicorn serving mojito, two or more Celery workers and beat: subprocesses (`Proc`,
  `chaos/procs.py`), with the environment `_env` builds for them; a worker or beat that exits
  is restarted by the supervisor thread.

Nothing here touches the machine's shared servers (5432, 6379): every port is a free one
asked of the kernel, every data folder is under the run's temporary folder, and every process
stopped is one this module started (by its pid or process group).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from chaos.media import MediaServer
from chaos.procs import LOOPBACK, REPO, VENV_BIN, Proc, free_port, pid_of_client_port, wait_for
from chaos.servers import Postgres, Redis
from chaos.token_log import TokenLog
from platforms.meta.sandbox import SandboxServer

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

    def worker_of(self, connection: str | None) -> int | None:
        """The pid of the running (not stopped) worker that holds `connection`, the client
        side ("host:port") of a Graph request the sandbox is answering."""
        if not connection:
            return None
        port = int(connection.rsplit(":", 1)[1])
        return pid_of_client_port(port, [w.pid for w in self.live_workers() if not w.stopped])

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
