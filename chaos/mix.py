"""The seeded mix of a chaos run's jobs: which kind of submission comes next, and its body.

Creations of one ad set with one ad, of several ad sets x several ads, with image or video
creatives; changes of campaigns created earlier in the run (status, an ad set's budget);
archives; submissions that must be refused (invalid, another team's account); and creations
cancelled as soon as they are accepted. Which job gets which shape is the seed's. Every planned
object's name carries the run and the submission's number, so that what the sandbox holds can
be grouped back by name.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaos.tenants import Account, Team
from tests import payloads


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


class Planner:
    """Draws the run's submissions from the mix with one seeded random generator."""

    def __init__(
        self,
        teams: dict[str, Team],
        *,
        rng: random.Random,
        run: str,
        mix: Mix,
        media_url: Callable[[str], str],
    ) -> None:
        self.teams = teams
        self.rng = rng
        self.run = run
        self.mix = mix
        self.media_url = media_url
        # Campaigns that succeeded, as the API shows them: what changes and archives work on.
        self.live: list[dict[str, Any]] = []

    def _creative(self, account: Account, name: str, video: bool) -> dict[str, Any]:
        spec = payloads.creative(name, image_url=self.media_url(f"/img/{name}.png"))
        spec["page_id"] = account.page_id
        if video:
            spec["image_url"] = None
            spec["video_url"] = self.media_url(f"/vid/{name}.mp4")
            spec["thumbnail_url"] = self.media_url("/thumb.png")
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
            kind, method, path, body = "archive", "DELETE", f"/api/v1/campaigns/{live['id']}", None
            target = {"type": "campaign", "platform_id": live["platform_id"], "status": "ARCHIVED"}
        elif self.rng.random() < 0.5 or not live["ad_sets"]:
            status = self.rng.choice(["ACTIVE", "PAUSED"])
            kind, method, path = "update", "PATCH", f"/api/v1/campaigns/{live['id']}"
            body = {"status": status}
            target = {"type": "campaign", "platform_id": live["platform_id"], "status": status}
        else:
            ad_set = self.rng.choice(live["ad_sets"])
            budget = self.rng.randrange(1000, 9000, 100)
            kind, method, path = "update", "PATCH", f"/api/v1/ad_sets/{ad_set['id']}"
            body = {"daily_budget": budget}
            target = {"type": "adset", "platform_id": ad_set["platform_id"], "daily_budget": budget}
        return Submission(
            index=index,
            kind=kind,
            team=account.team,
            account=account,
            method=method,
            path=path,
            body=body,
            target=target,
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
        """`count` small creations for one account, none cancelled, numbered from
        `first_index` so their names are their own."""
        rng, self.rng = self.rng, random.Random(first_index)  # noqa: S311
        try:
            subs = [self.creation(first_index + n, account, "small") for n in range(count)]
        finally:
            self.rng = rng
        for sub in subs:
            sub.cancel = False
        return subs
