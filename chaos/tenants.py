"""The tenants of a chaos run: two teams, each with its API user and its Meta ad accounts.

One token per account, registered on the sandbox; one account of the first team holds the
canary token, which the run's checks then hunt for everywhere.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

import requests

from chaos.stack import Stack


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
