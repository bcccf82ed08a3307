"""Each documented Meta rule the sandbox checks: one rejection each, with Meta's code/subcode."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from platforms.meta.sandbox import DEMO_ACCOUNT_ID, DEMO_PAGE_ID
from platforms.meta.sandbox.state import GraphObject

from .conftest import ACT, OTHER_ACCOUNT_ID, OTHER_TOKEN, Sandbox, mp4_bytes

CAMPAIGN: dict[str, Any] = {
    "name": "Campaign",
    "objective": "OUTCOME_TRAFFIC",
    "status": "PAUSED",
    "special_ad_categories": [],
    "is_adset_budget_sharing_enabled": False,
}


def error_of(response: requests.Response) -> dict[str, Any]:
    assert response.status_code >= 400, response.text
    return response.json()["error"]


def without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


# --- campaigns ----------------------------------------------------------------------------------


def test_campaign_requires_special_ad_categories(sandbox: Sandbox) -> None:
    error = error_of(sandbox.post(f"{ACT}/campaigns", **without(CAMPAIGN, "special_ad_categories")))
    assert error["code"] == 100
    assert error["message"] == "(#100) The parameter special_ad_categories is required"


def test_campaign_special_ad_categories_enum(sandbox: Sandbox) -> None:
    error = error_of(
        sandbox.post(f"{ACT}/campaigns", **{**CAMPAIGN, "special_ad_categories": ["SHOES"]})
    )
    assert error["message"].startswith("(#100) Param special_ad_categories[0] must be one of {")


def test_campaign_rejects_legacy_objectives_on_current_versions(sandbox: Sandbox) -> None:
    error = error_of(sandbox.post(f"{ACT}/campaigns", **{**CAMPAIGN, "objective": "LINK_CLICKS"}))
    assert error["code"] == 100
    assert error["message"] == (
        "(#100) Objective LINK_CLICKS is invalid. Use one of: OUTCOME_LEADS, OUTCOME_SALES, "
        "OUTCOME_ENGAGEMENT, OUTCOME_AWARENESS, OUTCOME_TRAFFIC, OUTCOME_APP_PROMOTION."
    )
    # Before v17.0 the legacy objectives were still accepted.
    sandbox.configure(min_api_version="v10.0")
    old = requests.post(
        sandbox.url(f"{ACT}/campaigns", version="v16.0"),
        params={"access_token": "sandbox-demo-token"},
        data={**CAMPAIGN, "objective": "LINK_CLICKS", "special_ad_categories": "[]"},
        timeout=5,
    )
    assert old.status_code == 200, old.text


def test_campaign_requires_an_objective(sandbox: Sandbox) -> None:
    error = error_of(sandbox.post(f"{ACT}/campaigns", **without(CAMPAIGN, "objective")))
    assert error["message"] == "(#100) The parameter objective is required"


def test_campaign_without_budget_needs_budget_sharing_flag_from_v24(sandbox: Sandbox) -> None:
    params = without(CAMPAIGN, "is_adset_budget_sharing_enabled")
    error = error_of(sandbox.post(f"{ACT}/campaigns", **params))
    assert (error["code"], error["error_subcode"]) == (100, 4834011)
    assert "is_adset_budget_sharing_enabled" in error["error_user_title"]
    sandbox.configure(min_api_version="v23.0")
    old = requests.post(
        sandbox.url(f"{ACT}/campaigns", version="v23.0"),
        params={"access_token": "sandbox-demo-token"},
        data={**params, "special_ad_categories": "[]"},
        timeout=5,
    )
    assert old.status_code == 200, old.text
    # With a campaign budget the flag is not needed.
    ok = sandbox.post(
        f"{ACT}/campaigns", **params, daily_budget=5000, bid_strategy="LOWEST_COST_WITHOUT_CAP"
    )
    assert ok.status_code == 200, ok.text


def test_campaign_budget_with_budget_sharing_is_4834002(sandbox: Sandbox) -> None:
    error = error_of(
        sandbox.post(
            f"{ACT}/campaigns",
            **{**CAMPAIGN, "is_adset_budget_sharing_enabled": True, "daily_budget": 5000},
        )
    )
    assert (error["code"], error["error_subcode"]) == (100, 4834002)


def test_campaign_budget_is_daily_or_lifetime(sandbox: Sandbox) -> None:
    error = error_of(
        sandbox.post(
            f"{ACT}/campaigns",
            **{
                **without(CAMPAIGN, "is_adset_budget_sharing_enabled"),
                "daily_budget": 5000,
                "lifetime_budget": 90000,
            },
        )
    )
    assert error["code"] == 100


def test_create_statuses_and_integers(sandbox: Sandbox) -> None:
    error = error_of(sandbox.post(f"{ACT}/campaigns", **{**CAMPAIGN, "status": "DELETED"}))
    assert error["message"] == "(#100) Param status must be one of {ACTIVE, PAUSED}"
    error = error_of(
        sandbox.post(
            f"{ACT}/campaigns",
            **{**without(CAMPAIGN, "is_adset_budget_sharing_enabled"), "daily_budget": "20.00"},
        )
    )
    assert error["message"] == "(#100) Param daily_budget must be an integer"


def test_validate_only_creates_nothing(sandbox: Sandbox) -> None:
    response = sandbox.post(f"{ACT}/campaigns", **CAMPAIGN, execution_options=["validate_only"])
    assert response.json() == {"success": True}
    assert sandbox.objects("campaign") == []


# --- ad sets ------------------------------------------------------------------------------------


def adset(campaign_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Ad set",
        "campaign_id": campaign_id,
        "billing_event": "IMPRESSIONS",
        "optimization_goal": "LINK_CLICKS",
        "daily_budget": 2000,
        "targeting": {"geo_locations": {"countries": ["US"]}},
        "status": "PAUSED",
        **overrides,
    }


@pytest.mark.parametrize(
    "missing", ["name", "campaign_id", "billing_event", "optimization_goal", "targeting"]
)
def test_adset_required_parameters(sandbox: Sandbox, missing: str) -> None:
    campaign_id = sandbox.campaign()
    error = error_of(sandbox.post(f"{ACT}/adsets", **without(adset(campaign_id), missing)))
    assert error["message"] == f"(#100) The parameter {missing} is required"


def test_adset_enums(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    error = error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id, billing_event="VIEWS")))
    assert error["message"].startswith("(#100) Param billing_event must be one of {")


def test_adset_campaign_must_exist_in_the_same_account(sandbox: Sandbox) -> None:
    other = sandbox.post(f"act_{OTHER_ACCOUNT_ID}/campaigns", token=OTHER_TOKEN, **CAMPAIGN)
    other_id = other.json()["id"]
    error = error_of(sandbox.post(f"{ACT}/adsets", **adset(other_id)))
    assert (error["code"], error["error_user_title"]) == (100, "Invalid campaign")


def test_adset_optimization_goal_must_fit_objective(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign(objective="OUTCOME_AWARENESS")
    error = error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id)))
    assert error["error_user_title"] == "Performance goal unavailable"
    assert sandbox.post(f"{ACT}/adsets", **adset(campaign_id, optimization_goal="REACH")).ok


def test_adset_targeting_needs_geo_locations(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    error = error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id, targeting={"age_min": 18})))
    assert error["error_user_title"] == "Location is required"


def test_adset_budget_forbidden_under_campaign_budget(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign(
        is_adset_budget_sharing_enabled=None,
        daily_budget=10000,
        bid_strategy="LOWEST_COST_WITHOUT_CAP",
    )
    error = error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id)))
    assert (error["code"], error["error_subcode"]) == (100, 1885621)
    assert sandbox.post(f"{ACT}/adsets", **without(adset(campaign_id), "daily_budget")).ok


def test_adset_needs_a_budget_without_campaign_budget(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    error = error_of(sandbox.post(f"{ACT}/adsets", **without(adset(campaign_id), "daily_budget")))
    assert error["error_user_msg"] == (
        "Either daily_budget or lifetime_budget must be greater than 0."
    )
    both = error_of(
        sandbox.post(
            f"{ACT}/adsets",
            **adset(campaign_id, lifetime_budget=50000, end_time="2027-01-30T00:00:00Z"),
        )
    )
    assert both["code"] == 100


def test_adset_lifetime_budget_needs_end_time(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    params = without(adset(campaign_id, lifetime_budget=50000), "daily_budget")
    assert error_of(sandbox.post(f"{ACT}/adsets", **params))["error_user_title"] == (
        "End time required"
    )
    ok = sandbox.post(
        f"{ACT}/adsets",
        **params,
        start_time="2026-12-01T00:00:00Z",
        end_time="2026-12-20T00:00:00-0800",
    )
    assert ok.status_code == 200, ok.text


def test_adset_schedule_consistency(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    error = error_of(
        sandbox.post(
            f"{ACT}/adsets",
            **adset(
                campaign_id, start_time="2026-12-10T00:00:00Z", end_time="2026-12-01T00:00:00Z"
            ),
        )
    )
    assert error["error_user_title"] == "Invalid schedule"
    short = error_of(
        sandbox.post(
            f"{ACT}/adsets",
            **adset(
                campaign_id, start_time="2026-12-10T00:00:00Z", end_time="2026-12-10T12:00:00Z"
            ),
        )
    )
    assert short["error_user_title"] == "Schedule too short for a daily budget"
    bad_time = error_of(
        sandbox.post(f"{ACT}/adsets", **adset(campaign_id, start_time="next tuesday"))
    )
    assert bad_time["code"] == 100


def test_an_update_keeps_a_daily_budget_ad_set_longer_than_24_hours(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    made = sandbox.post(f"{ACT}/adsets", **adset(campaign_id, start_time="2026-12-10T00:00:00Z"))
    assert made.ok, made.text
    adset_id = made.json()["id"]

    short = error_of(sandbox.post(adset_id, end_time="2026-12-10T12:00:00Z"))
    assert short["error_user_title"] == "Schedule too short for a daily budget"
    assert sandbox.post(adset_id, end_time="2026-12-11T00:00:01Z").ok
    assert sandbox.post(adset_id, daily_budget=6000).ok
    stored = sandbox.get(adset_id, fields="end_time,daily_budget").json()
    assert (stored["end_time"][:19], stored["daily_budget"]) == ("2026-12-11T00:00:01", "6000")


def test_adset_bid_amount_required_by_bid_strategy(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    error = error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id, bid_strategy="COST_CAP")))
    assert (error["code"], error["error_subcode"]) == (100, 1815857)
    assert sandbox.post(
        f"{ACT}/adsets", **adset(campaign_id, bid_strategy="COST_CAP", bid_amount=150)
    ).ok
    # A campaign budget without bid_strategy defaults to LOWEST_COST_WITH_BID_CAP.
    cbo = sandbox.campaign(is_adset_budget_sharing_enabled=None, daily_budget=10000)
    error = error_of(sandbox.post(f"{ACT}/adsets", **without(adset(cbo), "daily_budget")))
    assert error["error_subcode"] == 1815857


def test_adset_promoted_object_for_sales_conversions(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign(objective="OUTCOME_SALES")
    params = adset(campaign_id, optimization_goal="OFFSITE_CONVERSIONS")
    error = error_of(sandbox.post(f"{ACT}/adsets", **params))
    assert error["error_user_title"] == "Promoted object required"
    ok = sandbox.post(
        f"{ACT}/adsets",
        **params,
        promoted_object={"pixel_id": "1234567890", "custom_event_type": "PURCHASE"},
    )
    assert ok.status_code == 200, ok.text


def test_adset_eu_targeting_needs_dsa_payor_and_beneficiary(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    eu = {"geo_locations": {"countries": ["DE"]}}
    payor = error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id, targeting=eu)))
    assert (payor["code"], payor["error_subcode"]) == (100, 3858079)
    assert payor["error_user_title"] == "No payor provided in DSA regulated region"
    beneficiary = error_of(
        sandbox.post(f"{ACT}/adsets", **adset(campaign_id, targeting=eu, dsa_payor="Mojito Ltd"))
    )
    assert beneficiary["error_subcode"] == 3858081
    assert sandbox.post(
        f"{ACT}/adsets",
        **adset(campaign_id, targeting=eu, dsa_payor="Mojito", dsa_beneficiary="Mojito"),
    ).ok
    # The ad account's defaults count too.
    sandbox.control(
        "POST",
        "accounts",
        token="sandbox-demo-token",
        account_id=ACT,
        default_dsa_payor="Mojito",
        default_dsa_beneficiary="Mojito",
    )
    assert sandbox.post(f"{ACT}/adsets", **adset(campaign_id, targeting=eu)).ok


def test_adset_minimum_budget(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    error = error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id, daily_budget=50)))
    assert (error["error_subcode"], error["error_user_title"]) == (
        1885272,
        "Your Budget Is Too Low",
    )


def test_adset_budget_changes_limited_to_four_an_hour(sandbox: Sandbox) -> None:
    adset_id = sandbox.adset(sandbox.campaign())
    for amount in (2100, 2200, 2300, 2400):
        assert sandbox.post(adset_id, daily_budget=amount).json() == {"success": True}
    error = error_of(sandbox.post(adset_id, daily_budget=2500))
    assert (error["code"], error["is_transient"]) == (17, True)
    assert sandbox.post(adset_id, name="Renamed").ok  # other changes still go through


# --- creatives ----------------------------------------------------------------------------------


def story(image_hash: str, **link_data: Any) -> dict[str, Any]:
    return {
        "page_id": DEMO_PAGE_ID,
        "link_data": {"link": "https://example.com", "image_hash": image_hash, **link_data},
    }


def test_creative_needs_content(sandbox: Sandbox) -> None:
    error = error_of(sandbox.post(f"{ACT}/adcreatives", name="Empty"))
    assert error["error_user_title"] == "Creative content required"


def test_creative_story_spec_needs_page_id(sandbox: Sandbox) -> None:
    spec = story(sandbox.image_hash())
    del spec["page_id"]
    error = error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=spec))
    assert error["message"] == "(#100) The parameter object_story_spec[page_id] is required"


def test_creative_page_must_be_usable_by_the_token(sandbox: Sandbox) -> None:
    spec = {**story(sandbox.image_hash()), "page_id": "999999999"}
    assert (
        error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=spec))["error_user_title"]
        == "Invalid Page"
    )


def test_creative_image_hash_must_be_in_the_account_library(sandbox: Sandbox) -> None:
    error = error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=story("0" * 32)))
    assert error["error_user_title"] == "Image not found"


def test_creative_link_and_call_to_action(sandbox: Sandbox) -> None:
    image_hash = sandbox.image_hash()
    spec = story(image_hash)
    del spec["link_data"]["link"]
    error = error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=spec))
    assert error["message"] == "(#100) The parameter object_story_spec[link_data][link] is required"
    bad_cta = story(image_hash, call_to_action={"type": "BUY_IT_NOW"})
    error = error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=bad_cta))
    assert error["message"].startswith(
        "(#100) Param object_story_spec[link_data][call_to_action][type] must be one of"
    )


def test_creative_video_must_be_ready_and_have_a_thumbnail(sandbox: Sandbox) -> None:
    sandbox.configure(video_ready_after=60)
    video_id = sandbox.post(f"{ACT}/advideos", files={"source": ("v.mp4", mp4_bytes())}).json()[
        "id"
    ]
    spec = {
        "page_id": DEMO_PAGE_ID,
        "video_data": {"video_id": video_id, "image_url": "https://x/thumb.jpg"},
    }
    error = error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=spec))
    assert error["error_user_title"] == "Video not ready"
    sandbox.configure(video_ready_after=0)
    del spec["video_data"]["image_url"]
    error = error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=spec))
    assert error["error_user_title"] == "Video thumbnail required"
    spec["video_data"]["image_hash"] = sandbox.image_hash()
    assert sandbox.post(f"{ACT}/adcreatives", object_story_spec=spec).ok


def test_identical_creative_returns_the_existing_id(sandbox: Sandbox) -> None:
    image_hash = sandbox.image_hash()
    first = sandbox.post(f"{ACT}/adcreatives", name="Same", object_story_spec=story(image_hash))
    second = sandbox.post(f"{ACT}/adcreatives", name="Same", object_story_spec=story(image_hash))
    assert first.json()["id"] == second.json()["id"]
    assert len(sandbox.objects("adcreative")) == 1


# --- ads ----------------------------------------------------------------------------------------


def test_ad_required_parameters(sandbox: Sandbox) -> None:
    adset_id = sandbox.adset(sandbox.campaign())
    creative = {"creative_id": sandbox.creative()}
    for params, missing in (
        ({"adset_id": adset_id, "creative": creative}, "name"),
        ({"name": "Ad", "creative": creative}, "adset_id"),
        ({"name": "Ad", "adset_id": adset_id}, "creative"),
    ):
        error = error_of(sandbox.post(f"{ACT}/ads", **params))
        assert error["message"] == f"(#100) The parameter {missing} is required"


def test_ad_creative_must_exist_and_bid_amount_is_refused(sandbox: Sandbox) -> None:
    adset_id = sandbox.adset(sandbox.campaign())
    error = error_of(
        sandbox.post(f"{ACT}/ads", name="Ad", adset_id=adset_id, creative={"creative_id": "1234"})
    )
    assert error["error_user_title"] == "Invalid creative"
    error = error_of(
        sandbox.post(
            f"{ACT}/ads",
            name="Ad",
            adset_id=adset_id,
            bid_amount=100,
            creative={"creative_id": sandbox.creative()},
        )
    )
    assert error["error_user_title"] == "bid_amount not allowed on ads"


def test_ad_with_inline_creative_spec(sandbox: Sandbox) -> None:
    adset_id = sandbox.adset(sandbox.campaign())
    response = sandbox.post(
        f"{ACT}/ads",
        name="Ad",
        adset_id=adset_id,
        status="PAUSED",
        creative={"name": "Inline", "object_story_spec": story(sandbox.image_hash())},
    )
    assert response.status_code == 200, response.text
    ad = sandbox.objects("ad")[0]
    assert ad["fields"]["creative"]["id"] == sandbox.objects("adcreative")[0]["id"]


def test_ad_set_holds_at_most_50_ads(sandbox: Sandbox) -> None:
    adset_id = sandbox.adset(sandbox.campaign())
    creative = {"creative_id": sandbox.creative()}
    for index in range(50):
        assert sandbox.post(
            f"{ACT}/ads", name=f"Ad {index}", adset_id=adset_id, creative=creative
        ).ok
    error = error_of(sandbox.post(f"{ACT}/ads", name="Ad 51", adset_id=adset_id, creative=creative))
    assert error["error_user_title"] == "Too many ads in ad set"


# --- more ad set, creative, media and update rules ----------------------------------------------


def test_adset_other_promoted_object_rules(sandbox: Sandbox) -> None:
    app_campaign = sandbox.campaign(objective="OUTCOME_APP_PROMOTION")
    error = error_of(
        sandbox.post(f"{ACT}/adsets", **adset(app_campaign, optimization_goal="APP_INSTALLS"))
    )
    assert "application_id and object_store_url" in error["error_user_msg"]
    leads = sandbox.campaign(objective="OUTCOME_LEADS")
    error = error_of(
        sandbox.post(f"{ACT}/adsets", **adset(leads, optimization_goal="LEAD_GENERATION"))
    )
    assert "page_id" in error["error_user_msg"]
    assert sandbox.post(
        f"{ACT}/adsets",
        **adset(
            leads, optimization_goal="LEAD_GENERATION", promoted_object={"page_id": DEMO_PAGE_ID}
        ),
    ).ok
    bad_event = error_of(
        sandbox.post(
            f"{ACT}/adsets",
            **adset(
                leads,
                optimization_goal="LEAD_GENERATION",
                promoted_object={"page_id": DEMO_PAGE_ID, "custom_event_type": "BUY"},
            ),
        )
    )
    assert bad_event["message"].startswith(
        "(#100) Param promoted_object[custom_event_type] must be one of"
    )


def test_adset_eu_regions_and_country_groups_count_as_eu(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    for geo in ({"regions": [{"key": "3847", "country": "FR"}]}, {"country_groups": ["eu"]}):
        error = error_of(
            sandbox.post(f"{ACT}/adsets", **adset(campaign_id, targeting={"geo_locations": geo}))
        )
        assert error["error_subcode"] == 3858079


def test_adset_targeting_values(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    for targeting in (
        {"geo_locations": {"countries": ["USA"]}},
        {"geo_locations": {"countries": ["US"]}, "age_min": 70},
    ):
        assert (
            error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id, targeting=targeting)))[
                "code"
            ]
            == 100
        )


def test_adset_of_a_deleted_campaign_is_refused(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    sandbox.delete(campaign_id)
    assert error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id)))["error_user_title"] == (
        "Invalid campaign"
    )


def test_campaign_holds_at_most_200_adsets(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    with sandbox.state.lock:  # fill the campaign directly; 200 HTTP creates would be slow
        for _ in range(200):
            adset_id = sandbox.state.new_id("adset")
            sandbox.state.add_object(
                GraphObject(
                    adset_id, "adset", DEMO_ACCOUNT_ID, campaign_id, {"status": "PAUSED"}, 0.0, 0.0
                )
            )
    assert error_of(sandbox.post(f"{ACT}/adsets", **adset(campaign_id)))["error_user_title"] == (
        "Too many ad sets"
    )


def test_creative_content_kinds(sandbox: Sandbox) -> None:
    image_hash = sandbox.image_hash()
    two_kinds = {
        "page_id": DEMO_PAGE_ID,
        "link_data": {"link": "https://x"},
        "photo_data": {"image_hash": image_hash},
    }
    assert (
        error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=two_kinds))[
            "error_user_title"
        ]
        == "Invalid object story spec"
    )
    carousel = {
        "page_id": DEMO_PAGE_ID,
        "link_data": {
            "link": "https://x",
            "child_attachments": [
                {"link": "https://x/1", "image_hash": image_hash},
                {"link": "https://x/2", "image_hash": "f" * 32},
            ],
        },
    }
    assert (
        error_of(sandbox.post(f"{ACT}/adcreatives", object_story_spec=carousel))["error_user_title"]
        == "Image not found"
    )
    photo = {"page_id": DEMO_PAGE_ID, "photo_data": {"image_hash": image_hash}}
    assert sandbox.post(f"{ACT}/adcreatives", object_story_spec=photo).ok
    feed = {"images": [{"hash": "e" * 32}], "bodies": [{"text": "x"}]}
    assert (
        error_of(
            sandbox.post(
                f"{ACT}/adcreatives",
                asset_feed_spec=feed,
                object_story_spec={"page_id": DEMO_PAGE_ID},
            )
        )["error_user_title"]
        == "Image not found"
    )
    assert (
        error_of(sandbox.post(f"{ACT}/adcreatives", object_story_id="12345"))["error_user_title"]
        == "Invalid post"
    )
    assert (
        error_of(sandbox.post(f"{ACT}/adcreatives", object_story_id=f"{DEMO_PAGE_ID}_987"))[
            "error_user_title"
        ]
        == "Post not found"
    )
    post_id = sandbox.control("POST", "posts", page_id=DEMO_PAGE_ID)["id"]
    assert sandbox.post(f"{ACT}/adcreatives", object_story_id=post_id).ok


def test_media_edge_cases(sandbox: Sandbox) -> None:
    assert error_of(sandbox.post(f"{ACT}/advideos", file_url="ftp://x/clip.mp4"))["code"] == 389
    assert (
        error_of(sandbox.post(f"{ACT}/advideos", upload_phase="start", file_size=0))["code"] == 382
    )
    start = sandbox.post(f"{ACT}/advideos", upload_phase="start", file_size=5000).json()
    early = sandbox.post(
        f"{ACT}/advideos", upload_phase="finish", upload_session_id=start["upload_session_id"]
    )
    assert error_of(early)["error_user_title"] == "Upload incomplete"
    image_hash = sandbox.image_hash()
    other = sandbox.post(
        f"act_{OTHER_ACCOUNT_ID}/adimages",
        token=OTHER_TOKEN,
        copy_from={"source_account_id": ACT, "hash": image_hash},
    )
    assert error_of(other)["error_user_title"] == "Image not found"  # other token can't read it
    assert sandbox.delete(f"{ACT}/adimages?hash={image_hash}").json() == {"success": True}
    assert sandbox.get(f"{ACT}/adimages").json()["data"] == []


def test_update_rules(sandbox: Sandbox) -> None:
    cbo = sandbox.campaign(
        is_adset_budget_sharing_enabled=None,
        daily_budget=10000,
        bid_strategy="LOWEST_COST_WITHOUT_CAP",
    )
    cbo_set = sandbox.post(f"{ACT}/adsets", **without(adset(cbo), "daily_budget")).json()["id"]
    assert error_of(sandbox.post(cbo_set, daily_budget=3000))["error_subcode"] == 1885621
    plain = sandbox.campaign()
    plain_set = sandbox.adset(plain)
    assert error_of(sandbox.post(plain, daily_budget=9000))["error_subcode"] == 1885621
    assert error_of(sandbox.post(plain_set, bid_strategy="COST_CAP"))["error_subcode"] == 1815857
    assert (
        error_of(sandbox.post(plain_set, targeting={"age_min": 30}))["error_user_title"]
        == "Location is required"
    )
    assert (
        error_of(sandbox.post(plain_set, optimization_goal="APP_INSTALLS"))["error_user_title"]
        == "Performance goal unavailable"
    )
    assert sandbox.post(plain_set, status="ARCHIVED").ok
    assert error_of(sandbox.post(plain_set, daily_budget=2500))["error_user_title"] == (
        "Object archived"
    )
    creative_id = sandbox.creative()
    assert (
        error_of(sandbox.post(creative_id, object_story_spec={"page_id": DEMO_PAGE_ID}))[
            "error_user_title"
        ]
        == "Field can't be updated"
    )
    assert sandbox.post(creative_id, name="Renamed").ok
    ad_set = sandbox.adset(sandbox.campaign())
    ad_id = sandbox.post(
        f"{ACT}/ads", name="Ad", adset_id=ad_set, creative={"creative_id": creative_id}
    ).json()["id"]
    assert (
        error_of(sandbox.post(ad_id, creative={"creative_id": "42"}))["error_user_title"]
        == "Invalid creative"
    )
    assert sandbox.post(ad_id, status="PAUSED").ok
    read = sandbox.get(ad_id, fields="status,effective_status").json()
    assert (read["status"], read["effective_status"]) == ("PAUSED", "CAMPAIGN_PAUSED")
