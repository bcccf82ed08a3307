"""PostgreSQL stopped while jobs run (`pg_ctl stop -m fast`, or `-m immediate`: a crash), kept
down a few seconds, started again. While it is down a prober asks the API for the jobs list,
`/readyz` and a submission: each must be a 503 (the API's with Retry-After), never a 500
nor a hang; the load's own submissions get the same and are sent again (same
Idempotency-Key) until accepted.
Workers lose their connections mid-job, between a Meta create and the commit of its ID
included; once the database is back, every job must still end and nothing exist twice.

    .venv/bin/python -m chaos.postgres_restart --seed 1 --jobs 300 --timeout 600
    .venv/bin/python -m chaos.postgres_restart --short
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from chaos.cli import Fault, Run, run_script
from chaos.history import Report
from chaos.load import Response
from chaos.stack import StackConfig
from tests import payloads

DOWN: list[Response] = []


def _probe(run: Run, stop: threading.Event) -> None:
    """While the database is down: what the API answers (kept with the load's answers)."""
    team = run.load.teams["a"]
    account = team.accounts[1]
    body = payloads.api_example(account.id)
    body["campaign"]["name"] = "probe-never-accepted"  # a 202 here would be a lie
    while not stop.is_set():
        for method, path, payload in (
            ("GET", "/api/v1/jobs", None),
            ("GET", "/readyz", None),
            ("POST", "/api/v1/ads/meta?validate_only=true", body),
        ):
            answer = run.load.request(team, method, path, payload, timeout=10)
            DOWN.append(answer)
        stop.wait(0.3)


def inject(run: Run) -> None:
    rng = run.rng
    pg = run.stack.postgres
    restarts = 1 if run.short else 4
    for n in range(restarts):
        run.sleep(rng.uniform(1.5, 3.0) if run.short else rng.uniform(4.0, 10.0))
        if not run.busy():
            break
        mode = "immediate" if n % 2 else "fast"
        down = rng.uniform(3.0, 5.0) if run.short else rng.uniform(5.0, 12.0)
        pg.stop(mode)
        stop = threading.Event()
        prober = threading.Thread(target=_probe, args=(run, stop), daemon=True)
        prober.start()
        time.sleep(down)
        stop.set()
        prober.join(15)
        pg.start()
        run.note(f"restarts_{mode}")
        run.note("seconds_down", round(down))


def verify(run: Run, report: Report) -> None:
    statuses = Counter(str(a.status) for a in DOWN)
    report.counts["probes_while_down"] = len(DOWN)
    report.counts["probes_503"] = statuses.get("503", 0)
    for answer in DOWN:
        if answer.status != 503:
            report.violate(
                "down_answers",
                f"{answer.method} {answer.path} while the database was down -> "
                f"{answer.status or answer.error}",
            )
        elif answer.path != "/readyz" and "retry-after" not in answer.headers.lower():
            report.violate(
                "down_answers", f"{answer.method} {answer.path}: 503 without Retry-After"
            )


FAULT = Fault(
    name="postgres_restart",
    description=__doc__ or "",
    inject=inject,
    verify=verify,
    stack=lambda args: StackConfig(sandbox={"latency_ms": 60, "latency_jitter_ms": 60}),
)

if __name__ == "__main__":
    run_script(FAULT)
