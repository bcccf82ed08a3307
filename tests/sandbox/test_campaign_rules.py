"""Campaign-level rules of Marketing API v22-v27, through the real SDK over HTTP.

Special ad categories (CREDIT replaced, special_ad_category_country) and the end of Advantage+
shopping and app campaigns (smart_promotion_type, existing_customer_budget_percentage).
"""

from __future__ import annotations

from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.campaign import Campaign

from .conftest import CAMPAIGN, Sandbox, account_at, adset_params, refused


def test_credit_is_refused_on_every_version(sandbox: Sandbox, account: AdAccount) -> None:
    sandbox.configure(min_api_version="v22.0")
    for version in ("v22.0", "v25.0", "v27.0"):
        error = refused(
            lambda version=version: account_at(sandbox, version).create_campaign(
                params={
                    **CAMPAIGN,
                    "special_ad_categories": ["CREDIT"],
                    "special_ad_category_country": ["US"],
                }
            )
        )
        assert error.api_error_code() == 100, version
        assert error.body()["error"]["error_user_title"] == (
            "CREDIT is no longer a special ad category"
        )
        assert "FINANCIAL_PRODUCTS_SERVICES replaces CREDIT as of January 14, 2025" in (
            error.api_error_message() + error.body()["error"]["error_user_msg"]
        )
        assert error.api_blame_field_specs() == [["special_ad_categories[0]"]]
    created = account.create_campaign(
        params={
            **CAMPAIGN,
            "special_ad_categories": ["FINANCIAL_PRODUCTS_SERVICES"],
            "special_ad_category_country": ["US"],
        }
    )
    read = Campaign(created["id"], api=account.get_api()).api_get(
        fields=["special_ad_categories", "special_ad_category_country"]
    )
    assert read["special_ad_categories"] == ["FINANCIAL_PRODUCTS_SERVICES"]
    assert read["special_ad_category_country"] == ["US"]


def test_a_special_ad_category_needs_special_ad_category_country(account: AdAccount) -> None:
    for countries in (None, []):
        error = refused(
            lambda countries=countries: account.create_campaign(
                params={
                    **CAMPAIGN,
                    "special_ad_categories": ["HOUSING"],
                    "special_ad_category_country": countries,
                }
            )
        )
        assert error.api_error_code() == 100
        assert error.body()["error"]["error_user_title"] == "Special ad category country required"
        assert error.api_blame_field_specs() == [["special_ad_category_country"]]
    bad_code = refused(
        lambda: account.create_campaign(
            params={
                **CAMPAIGN,
                "special_ad_categories": ["HOUSING"],
                "special_ad_category_country": ["USA"],
            }
        )
    )
    assert bad_code.api_error_message() == (
        "(#100) Param special_ad_category_country[0] must be a country code"
    )
    # NONE, or no category, needs no country.
    assert account.create_campaign(params={**CAMPAIGN, "special_ad_categories": ["NONE"]})["id"]
    housing = account.create_campaign(
        params={
            **CAMPAIGN,
            "special_ad_categories": ["HOUSING"],
            "special_ad_category_country": ["US", "CA"],
        }
    )
    assert housing["id"]


def test_updating_a_campaign_to_a_special_ad_category_needs_a_country(
    account: AdAccount,
) -> None:
    api = account.get_api()
    plain = Campaign(account.create_campaign(params=CAMPAIGN)["id"], api=api)
    error = refused(lambda: plain.api_update(params={"special_ad_categories": ["EMPLOYMENT"]}))
    assert error.body()["error"]["error_user_title"] == "Special ad category country required"
    plain.api_update(
        params={"special_ad_categories": ["EMPLOYMENT"], "special_ad_category_country": ["US"]}
    )
    # The stored country still counts when only the categories change.
    plain.api_update(params={"special_ad_categories": ["HOUSING"]})
    assert plain.api_get(fields=["special_ad_categories"])["special_ad_categories"] == ["HOUSING"]


def test_smart_promotion_type_is_refused_from_v25(sandbox: Sandbox) -> None:
    for version in ("v25.0", "v26.0"):
        error = refused(
            lambda version=version: account_at(sandbox, version).create_campaign(
                params={**CAMPAIGN, "smart_promotion_type": "GUIDED_CREATION"}
            )
        )
        assert error.api_error_code() == 100
        assert error.body()["error"]["error_user_title"] == (
            "smart_promotion_type is no longer available"
        )
        assert error.api_blame_field_specs() == [["smart_promotion_type"]]
    # v24.0 still took GUIDED_CREATION, but no Advantage+ shopping or app campaign any more.
    sandbox.configure(min_api_version="v24.0")
    v24 = account_at(sandbox, "v24.0")
    assert v24.create_campaign(params={**CAMPAIGN, "smart_promotion_type": "GUIDED_CREATION"})
    for promotion in ("AUTOMATED_SHOPPING_ADS", "SMART_APP_PROMOTION"):
        error = refused(
            lambda promotion=promotion: v24.create_campaign(
                params={**CAMPAIGN, "smart_promotion_type": promotion}
            )
        )
        assert error.body()["error"]["error_user_title"] == (
            "Advantage+ shopping and app campaigns are no longer available"
        )


def test_existing_customer_budget_percentage_is_refused_from_v25(
    sandbox: Sandbox, account: AdAccount
) -> None:
    campaign_id = account.create_campaign(params=CAMPAIGN)["id"]
    error = refused(
        lambda: account.create_ad_set(
            params=adset_params(campaign_id, existing_customer_budget_percentage=20)
        )
    )
    assert error.api_error_code() == 100
    assert error.api_blame_field_specs() == [["existing_customer_budget_percentage"]]
    assert account.create_ad_set(params=adset_params(campaign_id))["id"]
    sandbox.configure(min_api_version="v24.0")
    v24 = account_at(sandbox, "v24.0")
    assert v24.create_ad_set(
        params=adset_params(campaign_id, name="Old", existing_customer_budget_percentage=20)
    )["id"]
