"""Fixtures: one Meta sandbox per test session on a free loopback port, reset before each test.

These tests need neither the database nor Redis.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from platforms.meta.sandbox import (
    DEMO_ACCOUNT_ID,
    DEMO_PAGE_ID,
    DEMO_TOKEN,
    SandboxConfig,
    SandboxServer,
    SandboxState,
)

VERSION = FacebookAdsApi.API_VERSION  # the SDK's default Graph API version
ACT = f"act_{DEMO_ACCOUNT_ID}"
OTHER_TOKEN = "other-token"
OTHER_ACCOUNT_ID = "200000000000002"
TEST_CONFIG = {
    "video_ready_after": 0.3,
    "throttle_score": 100_000,
}


def png_bytes(width: int = 2, height: int = 3) -> bytes:
    """A valid PNG of the given size."""
    raw = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def mp4_bytes(size: int = 4096) -> bytes:
    """Bytes that start like an MP4 file (an ISO BMFF "ftyp" box)."""
    head = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2"
    return head + b"\x00" * (size - len(head))


@dataclass
class Sandbox:
    server: SandboxServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def state(self) -> SandboxState:
        return self.server.state

    def url(self, path: str, version: str = VERSION) -> str:
        return f"{self.base_url}/{version}/{path.lstrip('/')}"

    def get(self, path: str, token: str | None = DEMO_TOKEN, **params: Any) -> requests.Response:
        return requests.get(self.url(path), params=_encode(params, token), timeout=10)

    def post(
        self, path: str, token: str | None = DEMO_TOKEN, files: Any = None, **params: Any
    ) -> requests.Response:
        query = {"access_token": token} if token else {}
        return requests.post(
            self.url(path), params=query, data=_encode(params, None), files=files, timeout=10
        )

    def delete(self, path: str, token: str | None = DEMO_TOKEN) -> requests.Response:
        return requests.delete(self.url(path), params=_encode({}, token), timeout=10)

    def control(self, method: str, path: str, **body: Any) -> Any:
        response = requests.request(
            method, f"{self.base_url}/__sandbox__/{path}", json=body or None, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()

    def configure(self, **values: Any) -> None:
        self.control("POST", "config", **values)

    def objects(self, object_type: str) -> list[dict[str, Any]]:
        return self.state.snapshot(object_type)

    # Ready-made objects through plain HTTP (the SDK tests make their own).

    def campaign(self, **overrides: Any) -> str:
        params = {
            "name": "Campaign",
            "objective": "OUTCOME_TRAFFIC",
            "status": "PAUSED",
            "special_ad_categories": [],
            "is_adset_budget_sharing_enabled": False,
            **overrides,
        }
        response = self.post(f"{ACT}/campaigns", **params)
        assert response.status_code == 200, response.text
        return response.json()["id"]

    def adset(self, campaign_id: str, **overrides: Any) -> str:
        params = {
            "name": "Ad set",
            "campaign_id": campaign_id,
            "billing_event": "IMPRESSIONS",
            "optimization_goal": "LINK_CLICKS",
            "daily_budget": 2000,
            "targeting": {"geo_locations": {"countries": ["US"]}},
            "status": "PAUSED",
            **overrides,
        }
        response = self.post(f"{ACT}/adsets", **params)
        assert response.status_code == 200, response.text
        return response.json()["id"]

    def image_hash(self, width: int = 2, height: int = 3) -> str:
        response = self.post(
            f"{ACT}/adimages", files={"img.png": ("img.png", png_bytes(width, height), "image/png")}
        )
        assert response.status_code == 200, response.text
        return response.json()["images"]["img.png"]["hash"]

    def creative(self, image_hash: str | None = None, **overrides: Any) -> str:
        spec = {
            "page_id": DEMO_PAGE_ID,
            "link_data": {
                "link": "https://example.com/sale",
                "message": "Primary text",
                "image_hash": image_hash or self.image_hash(),
            },
        }
        response = self.post(
            f"{ACT}/adcreatives", name="Creative", object_story_spec=spec, **overrides
        )
        assert response.status_code == 200, response.text
        return response.json()["id"]


def _encode(params: dict[str, Any], token: str | None) -> dict[str, Any]:
    """Parameters as the SDK sends them: dicts, lists and booleans JSON-encoded."""
    encoded = {
        key: json.dumps(value) if isinstance(value, (dict, list, bool)) else value
        for key, value in params.items()
    }
    if token:
        encoded["access_token"] = token
    return encoded


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer(SandboxState(SandboxConfig(**TEST_CONFIG)), seed=True)
    server.state.register(OTHER_TOKEN, OTHER_ACCOUNT_ID, name="Other Account", seed=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Sandbox:
    """The running sandbox with fresh state and default test configuration."""
    state = sandbox_server.state
    with state.lock:
        state.config = SandboxConfig(**TEST_CONFIG)
        state.reset(accounts=True)
    return Sandbox(sandbox_server)


def make_api(
    sandbox: Sandbox,
    token: str = DEMO_TOKEN,
    app_secret: str | None = None,
    version: str | None = None,
) -> FacebookAdsApi:
    """A per-test SDK client pointed at the sandbox (never FacebookAdsApi.init), speaking the
    SDK's default Graph API version unless ``version`` is given."""
    session = FacebookSession(access_token=token, app_secret=app_secret, timeout=10)
    session.GRAPH = sandbox.base_url
    return FacebookAdsApi(session, api_version=version)


def account_at(sandbox: Sandbox, version: str) -> AdAccount:
    """The demo ad account through an SDK client that calls ``/<version>/``."""
    return AdAccount(ACT, api=make_api(sandbox, version=version))


def refused(call: Callable[[], object]) -> FacebookRequestError:
    """The error Meta's answer raised in the SDK; fails when the call succeeded."""
    with pytest.raises(FacebookRequestError) as caught:
        call()
    return caught.value


@pytest.fixture
def api(sandbox: Sandbox) -> FacebookAdsApi:
    return make_api(sandbox)


@pytest.fixture
def account(api: FacebookAdsApi) -> AdAccount:
    return AdAccount(ACT, api=api)


# --- A campaign and its ad sets as the SDK's callers send them (the rule tests) ---------------

US = {"geo_locations": {"countries": ["US"]}}
CAMPAIGN = {
    Campaign.Field.name: "Spring sale",
    Campaign.Field.objective: Campaign.Objective.outcome_traffic,
    Campaign.Field.status: Campaign.Status.paused,
    Campaign.Field.special_ad_categories: [],
    "is_adset_budget_sharing_enabled": False,
}


def adset_params(
    campaign_id: str,
    targeting: dict[str, Any] = US,
    goal: str = AdSet.OptimizationGoal.reach,
    **overrides: Any,
) -> dict[str, Any]:
    return {
        AdSet.Field.name: "Ad set",
        AdSet.Field.campaign_id: campaign_id,
        AdSet.Field.billing_event: AdSet.BillingEvent.impressions,
        AdSet.Field.optimization_goal: goal,
        AdSet.Field.daily_budget: 2000,
        AdSet.Field.targeting: targeting,
        AdSet.Field.status: AdSet.Status.paused,
        **overrides,
    }


def stored_targeting(account: AdAccount, adset_id: str) -> dict[str, Any]:
    """The ad set's targeting as Meta stored it (the SDK's Targeting object as plain data)."""
    read = AdSet(adset_id, api=account.get_api()).api_get(fields=["targeting"])
    return read["targeting"].export_all_data()


@pytest.fixture
def campaign_id(account: AdAccount) -> str:
    return account.create_campaign(params=CAMPAIGN)["id"]
