"""Campaign rules: objectives, statuses, special ad categories, buying type and bidding.

Sources: marketing-api/reference/ad-campaign-group, audiences/special-ad-category,
bidding/overview/bid-strategy, advantage-campaigns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign

from platforms.meta.rules.sdk import sdk_values

OBJECTIVES: Final = sdk_values(Campaign.Objective)

# Since Marketing API v17.0 campaigns can only be created with the six simplified
# ("Outcome-Driven Ads Experiences", ODAX) objectives; the original ones are refused.
# Source: developers.facebook.com/blog/post/2023/02/13/outcome-driven-ad-experiences-update/
# and the Jan 31, 2022 changelog (non-versioned-changes/jan-31-2022).
CURRENT_OBJECTIVES: Final = frozenset(o for o in OBJECTIVES if o.startswith("OUTCOME_"))
LEGACY_OBJECTIVES: Final = OBJECTIVES - CURRENT_OBJECTIVES

# Where each original objective went in the ODAX consolidation ("11 objectives into 6"). Several
# originals split across outcomes (CONVERSIONS, MESSAGES, VIDEO_VIEWS); the most common home is
# named first. Same sources as above.
LEGACY_OBJECTIVE_REPLACEMENTS: Final[Mapping[str, str]] = {
    "APP_INSTALLS": "OUTCOME_APP_PROMOTION",
    "BRAND_AWARENESS": "OUTCOME_AWARENESS",
    "CONVERSIONS": "OUTCOME_SALES (or OUTCOME_LEADS / OUTCOME_ENGAGEMENT)",
    "EVENT_RESPONSES": "OUTCOME_ENGAGEMENT",
    "LEAD_GENERATION": "OUTCOME_LEADS",
    "LINK_CLICKS": "OUTCOME_TRAFFIC",
    "LOCAL_AWARENESS": "OUTCOME_AWARENESS",
    "MESSAGES": "OUTCOME_ENGAGEMENT (or OUTCOME_LEADS / OUTCOME_SALES)",
    "OFFER_CLAIMS": "OUTCOME_SALES",
    "PAGE_LIKES": "OUTCOME_ENGAGEMENT",
    "POST_ENGAGEMENT": "OUTCOME_ENGAGEMENT",
    "PRODUCT_CATALOG_SALES": "OUTCOME_SALES",
    "REACH": "OUTCOME_AWARENESS",
    "STORE_VISITS": "OUTCOME_AWARENESS",
    "VIDEO_VIEWS": "OUTCOME_AWARENESS (or OUTCOME_ENGAGEMENT)",
}

# Statuses a new object may be created with; ARCHIVED and DELETED exist in the SDK enums
# (Campaign.Status, AdSet.Status, Ad.Status) but make no sense at creation.
CREATE_STATUSES: Final = sdk_values(Campaign.Status) & {"ACTIVE", "PAUSED"}
DEFAULT_STATUS: Final = "PAUSED"

# "In October 2024 we introduced a new input called FINANCIAL_PRODUCTS_SERVICES available for
# the Special Ad Categories field. This input will replace the CREDIT input as of January 14,
# 2025" (audiences/special-ad-category). The SDK's enum still lists CREDIT.
REPLACED_SPECIAL_AD_CATEGORIES: Final[Mapping[str, str]] = {"CREDIT": "FINANCIAL_PRODUCTS_SERVICES"}
SPECIAL_AD_CATEGORIES: Final = sdk_values(Campaign.SpecialAdCategories) - set(
    REPLACED_SPECIAL_AD_CATEGORIES
)
NO_SPECIAL_AD_CATEGORY: Final = "NONE"

# Housing, employment and financial products/services come with audience restrictions ("Audience
# and product restrictions ... for HOUSING and EMPLOYMENT ... will also apply to the new
# FINANCIAL_PRODUCTS_SERVICES input"); "Targeting for ads about social issues, elections or
# politics are not affected by the special_ad_categories label" (Ad Campaign reference, "New
# Required Field for All Campaigns"), and no restriction is documented for
# ONLINE_GAMBLING_AND_GAMING. Source: marketing-api/audiences/special-ad-category and Meta
# Business Help 2220749868045706.
TARGETING_RESTRICTED_CATEGORIES: Final = SPECIAL_AD_CATEGORIES & {
    "HOUSING",
    "EMPLOYMENT",
    "FINANCIAL_PRODUCTS_SERVICES",
}

# "If special_ad_categories are selected, you must also set a special_ad_category_country"
# (marketing-api/audiences/special-ad-category). The SDK's list is Meta's country list.
COUNTRY_CODES: Final = sdk_values(Campaign.SpecialAdCategoryCountry)

# buying_type is a plain string in the SDK (no enum class). "Most of the time we just use
# AUCTION ... RESERVED" (marketing-api/bidding/overview/billing-events).
BUYING_TYPES: Final = ("AUCTION", "RESERVED")
DEFAULT_BUYING_TYPE: Final = "AUCTION"

# --- Bidding (marketing-api/bidding/overview/bid-strategy) --------------------------------

BID_STRATEGIES: Final = sdk_values(Campaign.BidStrategy) | sdk_values(AdSet.BidStrategy)
# A cap is an amount: these strategies need bid_amount (on the ad set, also under a campaign
# budget: "adset_bid_amounts" in marketing-api/bidding/guides/advantage-campaign-budget).
BID_AMOUNT_STRATEGIES: Final = BID_STRATEGIES & {"LOWEST_COST_WITH_BID_CAP", "COST_CAP"}
# "LOWEST_COST_WITH_MIN_ROAS: Specific bidding option for value optimization. You must specify a
# roas_average_floor" (set as the ad set's bid_constraints).
MIN_ROAS_STRATEGY: Final = "LOWEST_COST_WITH_MIN_ROAS"
MIN_ROAS_OPTIMIZATION_GOAL: Final = "VALUE"

# Campaign fields Meta no longer takes on creation, with what to do instead.
REFUSED_CAMPAIGN_PARAMS: Final[Mapping[str, str]] = {
    # Changelog v25.0 and marketing-api/advantage-campaigns: "Beginning with v25.0, you will no
    # longer be able to use ... smart_promotion_type=AUTOMATED_SHOPPING_ADS ... or
    # smart_promotion_type=SMART_APP_PROMOTION"; v24.0 already refuses "creation, duplication,
    # and updates to Advantage+ shopping campaigns and Advantage+ app campaigns".
    "smart_promotion_type": (
        "Meta no longer creates campaigns with smart_promotion_type (Marketing API v25.0): an "
        "Advantage+ sales or app campaign is a campaign budget with Advantage+ audience and "
        "placements."
    ),
}

# What `rules` shows of this module: its tables, not its imports.
__all__ = [name for name in dir() if name.isupper()]
