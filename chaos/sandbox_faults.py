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
import time
from typing import Any

from chaos.cli import Fault, Run, run_script
from chaos.history import Report
from chaos.stack import WORKER_ENV, StackConfig

MAX_ATTEMPTS = int(WORKER_ENV["JOB_MAX_ATTEMPTS"])
BLOCKS: list[float] = []  # when an account was answered 80004


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
    """The transient errors and drops are the sandbox's own dice (seeded). In the full run,
    twice during the load, the next Graph request is answered by a block of its account
    (80004, `estimated_time_to_regain_access` 1 minute): mojito must leave that account alone
    until then. (A block is a minute at least: the short run lets usage climb only.)"""
    if not run.short:
        for share in (0.25, 0.5):
            while run.loading() and len(run.load.submissions) < run.args.jobs * share:
                time.sleep(0.2)
            run.stack.control("POST", "faults", {"fault": "throttle", "count": 1})
            run.note("blocks_scheduled")
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
                BLOCKS.append(entry["time"])
        if entry.get("dropped"):
            run.note("dropped_connections")


def verify(run: Run, report: Report) -> None:
    """After a block, the account's next write came no sooner than Meta asked (a minute, a
    little slack for clocks): reads of other accounts go on meanwhile."""
    blocked: list[tuple[str, float]] = []
    for entry in run.stack.request_log():
        for op in entry.get("operations") or [entry]:
            if (op.get("error") or {}).get("code") == 80004:
                paths = {entry["path"], op.get("path", "")}
                accounts = set().union(*(run.stack.token_log._accounts_of(p) for p in paths))
                blocked += [(a, entry["time"]) for a in accounts]
    calls = run.stack.token_log.entries
    for account, at in blocked:
        later = [t for _, acc, _, t in calls if acc == account and at + 0.5 < t]
        if later and min(later) - at < 55:
            report.violate(
                "throttle_ignored",
                f"act_{account} was called {min(later) - at:.1f} s after its block, "
                "not the minute Meta asked",
            )
    report.counts["accounts_blocked"] = len(blocked)


def expected_failure(job: dict[str, Any]) -> bool:
    error = job.get("error") or {}
    return bool(error.get("transient")) and job.get("attempts", 0) >= MAX_ATTEMPTS


FAULT = Fault(
    name="sandbox_faults",
    description=__doc__ or "",
    inject=inject,
    expected_failure=expected_failure,
    stack=stack,
    verify=verify,
)

if __name__ == "__main__":
    run_script(FAULT)
