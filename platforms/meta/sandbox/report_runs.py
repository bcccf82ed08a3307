"""Asynchronous insights report runs as the sandbox serves them: `POST /act_<id>/insights`
starts one, `GET /<report_run_id>` reads (and moves on) its status, `GET
/<report_run_id>/insights` pages its rows once completed (insights.py computes them).

Insights API, "Asynchronous Jobs": `POST` answers `{"report_run_id"}`; the run's
`async_status` goes "Job Not Started", "Job Started", "Job Running", then "Job Completed" (or
"Job Failed", "Job Skipped") with `async_percent_completion`. How many status reads (or
seconds) a run takes and how it ends are the config's `report_run_*` fields; nothing runs in
the background.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .insights import compute_rows, parse_query
from .params import Params, format_time
from .state import Account, SandboxState

NOT_STARTED, STARTED, RUNNING = "Job Not Started", "Job Started", "Job Running"
COMPLETED, FAILED, SKIPPED = "Job Completed", "Job Failed", "Job Skipped"
FINAL = (COMPLETED, FAILED, SKIPPED)
SECRET_PARAMS = ("access_token", "appsecret_proof")


@dataclass
class ReportRun:
    id: str
    account_id: str
    params: dict[str, Any]
    since: str
    until: str
    created: float
    polls: int
    seconds: float
    outcome: str
    reads: int = 0
    status: str = NOT_STARTED
    percent: int = 0
    completed: float | None = None
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "async_status": self.status,
            "async_percent_completion": self.percent,
            "reads": self.reads,
            "polls": self.polls,
            "seconds": self.seconds,
            "outcome": self.outcome,
            "params": self.params,
        }


def start_report(
    state: SandboxState, account: Account, call_params: dict[str, Any], now: float
) -> dict[str, Any]:
    # Checked now, as Meta refuses a bad request at once rather than failing the run.
    query = parse_query(Params(call_params), account, "account", now)
    config = state.config
    run = ReportRun(
        id=state.new_report_run_id(),
        account_id=account.id,
        params={
            k: v for k, v in call_params.items() if k not in ("access_token", "appsecret_proof")
        },
        since=query.since.isoformat(),
        until=query.until.isoformat(),
        created=now,
        polls=max(0, int(config.report_run_polls)),
        seconds=max(0.0, float(config.report_run_seconds)),
        outcome=config.report_run_outcome if config.report_run_outcome in FINAL else COMPLETED,
    )
    state.report_runs[run.id] = run
    return {"report_run_id": run.id}


def advance(run: ReportRun, now: float) -> None:
    """One status read of the run: it moves on by a poll (or by the time passed)."""
    run.reads += 1
    if run.status in FINAL:
        return
    if run.seconds > 0:
        fraction = (now - run.created) / run.seconds
    else:
        fraction = 1.0 if run.reads > run.polls else (run.reads - 1) / max(run.polls, 1)
    if fraction >= 1.0:
        run.status = run.outcome
        run.percent = 100 if run.outcome == COMPLETED else run.percent
        run.completed = now
        return
    run.status = NOT_STARTED if fraction <= 0 else STARTED if fraction < 0.5 else RUNNING
    run.percent = int(fraction * 100)


def report_view(run: ReportRun, account: Account, specs: Any) -> dict[str, Any]:
    view = {
        "id": run.id,
        "account_id": account.id,
        "async_status": run.status,
        "async_percent_completion": run.percent,
        "date_start": run.since,
        "date_stop": run.until,
        "time_ref": int(run.created),
        "time_completed": int(run.completed) if run.completed else 0,
        "is_running": run.status not in FINAL,
        "is_bookmarked": False,
        "emails": [],
        "friendly_name": "",
        "schedule_id": "",
        "created_time": format_time(run.created),
    }
    if specs is None:
        return view
    names = {spec.name for spec in specs}
    for name in names:
        if name not in view:
            raise errors.nonexisting_field(name, "AdReportRun")
    return {k: v for k, v in view.items() if k in names or k == "id"}


def report_rows(state: SandboxState, account: Account, run: ReportRun) -> list[dict[str, Any]]:
    if run.status != COMPLETED:
        raise errors.invalid_parameter(
            "Report not ready",
            f"Report run {run.id} has async_status {run.status}: read its rows once it is "
            f"{COMPLETED}.",
        )
    query = parse_query(Params(run.params), account, "account", run.completed or time.time())
    ads = state.of_account(account.id, "ad")
    return compute_rows(state, account, ads, query, run.completed or time.time())
