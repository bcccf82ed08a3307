"""SIGKILL of random Celery worker processes at random moments while jobs run, the workers
restarted after a while: no shutdown, no ack, nothing written. Half the kills are aimed: the
run waits until the sandbox has just created an object and kills the worker that asked for it
before the answer leaves (from the sandbox's thread, the connection's port telling which
worker), so the kill falls between Meta's create and the commit of its ID.

    .venv/bin/python -m chaos.worker_kill --seed 1 --jobs 300 --timeout 600
    .venv/bin/python -m chaos.worker_kill --short
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from chaos.cli import Fault, Run, run_script
from chaos.stack import StackConfig


def inject(run: Run) -> None:
    stack = run.stack
    rng = run.rng
    armed = threading.Event()
    aimed_kills: list[int] = []

    def after_create(call: Any, outcome: Any) -> None:
        pid = stack.worker_of(call.connection) if armed.is_set() else None
        if pid is None:
            return
        armed.clear()
        os.killpg(pid, signal.SIGKILL)  # before this create's answer leaves the sandbox
        aimed_kills.append(pid)

    stack.token_log.after_create = after_create
    pause = (0.5, 2.0) if run.short else (1.0, 5.0)
    kills = 0
    max_kills = 6 if run.short else 40
    try:
        while run.busy() and kills < max_kills:
            run.sleep(rng.uniform(*pause))
            live = stack.live_workers()
            if not live:
                continue
            if rng.random() < 0.5:
                before = len(aimed_kills)
                armed.set()
                deadline = time.monotonic() + 5
                while len(aimed_kills) == before and time.monotonic() < deadline:
                    time.sleep(0.01)
                armed.clear()
                if len(aimed_kills) > before:
                    run.note("kills_after_create")
                    kills += 1
            else:
                victim = rng.choice(live)
                victim.kill()
                run.note("kills_random")
                kills += 1
            _restart_dead(run)
    finally:
        stack.token_log.after_create = None
        _restart_dead(run, at_once=True)


def _restart_dead(run: Run, at_once: bool = False) -> None:
    stack = run.stack
    dead = [w for w in stack.workers if not w.alive]
    for worker in dead:
        if worker.popen is not None:
            worker.popen.wait(10)
        stack.workers.remove(worker)
        if not at_once:
            run.sleep(run.rng.uniform(0, 1.5))
        stack.start_worker()
        run.note("restarts")


def expected_failure(job: dict[str, Any]) -> bool:
    # Every kill costs the jobs in flight an attempt; a job killed more often than
    # JOB_MAX_ATTEMPTS allows ends FAILED, by design (API.md: "whatever made them fail").
    return False


FAULT = Fault(
    name="worker_kill",
    description=__doc__ or "",
    inject=inject,
    expected_failure=expected_failure,
    stack=lambda args: StackConfig(
        sandbox={"latency_ms": 60, "latency_jitter_ms": 60}, supervise=False
    ),
)

if __name__ == "__main__":
    run_script(FAULT)
