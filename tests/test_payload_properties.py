"""The validator of `POST /api/v1/ads/meta`, as properties (hypothesis) rather than examples:

- what it accepts, Meta accepts: a submission built around API.md's example (objectives and the
  goals that fit them, campaign or ad set budgets, bids, schedules, ages, genders, places, the
  Advantage+ audience flag, every creative format but video, up to three ad sets of up to two
  ads) answers 202, and its job, run by the engine through the real SDK over HTTP to the Meta
  sandbox, ends SUCCESS with every object on the sandbox;
- what it refuses is a 400 naming the field: one mutation of a valid submission (a required
  field left out, a wrong JSON type, a budget out of range, an unknown enum value, a bad or
  inverted date, too many ad sets, ads or cards) answers 400, every error under the mutated
  path, and nothing is stored.

The sandbox stands in for Meta (its rules cite Meta's pages, platforms/meta/sandbox/README.md);
where the two disagreed, Meta's documentation decided (docs/RELIABILITY.md). Examples are
derandomized, so CI runs the same cases every time; budgets start above Meta's minimums, which
depend on the account's currency and are Meta's to enforce at run time (`MoneyField`).
"""

from __future__ import annotations

import base64
import copy
import http.server
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import pytest
import requests
from hypothesis import strategies as st

from campaigns.engine.claims import job_claim
from campaigns.engine.runner import execute_job
from campaigns.models import CampaignJob, JobStatus
from platforms.meta import rules
from platforms.meta.adapter import MetaAdapter
from platforms.meta.sandbox.server import SandboxServer
from tests.factories import AdAccountFactory
from tests.images import LoopbackServer, make_png
from tests.payloads import META_SUBMIT_URL, api_example

pytestmark = pytest.mark.django_db

TOKEN = "properties-token"
ACCOUNT = "act_300000000000001"
PAGE = "300000000000002"
START = datetime(2030, 1, 1, tzinfo=UTC)

# A longer look, at random (CI's runs are derandomized): PAYLOAD_PROPERTY_EXAMPLES=300 pytest ...
EXPLORE = int(os.environ.get("PAYLOAD_PROPERTY_EXAMPLES") or 0)
SETTINGS = hypothesis.settings(
    deadline=None,
    derandomize=True,  # the same cases on every run: CI does not flake
    database=None,
    # The database, the sandbox and the caller are the test's; each example resets the sandbox.
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.data_too_large,
    ],
)


# --- The far end: the sandbox and an image host ---------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    images = {f"/img{i}.png": make_png(2 + i, 2) for i in range(4)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = images.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = LoopbackServer(Handler)
    yield server.url()
    server.close()


def _reset(sandbox: SandboxServer) -> None:
    """A fresh sandbox holding only the account, its Page and an uploaded image."""
    base = sandbox.base_url
    requests.post(f"{base}/__sandbox__/reset", timeout=5).raise_for_status()
    requests.post(
        f"{base}/__sandbox__/accounts",
        json={"token": TOKEN, "account_id": ACCOUNT, "page_ids": [PAGE]},
        timeout=5,
    ).raise_for_status()


def _upload_image(sandbox: SandboxServer) -> str:
    response = requests.post(
        f"{sandbox.base_url}/v26.0/{ACCOUNT}/adimages",
        data={"access_token": TOKEN, "bytes": base64.b64encode(make_png(9, 9))},
        timeout=5,
    )
    response.raise_for_status()
    return next(iter(response.json()["images"].values()))["hash"]


def _objects(sandbox: SandboxServer, kind: str) -> list[dict[str, Any]]:
    response = requests.get(f"{sandbox.base_url}/__sandbox__/objects?type={kind}", timeout=5)
    response.raise_for_status()
    return [o for o in response.json()["data"] if not o.get("deleted")]


@pytest.fixture
def graph(sandbox: SandboxServer, settings) -> SandboxServer:
    settings.META_GRAPH_URL = sandbox.base_url
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    settings.META_EXECUTION_MODE = "batch"
    return sandbox


@pytest.fixture
def account(caller):
    return AdAccountFactory(
        team=caller.team, platform_account_id=ACCOUNT, credentials={"access_token": TOKEN}
    )


# --- Valid submissions ----------------------------------------------------------------------------

# What the sandbox makes for each example (an uploaded image, a Page post, an Instagram post):
# a strategy draws the placeholder, and the test puts the real id in.
IMAGE_HASH = "<uploaded image>"
PAGE_POST = "<page post>"
INSTAGRAM_POST = "<instagram post>"
INSTAGRAM_USER = "600000000000001"
SHAPES = ["single"] * 4 + ["carousel"] * 2 + ["page post", "instagram post"]
NON_EU = ["US", "CA", "JP", "BR", "AU", "MX"]
EU = ["DE", "FR", "IT", "ES", "NL"]
OBJECTIVES = sorted(rules.CURRENT_OBJECTIVES)
# What a promoted object's keys hold: a pixel and its event, the Page the ads run as, an app.
PROMOTED_VALUES: dict[str, Any] = {
    "pixel_id": "400000000000001",
    "custom_event_type": "PURCHASE",
    "page_id": PAGE,
    "application_id": "500000000000001",
    "object_store_url": "https://play.google.com/store/apps/details?id=com.example.app",
}
BUTTONS = sorted({"SHOP_NOW", "LEARN_MORE", "SIGN_UP", "BOOK_TRAVEL", "CONTACT_US"})


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def targetings(draw: st.DrawFn) -> dict[str, Any]:
    countries = draw(st.lists(st.sampled_from(NON_EU + EU), min_size=1, max_size=3, unique=True))
    targeting: dict[str, Any] = {"geo_locations": {"countries": countries}}
    flag = draw(st.sampled_from([None, 0, 1]))
    if draw(st.booleans()):
        cap = rules.ADVANTAGE_AUDIENCE_MAX_AGE_MIN if flag == 1 else rules.AGE_MAX
        targeting["age_min"] = draw(st.integers(rules.DEFAULT_AGE_MIN, cap))
    if draw(st.booleans()):
        if flag == 1:
            targeting["age_max"] = rules.AGE_MAX  # Advantage+ audience: ages are a suggestion
        else:
            targeting["age_max"] = draw(st.integers(targeting.get("age_min", 18), rules.AGE_MAX))
    if draw(st.booleans()):
        targeting["genders"] = draw(st.sampled_from([[1], [2], [1, 2]]))
    if flag is not None:
        targeting["targeting_automation"] = {"advantage_audience": flag}
    return targeting


@st.composite
def media(draw: st.DrawFn, image_server: str) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"image_url": f"{image_server}/img{draw(st.integers(0, 3))}.png"}
    return {"image_hash": IMAGE_HASH}


@st.composite
def creatives(draw: st.DrawFn, image_server: str, name: str, objective: str) -> dict[str, Any]:
    creative = copy.deepcopy(api_example()["ad_sets"][0]["ads"][0]["creative"])
    del creative["image_url"]
    creative.update(name=f"{name} creative", page_id=PAGE)
    creative["call_to_action"] = draw(
        st.sampled_from([None, {"type": draw(st.sampled_from(BUTTONS))}])
    )
    for key in ("headline", "description", "message"):
        if draw(st.booleans()):
            del creative[key]
    if draw(st.booleans()):
        creative["creative_features"] = {
            feature: draw(st.sampled_from(sorted(rules.CREATIVE_FEATURE_STATUSES)))
            for feature in draw(
                st.lists(st.sampled_from(sorted(rules.CREATIVE_FEATURES)), max_size=2, unique=True)
            )
        }
    shape = draw(st.sampled_from(SHAPES))
    if shape == "page post":
        # An existing post runs with its own copy and media: only its id (and the Page).
        return {
            "name": creative["name"],
            "object_story_id": PAGE_POST,
            **({"page_id": PAGE} if draw(st.booleans()) else {}),
        }
    if shape == "instagram post":
        post: dict[str, Any] = {
            "name": creative["name"],
            "page_id": PAGE,
            "instagram_user_id": INSTAGRAM_USER,
            "source_instagram_media_id": INSTAGRAM_POST,
        }
        if draw(st.booleans()):
            post["call_to_action"] = {"type": draw(st.sampled_from(BUTTONS))}
            post["link"] = "https://example.com/ig"
        return post
    if shape == "carousel":
        fewest = (
            rules.CAROUSEL_MIN_CARDS_APP
            if objective == rules.APP_PROMOTION_OBJECTIVE
            else rules.CAROUSEL_MIN_CARDS
        )
        count = draw(st.integers(fewest, 4))
        creative["cards"] = [
            {
                "link": f"https://example.com/p/{index}",
                "headline": f"Card {index}",
                **draw(media(image_server)),
            }
            for index in range(count)
        ]
    else:
        creative.update(draw(media(image_server)))
    return creative


@st.composite
def ad_sets(
    draw: st.DrawFn, image_server: str, index: int, objective: str, campaign_budget: str | None
) -> dict[str, Any]:
    ad_set = copy.deepcopy(api_example()["ad_sets"][0])
    ad_set["name"] = f"Set {index}"
    goal = draw(st.sampled_from(sorted(rules.OPTIMIZATION_GOALS_BY_OBJECTIVE[objective])))
    ad_set["optimization_goal"] = goal
    ad_set["destination_type"] = None
    # What the validator says this objective and goal need, and nothing more.
    required = rules.required_promoted_object_keys(objective, goal, None)
    ad_set["promoted_object"] = {key: PROMOTED_VALUES[key] for key in required} or None
    ad_set["status"] = draw(st.sampled_from(sorted(rules.CREATE_STATUSES)))
    start = START + timedelta(hours=draw(st.integers(0, 24 * 30)))
    ad_set["start_time"] = _iso(start)
    hours = draw(st.sampled_from([None, 12, 24, 25, 48, 24 * 7, 24 * 30]))
    ad_set["end_time"] = _iso(start + timedelta(hours=hours)) if hours else None
    ad_set["daily_budget"] = ad_set["lifetime_budget"] = None
    if campaign_budget == "lifetime" and hours is None:
        ad_set["end_time"] = _iso(start + timedelta(days=7))
    if campaign_budget is None:
        # A daily budget needs more than 24 hours (the Ad Set reference, daily_budget).
        if hours is not None and (hours <= 24 or draw(st.booleans())):
            ad_set["lifetime_budget"] = draw(st.integers(100_000, 10**9))
        else:
            ad_set["daily_budget"] = draw(st.integers(10_000, 10**8))
        strategy = draw(st.sampled_from([None, *sorted(rules.BID_AMOUNT_STRATEGIES)]))
        ad_set["bid_strategy"] = strategy
        if strategy is not None:
            ad_set["bid_amount"] = draw(st.integers(1, 1_000))
    targeting = draw(targetings())
    ad_set["targeting"] = targeting
    if set(targeting["geo_locations"]["countries"]) & set(EU):
        ad_set["dsa_beneficiary"] = ad_set["dsa_payor"] = "Spring Sale GmbH"
    ad_set["ads"] = [
        {
            "name": f"Ad {index}.{number}",
            "status": draw(st.sampled_from(sorted(rules.CREATE_STATUSES))),
            "creative": draw(creatives(image_server, f"Ad {index}.{number}", objective)),
        }
        for number in range(draw(st.integers(1, 2)))
    ]
    return ad_set


@st.composite
def submissions(draw: st.DrawFn, image_server: str) -> dict[str, Any]:
    body = api_example()
    campaign = body["campaign"]
    campaign["objective"] = objective = draw(st.sampled_from(OBJECTIVES))
    campaign["status"] = draw(st.sampled_from(sorted(rules.CREATE_STATUSES)))
    if draw(st.integers(0, 4)) == 0:
        campaign["special_ad_categories"] = [
            draw(st.sampled_from(sorted(rules.SPECIAL_AD_CATEGORIES - {"NONE"})))
        ]
        campaign["special_ad_category_country"] = ["US"]
    budget = draw(st.sampled_from([None, None, "daily", "lifetime"]))
    if budget is not None:
        campaign[f"{budget}_budget"] = draw(st.integers(100_000, 10**9))
        campaign["is_adset_budget_sharing_enabled"] = None
        campaign["bid_strategy"] = "LOWEST_COST_WITHOUT_CAP"
    if draw(st.booleans()):
        campaign["spend_cap"] = draw(st.integers(10**6, 10**10))
    body["ad_sets"] = [
        draw(ad_sets(image_server, index, objective, budget))
        for index in range(draw(st.integers(1, 3)))
    ]
    if set(campaign["special_ad_categories"]) & rules.TARGETING_RESTRICTED_CATEGORIES:
        # Housing, employment and financial ads reach every age and gender.
        for ad_set in body["ad_sets"]:
            for key in ("age_min", "age_max", "genders"):
                ad_set["targeting"].pop(key, None)
    return body


def _with_ids(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """`body` with the sandbox's ids where a strategy drew a placeholder."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return ids.get(node, node) if isinstance(node, str) else node

    return walk(body)


def _made_on_the_sandbox(sandbox: SandboxServer) -> dict[str, str]:
    """An uploaded image, a Page post and an Instagram post of the account's, by placeholder."""
    base = sandbox.base_url
    post = requests.post(
        f"{base}/__sandbox__/posts", json={"page_id": PAGE, "message": "Our post"}, timeout=5
    )
    media = requests.post(
        f"{base}/__sandbox__/instagram_media",
        json={"instagram_user_id": INSTAGRAM_USER, "caption": "Our reel"},
        timeout=5,
    )
    post.raise_for_status()
    media.raise_for_status()
    return {
        IMAGE_HASH: _upload_image(sandbox),
        PAGE_POST: post.json()["id"],
        INSTAGRAM_POST: media.json()["id"],
    }


# --- What it accepts, Meta accepts ----------------------------------------------------------------


def _run(job_id: str) -> CampaignJob:
    """Claim the job and run it as a worker would: the engine, the Meta adapter, the SDK."""
    job = job_claim(job_id=job_id)
    assert job is not None
    execute_job(job, MetaAdapter())
    job.refresh_from_db()
    return job


def test_what_the_validator_accepts_meta_accepts(caller, account, graph, image_server):
    @hypothesis.given(body=submissions(image_server))
    @hypothesis.settings(SETTINGS, max_examples=EXPLORE or 60, derandomize=not EXPLORE)
    def accepted_everywhere(body: dict[str, Any]) -> None:
        _reset(graph)
        body = _with_ids(body, _made_on_the_sandbox(graph))
        body["ad_account_id"] = str(account.pk)

        response = caller.client.post(META_SUBMIT_URL, body, format="json")

        assert response.status_code == 202, response.content
        job = _run(response.json()["id"])
        assert job.status == JobStatus.SUCCESS, (json.dumps(job.error), json.dumps(body))
        ad_sets, ads = body["ad_sets"], [ad for s in body["ad_sets"] for ad in s["ads"]]
        assert len(_objects(graph, "campaign")) == 1
        assert len(_objects(graph, "adset")) == len(ad_sets)
        assert len(_objects(graph, "ad")) == len(ads)

    accepted_everywhere()


# --- What it refuses is a 400 naming the field ----------------------------------------------------

DELETE = object()
Mutation = tuple[str, Any]  # (dotted path, new value or DELETE)


def _node_and_key(body: Any, path: str) -> tuple[Any, str | int]:
    *parents, last = path.split(".")
    node = body
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node, int(last) if isinstance(node, list) else last


def _mutate(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node, key = _node_and_key(body, path)
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return body


# Required fields: left out, the 400 names them.
REQUIRED = [
    "ad_account_id",
    "campaign",
    "campaign.name",
    "campaign.objective",
    "ad_sets",
    "ad_sets.0.name",
    "ad_sets.0.billing_event",
    "ad_sets.0.optimization_goal",
    "ad_sets.0.targeting",
    "ad_sets.0.targeting.geo_locations",
    "ad_sets.0.ads",
    "ad_sets.0.ads.0.name",
    "ad_sets.0.ads.0.creative.page_id",
    "ad_sets.0.ads.0.creative.link",
    "ad_sets.0.ads.0.creative.image_url",
]
# A value of the wrong JSON type for each field.
TYPED: dict[str, list[Any]] = {
    "ad_account_id": [5, [], {}],
    "campaign": ["x", [], 1],
    "campaign.name": [1, [], {}, True],
    "campaign.objective": [1, ["OUTCOME_TRAFFIC"]],
    "campaign.special_ad_categories": ["NONE", {}, 1],
    "campaign.is_adset_budget_sharing_enabled": ["false", 0],
    "campaign.extra_params": [[], "x"],
    "ad_sets": [{}, "x", 1],
    "ad_sets.0": ["x", [], 1],
    "ad_sets.0.daily_budget": ["2000", 20.5, True, [2000]],
    "ad_sets.0.start_time": [1767225600, [], {}],
    "ad_sets.0.targeting": [[], "US", 1],
    "ad_sets.0.targeting.geo_locations": [[], "US"],
    "ad_sets.0.targeting.geo_locations.countries": ["US", {"US": 1}],
    "ad_sets.0.targeting.age_min": ["18", 18.5, True],
    "ad_sets.0.targeting.genders": [1, "1", ["1"]],
    "ad_sets.0.ads": [{}, "x"],
    "ad_sets.0.ads.0": ["x", 1],
    "ad_sets.0.ads.0.creative": ["x", 1, []],
    "ad_sets.0.ads.0.creative.page_id": [1234567890, ["1"]],
    "ad_sets.0.ads.0.creative.call_to_action": ["SHOP_NOW", []],
    "ad_sets.0.ads.0.creative.image_url": [1, {}],
}
# Values of the right type that Meta refuses.
OUT_OF_RANGE: dict[str, list[Any]] = {
    "ad_sets.0.daily_budget": [0, -1, 2**63],
    "ad_sets.0.bid_amount": [0, -5],
    "campaign.spend_cap": [0, -100],
    "ad_sets.0.targeting.age_min": [12, 66, -1],
    "ad_sets.0.targeting.age_max": [12, 70],
    "ad_sets.0.targeting.genders": [[0], [3]],
    "ad_sets.0.targeting.targeting_automation": [{"advantage_audience": 2}],
    "ad_sets.0.targeting.geo_locations.countries": [["XX"], ["us"], [1]],
    "campaign.name": ["", "x" * 401],
    "ad_sets.0.ads.0.creative.link": ["example.com", "ftp://example.com/x", "https://"],
    "ad_sets.0.ads.0.creative.page_id": ["12a", ""],
}
BAD_ENUMS = {
    "campaign.objective": ["REACH", "LINK_CLICKS", "outcome_traffic"],
    "campaign.status": ["DELETED", "paused"],
    "campaign.buying_type": ["AUCTIONS"],
    "campaign.special_ad_categories": [["HOUSES"], ["CREDIT"]],
    "ad_sets.0.billing_event": ["CLICK", ""],
    "ad_sets.0.optimization_goal": ["MORE_SALES"],
    "ad_sets.0.status": ["ARCHIVED"],
    "ad_sets.0.bid_strategy": ["HIGHEST_VALUE"],
    "ad_sets.0.destination_type": ["NOWHERE"],
    "ad_sets.0.ads.0.creative.call_to_action.type": ["BUY_IT"],
    "ad_sets.0.ads.0.creative.creative_features": [
        {"music_magic": "OPT_IN"},
        {"image_touchups": "YES"},
    ],
}
BAD_DATES = {
    "ad_sets.0.start_time": ["next monday", "2030-13-01T00:00:00Z", "2030-01-01T00:00:00"],
    "ad_sets.0.end_time": [
        "2029-12-31T00:00:00Z",  # before start_time
        "2030-01-01T00:00:00Z",  # at start_time
        "2020-01-01T00:00:00Z",  # in the past
        "tomorrow",
    ],
}


def _too_many(body: dict[str, Any], draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kind = draw(st.sampled_from(["ad_sets", "ads", "cards"]))
    body = copy.deepcopy(body)
    if kind == "ad_sets":
        body["ad_sets"] = body["ad_sets"] * (rules.MAX_AD_SETS + 1)
        return body, "ad_sets"
    ad_set = body["ad_sets"][0]
    if kind == "ads":
        ad_set["ads"] = ad_set["ads"] * (rules.MAX_ADS_PER_AD_SET + 1)
        return body, "ad_sets.0.ads"
    creative = ad_set["ads"][0]["creative"]
    del creative["image_url"]
    count = draw(st.sampled_from([1, rules.CAROUSEL_MAX_CARDS + 1]))
    card = {"link": "https://example.com/c", "image_url": "https://cdn.example.com/c.jpg"}
    creative["cards"] = [dict(card) for _ in range(count)]
    return body, "ad_sets.0.ads.0.creative.cards"


@st.composite
def mutated_submissions(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    body = api_example()
    kinds = ["missing", "type", "range", "enum", "date", "short schedule", "too many"]
    kind = draw(st.sampled_from(kinds))
    table: dict[str, list[Any]]
    if kind == "short schedule":
        # The example's daily budget over 24 hours or less: Meta names the budget.
        hours = draw(st.sampled_from([1, 12, 24]))
        end = _iso(START + timedelta(hours=hours))
        return _mutate(body, "ad_sets.0.end_time", end), "ad_sets.0.daily_budget"
    if kind == "missing":
        path = draw(st.sampled_from(REQUIRED))
        return _mutate(body, path, DELETE), path
    if kind == "too many":
        return _too_many(body, draw)
    table = {"type": TYPED, "range": OUT_OF_RANGE, "enum": BAD_ENUMS, "date": BAD_DATES}[kind]
    path = draw(st.sampled_from(sorted(table)))
    if path == "ad_sets.0.bid_amount":
        body["ad_sets"][0]["bid_strategy"] = "LOWEST_COST_WITH_BID_CAP"
    return _mutate(body, path, draw(st.sampled_from(table[path]))), path


def _under(attr: str, path: str) -> bool:
    return attr == path or attr.startswith(f"{path}.")


def test_what_the_validator_refuses_is_a_400_naming_the_field(caller, account):
    @hypothesis.given(case=mutated_submissions())
    @hypothesis.settings(SETTINGS, max_examples=100)
    def named(case: tuple[dict[str, Any], str]) -> None:
        body, path = case
        if isinstance(body.get("ad_account_id"), str):
            body["ad_account_id"] = str(account.pk)
        jobs = CampaignJob.objects.count()

        response = caller.client.post(META_SUBMIT_URL, body, format="json")

        assert response.status_code == 400, (path, response.content)
        errors = response.json()["errors"]
        assert errors, path
        assert all(_under(error["attr"], path) for error in errors), (path, errors)
        assert CampaignJob.objects.count() == jobs

    named()


def test_the_mutations_name_fields_the_validator_knows() -> None:
    # A mutation of a field the example does not have would test nothing: every path exists.
    body = api_example()
    body["ad_sets"][0]["ads"][0]["creative"]["creative_features"] = {}
    for path in [*REQUIRED, *TYPED, *OUT_OF_RANGE, *BAD_ENUMS, *BAD_DATES]:
        node, key = _node_and_key(body, path)
        present = key < len(node) if isinstance(node, list) else key in node
        assert present or path.endswith(("targeting_automation", "genders")), path


# --- What the property found ----------------------------------------------------------------------


def _found(objective: str, **ad_set: Any) -> dict[str, Any]:
    body = api_example()
    body["campaign"]["objective"] = objective
    body["ad_sets"][0].update(ad_set)
    return body


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        # Meta's ODAX table: a traffic campaign's Messenger and WhatsApp ad sets optimize for
        # link clicks, impressions or reach; conversations are engagement's, leads' or sales'.
        pytest.param(
            _found("OUTCOME_TRAFFIC", optimization_goal="CONVERSATIONS"),
            "ad_sets.0.optimization_goal",
            id="conversations under traffic",
        ),
        pytest.param(
            _found("OUTCOME_LEADS", optimization_goal="VALUE"),
            "ad_sets.0.optimization_goal",
            id="value under leads",
        ),
        # An engagement ad set optimizing for website conversions counts a pixel's events.
        pytest.param(
            _found("OUTCOME_ENGAGEMENT", optimization_goal="OFFSITE_CONVERSIONS"),
            "ad_sets.0.promoted_object",
            id="conversions under engagement without a pixel",
        ),
        # "daily_budget ... allowed only for ad sets with a duration (difference between
        # end_time and start_time) longer than 24 hours" (Ad Set reference).
        pytest.param(
            _found("OUTCOME_TRAFFIC", end_time="2030-01-02T00:00:00Z"),
            "ad_sets.0.daily_budget",
            id="daily budget over 24 hours",
        ),
    ],
)
def test_what_meta_refuses_and_the_validator_took_is_refused_naming_it(
    caller, account, body: dict[str, Any], attr: str
):
    body["ad_account_id"] = str(account.pk)

    response = caller.client.post(META_SUBMIT_URL, body, format="json")

    assert response.status_code == 400, response.content
    assert [error["attr"] for error in response.json()["errors"]] == [attr]
    assert not CampaignJob.objects.exists()


def test_a_daily_budget_over_more_than_24_hours_is_taken(caller, account):
    body = _found("OUTCOME_TRAFFIC", end_time="2030-01-02T00:00:01Z")
    body["ad_account_id"] = str(account.pk)

    response = caller.client.post(f"{META_SUBMIT_URL}?validate_only=true", body, format="json")

    assert response.status_code == 200, response.content
