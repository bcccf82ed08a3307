"""Targeting rules of Marketing API v19-v27 (placements, exclusions, Advantage detailed targeting,
EU territories), through the real SDK over HTTP."""

from __future__ import annotations

import pytest
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet

from .conftest import US, Sandbox, account_at, adset_params, refused, stored_targeting

# --- placements ---------------------------------------------------------------------------------


def test_facebook_video_feeds_is_refused_from_v24(
    sandbox: Sandbox, account: AdAccount, campaign_id: str
) -> None:
    targeting = {
        **US,
        "publisher_platforms": ["facebook"],
        "facebook_positions": ["feed", "video_feeds"],
    }
    for version in ("v25.0", "v26.0"):
        error = refused(
            lambda version=version: account_at(sandbox, version).create_ad_set(
                params=adset_params(campaign_id, targeting)
            )
        )
        assert error.api_error_code() == 100
        assert error.body()["error"]["error_user_title"] == "Placement no longer available"
        assert "Facebook video feeds" in error.body()["error"]["error_user_msg"]
        assert error.api_blame_field_specs() == [["targeting", "facebook_positions"]]
    sandbox.configure(min_api_version="v23.0")
    old = account_at(sandbox, "v23.0").create_ad_set(params=adset_params(campaign_id, targeting))
    assert stored_targeting(account, old["id"])["facebook_positions"] == ["feed", "video_feeds"]
    current = account.create_ad_set(
        params=adset_params(campaign_id, {**targeting, "facebook_positions": ["feed", "story"]})
    )
    assert stored_targeting(account, current["id"])["facebook_positions"] == ["feed", "story"]


def test_instagram_explore_is_refused_from_v26_and_explore_home_stays(
    sandbox: Sandbox, account: AdAccount, campaign_id: str
) -> None:
    explore = {**US, "publisher_platforms": ["instagram"], "instagram_positions": ["explore"]}
    error = refused(lambda: account.create_ad_set(params=adset_params(campaign_id, explore)))
    assert error.api_error_code() == 100
    assert "Instagram Explore Feed" in error.body()["error"]["error_user_msg"]
    assert error.api_blame_field_specs() == [["targeting", "instagram_positions"]]
    v25 = account_at(sandbox, "v25.0").create_ad_set(params=adset_params(campaign_id, explore))
    assert stored_targeting(account, v25["id"])["instagram_positions"] == ["explore"]
    home = {**explore, "instagram_positions": ["stream", "explore_home"]}
    created = account.create_ad_set(params=adset_params(campaign_id, home))
    assert stored_targeting(account, created["id"])["instagram_positions"] == [
        "stream",
        "explore_home",
    ]


def test_messenger_stories_are_silently_removed_on_create_and_update(
    sandbox: Sandbox, account: AdAccount, campaign_id: str
) -> None:
    messenger = {
        **US,
        "publisher_platforms": ["messenger"],
        "messenger_positions": ["messenger_home", "story"],
    }
    # v26.0, and every version since October 27, 2026.
    for version in ("v25.0", "v26.0"):
        created = account_at(sandbox, version).create_ad_set(
            params=adset_params(campaign_id, messenger)
        )
        assert stored_targeting(account, created["id"])["messenger_positions"] == ["messenger_home"]
    adset = AdSet(created["id"], api=account.get_api())
    adset.api_update(params={"targeting": {**messenger, "messenger_positions": ["story"]}})
    assert stored_targeting(account, adset["id"])["messenger_positions"] == []


def test_position_lists_are_lists_of_strings(account: AdAccount, campaign_id: str) -> None:
    error = refused(
        lambda: account.create_ad_set(
            params=adset_params(campaign_id, {**US, "facebook_positions": "feed"})
        )
    )
    assert (
        error.api_error_message()
        == "(#100) Param targeting[facebook_positions] must be a JSON array"
    )
    error = refused(
        lambda: account.create_ad_set(
            params=adset_params(campaign_id, {**US, "publisher_platforms": ["facebook", 3]})
        )
    )
    assert error.api_error_message() == (
        "(#100) Param targeting[publisher_platforms][1] must be a string"
    )


# --- exclusions and Advantage detailed targeting -------------------------------------------------


def test_custom_audiences_inside_exclusions_are_refused(
    account: AdAccount, campaign_id: str
) -> None:
    audience = [{"id": "23850000000000003"}]
    error = refused(
        lambda: account.create_ad_set(
            params=adset_params(campaign_id, {**US, "exclusions": {"custom_audiences": audience}})
        )
    )
    assert error.api_error_code() == 100
    assert "excluded_custom_audiences" in error.body()["error"]["error_user_msg"]
    assert error.api_blame_field_specs() == [["targeting", "exclusions", "custom_audiences"]]
    allowed = {**US, "excluded_custom_audiences": audience}
    created = account.create_ad_set(params=adset_params(campaign_id, allowed))
    assert stored_targeting(account, created["id"])["excluded_custom_audiences"] == audience


def test_detailed_targeting_exclusions_are_refused(account: AdAccount, campaign_id: str) -> None:
    movies = {"interests": [{"id": "6003139266461", "name": "Movies"}]}
    error = refused(
        lambda: account.create_ad_set(
            params=adset_params(campaign_id, {**US, "exclusions": movies})
        )
    )
    assert error.api_error_code() == 100
    assert error.body()["error"]["error_user_title"] == "Detailed targeting exclusions unavailable"
    assert error.api_blame_field_specs() == [["targeting", "exclusions"]]


def test_targeting_optimization_is_refused_for_link_clicks_and_landing_page_views(
    account: AdAccount, campaign_id: str
) -> None:
    expansion = {**US, "targeting_optimization": "expansion_all"}
    for goal in ("LINK_CLICKS", "LANDING_PAGE_VIEWS"):
        error = refused(
            lambda goal=goal: account.create_ad_set(
                params=adset_params(campaign_id, expansion, goal=goal)
            )
        )
        assert error.api_error_code() == 100
        assert error.body()["error"]["error_user_title"] == (
            "Advantage detailed targeting unavailable"
        )
        assert error.api_blame_field_specs() == [["targeting", "targeting_optimization"]]
    reach = AdSet(
        account.create_ad_set(params=adset_params(campaign_id, expansion))["id"],
        api=account.get_api(),
    )
    assert stored_targeting(account, reach["id"])["targeting_optimization"] == "expansion_all"
    # Switching the goal of that ad set to link clicks is refused too.
    error = refused(lambda: reach.api_update(params={"optimization_goal": "LINK_CLICKS"}))
    assert error.body()["error"]["error_user_title"] == "Advantage detailed targeting unavailable"
    assert account.create_ad_set(params=adset_params(campaign_id, US, goal="LINK_CLICKS"))["id"]


# --- DSA ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("country", ["GF", "GP", "MQ", "RE", "YT", "MF", "FR", "DE"])
def test_eu_member_states_and_french_outermost_regions_need_dsa_payor_and_beneficiary(
    account: AdAccount, campaign_id: str, country: str
) -> None:
    targeting = {"geo_locations": {"countries": [country]}}
    error = refused(lambda: account.create_ad_set(params=adset_params(campaign_id, targeting)))
    assert (error.api_error_code(), error.api_error_subcode()) == (100, 3858079)
    created = account.create_ad_set(
        params={
            **adset_params(campaign_id, targeting),
            "dsa_payor": "Mojito Ltd",
            "dsa_beneficiary": "Mojito Ltd",
        }
    )
    assert created["id"]


def test_countries_outside_the_eu_need_no_dsa_fields(account: AdAccount, campaign_id: str) -> None:
    for country in ("US", "CH", "NO", "GB", "PM"):
        targeting = {"geo_locations": {"countries": [country]}}
        assert account.create_ad_set(params=adset_params(campaign_id, targeting))["id"]
