"""A chaos run's submissions, sent over HTTP to gunicorn, and every answer they got.

The submissions come from the seeded mix (`chaos/mix.py`; the seed decides which job gets which
shape, not when the stack answers), for the tenants of `chaos/tenants.py`.

A submission is retried like a careful client would: on a connection error, a timeout or
502/503/504 it is sent again after a pause, with the same Idempotency-Key for a creation, until
it gets another answer or its time is up.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from chaos.mix import Mix, Planner, Submission
from chaos.stack import FINAL, Stack
from chaos.tenants import Account, Team

RETRYABLE = {502, 503, 504}


@dataclass
class Response:
    """One HTTP answer (or the lack of one), kept for the canary hunt and the counts."""

    method: str
    path: str
    status: int | None  # None: no answer (connection refused or reset, timeout)
    body: bytes = b""
    headers: str = ""
    error: str = ""


class Load:
    """Sends the submissions the planner draws; keeps every answer."""

    def __init__(
        self,
        stack: Stack,
        teams: list[Team],
        *,
        seed: int,
        run: str,
        jobs: int,
        rate: float,
        mix: Mix | None = None,
        answer_deadline: float = 90.0,
    ) -> None:
        self.stack = stack
        self.teams = {t.name: t for t in teams}
        self.planner = Planner(
            self.teams,
            rng=random.Random(seed),  # noqa: S311 (seeded dice, not secrets)
            run=run,
            mix=mix or Mix(),
            media_url=stack.media_url,
        )
        self.jobs = jobs
        self.rate = rate
        self.answer_deadline = answer_deadline
        self.submissions: list[Submission] = []
        self.responses: list[Response] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error: BaseException | None = None
        self._probed: set[str] = set()
        self.on_submit: Callable[[Submission], None] | None = None

    # --- HTTP ----------------------------------------------------------------------------------

    def request(
        self,
        team: Team,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 15,
    ) -> Response:
        try:
            raw = team.session.request(
                method,
                self.stack.base_url + path,
                json=body,
                headers=headers,
                timeout=timeout,
            )
            answer = Response(method, path, raw.status_code, raw.content, str(raw.headers))
        except requests.RequestException as exc:
            answer = Response(method, path, None, error=type(exc).__name__)
        with self.lock:
            self.responses.append(answer)
        return answer

    def send(self, sub: Submission) -> None:
        team = self.teams[sub.team]
        headers = {"Idempotency-Key": sub.key} if sub.key else None
        deadline = time.monotonic() + self.answer_deadline
        pause = 0.5
        sub.submitted_at = time.time()
        while True:
            sub.tries += 1
            answer = self.request(team, sub.method, sub.path, sub.body, headers)
            sub.status = answer.status
            if answer.status not in RETRYABLE and answer.status is not None:
                break
            # A change without a key, sent again after no answer, may be a second job; that
            # is the client's lot without a key, and harmless for a status or a budget.
            if time.monotonic() + pause > deadline:
                break
            time.sleep(pause)
            pause = min(pause * 1.5, 4)
        if answer.status == 202:
            try:
                sub.job_id = _json(answer.body)["id"]
            except (KeyError, TypeError, ValueError):
                sub.job_id = None
        if sub.accepted and sub.cancel:
            cancelled = self.request(team, "POST", f"/api/v1/jobs/{sub.job_id}/cancel")
            sub.cancelled = cancelled.status == 200

    def burst(self, account: Account, count: int, first_index: int) -> list[Submission]:
        """`count` small creations for one account, sent now from the caller's thread (a
        fault's own burst), numbered from `first_index` so their names are their own."""
        subs = self.planner.burst(account, count, first_index)
        for sub in subs:
            with self.lock:
                self.submissions.append(sub)
            self.send(sub)
        return subs

    # --- what succeeded, for changes -------------------------------------------------------------

    def probe_live(self, limit: int = 4) -> None:
        """Ask after a few accepted creations not yet seen finished; keep the successes."""
        pending = [
            s
            for s in self.submissions
            if s.kind == "create"
            and s.accepted
            and not s.cancelled
            and s.job_id not in self._probed
        ]
        for sub in pending[:limit]:
            answer = self.request(self.teams[sub.team], "GET", f"/api/v1/jobs/{sub.job_id}")
            if answer.status != 200:
                continue
            job = _json(answer.body)
            if job.get("status") not in FINAL:
                continue
            self._probed.add(str(sub.job_id))
            campaign = job.get("campaign") or {}
            if job["status"] == "SUCCESS" and campaign.get("platform_id"):
                self.planner.live.append(
                    {
                        "id": campaign["id"],
                        "platform_id": campaign["platform_id"],
                        "account": sub.account,
                        "ad_sets": [
                            {"id": s["id"], "platform_id": s["platform_id"]}
                            for s in campaign.get("ad_sets", [])
                        ],
                    }
                )

    # --- the run -------------------------------------------------------------------------------

    def run_all(self) -> None:
        try:
            start = time.monotonic()
            for index in range(self.jobs):
                due = start + index / self.rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                sub = self.planner.next_submission(index)
                with self.lock:
                    self.submissions.append(sub)
                self.send(sub)
                if self.on_submit is not None:
                    self.on_submit(sub)
                if index % 5 == 4:
                    self.probe_live()
        except BaseException as exc:  # reported by the run
            self.error = exc
        finally:
            self.done.set()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_all, name="chaos-load", daemon=True)
        thread.start()
        return thread

    # --- waiting ---------------------------------------------------------------------------------

    def unfinished(self) -> int | None:
        """Jobs still PENDING or PROCESSING, as the API counts them (None: no answer)."""
        total = 0
        for team in self.teams.values():
            for status in ("PENDING", "PROCESSING"):
                answer = self.request(team, "GET", f"/api/v1/jobs?status={status}", timeout=10)
                if answer.status != 200:
                    return None
                total += int(_json(answer.body).get("count", 0))
        return total

    def wait_final(self, deadline: float) -> bool:
        """Until every job of the run is final, or `deadline` (monotonic) passes."""
        while time.monotonic() < deadline:
            if self.done.is_set() and self.unfinished() == 0:
                return True
            time.sleep(1.0)
        return False

    def fetch_jobs(self) -> dict[str, dict[str, Any]]:
        """Every accepted job as GET /api/v1/jobs/{id} shows it at the end."""
        jobs: dict[str, dict[str, Any]] = {}
        for sub in self.submissions:
            if not sub.accepted:
                continue
            answer = self.request(self.teams[sub.team], "GET", f"/api/v1/jobs/{sub.job_id}")
            if answer.status == 200:
                jobs[str(sub.job_id)] = _json(answer.body)
        return jobs


def _json(body: bytes) -> Any:
    return json.loads(body or b"null")
