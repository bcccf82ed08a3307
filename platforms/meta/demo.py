"""The README's example job: one campaign, one ad set, one ad with an image, as `bin/run`
writes it to var/example-job.json for the demo account on the sandbox."""

from __future__ import annotations

from typing import Any


def example_job(*, ad_account_id: str, page_id: str, image_url: str) -> dict[str, Any]:
    """A body for `POST /api/v1/ads/meta` that Meta (and the sandbox) accepts as it is."""
    return {
        "ad_account_id": ad_account_id,
        "campaign": {
            "name": "Spring sale",
            "objective": "OUTCOME_TRAFFIC",
            "special_ad_categories": [],
        },
        "ad_sets": [
            {
                "name": "US 18-35",
                "daily_budget": 2000,
                "billing_event": "IMPRESSIONS",
                "optimization_goal": "LINK_CLICKS",
                "start_time": "2030-01-01T00:00:00Z",
                # Ages narrow the audience: mojito sends Advantage+ audience off (0) for it.
                "targeting": {"geo_locations": {"countries": ["US"]}, "age_min": 18, "age_max": 35},
                "ads": [
                    {
                        "name": "Ad 1",
                        "creative": {
                            "name": "Creative 1",
                            "page_id": page_id,
                            "link": "https://example.com/sale",
                            "message": "Primary text",
                            "headline": "Headline",
                            "call_to_action": {"type": "SHOP_NOW"},
                            "image_url": image_url,
                        },
                    }
                ],
            }
        ],
    }
