"""Redis (broker and cache) stopped in the middle of the submissions, for 30 s (5 s in the
short run), then started again empty (`--save ""`: every queued message is gone, as after a
crash of a broker without persistence). A submission meanwhile must get a clear answer — 202
(the job stored; beat's sweeper publishes it once the broker is back) or a 503 — never a 500
nor silence; and every accepted job must still end: none lost with the messages.

    .venv/bin/python -m chaos.redis_outage --seed 1 --jobs 300 --timeout 600
    .venv/bin/python -m chaos.redis_outage --short
"""

from __future__ import annotations

import time
from collections import Counter

from chaos.cli import Fault, Run, run_script
from chaos.history import Report
from chaos.stack import StackConfig

WINDOW: list[float] = []  # when Redis went down and came back (time.time())


def inject(run: Run) -> None:
    redis = run.stack.redis
    run.sleep(1.0 if run.short else run.rng.uniform(10.0, 20.0))
    down = 5.0 if run.short else 30.0
    redis.stop()
    WINDOW.append(time.time())
    run.note("seconds_down", round(down))
    time.sleep(down)
    redis.start()
    WINDOW.append(time.time())
    while run.busy():
        run.sleep(1.0)


def verify(run: Run, report: Report) -> None:
    if len(WINDOW) != 2:
        report.violate("outage", "Redis was not stopped and started")
        return
    start, end = WINDOW
    during = [s for s in run.load.submissions if start <= s.submitted_at <= end]
    report.counts["submitted_during_outage"] = len(during)
    answers = Counter(str(s.status) for s in during)
    report.counts["accepted_during_outage"] = answers.get("202", 0)
    report.counts["retried_during_outage"] = sum(1 for s in during if s.tries > 1)
    for sub in during:
        if sub.status is None or sub.status >= 500:
            report.violate(
                "outage_answers",
                f"submission {sub.index} during the outage ended {sub.status} after "
                f"{sub.tries} tries",
            )


FAULT = Fault(
    name="redis_outage",
    description=__doc__ or "",
    inject=inject,
    verify=verify,
    stack=lambda args: StackConfig(sandbox={"latency_ms": 40, "latency_jitter_ms": 40}),
    defaults={"rate_short": 6.0},
)

if __name__ == "__main__":
    run_script(FAULT)
