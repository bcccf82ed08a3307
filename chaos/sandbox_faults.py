"""The sandbox misbehaves as Meta does on a bad day: 20% of Graph requests answered with a
transient error (code 2), 5% of creates answered by a dropped connection after the object was
made (the answer lost: only the job's marker can find it again), and per-account throttling
(usage headers climbing past mojito's pause threshold; in the full run the accounts' score
reaches the limit and Meta blocks them, code 80004 with `estimated_time_to_regain_access`).

    .venv/bin/python -m chaos.sandbox_faults --seed 1 --jobs 300 --timeout 600
    .venv/bin/python -m chaos.sandbox_faults --short

A job may still end FAILED when every one of its JOB_MAX_ATTEMPTS attempts met a transient
fault: that is the cap doing its work, counted as "failed as expected" (the error is Meta's
transient one and the attempts are spent); any other failure is a violation.
"""

from __future__ import annotations

import argparse
from typing import Any

from chaos.cli import Fault, Run, run_script
from chaos.stack import WORKER_ENV, StackConfig

MAX_ATTEMPTS = int(WORKER_ENV["JOB_MAX_ATTEMPTS"])


def stack(args: argparse.Namespace) -> StackConfig:
    sandbox: dict[str, Any] = {
        "latency_ms": 40,
        "latency_jitter_ms": 40,
        "fault_rate": 0.2,
        "drop_rate": 0.05,
        "random_seed": args.seed,
    }
    if args.short:
        # Usage climbs past 80% of the limit (mojito pauses the account a second) but the
        # limit is never reached: a block is a minute at least, longer than the short run.
        sandbox |= {"throttle_score": 400, "throttle_window_seconds": 20}
    else:
        # Reached by the busiest accounts: blocked for 20 s, which Meta reports as 1 minute.
        sandbox |= {
            "throttle_score": 500,
            "throttle_window_seconds": 60,
            "throttle_block_seconds": 20,
        }
    return StackConfig(sandbox=sandbox)


def inject(run: Run) -> None:
    """The faults are the sandbox's own dice (seeded); this only watches until the end."""
    while run.busy():
        run.sleep(1.0)
    log = run.stack.request_log()
    run.note("graph_requests", len(log))
    for entry in log:
        for op in entry.get("operations") or [entry]:
            if op.get("fault"):
                run.note(f"fault_{op['fault']}")
            error = op.get("error") or {}
            if error.get("code") in (17, 80004, 80000):
                run.note("throttled_answers")
        if entry.get("dropped"):
            run.note("dropped_connections")


def expected_failure(job: dict[str, Any]) -> bool:
    error = job.get("error") or {}
    return bool(error.get("transient")) and job.get("attempts", 0) >= MAX_ATTEMPTS


FAULT = Fault(
    name="sandbox_faults",
    description=__doc__ or "",
    inject=inject,
    expected_failure=expected_failure,
    stack=stack,
)

if __name__ == "__main__":
    run_script(FAULT)
