"""Creating campaigns, with the checks Meta documents for each field.

Each rule names its source. Pages are on developers.facebook.com/docs/marketing-api/ unless a
full URL is given:
- Campaign: reference/ad-campaign-group ("Creating", "Objective Validation");
  bidding/guides/adset-budget-sharing (is_adset_budget_sharing_enabled, subcodes 4834002/4834011).
- Special ad categories (CREDIT replaced, special_ad_category_country):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/audiences/special-ad-category
- smart_promotion_type (Advantage+ shopping and app campaigns):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/advantage-campaigns.md
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/version25.0
"""

from __future__ import annotations

from . import errors
from .enums import (
    ADVANTAGE_SHOPPING_AND_APP_TYPES,
    BID_STRATEGIES,
    BUYING_TYPES,
    LEGACY_OBJECTIVES,
    ODAX_OBJECTIVES,
    ODAX_OBJECTIVES_MESSAGE_ORDER,
    ODAX_ONLY_SINCE,
    REPLACED_SPECIAL_AD_CATEGORIES,
    SMART_PROMOTION_TYPES,
    SPECIAL_AD_CATEGORIES,
)
from .params import Params
from .state import GraphObject
from .writes import (
    Created,
    Ctx,
    adlabels,
    create_status,
    new_object,
    positive_budget,
    stored,
    validate_only,
)


def check_objective(objective: str | None, version: tuple[int, int]) -> str:
    if objective is None:
        # Not marked [required] in the reference, but since v17.0 "campaigns can only be created
        # with simplified objectives" (blog 2023-02-13); the sandbox requires one.
        raise errors.required_param("objective")
    allowed = ODAX_OBJECTIVES if version >= ODAX_ONLY_SINCE else ODAX_OBJECTIVES + LEGACY_OBJECTIVES
    if objective not in allowed:
        # Graph's answer for legacy objectives on v17+: "(#100) Objective LINK_CLICKS is
        # invalid. Use one of: OUTCOME_LEADS, OUTCOME_SALES, ..." (code 100).
        listed = ODAX_OBJECTIVES_MESSAGE_ORDER if version >= ODAX_ONLY_SINCE else allowed
        raise errors.GraphError(
            f"(#100) Objective {objective} is invalid. Use one of: {', '.join(listed)}.", code=100
        )
    return objective


def special_ad_categories(params: Params) -> list[str]:
    # Campaign reference: special_ad_categories is [required] (since v7.0); "Businesses whose
    # ads do not belong to a Special Ad Category must indicate NONE or send an empty array".
    categories = params.json("special_ad_categories", list, required=True)
    for index, category in enumerate(categories):
        if category in REPLACED_SPECIAL_AD_CATEGORIES:
            # Special Ad Category guide: FINANCIAL_PRODUCTS_SERVICES "will replace the CREDIT
            # input as of January 14, 2025" (all versions).
            replacement = REPLACED_SPECIAL_AD_CATEGORIES[category]
            raise errors.invalid_parameter(
                f"{category} is no longer a special ad category",
                f"{replacement} replaces {category} as of January 14, 2025. Use {replacement} in "
                "special_ad_categories.",
                blame_fields=[f"special_ad_categories[{index}]"],
            )
        if category not in SPECIAL_AD_CATEGORIES:
            raise errors.enum_param(f"special_ad_categories[{index}]", SPECIAL_AD_CATEGORIES)
    return categories


def special_ad_category_country(params: Params, categories: list[str]) -> list[str] | None:
    """Special Ad Category guide: "[If] special_ad_categories are selected, you must also set a
    special_ad_category_country" (a list of two-letter country codes)."""
    countries = params.json("special_ad_category_country", list)
    for index, country in enumerate(countries or []):
        if not (isinstance(country, str) and len(country) == 2 and country.isupper()):
            raise errors.GraphError(
                f"(#100) Param special_ad_category_country[{index}] must be a country code",
                code=100,
            )
    if not countries and any(category != "NONE" for category in categories):
        raise errors.invalid_parameter(
            "Special ad category country required",
            "When special_ad_categories are selected, you must also set a "
            "special_ad_category_country: the countries where the ads will run.",
            blame_fields=["special_ad_category_country"],
        )
    return countries


def check_smart_promotion_type(params: Params, version: tuple[int, int]) -> None:
    promotion = params.enum("smart_promotion_type", SMART_PROMOTION_TYPES)
    if promotion is None:
        return
    if version >= (25, 0):
        # v23.0 changelog: "Beginning with v25.0, the smart_promotion_type field will no longer
        # be available for creating ad campaigns" (Advantage+ campaigns guide, same words).
        raise errors.invalid_parameter(
            "smart_promotion_type is no longer available",
            "Beginning with v25.0, the smart_promotion_type field is no longer available for "
            "creating ad campaigns. Create Advantage+ campaigns with Advantage+ campaign budget, "
            "Advantage+ audience and Advantage+ placements instead.",
            blame_fields=["smart_promotion_type"],
        )
    if promotion in ADVANTAGE_SHOPPING_AND_APP_TYPES:
        # v24.0 changelog ("Beginning with v24.0, creation ... will no longer be allowed") and
        # v25.0 changelog ("Applies to v25.0+. Will apply to all versions May 19, 2026"): every
        # version refuses them now.
        raise errors.invalid_parameter(
            "Advantage+ shopping and app campaigns are no longer available",
            "Creation, duplication, and updates to Advantage+ shopping campaigns and Advantage+ "
            "app campaigns is no longer allowed.",
            blame_fields=["smart_promotion_type"],
        )


def create_campaign(ctx: Ctx, params: Params) -> Created:
    objective = check_objective(params.str("objective"), ctx.version)
    categories = special_ad_categories(params)
    special_ad_category_country(params, categories)
    check_smart_promotion_type(params, ctx.version)
    status = create_status(params)
    buying_type = params.enum("buying_type", BUYING_TYPES) or "AUCTION"
    bid_strategy = params.enum("bid_strategy", BID_STRATEGIES)
    daily = positive_budget(params, "daily_budget")
    lifetime = positive_budget(params, "lifetime_budget")
    if daily is not None and lifetime is not None:
        # "You can either set budget at the campaign level or at the adset level, not both";
        # a budget is daily or lifetime, not both (not worded in the reference).
        raise errors.invalid_parameter(
            "Only one budget type allowed",
            "Set either daily_budget or lifetime_budget on the campaign, not both.",
            blame_fields=["lifetime_budget"],
        )
    sharing = params.bool("is_adset_budget_sharing_enabled")
    has_budget = daily is not None or lifetime is not None
    if not has_budget and sharing is None and ctx.version >= (24, 0):
        # Ad set budget sharing guide, "Creating": from v24.0 the field must be True or False
        # when the campaign has no campaign budget; error subcode 4834011.
        raise errors.invalid_parameter(
            "Must specify True or False in is_adset_budget_sharing_enabled field",
            "You must specify True or False in the is_adset_budget_sharing_enabled field. This "
            "field is required from version 24 if you are not setting a campaign-level budget.",
            subcode=4834011,
            blame_fields=["is_adset_budget_sharing_enabled"],
        )
    if has_budget and sharing:
        # Same guide, error 4834002.
        raise errors.invalid_parameter(
            "Ad set budget sharing unavailable with campaign budget",
            "You can't use ad set budget sharing with a campaign budget. Turn off ad set budget "
            "sharing or use ad set budgets.",
            subcode=4834002,
            blame_fields=["is_adset_budget_sharing_enabled"],
        )
    spend_cap = params.int("spend_cap")
    labels = adlabels(ctx, params)
    promoted = params.json("promoted_object", dict)
    if validate_only(params):
        return Created({"success": True}, [])
    fields = stored(params, skip={"status", "daily_budget", "lifetime_budget", "adlabels"})
    fields.update(
        {
            "account_id": ctx.account.id,
            "name": params.str("name") or "",
            "objective": objective,
            "special_ad_categories": categories,
            "status": status,
            "buying_type": buying_type,
        }
    )
    if bid_strategy is not None:
        fields["bid_strategy"] = bid_strategy
    elif has_budget:
        # Campaign reference, bid_strategy: "LOWEST_COST_WITH_BID_CAP ... Note: during creation
        # this is the default bid strategy if you don't specify."
        fields["bid_strategy"] = "LOWEST_COST_WITH_BID_CAP"
    if daily is not None:
        fields["daily_budget"] = daily
    if lifetime is not None:
        fields["lifetime_budget"] = lifetime
    if sharing is not None:
        fields["is_adset_budget_sharing_enabled"] = sharing
    if spend_cap is not None:
        fields["spend_cap"] = spend_cap
    if labels is not None:
        fields["adlabels"] = labels
    if promoted is not None:
        fields["promoted_object"] = promoted
    obj = ctx.state.add_object(new_object(ctx, "campaign", None, fields))
    return Created({"id": obj.id}, [obj.id])


def campaign_budget(campaign: GraphObject) -> tuple[int | None, int | None]:
    return campaign.fields.get("daily_budget"), campaign.fields.get("lifetime_budget")
