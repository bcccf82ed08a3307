"""A Celery worker frozen (SIGSTOP) past its job lease, then resumed (SIGCONT): by then the
sweeper has handed its jobs to another worker, which found what the frozen one had created (by
the job's marker) and finished them. The frozen worker wakes up with answers in hand and old
leases; whatever it writes late must change nothing.

Most pauses are aimed: the worker is frozen from the sandbox's thread right after the sandbox
created an object for it, before the answer leaves, so it wakes up holding the ID of an object
another worker has adopted since. JOB_LEASE_SECONDS is 6 here (the stack's default); a pause
lasts the lease, the sweep and a margin.

Checked besides the common checks: every job final before a resume, and every platform ID
recorded by then, are unchanged once everything is final.

    .venv/bin/python -m chaos.worker_pause --seed 1 --jobs 300 --timeout 600
    .venv/bin/python -m chaos.worker_pause --short
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from chaos.cli import Fault, Run, run_script
from chaos.history import RECORDED_TABLES, Report, _query
from chaos.procs import Proc
from chaos.stack import WORKER_ENV, StackConfig

LEASE = float(WORKER_ENV["JOB_LEASE_SECONDS"])


def _snapshot(run: Run) -> tuple[dict[str, str], dict[str, str]]:
    """Final jobs' statuses, and every recorded platform ID by row."""
    jobs = {
        str(job_id): status
        for job_id, status in _query(
            run.stack,
            "SELECT id, status FROM campaign_jobs WHERE status IN "
            "('SUCCESS', 'FAILED', 'PARTIAL_SUCCESS', 'CANCELLED')",
        )
    }
    ids: dict[str, str] = {}
    for table in RECORDED_TABLES.values():
        for row_id, platform_id in _query(
            run.stack,
            f"SELECT id, platform_id FROM {table} WHERE platform_id <> ''",  # noqa: S608
        ):
            ids[f"{table}:{row_id}"] = str(platform_id)
    return jobs, ids


SNAPSHOTS: list[tuple[dict[str, str], dict[str, str]]] = []


def inject(run: Run) -> None:
    stack = run.stack
    rng = run.rng
    armed = threading.Event()
    frozen: list[int] = []

    def after_create(call: Any, outcome: Any) -> None:
        pid = stack.worker_of(call.connection) if armed.is_set() else None
        if pid is None:
            return
        armed.clear()
        os.killpg(pid, signal.SIGSTOP)  # before this create's answer leaves the sandbox
        frozen.append(pid)

    stack.token_log.after_create = after_create
    pauses = 1 if run.short else 8
    try:
        for _ in range(pauses):
            if not run.busy():
                break
            run.sleep(rng.uniform(1.0, 3.0))
            victim: Proc | None = None
            if rng.random() < 0.75:
                before = len(frozen)
                armed.set()
                deadline = time.monotonic() + 5
                while len(frozen) == before and time.monotonic() < deadline:
                    time.sleep(0.01)
                armed.clear()
                if len(frozen) > before:
                    victim = next((w for w in stack.workers if w.pid == frozen[-1]), None)
                    if victim is not None:
                        victim.stopped = True
                        run.note("pauses_after_create")
            if victim is None:
                candidates = [w for w in stack.live_workers() if not w.stopped]
                if not candidates:
                    continue
                victim = rng.choice(candidates)
                victim.pause()
                run.note("pauses_random")
            # The lease runs out, the sweeper (every second) returns the job, another worker
            # takes it: give it that and a little more.
            run.sleep(LEASE + 4 + rng.uniform(0, 2))
            SNAPSHOTS.append(_snapshot(run))
            victim.resume()
            run.note("resumes")
    finally:
        stack.token_log.after_create = None
        for worker in stack.workers:
            if worker.stopped:
                worker.resume()


def verify(run: Run, report: Report) -> None:
    after_jobs, after_ids = _snapshot(run)
    for jobs, ids in SNAPSHOTS:
        for job_id, status in jobs.items():
            if after_jobs.get(job_id) != status:
                report.violate(
                    "late_writes",
                    f"job {job_id} was {status} before a resume, {after_jobs.get(job_id)} after",
                )
        for row, platform_id in ids.items():
            if after_ids.get(row) != platform_id:
                report.violate(
                    "late_writes",
                    f"{row} recorded {platform_id} before a resume, {after_ids.get(row)} after",
                )
    report.counts["late_writes"] += 0
    lease_returns = sum(
        w.log().count("lease expired; returned to PENDING") for w in run.stack.workers
    )
    report.counts["leases_expired"] = lease_returns
    # What the resumed worker tried to write, refused because its lease was gone.
    report.counts["late_writes_refused"] = sum(
        w.log().count("its outcome is dropped") + w.log().count("lease lost mid-run")
        for w in run.stack.workers
    )


FAULT = Fault(
    name="worker_pause",
    description=__doc__ or "",
    inject=inject,
    verify=verify,
    stack=lambda args: StackConfig(sandbox={"latency_ms": 60, "latency_jitter_ms": 60}),
)

if __name__ == "__main__":
    run_script(FAULT)
