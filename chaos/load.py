"""The tenants of a run and its seeded mix of jobs, submitted over HTTP to gunicorn.

Tenants: two teams, each with its API user and its Meta ad accounts (one token per account,
registered on the sandbox); one account of the first team holds the canary token.

The mix (seeded; which job gets which shape is the seed's, when the stack answers is not):
creations of one ad set with one ad, of several ad sets x several ads, with image or video
creatives; changes of campaigns created earlier in the run (status, an ad set's budget);
archives; submissions that must be refused (invalid, another team's account); and creations
cancelled as soon as they are accepted. Every planned object's name carries the run and the
submission's number, so that what the sandbox holds can be grouped back by name.

A submission is retried like a careful client would: on a connection error, a timeout or
502/503/504 it is sent again after a pause, with the same Idempotency-Key for a creation, until
it gets another answer or its time is up.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from chaos.stack import FINAL, Stack
from tests import payloads

RETRYABLE = {502, 503, 504}


@dataclass
class Account:
    team: str
    act_id: str
    token: str
    page_id: str
    id: str = ""  # ours (UUID)
    canary: bool = False
    old_tokens: list[str] = field(default_factory=list)  # replaced during the run

    @property
    def digits(self) -> str:
        return self.act_id.removeprefix("act_")


@dataclass
class Team:
    name: str
    api_token: str
    accounts: list[Account] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)


@dataclass
class Response:
    """One HTTP answer (or the lack of one), kept for the canary hunt and the counts."""

    method: str
    path: str
    status: int | None  # None: no answer (connection refused or reset, timeout)
    body: bytes = b""
    headers: str = ""
    error: str = ""


@dataclass
class Submission:
    index: int
    kind: str  # create, update, archive, invalid, foreign
    team: str
    account: Account
    method: str
    path: str
    body: dict[str, Any] | None
    names: dict[str, list[str]] = field(default_factory=dict)  # planned names by sandbox type
    key: str | None = None  # Idempotency-Key
    cancel: bool = False  # cancel as soon as accepted
    target: dict[str, Any] | None = None  # changes: what and which value
    status: int | None = None  # the final HTTP answer
    job_id: str | None = None
    cancelled: bool = False
    tries: int = 0
    submitted_at: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status == 202 and self.job_id is not None


def canary_token() -> str:
    return f"EAACHAOSCANARY{uuid.uuid4().hex}"


def make_tenants(stack: Stack, rng: random.Random, run: str) -> list[Team]:
    """Team A (three accounts, the first with the canary token) and team B (two accounts)."""
    teams = []
    for team_name, count in (("a", 3), ("b", 2)):
        user = f"chaos-{run}-{team_name}"
        api_token = stack.manage("create_api_user", user, "--team", f"team-{run}-{team_name}")
        team = Team(name=team_name, api_token=api_token.strip().splitlines()[-1])
        team.session.headers["Authorization"] = f"Token {team.api_token}"
        for n in range(count):
            digits = f"{rng.randint(3, 8)}{rng.randrange(10**13, 10**14)}"
            canary = team_name == "a" and n == 0
            token = canary_token() if canary else f"EAAB-{team_name}{n}-{uuid.uuid4().hex}"
            account = Account(
                team=team_name,
                act_id=f"act_{digits}",
                token=token,
                page_id=f"5{rng.randrange(10**13, 10**14)}",
                canary=canary,
            )
            stack.register_account(account.token, account.act_id, account.page_id)
            response = team.session.post(
                f"{stack.base_url}/api/v1/ad_accounts",
                json={
                    "platform_account_id": account.act_id,
                    "name": f"chaos {team_name}{n}",
                    "platform_type": "META",
                    "credentials": {"access_token": account.token},
                },
                timeout=30,
            )
            if response.status_code != 201:
                raise RuntimeError(f"ad account: {response.status_code} {response.text[:500]}")
            account.id = response.json()["id"]
            team.accounts.append(account)
        teams.append(team)
    return teams


@dataclass
class Mix:
    """Shares of each kind of submission (the rest are small creations)."""

    multi: float = 0.22
    video: float = 0.08
    update: float = 0.12
    archive: float = 0.04
    invalid: float = 0.04
    foreign: float = 0.03
    cancel: float = 0.07  # of creations, cancelled once accepted


class Load:
    """Builds and sends the submissions; keeps every answer."""

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
        self.rng = random.Random(seed)  # noqa: S311 (seeded dice, not secrets)
        self.run = run
        self.jobs = jobs
        self.rate = rate
        self.mix = mix or Mix()
        self.answer_deadline = answer_deadline
        self.submissions: list[Submission] = []
        self.responses: list[Response] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error: BaseException | None = None
        # Campaigns that succeeded, as the API shows them: what changes and archives work on.
        self.live: list[dict[str, Any]] = []
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

    # --- bodies --------------------------------------------------------------------------------

    def _creative(self, account: Account, name: str, video: bool) -> dict[str, Any]:
        spec = payloads.creative(name, image_url=self.stack.media_url(f"/img/{name}.png"))
        spec["page_id"] = account.page_id
        if video:
            spec["image_url"] = None
            spec["video_url"] = self.stack.media_url(f"/vid/{name}.mp4")
            spec["thumbnail_url"] = self.stack.media_url("/thumb.png")
        return spec

    def creation(self, index: int, account: Account, shape: str) -> Submission:
        campaign = f"{self.run}-j{index:04d}"
        sets, ads = {"small": (1, 1), "video": (1, 1)}.get(shape, (0, 0))
        if shape == "multi":
            sets, ads = self.rng.randint(2, 3), self.rng.randint(1, 3)
        body = payloads.api_example(account.id)
        body["campaign"]["name"] = campaign
        names: dict[str, list[str]] = {
            "campaign": [campaign],
            "adset": [],
            "ad": [],
            "adcreative": [],
        }
        body["ad_sets"] = []
        for s in range(sets):
            set_name = f"{campaign}-s{s}"
            ad_specs = []
            for a in range(ads):
                ad_name = f"{set_name}-a{a}"
                video = shape == "video" or (shape == "multi" and self.rng.random() < 0.1)
                ad_specs.append(
                    {
                        "name": ad_name,
                        "status": "PAUSED",
                        "creative": self._creative(account, f"{ad_name}-cr", video),
                    }
                )
                names["ad"].append(ad_name)
                names["adcreative"].append(f"{ad_name}-cr")
            body["ad_sets"].append(payloads.ad_set(set_name, ad_specs))
            names["adset"].append(set_name)
        return Submission(
            index=index,
            kind="create",
            team=account.team,
            account=account,
            method="POST",
            path=payloads.META_SUBMIT_URL,
            body=body,
            names=names,
            key=f"{self.run}-{index}",
            cancel=self.rng.random() < self.mix.cancel,
        )

    def invalid(self, index: int, account: Account) -> Submission:
        sub = self.creation(index, account, "small")
        assert sub.body is not None
        del sub.body["ad_sets"][0]["targeting"]["geo_locations"]
        sub.kind, sub.cancel = "invalid", False
        return sub

    def foreign(self, index: int) -> Submission:
        """Team B submits for an account of team A: 400, as for a missing account."""
        victim = self.rng.choice(self.teams["a"].accounts)
        sub = self.creation(index, victim, "small")
        sub.kind, sub.team, sub.cancel = "foreign", "b", False
        return sub

    def change(self, index: int, archive: bool) -> Submission | None:
        candidates = [c for c in self.live if not c.get("archived")]
        if not candidates:
            return None
        live = self.rng.choice(candidates)
        account = live["account"]
        if archive:
            live["archived"] = True
            return Submission(
                index=index,
                kind="archive",
                team=account.team,
                account=account,
                method="DELETE",
                path=f"/api/v1/campaigns/{live['id']}",
                body=None,
                target={
                    "type": "campaign",
                    "platform_id": live["platform_id"],
                    "status": "ARCHIVED",
                },
            )
        if self.rng.random() < 0.5 or not live["ad_sets"]:
            status = self.rng.choice(["ACTIVE", "PAUSED"])
            return Submission(
                index=index,
                kind="update",
                team=account.team,
                account=account,
                method="PATCH",
                path=f"/api/v1/campaigns/{live['id']}",
                body={"status": status},
                target={"type": "campaign", "platform_id": live["platform_id"], "status": status},
            )
        ad_set = self.rng.choice(live["ad_sets"])
        budget = self.rng.randrange(1000, 9000, 100)
        return Submission(
            index=index,
            kind="update",
            team=account.team,
            account=account,
            method="PATCH",
            path=f"/api/v1/ad_sets/{ad_set['id']}",
            body={"daily_budget": budget},
            target={"type": "adset", "platform_id": ad_set["platform_id"], "daily_budget": budget},
        )

    def next_submission(self, index: int) -> Submission:
        roll = self.rng.random()
        mix = self.mix
        accounts = [a for t in self.teams.values() for a in t.accounts]
        account = self.rng.choice(accounts)
        edges = [
            ("update", mix.update),
            ("archive", mix.archive),
            ("invalid", mix.invalid),
            ("foreign", mix.foreign),
            ("multi", mix.multi),
            ("video", mix.video),
        ]
        kind, total = "small", 0.0
        for name, share in edges:
            total += share
            if roll < total:
                kind = name
                break
        if kind in ("update", "archive"):
            change = self.change(index, archive=kind == "archive")
            if change is not None:
                return change
            kind = "small"
        if kind == "invalid":
            return self.invalid(index, account)
        if kind == "foreign":
            return self.foreign(index)
        return self.creation(index, account, kind)

    def burst(self, account: Account, count: int, first_index: int) -> list[Submission]:
        """`count` small creations for one account, sent now from the caller's thread (a
        fault's own burst), numbered from `first_index` so their names are their own."""
        rng, self.rng = self.rng, random.Random(first_index)  # noqa: S311
        try:
            subs = [self.creation(first_index + n, account, "small") for n in range(count)]
        finally:
            self.rng = rng
        for sub in subs:
            sub.cancel = False
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
                self.live.append(
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
                sub = self.next_submission(index)
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
