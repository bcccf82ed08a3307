"""Helpers of bench/worker.py: the Meta sandbox and the Celery worker as subprocesses, Redis
databases owned by the run, job submission over HTTP with per-job timestamps, watching jobs in
PostgreSQL, sampling the worker's memory, CPU time by part, and py-spy profiles.

Everything here only ever talks to 127.0.0.1. Every process started is started in a process
group of its own and stopped by that group, never by name.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    LOOPBACK,
    REPO_ROOT,
    log_tail,
    machine_busy_s,
    proc_table,
    redis_client,
    stop_process_group,
)

from tests.images import make_png  # noqa: F401 (bench/worker.py imports it from here)

FINISHED = ("SUCCESS", "FAILED", "PARTIAL_SUCCESS", "CANCELLED")
OWNER_KEY = "mojito-bench-worker:owner"
E2E_OWNER_KEY = "mojito-e2e:owner"


# --- small things -----------------------------------------------------------------------------


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    form: dict[str, str] | None = None,
    timeout: float = 10,
) -> Any:
    """One HTTP call to a loopback service (urllib: nothing to install); the JSON answer."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError(f"only {LOOPBACK} is ever called, not {url}")
    data = None
    headers = {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


# --- Redis ------------------------------------------------------------------------------------


class RedisDbs:
    """The broker and cache databases of this run. Refuses a database that holds another
    run's data (an e2e run marks its databases), flushes them at start and at the end."""

    def __init__(self, broker_db: int, cache_db: int) -> None:
        if broker_db == cache_db:
            raise ValueError("broker and cache need two Redis databases")
        self.broker_db = broker_db
        self.cache_db = cache_db
        self.token = f"{os.getpid()}-{time.time():.0f}"
        self.claimed: list[int] = []

    def claim(self) -> None:
        for db in (self.broker_db, self.cache_db):
            client = redis_client(db)
            owner = client.get(OWNER_KEY)
            if client.exists(E2E_OWNER_KEY) or (client.dbsize() and owner is None):
                raise RuntimeError(
                    f"Redis database {db} holds data that is not this benchmark's (an e2e run?); "
                    "choose others with --redis-dbs BROKER,CACHE"
                )
            client.flushdb()
            client.set(OWNER_KEY, self.token, ex=3600)
            self.claimed.append(db)

    def release(self) -> None:
        for db in self.claimed:
            client = redis_client(db)
            owner = client.get(OWNER_KEY)
            if owner is None or owner.decode() == self.token:
                client.flushdb()
        self.claimed = []


# --- processes --------------------------------------------------------------------------------


class GroupProcess:
    """A subprocess in its own process group (Ctrl-C reaches us only; we stop it ourselves),
    its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path):
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> GroupProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
                self.command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive:
            code = self.proc.returncode if self.proc else None
            raise RuntimeError(
                f"{self.name} exited ({code}); last lines of {self.log_path}:\n"
                + log_tail(self.log_path, 40)
            )

    def group_pids(self) -> list[int]:
        if self.proc is None:
            return []
        return [p.pid for p in proc_table() if p.pgrp == self.proc.pid]

    def stop(self, timeout: float = 15) -> None:
        proc, self.proc = self.proc, None
        stop_process_group(proc, timeout)


class Sandbox(GroupProcess):
    """`manage.py run_meta_sandbox` on a loopback port, with one token per ad account."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        port: int,
        latency_ms: float,
        accounts: Sequence[tuple[str, str]],
        log_path: Path,
    ) -> None:
        command = [
            sys.executable, "manage.py", "run_meta_sandbox",
            "--host", LOOPBACK, "--port", str(port),
            "--latency-ms", f"{latency_ms:g}",
            # No throttling: the benchmark measures mojito, not Meta's rate limits.
            "--throttle-score", str(10**12),
            "--random-seed", "1",
        ]  # fmt: skip
        for token, act_id in accounts:
            command += ["--token", f"{token}:{act_id}"]
        super().__init__("sandbox", command, env, log_path)
        self.port = port

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 30) -> Sandbox:
        super().start()

        def healthy() -> bool:
            self.check_alive()
            with contextlib.suppress(OSError, ValueError):
                return bool(http_json("GET", f"{self.base_url}/__sandbox__/health", timeout=2))
            return False

        try:
            wait_for(healthy, timeout, "the Meta sandbox", interval=0.2)
        except Exception:
            self.stop()
            raise
        return self

    def upload_image(self, token: str, act_id: str, data: bytes) -> str:
        """Upload an image to an ad account as a user would (outside mojito); Meta's hash."""
        answer = http_json(
            "POST",
            f"{self.base_url}/v26.0/{act_id}/adimages",
            form={"access_token": token, "bytes": base64.b64encode(data).decode()},
        )
        return next(iter(answer["images"].values()))["hash"]

    def configure(self, **values: Any) -> dict[str, Any]:
        """Change the sandbox's configuration at run time (e.g. latency_ms)."""
        return http_json("POST", f"{self.base_url}/__sandbox__/config", values)

    def requests_since(self, seq: int) -> list[dict[str, Any]]:
        return http_json("GET", f"{self.base_url}/__sandbox__/requests?since={seq}", timeout=60)[
            "data"
        ]

    def last_seq(self) -> int:
        entries = self.requests_since(0)
        return entries[-1]["seq"] if entries else 0


class CeleryWorker(GroupProcess):
    """`celery -A mojito worker -P threads` (the production pool) as one process."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        concurrency: int | None,
        log_level: str,
        name: str,
        log_path: Path,
        app: str = "mojito",
    ) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", app, "worker",
            "-P", "threads",
            # Only one worker: nothing to gossip or mingle with.
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-l", log_level, "-n", f"{name}@%h",
        ]  # fmt: skip
        if concurrency is not None:
            command += ["-c", str(concurrency)]
        super().__init__("celery worker", command, env, log_path)

    def pause(self) -> None:
        """SIGSTOP the worker (as the e2e harness does): submitted jobs queue up in Redis."""
        os.killpg(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.pid, signal.SIGCONT)

    def stop(self, timeout: float = 15) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGCONT)  # a paused worker cannot shut down
        super().stop(timeout)

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) of the worker's processes, summed (a threads pool is one process)."""
        rss = hwm = 0
        for pid in self.group_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        return rss, hwm


class WorkerGroup:
    """The worker processes of a run (one unless --worker-processes), handled as one."""

    def __init__(self, workers: Sequence[CeleryWorker]) -> None:
        self.workers = list(workers)

    def start(self) -> WorkerGroup:
        for worker in self.workers:
            worker.start()
        return self

    @property
    def pid(self) -> int:
        return self.workers[0].pid

    @property
    def pgrps(self) -> list[int]:
        return [w.pid for w in self.workers if w.proc is not None]

    def pause(self) -> None:
        for worker in self.workers:
            worker.pause()

    def resume(self) -> None:
        for worker in self.workers:
            worker.resume()

    def check_alive(self) -> None:
        for worker in self.workers:
            worker.check_alive()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) of the largest worker process."""
        values = [w.rss_kib() for w in self.workers if w.proc is not None]
        return max((v[0] for v in values), default=0), max((v[1] for v in values), default=0)


# --- CPU by part ------------------------------------------------------------------------------


def _is_postgres(cmdline: str) -> bool:
    return cmdline.startswith("postgres:") or cmdline.split(" ", 1)[0].endswith("/bin/postgres")


@dataclass
class CpuParts:
    """CPU seconds by part of the stack, between two snapshots.

    - worker, gunicorn, sandbox: their process groups;
    - postgres: the whole server (every backend, the background processes, and the backends
      that ended meanwhile, which the postmaster reaps: a connection per job would otherwise
      vanish from the count). Server-wide: a run of anything else on it counts too;
    - redis: the whole server, likewise;
    - bench: this process (submitting, sampling, polling);
    - other: the machine's busy time minus the parts (the kernel, anything else running).
    """

    groups: dict[str, list[int]]  # part -> process group ids (worker, gunicorn, sandbox)
    bench_pid: int = field(default_factory=os.getpid)

    def snapshot(self) -> dict[str, Any]:
        names = [*self.groups, "postgres", "redis", "bench"]
        parts: dict[str, dict[int, float]] = {name: {} for name in names}
        by_group = {pgrp: name for name, pgrps in self.groups.items() for pgrp in pgrps}
        kernel: dict[str, float] = {}  # system time of each group (in the part's figure too)
        for proc in proc_table():
            cpu = proc.cpu_s + proc.children_cpu_s
            if proc.pgrp in by_group:
                parts[by_group[proc.pgrp]][proc.pid] = cpu
                name = by_group[proc.pgrp]
                kernel[name] = kernel.get(name, 0.0) + proc.system_s
            elif proc.pid == self.bench_pid:
                parts["bench"][proc.pid] = proc.cpu_s  # not its set-up subprocesses
            elif _is_postgres(proc.cmdline):
                parts["postgres"][proc.pid] = cpu
            elif proc.cmdline.startswith("redis-server"):
                parts["redis"][proc.pid] = cpu
        return {
            "parts": parts,
            "kernel": kernel,
            "machine": machine_busy_s(),
            "at": time.monotonic(),
        }

    @staticmethod
    def usage(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """CPU seconds per part between two snapshots; `other` = machine - parts."""
        spent: dict[str, float] = {}
        for part, pids in after["parts"].items():
            earlier = before["parts"].get(part, {})
            spent[part] = sum(max(0.0, cpu - earlier.get(pid, 0.0)) for pid, cpu in pids.items())
        machine = max(0.0, after["machine"] - before["machine"])
        spent["other"] = max(0.0, machine - sum(spent.values()))
        spent["machine"] = machine
        seconds = max(1e-9, after["at"] - before["at"])
        kernel = {
            name: max(0.0, value - before["kernel"].get(name, 0.0))
            for name, value in after["kernel"].items()
        }
        return {
            "seconds": round(seconds, 3),
            "cpu_s": {k: round(v, 3) for k, v in spent.items()},
            "system_cpu_s": {k: round(v, 3) for k, v in kernel.items()},
            "busy_cores": round(machine / seconds, 2),
            "other_cores": round(spent["other"] / seconds, 2),
        }


def background_cores(seconds: float = 3.0) -> float:
    """Cores the machine keeps busy before anything of the benchmark runs (other work on it:
    another benchmark or test run makes every figure here lower)."""
    before = machine_busy_s()
    time.sleep(seconds)
    return round((machine_busy_s() - before) / seconds, 2)


# --- sampling the worker while it runs ------------------------------------------------------


class Sampler:
    """A thread sampling, while the worker runs: its RSS; the jobs it runs (PROCESSING in the
    database: claimed, not yet finished); the messages it holds (the broker's `unacked` hash:
    with acks_late a message stays there from delivery until its task returns, so this counts
    every task the worker has taken, running or waiting for a thread or for the GIL)."""

    def __init__(
        self,
        worker: WorkerGroup,
        database_url: str,
        broker_db: int,
        interval: float = 0.1,
    ) -> None:
        self.worker = worker
        self.database_url = database_url
        self.broker_db = broker_db
        self.interval = interval
        self.peak_rss_kib = 0
        self.peak_in_flight = 0
        self.peak_unacked = 0
        self.samples = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def reset(self) -> None:
        with self._lock:
            self.peak_rss_kib = self.peak_in_flight = self.peak_unacked = self.samples = 0

    def read(self) -> dict[str, int]:
        with self._lock:
            return {
                "peak_rss_kib": self.peak_rss_kib,
                "peak_in_flight": self.peak_in_flight,
                "peak_unacked": self.peak_unacked,
                "samples": self.samples,
            }

    def _run(self) -> None:
        import psycopg

        broker = redis_client(self.broker_db)
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            while not self._stop.wait(self.interval):
                rss, _ = self.worker.rss_kib()
                row = conn.execute(
                    "SELECT count(*) FROM campaign_jobs WHERE status = 'PROCESSING'"
                ).fetchone()
                unacked = int(broker.hlen("unacked"))
                with self._lock:
                    self.peak_rss_kib = max(self.peak_rss_kib, rss)
                    self.peak_in_flight = max(self.peak_in_flight, int(row[0]) if row else 0)
                    self.peak_unacked = max(self.peak_unacked, unacked)
                    self.samples += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


# --- submitting jobs over HTTP ----------------------------------------------------------------


@dataclass
class Submitted:
    index: int
    sent_at: float  # epoch seconds: when it was sent (open loop: when it was due)
    acked_at: float
    status: int
    job_id: str | None
    error: str = ""


async def _submit_all(
    url: str,
    token: str,
    bodies: Sequence[bytes],
    *,
    concurrency: int | None,
    rate: float | None,
    timeout: float,
) -> tuple[list[Submitted], float]:
    import aiohttp

    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    results: list[Submitted] = []
    max_lag = 0.0

    async def send(session: Any, index: int, due: float | None) -> None:
        sent = due if due is not None else time.time()
        try:
            async with session.post(url, data=bodies[index], headers=headers) as resp:
                status = resp.status
                payload = await resp.read()
            job_id = json.loads(payload).get("id") if status == 202 else None
            error = "" if status == 202 else payload[:300].decode(errors="replace")
        except Exception as exc:  # counted, reported; the phase then fails its checks
            status, job_id, error = 0, None, f"{type(exc).__name__}: {exc}"
        results.append(Submitted(index, sent, time.time(), status, job_id, error))

    limit = concurrency or 256
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        if rate is None:
            queue = iter(range(len(bodies)))

            async def user() -> None:
                for index in queue:
                    await send(session, index, None)

            await asyncio.gather(*(user() for _ in range(concurrency or 8)))
        else:
            # Open loop: each job leaves at its scheduled time whatever the answers, and its
            # latency counts from then (a slow server cannot hide its queueing).
            start_wall = time.time() + 0.05
            start = time.perf_counter() + 0.05
            tasks = []
            for index in range(len(bodies)):
                offset = index / rate
                delay = start + offset - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    max_lag = max(max_lag, -delay)
                tasks.append(asyncio.create_task(send(session, index, start_wall + offset)))
            await asyncio.wait(tasks, timeout=timeout + 1)
    return sorted(results, key=lambda s: s.index), max_lag


def submit_jobs(
    url: str,
    token: str,
    bodies: Sequence[bytes],
    *,
    concurrency: int | None = None,
    rate: float | None = None,
    timeout: float = 30,
) -> tuple[list[Submitted], float]:
    """POST every body (closed loop at `concurrency`, or open loop at `rate` per second);
    per job: when it was sent, the answer and the job id. Also the worst send lag (s)."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError(f"jobs are only ever submitted to {LOOPBACK}")
    return asyncio.run(
        _submit_all(url, token, bodies, concurrency=concurrency, rate=rate, timeout=timeout)
    )


# --- jobs in the database ---------------------------------------------------------------------


class JobsDb:
    """Reads of the bench database (psycopg, autocommit): the jobs a phase submitted."""

    def __init__(self, database_url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(database_url, autocommit=True, connect_timeout=5)

    def finished_count(self, ids: Sequence[str]) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM campaign_jobs WHERE id = ANY(%s::uuid[]) AND status = ANY(%s)",
            (list(ids), list(FINISHED)),
        ).fetchone()
        return int(row[0]) if row else 0

    def wait_finished(self, ids: Sequence[str], timeout: float, check: Any = None) -> bool:
        """Poll until every job is finished; False on timeout. `check` runs between polls
        (e.g. that the worker is still alive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.finished_count(ids) >= len(ids):
                return True
            if check is not None:
                check()
            time.sleep(0.05)
        return False

    def jobs(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id::text, status, attempts, created_at, published_at, started_at, "
            "finished_at, error FROM campaign_jobs WHERE id = ANY(%s::uuid[])",
            (list(ids),),
        ).fetchall()
        keys = ("id", "status", "attempts", "created_at", "published_at", "started_at",
                "finished_at", "error")  # fmt: skip
        return {row[0]: dict(zip(keys, row, strict=True)) for row in rows}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


# --- py-spy profiles (the launcher, PySpy, is in _common) -------------------------------------


# Inclusive shares of these frames in the worker's GIL-holding samples: where its CPU goes.
# Patterns match py-spy's "function (file:line)" frames of a stack joined by ";".
PROFILE_FRAMES = [
    ("celery task (job_run)", r"job_run \(campaigns/tasks\.py"),
    ("  job_execute: claim (job_claim)", r"job_claim \(campaigns/engine/claims\.py"),
    ("  the engine's run (JobRun.execute)", r"execute \(campaigns/engine/runner\.py"),
    ("    decrypt credentials", r"_decrypted_credentials \("),
    ("    build_meta_client (SDK session)", r"build_meta_client \("),
    ("    loading the plan (load_plan)", r"load_plan \(platforms/meta/adapter\.py"),
    ("    checkpoint writes (_write)", r"_write \(campaigns/engine/runner\.py"),
    ("    heartbeat", r"heartbeat \(campaigns/engine/runner\.py"),
    ("    building the batch (compose, encode)", r"(compose|encode) \(platforms/meta/batch\.py"),
    ("    the Graph call (SDK + requests)", r"call \(facebook_business/api\.py"),
    ("    job_succeed", r"job_succeed \("),
    ("  Django ORM (any query)", r"execute_sql \(django/db/models/sql/compiler\.py"),
    ("  psycopg (driver)", r"\(psycopg/"),
    ("  requests / urllib3 (HTTP)", r"\((requests|urllib3)/"),
    ("  logging", r"\(logging/"),
    ("celery / kombu outside the task", r"^(?!.*job_run \(campaigns/tasks\.py).*\((celery|kombu)/"),
]  # fmt: skip


def summarize_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """Inclusive shares of PROFILE_FRAMES and the top functions by own time (self samples)."""
    patterns = [(label, re.compile(pattern)) for label, pattern in PROFILE_FRAMES]
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    own_module: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        for label, pattern in patterns:
            if pattern.search(stack):
                inclusive[label] += n
        frames = stack.split(";")
        leaf = frames[-1] if frames else "?"
        own[re.sub(r":\d+\)$", ")", leaf)] += n
        match = re.search(r"\(([^/:)]+)", leaf)
        own_module[match.group(1) if match else "?"] += n

    def pct(n: int) -> float:
        return round(100 * n / total, 1) if total else 0.0

    return {
        "samples": total,
        "raw": str(path),
        "inclusive_pct": {label: pct(inclusive[label]) for label, _ in PROFILE_FRAMES},
        "top_own_pct": [[name, pct(n)] for name, n in own.most_common(top)],
        "own_by_package_pct": [[name, pct(n)] for name, n in own_module.most_common(12)],
    }
