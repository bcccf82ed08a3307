"""Advantage+ audience on ad set creation (v23.0+, and v26.0 for housing, employment and
financial ad sets), through the real SDK over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet

from .conftest import CAMPAIGN, US, Sandbox, account_at, adset_params, refused, stored_targeting

FLAG_REQUIRED_MSG = (
    "To create your ad set, you need to enable or disable the Advantage audience feature. This "
    "can be done by setting the advantage_audience flag to either 1 or 0 within the "
    "targeting_automation field in the targeting spec."
)


NARROWED = {
    "age_min": {"age_min": 25},
    "age_max": {"age_max": 35},
    "genders": {"genders": [1]},
    "custom_audiences": {"custom_audiences": [{"id": "23850000000000001"}]},
    "interests": {"interests": [{"id": "6003139266461", "name": "Movies"}]},
    "behaviors": {"behaviors": [{"id": "6002714895372", "name": "Frequent travelers"}]},
    "relationship_statuses": {"relationship_statuses": [2]},
    "flexible_spec": {"flexible_spec": [{"interests": [{"id": "6003139266461"}]}]},
}


@pytest.mark.parametrize("narrowing", NARROWED.values(), ids=NARROWED.keys())
def test_narrowed_targeting_needs_the_advantage_audience_flag(
    account: AdAccount, narrowing: dict[str, Any]
) -> None:
    campaign_id = account.create_campaign(params=CAMPAIGN)["id"]
    error = refused(
        lambda: account.create_ad_set(params=adset_params(campaign_id, {**US, **narrowing}))
    )
    assert (error.api_error_code(), error.api_error_subcode()) == (100, 1870227)
    assert error.api_error_message() == "Invalid parameter"
    assert error.body()["error"]["error_user_title"] == "Advantage Audience Flag Required"
    assert error.body()["error"]["error_user_msg"] == FLAG_REQUIRED_MSG
    assert error.api_blame_field_specs() == [
        ["targeting", "targeting_automation", "advantage_audience"]
    ]
    targeting = {**US, **narrowing, "targeting_automation": {"advantage_audience": 0}}
    created = account.create_ad_set(params=adset_params(campaign_id, targeting))
    assert stored_targeting(account, created["id"])["targeting_automation"] == {
        "advantage_audience": 0
    }


@pytest.mark.parametrize(
    "targeting",
    [
        US,
        {**US, "age_min": 18, "age_max": 65, "genders": [1, 2]},
        {**US, "custom_audiences": [], "interests": [], "flexible_spec": [{}]},
        # Location, language and custom audience exclusions are not expanded, so they keep the
        # default setup ("Non-negotiable business constraints are not expanded").
        {**US, "locales": [6], "excluded_custom_audiences": [{"id": "23850000000000002"}]},
    ],
    ids=["omitted", "defaults", "empty", "constraints"],
)
def test_default_setup_is_opted_in(account: AdAccount, targeting: dict[str, Any]) -> None:
    campaign_id = account.create_campaign(params=CAMPAIGN)["id"]
    created = account.create_ad_set(params=adset_params(campaign_id, targeting))
    stored = stored_targeting(account, created["id"])
    assert stored["targeting_automation"] == {"advantage_audience": 1}
    assert stored["geo_locations"] == {"countries": ["US"]}


def test_age_and_gender_relaxed_through_individual_setting_need_no_flag(
    account: AdAccount,
) -> None:
    campaign_id = account.create_campaign(params=CAMPAIGN)["id"]
    relaxed = {
        **US,
        "age_min": 30,
        "age_max": 45,
        "genders": [2],
        "targeting_automation": {"individual_setting": {"age": 1, "gender": 1}},
    }
    created = account.create_ad_set(params=adset_params(campaign_id, relaxed))
    assert stored_targeting(account, created["id"])["targeting_automation"] == {
        "individual_setting": {"age": 1, "gender": 1},
        "advantage_audience": 1,
    }
    # Only the relaxed dimensions count: a strict gender still needs the flag.
    half = {**relaxed, "targeting_automation": {"individual_setting": {"age": 1, "gender": 0}}}
    error = refused(lambda: account.create_ad_set(params=adset_params(campaign_id, half)))
    assert error.api_error_subcode() == 1870227


@pytest.mark.parametrize("value", [2, -1, "yes", True])
def test_advantage_audience_is_0_or_1(account: AdAccount, value: object) -> None:
    campaign_id = account.create_campaign(params=CAMPAIGN)["id"]
    targeting = {**US, "targeting_automation": {"advantage_audience": value}}
    error = refused(lambda: account.create_ad_set(params=adset_params(campaign_id, targeting)))
    assert error.api_error_code() == 100
    assert error.api_error_message() == (
        "(#100) Param targeting[targeting_automation][advantage_audience] must be one of {0, 1}"
    )


def test_opting_in_keeps_age_max_at_65_and_age_min_at_most_25(account: AdAccount) -> None:
    campaign_id = account.create_campaign(params=CAMPAIGN)["id"]
    opted_in = {**US, "targeting_automation": {"advantage_audience": 1}}
    error = refused(
        lambda: account.create_ad_set(params=adset_params(campaign_id, {**opted_in, "age_max": 40}))
    )
    assert (error.api_error_code(), error.api_error_subcode()) == (100, 1870189)
    assert error.api_blame_field_specs() == [["targeting", "age_max"]]
    error = refused(
        lambda: account.create_ad_set(params=adset_params(campaign_id, {**opted_in, "age_min": 30}))
    )
    assert error.api_error_code() == 100
    assert error.body()["error"]["error_user_title"] == (
        "Minimum age too high for Advantage+ audience"
    )
    # The preferred range goes in age_range; age_min up to 25 stays a hard minimum.
    suggested = {**opted_in, "age_min": 21, "age_max": 65, "age_range": [25, 40]}
    created = account.create_ad_set(params=adset_params(campaign_id, suggested))
    assert stored_targeting(account, created["id"])["age_range"] == [25, 40]


def test_housing_employment_and_financial_ad_sets_need_the_flag_from_v26(
    sandbox: Sandbox, account: AdAccount
) -> None:
    for category in ("HOUSING", "EMPLOYMENT", "FINANCIAL_PRODUCTS_SERVICES"):
        campaign_id = account.create_campaign(
            params={
                **CAMPAIGN,
                "special_ad_categories": [category],
                "special_ad_category_country": ["US"],
            }
        )["id"]
        error = refused(
            lambda campaign_id=campaign_id: account.create_ad_set(
                params=adset_params(campaign_id, US)
            )
        )
        assert error.api_error_subcode() == 1870227, category
        opted_out = {**US, "targeting_automation": {"advantage_audience": 0}}
        assert account.create_ad_set(params=adset_params(campaign_id, opted_out))["id"]
        # v25.0 still defaults the flag to 1 for them.
        v25 = account_at(sandbox, "v25.0")
        created = v25.create_ad_set(params=adset_params(campaign_id, US))
        assert stored_targeting(account, created["id"])["targeting_automation"] == {
            "advantage_audience": 1
        }


def test_updates_and_versions_before_v23_are_not_affected(
    sandbox: Sandbox, account: AdAccount
) -> None:
    campaign_id = account.create_campaign(params=CAMPAIGN)["id"]
    adset = AdSet(
        account.create_ad_set(params=adset_params(campaign_id, US))["id"], api=account.get_api()
    )
    adset.api_update(params={"targeting": {**US, "age_min": 30, "genders": [1]}})
    assert stored_targeting(account, adset["id"])["age_min"] == 30
    sandbox.configure(min_api_version="v22.0")
    v22 = account_at(sandbox, "v22.0")
    created = v22.create_ad_set(params=adset_params(campaign_id, {**US, "age_max": 35}))
    assert "targeting_automation" not in stored_targeting(account, created["id"])


@pytest.mark.parametrize("genders", [[3], "1", [{"id": 1}], [True]])
def test_genders_are_1_and_2(account: AdAccount, genders: object) -> None:
    campaign_id = account.create_campaign(params=CAMPAIGN)["id"]
    targeting = {**US, "genders": genders, "targeting_automation": {"advantage_audience": 0}}
    error = refused(lambda: account.create_ad_set(params=adset_params(campaign_id, targeting)))
    assert error.api_error_code() == 100
    assert error.api_blame_field_specs() == [["targeting", "genders"]]
