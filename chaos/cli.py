"""What every chaos script shares: its arguments, and the run itself (start the stack, make
the tenants, submit the mix while the fault is injected, wait until every job is final, check
the history, print the counts, stop everything, exit non-zero on any violation).

A script gives a `Fault`: its settings for the stack and the mix, what failures it explains,
and `inject(run)`, which runs in the main thread while the load runs in another.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaos.history import Report, check
from chaos.load import Load
from chaos.mix import Mix
from chaos.stack import Stack, StackConfig
from chaos.tenants import Team, make_tenants


@dataclass
class Fault:
    name: str
    description: str
    inject: Callable[[Run], None]
    # A failed job this fault explains (the job as GET /api/v1/jobs/{id} shows it).
    expected_failure: Callable[[dict[str, Any]], bool] = lambda job: False
    stack: Callable[[argparse.Namespace], StackConfig] = lambda args: StackConfig()
    mix: Callable[[argparse.Namespace], Mix] = lambda args: Mix()
    # Extra checks after the common ones.
    verify: Callable[[Run, Report], None] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    args: argparse.Namespace
    rng: random.Random
    stack: Stack
    teams: list[Team]
    load: Load
    deadline: float  # monotonic: the fault and the waiting end by then
    report: Report
    canaries: list[str] = field(default_factory=list)  # more secrets to hunt (new tokens)

    @property
    def short(self) -> bool:
        return bool(self.args.short)

    def note(self, key: str, n: int = 1) -> None:
        self.report.counts[key] += n

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))

    def loading(self) -> bool:
        """The load still submits, and there is time left."""
        return not self.load.done.is_set() and time.monotonic() < self.deadline

    def busy(self) -> bool:
        """Jobs still to finish (or to submit), and time left."""
        if time.monotonic() >= self.deadline:
            return False
        if not self.load.done.is_set():
            return True
        return self.load.unfinished() != 0


def parser(fault: Fault) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m chaos.{fault.name}", description=fault.description)
    p.add_argument("--seed", type=int, default=1, help="seeds the job mix and the fault's dice")
    p.add_argument("--jobs", type=int, default=None, help="submissions (default 300; short 30)")
    p.add_argument("--rate", type=float, default=None, help="submissions per second")
    p.add_argument("--timeout", type=float, default=None, help="seconds for the whole run")
    p.add_argument("--workers", type=int, default=2, help="Celery worker processes (>= 2)")
    p.add_argument("--short", action="store_true", help="tens of jobs, well under a minute")
    p.add_argument("--keep", action="store_true", help="keep the run's folder (logs, data)")
    p.add_argument(
        "--sabotage",
        action="store_true",
        help="plant a duplicate, an orphan, a cross-team call and a leak before the checks "
        "(the run must then fail: the checks' own test)",
    )
    return p


def _defaults(args: argparse.Namespace, fault: Fault) -> None:
    short = args.short
    args.jobs = args.jobs or fault.defaults.get(
        "jobs_short" if short else "jobs", 30 if short else 300
    )
    args.rate = args.rate or fault.defaults.get(
        "rate_short" if short else "rate", 10.0 if short else 6.0
    )
    args.timeout = args.timeout or (90.0 if short else 600.0)


def main(fault: Fault, argv: list[str] | None = None) -> int:
    args = parser(fault).parse_args(argv)
    _defaults(args, fault)
    started = time.monotonic()
    run_id = f"k{args.seed}{uuid.uuid4().hex[:5]}"
    rng = random.Random(args.seed)  # noqa: S311 (seeded dice, not secrets)

    # Past the timeout (plus teardown), stop whatever hangs: SIGALRM raises in the main thread.
    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the run passed its timeout ({args.timeout:.0f} s)")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.timeout + 60))

    config = fault.stack(args)
    config.workers = max(2, args.workers)
    config.keep = config.keep or args.keep
    stack = Stack(config)
    report = Report()
    code = 1
    try:
        stack.start()
        up = time.monotonic() - started
        teams = make_tenants(stack, rng, run_id)
        canary = teams[0].accounts[0].token
        load = Load(
            stack,
            teams,
            seed=args.seed,
            run=run_id,
            jobs=args.jobs,
            rate=args.rate,
            mix=fault.mix(args),
        )
        # Checks take time too (the dump, the Redis scan, a GET per job): keep a fifth for them.
        deadline = started + args.timeout * 0.8
        run = Run(args, rng, stack, teams, load, deadline, report)
        load.start()
        t0 = time.monotonic()
        fault.inject(run)
        final = load.wait_final(deadline)
        elapsed = time.monotonic() - t0
        if load.error is not None:
            raise load.error
        if not final:
            report.violate("timeout", f"jobs still unfinished after {args.timeout:.0f} s")
        if args.sabotage:
            _sabotage(stack, load, canary)
        checked = check(
            stack,
            load,
            expected_failure=fault.expected_failure,
            canaries=[canary, *run.canaries],
        )
        checked.counts.update(report.counts)
        checked.violations = report.violations + checked.violations
        checked.notes = report.notes + checked.notes
        report = checked
        if fault.verify is not None:
            fault.verify(run, report)
        report.counts["process_exits"] = len(stack.exits)
        if stack.exits:
            report.notes.append(f"exited, restarted by the supervisor: {', '.join(stack.exits)}")
        report.notes.insert(
            0,
            f"seed {args.seed}, {args.jobs} submissions at {args.rate}/s, "
            f"{config.workers} workers; stack up in {up:.1f} s, jobs final "
            f"{elapsed:.1f} s after the first submission; logs in {stack.root}",
        )
        report.print(f"chaos.{fault.name}")
        code = 0 if report.ok else 1
        if not report.ok and not args.sabotage:
            _keep_evidence(stack, load)
    except BaseException as exc:
        traceback.print_exc()
        print(f"== chaos.{fault.name}: ERROR {type(exc).__name__}: {exc}")
        print(f"   logs in {stack.root}")
        config.keep = True
        code = 2
    finally:
        signal.alarm(0)
        stack.stop()
        if code == 0 or (code == 1 and args.sabotage):  # a sabotaged run is meant to fail
            stack.cleanup()
            if not config.keep:
                print("   (the run's folder is removed after a pass; --keep keeps it)")
        print(f"   total {time.monotonic() - started:.1f} s")
    return code


def _sabotage(stack: Stack, load: Load, canary: str) -> None:
    """What the checks must catch: a second copy of a campaign that succeeded (made with its
    account's token: a duplicate, and an orphan, since no row records it), a Graph call with
    team B's token on an account of team A, and the canary in a log file."""
    import requests

    graph = f"{stack.sandbox.base_url}/v26.0"
    done = next(s for s in load.submissions if s.kind == "create" and s.accepted)
    requests.post(
        f"{graph}/{done.account.act_id}/campaigns",
        data={
            "name": done.names["campaign"][0],
            "objective": "OUTCOME_TRAFFIC",
            "status": "PAUSED",
            "special_ad_categories": "[]",
            "is_adset_budget_sharing_enabled": "false",
            "access_token": done.account.token,
        },
        timeout=10,
    )
    victim = load.teams["a"].accounts[1]
    requests.get(
        f"{graph}/{victim.act_id}",
        params={"access_token": load.teams["b"].accounts[0].token},
        timeout=10,
    )
    (stack.logs / "planted.log").write_text(f"oops {canary}\n")


def _keep_evidence(stack: Stack, load: Load) -> None:
    """What the sandbox held and heard, and every job's row, next to the logs of a failed
    run (the sandbox lives in this process and goes with it)."""
    import json

    from chaos.history import _query

    stack.config.keep = True
    evidence = {
        "objects": stack.sandbox.state.snapshot(),
        "requests": stack.request_log(),
        "submissions": [
            {k: v for k, v in vars(s).items() if k not in ("account", "body")}
            for s in load.submissions
        ],
    }
    (stack.root / "sandbox.json").write_text(json.dumps(evidence, default=str, indent=1))
    rows = _query(stack, "SELECT row_to_json(j)::text FROM campaign_jobs j")
    (stack.root / "jobs.json").write_text("[" + ",\n".join(r[0] for r in rows) + "]")


def run_script(fault: Fault) -> None:
    sys.exit(main(fault))
