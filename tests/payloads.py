"""Valid bodies for `POST /api/v1/ads/meta`: the example of API.md, and trees of any size.

Every builder returns a fresh dict, so a test may change what it gets. Start times are far in
the future, so the bodies stay valid whatever day the suite runs.
"""

from __future__ import annotations

import copy
from typing import Any

META_SUBMIT_URL = "/api/v1/ads/meta"
START_TIME = "2030-01-01T00:00:00Z"
IMAGE_URL = "https://cdn.example.com/a.jpg"
CAMPAIGN_NAME = "Spring sale"

_EXAMPLE: dict[str, Any] = {
    "ad_account_id": "act_123",
    "campaign": {
        "name": CAMPAIGN_NAME,
        "objective": "OUTCOME_TRAFFIC",
        "status": "PAUSED",
        "special_ad_categories": [],
        "buying_type": "AUCTION",
        "bid_strategy": None,
        "daily_budget": None,
        "lifetime_budget": None,
        "spend_cap": None,
        "is_adset_budget_sharing_enabled": False,
        "extra_params": {},
    },
    "ad_sets": [
        {
            "name": "US 18-35",
            "status": "PAUSED",
            "daily_budget": 2000,
            "lifetime_budget": None,
            "bid_amount": None,
            "bid_strategy": None,
            "billing_event": "IMPRESSIONS",
            "optimization_goal": "LINK_CLICKS",
            "start_time": START_TIME,
            "end_time": None,
            "targeting": {"geo_locations": {"countries": ["US"]}, "age_min": 18, "age_max": 35},
            "promoted_object": None,
            "destination_type": "WEBSITE",
            "dsa_beneficiary": None,
            "dsa_payor": None,
            "extra_params": {},
            "ads": [
                {
                    "name": "Ad 1",
                    "status": "PAUSED",
                    "creative": {
                        "name": "Creative 1",
                        "page_id": "1234567890",
                        "instagram_user_id": None,
                        "link": "https://example.com/sale",
                        "message": "Primary text",
                        "headline": "Headline",
                        "description": "Description",
                        "call_to_action": {"type": "SHOP_NOW", "link": None},
                        "image_url": IMAGE_URL,
                        "extra_params": {},
                    },
                }
            ],
        }
    ],
}


def api_example(ad_account_id: str = "act_123") -> dict[str, Any]:
    """The request body of API.md, for `ad_account_id`, starting in the future."""
    body = copy.deepcopy(_EXAMPLE)
    body["ad_account_id"] = str(ad_account_id)
    return body


def creative(name: str, *, image_url: str = IMAGE_URL, **overrides: Any) -> dict[str, Any]:
    """A new creative like API.md's, with its own name and image."""
    spec = copy.deepcopy(_EXAMPLE["ad_sets"][0]["ads"][0]["creative"])
    spec.update(name=name, image_url=image_url, **overrides)
    return spec


def ad(name: str, *, image_url: str = IMAGE_URL, **overrides: Any) -> dict[str, Any]:
    """An ad with a new creative named after it."""
    spec: dict[str, Any] = {
        "name": name,
        "status": "PAUSED",
        "creative": creative(f"{name} creative", image_url=image_url),
    }
    spec.update(overrides)
    return spec


def ad_with_existing_creative(name: str, creative_id: str) -> dict[str, Any]:
    """An ad that uses a creative which already exists on Meta."""
    return {"name": name, "status": "PAUSED", "creative_id": creative_id}


def ad_set(name: str, ads: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """An ad set like API.md's (daily budget, US, link clicks) holding `ads`."""
    spec = copy.deepcopy(_EXAMPLE["ad_sets"][0])
    spec.update(name=name, ads=ads, **overrides)
    return spec


def tree(
    ad_account_id: str,
    *,
    ad_sets: int = 1,
    ads: int = 1,
    image_url: str | None = IMAGE_URL,
    campaign_name: str = CAMPAIGN_NAME,
) -> dict[str, Any]:
    """A body with `ad_sets` ad sets of `ads` ads each, named "Ad set i" and "Ad i.j".

    With `image_url=None` each creative gets an image of its own; otherwise all share it.
    """
    body = api_example(ad_account_id)
    body["campaign"]["name"] = campaign_name
    body["ad_sets"] = [
        ad_set(
            f"Ad set {i}",
            [
                ad(
                    f"Ad {i}.{j}",
                    image_url=image_url or f"https://cdn.example.com/{i}-{j}.jpg",
                )
                for j in range(ads)
            ],
        )
        for i in range(ad_sets)
    ]
    return body
