"""Hypothesis strategies for `POST /api/v1/ads/meta` bodies (tests/test_payload_properties.py).

- `submissions`: bodies the validator must accept and Meta too, built around API.md's example:
  objectives and the goals that fit them, campaign or ad set budgets, bids, schedules, ages,
  genders, places, the Advantage+ audience flag, every creative format but video, up to three
  ad sets of up to two ads. What only the sandbox can make (an uploaded image, a Page post, an
  Instagram post) is drawn as a placeholder, which the test replaces with the real id.
- `mutated_submissions`: the example with one mutation that Meta refuses, and the path the 400
  must name: a required field left out, a wrong JSON type, a value out of range, an unknown
  enum value, a bad or inverted date, a daily budget over 24 hours or less, too many ad sets,
  ads or cards.

Budgets start above Meta's minimums, which depend on the account's currency and are Meta's to
enforce at run time (`MoneyField`).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from platforms.meta import rules
from tests.payloads import api_example

PAGE = "300000000000002"  # the Page every drawn creative runs as
START = datetime(2030, 1, 1, tzinfo=UTC)

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


def iso(moment: datetime) -> str:
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
    ad_set["start_time"] = iso(start)
    hours = draw(st.sampled_from([None, 12, 24, 25, 48, 24 * 7, 24 * 30]))
    ad_set["end_time"] = iso(start + timedelta(hours=hours)) if hours else None
    ad_set["daily_budget"] = ad_set["lifetime_budget"] = None
    if campaign_budget == "lifetime" and hours is None:
        ad_set["end_time"] = iso(start + timedelta(days=7))
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


# --- Submissions with one mutation Meta refuses ---------------------------------------------------

DELETE = object()
Mutation = tuple[str, Any]  # (dotted path, new value or DELETE)


def node_and_key(body: Any, path: str) -> tuple[Any, str | int]:
    *parents, last = path.split(".")
    node = body
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node, int(last) if isinstance(node, list) else last


def mutate(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node, key = node_and_key(body, path)
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
        end = iso(START + timedelta(hours=hours))
        return mutate(body, "ad_sets.0.end_time", end), "ad_sets.0.daily_budget"
    if kind == "missing":
        path = draw(st.sampled_from(REQUIRED))
        return mutate(body, path, DELETE), path
    if kind == "too many":
        return _too_many(body, draw)
    table = {"type": TYPED, "range": OUT_OF_RANGE, "enum": BAD_ENUMS, "date": BAD_DATES}[kind]
    path = draw(st.sampled_from(sorted(table)))
    if path == "ad_sets.0.bid_amount":
        body["ad_sets"][0]["bid_strategy"] = "LOWEST_COST_WITH_BID_CAP"
    return mutate(body, path, draw(st.sampled_from(table[path]))), path
