"""Pieces of the end-to-end harness: a local image server, the Celery worker and beat
subprocesses, the per-test `Harness` (real API, Meta sandbox, Redis), request bodies and the
leak scanner of the canary test.

Everything here talks to real things only: the API through DRF's test client (the views run in
this process), the worker and beat as separate processes over Redis and PostgreSQL, and the
Meta sandbox over HTTP on loopback.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import redis
import requests
from rest_framework.test import APIClient

from mojito.celery import app as celery_app
from platforms.meta.sandbox import SandboxServer
from tests import payloads
from tests.broker import broker_down
from tests.images import LoopbackServer, make_jpeg, make_png

REPO = Path(__file__).resolve().parents[2]
CELERY_BIN = REPO / ".venv" / "bin" / "celery"

# The executor's modes (META_EXECUTION_MODE): batch is the default, sequential the fallback.
EXECUTION_MODES = ("batch", "sequential")
FINISHED = {"SUCCESS", "FAILED", "PARTIAL_SUCCESS", "CANCELLED"}
SUBMIT_URL = payloads.META_SUBMIT_URL


# --- Images ----------------------------------------------------------------------------------


PNG = make_png(2, 3)
THUMB_PNG = make_png(4, 4, rgb=b"\x00\x80\xff")
JPEG = make_jpeg(b"mojito e2e")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 (Meta's image hash is the MD5)


class ImageServer(LoopbackServer):
    """http.server on 127.0.0.1 in a thread: /a.png, /b.jpg, /thumb.png, and a redirect."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {
            "/a.png": (200, PNG, {"Content-Type": "image/png"}),
            "/b.jpg": (200, JPEG, {"Content-Type": "image/jpeg"}),
            "/thumb.png": (200, THUMB_PNG, {"Content-Type": "image/png"}),
        }
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append(self.path)
                status, body, headers = server.routes.get(
                    urlsplit(self.path).path, (404, b"not found", {"Content-Type": "text/plain"})
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


# --- Celery worker and beat subprocesses -----------------------------------------------------


@dataclass
class CeleryProcess:
    kind: str  # "worker" or "beat"
    popen: subprocess.Popen
    log_path: Path
    overrides: dict[str, str]

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, pattern: str, timeout: float = 30.0, start: int = 0) -> None:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if regex.search(self.log()[start:]):
                return
            if not self.alive:
                raise RuntimeError(
                    f"celery {self.kind} exited ({self.popen.returncode}):\n{tail(self.log())}"
                )
            time.sleep(0.05)
        raise TimeoutError(
            f"celery {self.kind}: no {pattern!r} in {timeout} s:\n{tail(self.log())}"
        )

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no ack, nothing cleaned up."""
        if self.alive:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if not self.alive:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def pause(self) -> None:
        os.killpg(self.popen.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.popen.pid, signal.SIGCONT)


def tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.splitlines()[-lines:])


class CeleryProcesses:
    """One beat for the session; one worker at a time, restarted when its settings change."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.worker: CeleryProcess | None = None
        self.beat: CeleryProcess | None = None
        self.all: list[CeleryProcess] = []
        self._count = 0

    def _spawn(self, kind: str, args: list[str], overrides: dict[str, str]) -> CeleryProcess:
        self._count += 1
        log_path = self.log_dir / f"{self._count:02d}-{kind}.log"
        env = {**self.env, **overrides}
        log = log_path.open("wb")
        popen = subprocess.Popen(  # noqa: S603 (our own venv's celery, fixed arguments)
            [str(CELERY_BIN), "-A", "mojito", *args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: killpg reaches it and only it
        )
        log.close()
        process = CeleryProcess(kind, popen, log_path, dict(overrides))
        self.all.append(process)
        return process

    def start_worker(self, overrides: dict[str, str] | None = None) -> CeleryProcess:
        overrides = dict(overrides or {})
        name = f"e2e-{self._count + 1}-{uuid.uuid4().hex[:6]}@%h"
        worker = self._spawn(
            "worker",
            [
                "worker",
                "-P",
                "threads",
                "-c",
                "4",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                os.environ.get("E2E_WORKER_LOG_LEVEL", "INFO"),
                "-n",
                name,
            ],
            overrides,
        )
        worker.wait_for_log(r" ready\.", timeout=30)
        self.worker = worker
        return worker

    def ensure_worker(self, overrides: dict[str, str] | None = None) -> CeleryProcess:
        """The running worker if it has these settings, else a fresh one (the old one stops)."""
        overrides = dict(overrides or {})
        if self.worker is not None and self.worker.alive and self.worker.overrides == overrides:
            return self.worker
        if self.worker is not None:
            self.worker.stop()
        return self.start_worker(overrides)

    def start_beat(self, schedule: Path) -> CeleryProcess:
        beat = self._spawn(
            "beat",
            ["beat", "-s", str(schedule), "-l", "INFO"],
            {},
        )
        beat.wait_for_log(r"beat: Starting", timeout=30)
        self.beat = beat
        return beat

    def stop_all(self) -> None:
        for process in self.all:
            process.stop()

    def log_paths(self) -> list[Path]:
        return [p.log_path for p in self.all]


# This process cannot publish (as when Redis is down at commit): jobs stay unpublished.
publishing_broken = broker_down


# --- Redis -------------------------------------------------------------------------------------


OWNER_KEY = "mojito-e2e:owner"
# Never db 0 / db 1: the rest of the suite (and `run`) use them.
CANDIDATE_DBS = range(15, 1, -1)


def claim_redis_db(server: str, run_id: str, exclude: Iterable[int] = ()) -> int:
    """An empty Redis database, marked as this run's (SET NX), so that two e2e runs at once
    (several engineers running the suite) never share a queue: each worker would take the
    other's messages and drop them for a job missing from its own database."""
    for db in CANDIDATE_DBS:
        if db in exclude:
            continue
        client = redis.Redis.from_url(f"{server}/{db}")
        if not client.set(OWNER_KEY, run_id, nx=True, ex=3600):
            continue  # another run's
        if client.dbsize() == 1:
            return db
        client.delete(OWNER_KEY)  # something else lives here
    raise RuntimeError(f"no free Redis database on {server} for the e2e broker and cache")


class E2ERedis:
    """The broker and cache databases of the e2e worker: claimed for this run only."""

    QUEUE = "celery"

    def __init__(self, server: str, broker_db: int, cache_db: int, run_id: str) -> None:
        self.server = server  # redis://host:port
        self.broker_db = broker_db
        self.cache_db = cache_db
        self.run_id = run_id
        self.broker = redis.Redis.from_url(self.broker_url)
        self.cache = redis.Redis.from_url(f"{server}/{cache_db}")

    @classmethod
    def claim(cls, server: str) -> E2ERedis:
        run_id = uuid.uuid4().hex
        broker_db = claim_redis_db(server, run_id)
        cache_db = claim_redis_db(server, run_id, exclude=[broker_db])
        return cls(server, broker_db, cache_db, run_id)

    @property
    def broker_url(self) -> str:
        return f"{self.server}/{self.broker_db}"

    @property
    def cache_url(self) -> str:
        return f"{self.server.replace('redis', 'rediscache', 1)}/{self.cache_db}"

    def clean(self) -> None:
        """Drop queued messages and every cached value (rate-limit pauses included)."""
        self.broker.delete(self.QUEUE)
        self.cache.flushdb()
        self.cache.set(OWNER_KEY, self.run_id, ex=3600)

    def release(self) -> None:
        """Leave both databases empty, free for the next run."""
        for client in (self.broker, self.cache):
            if client.get(OWNER_KEY) == self.run_id.encode():
                client.flushdb()

    def queue_length(self) -> int:
        return int(self.broker.llen(self.QUEUE))


# --- The per-test harness ----------------------------------------------------------------------


@dataclass
class MetaAccount:
    token: str
    act_id: str
    page_id: str
    id: str = ""  # our UUID, once created through the API


class RecordingAPIClient(APIClient):
    """Keeps every response, so a test can check all of them afterwards (canary hunt)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responses: list[Any] = []

    def request(self, *args: Any, **kwargs: Any) -> Any:
        response = super().request(*args, **kwargs)
        self.responses.append(response)
        return response


class JobWaitError(AssertionError):
    pass


@dataclass
class Harness:
    client: RecordingAPIClient
    sandbox: SandboxServer
    images: ImageServer
    procs: CeleryProcesses
    redis: E2ERedis
    account: MetaAccount
    log_offsets: dict[Path, int] = field(default_factory=dict)

    # --- API ---------------------------------------------------------------------------------

    def submit(self, body: dict[str, Any]) -> str:
        """POST the body to the real API; 202 with a job; returns the job id."""
        response = self.client.post(SUBMIT_URL, body, format="json")
        assert response.status_code == 202, response.content
        job = response.json()
        assert response["Location"] == f"/api/v1/jobs/{job['id']}"
        return job["id"]

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.content
        return response.json()

    def wait_for_job(
        self, job_id: str, statuses: Iterable[str] | str, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Poll GET /api/v1/jobs/{id} until its status is one of `statuses`.

        A job that finishes in another status fails at once (a finished job does not move
        by itself); a timeout fails with the job and the worker's log.
        """
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)
        deadline = time.monotonic() + timeout
        job: dict[str, Any] = {}
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["status"] in wanted:
                return job
            if job["status"] in FINISHED:
                raise JobWaitError(
                    f"job {job_id} ended {job['status']}, expected {sorted(wanted)}:\n"
                    f"{json.dumps(job, indent=1)}\n--- worker log ---\n{self.worker_log_tail()}"
                )
            time.sleep(0.1)
        raise JobWaitError(
            f"job {job_id} still {job.get('status')} after {timeout} s, expected "
            f"{sorted(wanted)}:\n{json.dumps(job, indent=1)}\n--- worker log ---\n"
            f"{self.worker_log_tail()}"
        )

    def account_detail(self) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/ad_accounts/{self.account.id}")
        assert response.status_code == 200, response.content
        return response.json()

    @contextmanager
    def sweeper_paused(self) -> Iterator[None]:
        """Beat stopped (SIGSTOP) and every sweep it had sent finished: nothing publishes jobs."""
        beat, worker = self.procs.beat, self.procs.worker
        assert beat is not None and worker is not None
        beat.pause()
        try:
            # killpg only sends the signal; the parent is told once the child has stopped.
            wait_until(
                lambda: os.WIFSTOPPED(os.waitpid(beat.popen.pid, os.WNOHANG | os.WUNTRACED)[1]),
                10,
                "beat stopped",
            )
            # The queue is first in, first out, and the worker takes one message after another:
            # once it has received a no-op sent now, it has received every sweep sent before.
            marker = celery_app.send_task("celery.accumulate")
            worker.wait_for_log(rf"Task celery\.accumulate\[{marker.id}\] received", timeout=10)
            wait_until(
                lambda: not self.worker_tasks_in_flight("campaigns.tasks.jobs_sweep"),
                10,
                "the sweeps the worker took finished",
            )
            yield
        finally:
            beat.resume()

    def worker_tasks_in_flight(self, task: str | None = None) -> set[str]:
        """Ids of the tasks (named `task`, or any) the current worker has received and not yet
        finished, read from Celery's INFO lines in its log: "Task <name>[<id>] received", then
        "... succeeded in ...", "... raised ...", "... retry: ...", and so on."""
        worker = self.procs.worker
        if worker is None:
            return set()
        name = re.escape(task) if task else r"[\w.]+"
        received: set[str] = set()
        ended: set[str] = set()
        for match in re.finditer(rf"Task {name}\[([\w-]+)\] (\w+)", worker.log()):
            (received if match[2] == "received" else ended).add(match[1])
        return received - ended

    def worker_log_tail(self, lines: int = 60) -> str:
        worker = self.procs.worker
        return tail(worker.log(), lines) if worker else "(no worker)"

    def worker_log_since_start(self) -> str:
        worker = self.procs.worker
        if worker is None:
            return ""
        return worker.log()[self.log_offsets.get(worker.log_path, 0) :]

    # --- the Meta sandbox -----------------------------------------------------------------------

    def control(self, verb: str, path: str, /, **body: Any) -> Any:
        """The sandbox's control API (/__sandbox__/...); `body` is sent as JSON."""
        response = requests.request(
            verb,
            f"{self.sandbox.base_url}/__sandbox__/{path}",
            json=body or None,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def configure(self, **values: Any) -> dict[str, Any]:
        return self.control("POST", "config", **values)

    def sandbox_objects(self, object_type: str) -> list[dict[str, Any]]:
        """Objects of one type on the sandbox (GET /__sandbox__/objects), this account's only."""
        data = self.control("GET", f"objects?type={object_type}")["data"]
        numeric = self.account.act_id.removeprefix("act_")
        return [o for o in data if o["account_id"] == numeric]

    def named(self, object_type: str, name: str) -> list[dict[str, Any]]:
        return [o for o in self.sandbox_objects(object_type) if o["fields"].get("name") == name]

    def sandbox_requests(self, since: int = 0) -> list[dict[str, Any]]:
        return self.control("GET", f"requests?since={since}")["data"]

    def last_request_seq(self) -> int:
        entries = self.sandbox_requests()
        return entries[-1]["seq"] if entries else 0

    def graph(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        """A direct Graph call with the account's token (to prepare objects as a user would)."""
        encoded = {
            k: json.dumps(v) if isinstance(v, dict | list | bool) else v for k, v in params.items()
        }
        response = requests.request(
            method,
            f"{self.sandbox.base_url}/v26.0/{path}",
            params={"access_token": self.account.token, **(encoded if method == "GET" else {})},
            data=encoded if method != "GET" else None,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def upload_image(self, data: bytes) -> str:
        result = self.graph(
            "POST", f"{self.account.act_id}/adimages", bytes=base64.b64encode(data).decode()
        )
        return next(iter(result["images"].values()))["hash"]

    def existing_creative(self, name: str, image_hash: str) -> str:
        spec = {
            "page_id": self.account.page_id,
            "link_data": {
                "link": "https://example.com/existing",
                "message": "Made before the job",
                "image_hash": image_hash,
            },
        }
        result = self.graph(
            "POST", f"{self.account.act_id}/adcreatives", name=name, object_story_spec=spec
        )
        return result["id"]

    # --- request bodies -------------------------------------------------------------------------

    def creative(self, name: str, **media: Any) -> dict[str, Any]:
        """A new creative of this account's page; `media` replaces the default image_url."""
        spec = payloads.creative(name)
        spec["page_id"] = self.account.page_id
        spec["image_url"] = None
        spec.update(media or {"image_url": self.images.url("/a.png")})
        return spec

    def ad(self, name: str, *, creative_id: str | None = None, **media: Any) -> dict[str, Any]:
        if creative_id:
            return payloads.ad_with_existing_creative(name, creative_id)
        return {"name": name, "status": "PAUSED", "creative": self.creative(f"{name} cr", **media)}

    def body(
        self,
        ad_sets: list[tuple[str, list[dict[str, Any]]]] | None = None,
        *,
        campaign_name: str = "E2E campaign",
        **ad_set_overrides: Any,
    ) -> dict[str, Any]:
        """A request for this account: by default 1 ad set with 1 ad (image_url /a.png)."""
        body = payloads.api_example(self.account.id)
        body["campaign"]["name"] = campaign_name
        if ad_sets is None:
            ad_sets = [("E2E ad set", [self.ad("E2E ad")])]
        body["ad_sets"] = [
            payloads.ad_set(name, copy.deepcopy(ads), **ad_set_overrides) for name, ads in ad_sets
        ]
        return body


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, message: str = "", interval: float = 0.05
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s: {message}")


def tree_ids(job: dict[str, Any]) -> dict[str, list[str | None]]:
    """The platform ids of a job's tree, by kind, in tree order."""
    campaign = job["campaign"]
    ad_sets = campaign["ad_sets"]
    ads = [ad for ad_set in ad_sets for ad in ad_set["ads"]]
    return {
        "campaign": [campaign["platform_id"]],
        "adset": [s["platform_id"] for s in ad_sets],
        "ad": [a["platform_id"] for a in ads],
        "adcreative": [a["creative"]["platform_id"] for a in ads],
    }


def database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


# --- leak scanning (canary): chaos/leaks.py, shared with the chaos runs ------------------------

from chaos.leaks import find_leaks, redis_values, secret_forms  # noqa: E402, F401


def graph_writes(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sandbox's request log as single Graph calls: batch operations are spread out
    (each with its batch's time), so tests need not care whether the executor batched."""
    calls: list[dict[str, Any]] = []
    for entry in log:
        operations = entry.get("operations")
        if operations is None:
            calls.append(entry)
            continue
        for op in operations:
            calls.append(
                {
                    "seq": entry["seq"],
                    "time": entry["time"],
                    "method": op.get("method", "POST"),
                    "path": op.get("path", ""),
                    "params": op.get("params", {}),
                    "status": op.get("status"),
                    "created_ids": op.get("created_ids", []),
                    "error": op.get("error"),
                    "fault": op.get("fault"),
                    "batch": True,
                    "dropped": entry.get("dropped", False),
                }
            )
    return calls
