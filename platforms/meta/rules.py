"""Meta's rules for creating campaigns, ad sets, creatives and ads, as tables.

Allowed values come from the facebook-business SDK's enum classes, so an SDK upgrade brings
Meta's new values with it. The tables here hold only what the SDK does not know: which values
are still accepted at creation time and how fields depend on each other. Each one names the
Meta page it follows (Marketing API reference, developers.facebook.com).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from facebook_business.adobjects.adcreativelinkdatacalltoaction import (
    AdCreativeLinkDataCallToAction,
)
from facebook_business.adobjects.adpromotedobject import AdPromotedObject
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign


def sdk_values(enum_class: type) -> frozenset[str]:
    """The values of one of the SDK's enum classes (plain classes of string constants)."""
    return frozenset(
        value
        for name, value in vars(enum_class).items()
        if not name.startswith("_") and isinstance(value, str)
    )


# --- Campaign -----------------------------------------------------------------------------

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

SPECIAL_AD_CATEGORIES: Final = sdk_values(Campaign.SpecialAdCategories)
NO_SPECIAL_AD_CATEGORY: Final = "NONE"

# Housing, employment and financial products/services (CREDIT is the older name of the latter)
# come with audience restrictions; "Targeting for ads about social issues, elections or politics
# are not affected by the special_ad_categories label" (Ad Campaign reference, "New Required
# Field for All Campaigns"), and no restriction is documented for ONLINE_GAMBLING_AND_GAMING.
# Source: marketing-api/audiences/special-ad-category and Meta Business Help 2220749868045706.
TARGETING_RESTRICTED_CATEGORIES: Final = SPECIAL_AD_CATEGORIES & {
    "HOUSING",
    "EMPLOYMENT",
    "CREDIT",
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

# --- Ad set --------------------------------------------------------------------------------

BILLING_EVENTS: Final = sdk_values(AdSet.BillingEvent)
OPTIMIZATION_GOALS: Final = sdk_values(AdSet.OptimizationGoal)
DESTINATION_TYPES: Final = sdk_values(AdSet.DestinationType)
CUSTOM_EVENT_TYPES: Final = sdk_values(AdPromotedObject.CustomEventType)

MAX_AD_SETS: Final = 50  # API.md: ad_sets 1..50
MAX_ADS_PER_AD_SET: Final = 50  # API.md: ads 1..50 per ad set


def _goals(*names: str) -> frozenset[str]:
    unknown = set(names) - OPTIMIZATION_GOALS
    # A goal Meta dropped from the SDK must not linger here silently.
    assert not unknown, f"optimization goals missing from the SDK: {sorted(unknown)}"
    return frozenset(names)


# Optimization goals that fit each ODAX objective: the performance goals Meta offers for the
# objective across its conversion locations (website, app, messaging, calls, on-ad...).
# Sources: the ODAX section of the Ad Campaign reference (marketing-api/reference/ad-campaign-group)
# and the ODAX announcement (changelog jan-31-2022); kept deliberately inclusive so that a pairing
# Meta accepts is never refused here, while clear mismatches (REACH under OUTCOME_LEADS,
# LINK_CLICKS as an awareness goal...) are caught before any Meta call.
OPTIMIZATION_GOALS_BY_OBJECTIVE: Final[Mapping[str, frozenset[str]]] = {
    "OUTCOME_AWARENESS": _goals("REACH", "IMPRESSIONS", "AD_RECALL_LIFT", "THRUPLAY"),
    "OUTCOME_TRAFFIC": _goals(
        "LINK_CLICKS",
        "LANDING_PAGE_VIEWS",
        "REACH",
        "IMPRESSIONS",
        "CONVERSATIONS",
        "QUALITY_CALL",
        "PROFILE_VISIT",
        "VISIT_INSTAGRAM_PROFILE",
        "ENGAGED_PAGE_VIEWS",
    ),
    "OUTCOME_ENGAGEMENT": _goals(
        "POST_ENGAGEMENT",
        "PAGE_LIKES",
        "EVENT_RESPONSES",
        "THRUPLAY",
        "CONVERSATIONS",
        "LINK_CLICKS",
        "LANDING_PAGE_VIEWS",
        "OFFSITE_CONVERSIONS",
        "REACH",
        "IMPRESSIONS",
        "QUALITY_CALL",
        "REMINDERS_SET",
        "PROFILE_AND_PAGE_ENGAGEMENT",
        "PROFILE_VISIT",
        "VISIT_INSTAGRAM_PROFILE",
        "MESSAGING_DEEP_CONVERSATION_AND_FOLLOW",
    ),
    "OUTCOME_LEADS": _goals(
        "LEAD_GENERATION",
        "QUALITY_LEAD",
        "OFFSITE_CONVERSIONS",
        "VALUE",
        "CONVERSATIONS",
        "QUALITY_CALL",
        "MEANINGFUL_CALL_ATTEMPT",
        "MESSAGING_APPOINTMENT_CONVERSION",
        "LINK_CLICKS",
        "LANDING_PAGE_VIEWS",
        "REACH",
        "IMPRESSIONS",
    ),
    "OUTCOME_APP_PROMOTION": _goals(
        "APP_INSTALLS",
        "APP_INSTALLS_AND_OFFSITE_CONVERSIONS",
        "OFFSITE_CONVERSIONS",
        "VALUE",
        "IN_APP_VALUE",
        "DERIVED_EVENTS",
        "LINK_CLICKS",
    ),
    "OUTCOME_SALES": _goals(
        "OFFSITE_CONVERSIONS",
        "VALUE",
        "ADVERTISER_SILOED_VALUE",
        "CONVERSATIONS",
        "MESSAGING_PURCHASE_CONVERSION",
        "QUALITY_CALL",
        "LINK_CLICKS",
        "LANDING_PAGE_VIEWS",
        "REACH",
        "IMPRESSIONS",
    ),
}
assert set(OPTIMIZATION_GOALS_BY_OBJECTIVE) == CURRENT_OBJECTIVES

APP_PROMOTION_OBJECTIVE: Final = "OUTCOME_APP_PROMOTION"
APP_DESTINATION: Final = "APP"

# Promoted object ids Meta takes as numeric strings (marketing-api/reference/ad-promoted-object).
PROMOTED_OBJECT_ID_KEYS: Final = frozenset(
    {
        "pixel_id",
        "page_id",
        "application_id",
        "product_catalog_id",
        "product_set_id",
        "custom_conversion_id",
        "offline_conversion_data_set_id",
        "event_id",
    }
)

_CONVERSION_GOALS: Final = frozenset({"OFFSITE_CONVERSIONS", "VALUE"})
_APP_KEYS: Final = ("application_id", "object_store_url")


def required_promoted_object_keys(
    objective: str, optimization_goal: str, destination_type: str | None
) -> tuple[str, ...]:
    """Keys the ad set's promoted_object must carry, () when Meta needs none.

    Sources: marketing-api/reference/ad-promoted-object ("When you create ad sets for campaigns
    with certain objectives, promoted_object is required"; "If you use pixel_id, you must provide
    custom_event_type"; "If you use object_store_url, you must include application_id"), and the
    ODAX objective guides: app promotion promotes an app, website conversions a pixel event,
    instant-form leads a Page, page likes a Page.
    """
    if objective == APP_PROMOTION_OBJECTIVE:
        if optimization_goal in _CONVERSION_GOALS | {"APP_INSTALLS_AND_OFFSITE_CONVERSIONS"}:
            return (*_APP_KEYS, "custom_event_type")
        return _APP_KEYS
    if objective in ("OUTCOME_SALES", "OUTCOME_LEADS") and optimization_goal in _CONVERSION_GOALS:
        if destination_type == APP_DESTINATION:
            return (*_APP_KEYS, "custom_event_type")
        return ("pixel_id", "custom_event_type")
    if objective == "OUTCOME_LEADS" and optimization_goal in ("LEAD_GENERATION", "QUALITY_LEAD"):
        return ("page_id",)
    if objective == "OUTCOME_ENGAGEMENT" and optimization_goal == "PAGE_LIKES":
        return ("page_id",)
    return ()


# --- Targeting (marketing-api/audiences/reference/basic-targeting, targeting-restrictions) ---

# age_min: "If used, must be 13 or higher"; age_max: "If used, must be 65 or lower".
AGE_MIN: Final = 13
AGE_MAX: Final = 65
GENDERS: Final = frozenset({1, 2})  # "1 targets males, 2 targets females"; absent = all

# Keys of geo_locations that name places (location_types only qualifies them).
GEO_LOCATION_KEYS: Final = (
    "countries",
    "regions",
    "cities",
    "zips",
    "places",
    "custom_locations",
    "geo_markets",
    "electoral_districts",
    "country_groups",
    "large_geo_areas",
    "medium_geo_areas",
    "small_geo_areas",
    "metro_areas",
    "neighborhoods",
    "subcities",
    "subneighborhoods",
)
# "Limitations on ad targeting" table (targeting-restrictions).
GEO_LOCATION_LIMITS: Final[Mapping[str, int]] = {
    "cities": 250,
    "regions": 200,
    "custom_locations": 200,
    "geo_markets": 210,
    "zips": 50_000,
}

# Housing, employment, financial products and services (special-ad-category; Business Help
# "About audiences for housing, employment or financial products and services campaigns"):
# ages 18 through 65+ and all genders, no ZIP/postal code targeting, no location exclusions,
# and locations by city, address or pin carry at least a 15-mile radius.
RESTRICTED_AGE_MIN: Final = 18
RESTRICTED_AGE_MAX: Final = 65
RESTRICTED_MIN_RADIUS_MILES: Final = 15.0
KM_PER_MILE: Final = 1.609344

# --- Creative ------------------------------------------------------------------------------

CALL_TO_ACTION_TYPES: Final = sdk_values(AdCreativeLinkDataCallToAction.Type)
MEDIA_FIELDS: Final = ("image_url", "image_hash", "video_url", "video_id")
THUMBNAIL_FIELDS: Final = ("thumbnail_url", "thumbnail_hash")

# Formats, named by what the creative shows (platforms.meta.models.CreativeFormat).
FORMAT_IMAGE: Final = "IMAGE"
FORMAT_VIDEO: Final = "VIDEO"
FORMAT_CAROUSEL: Final = "CAROUSEL"
FORMAT_FACEBOOK_POST: Final = "FACEBOOK_POST"
FORMAT_INSTAGRAM_POST: Final = "INSTAGRAM_POST"
# The field that names a creative's content decides its format; exactly one per creative.
CREATIVE_SOURCE_BY_FORMAT: Final[Mapping[str, str]] = {
    FORMAT_CAROUSEL: "cards",
    FORMAT_FACEBOOK_POST: "object_story_id",
    FORMAT_INSTAGRAM_POST: "source_instagram_media_id",
}
CREATIVE_SOURCE_FIELDS: Final = (*MEDIA_FIELDS, *CREATIVE_SOURCE_BY_FORMAT.values())


def creative_format(source: str) -> str:
    """The format of a creative whose content is given by the field `source`."""
    if source in ("image_url", "image_hash"):
        return FORMAT_IMAGE
    if source in ("video_url", "video_id"):
        return FORMAT_VIDEO
    return next(fmt for fmt, field in CREATIVE_SOURCE_BY_FORMAT.items() if field == source)


# Carousel: "2-10 images, videos or both" (marketing-api/creative/carousel-ads;
# reference/ad-creative-link-data: child_attachments "a minimum of 2 and a maximum of 10").
CAROUSEL_MIN_CARDS: Final = 2
CAROUSEL_MAX_CARDS: Final = 10

# Advantage+ creative (degrees_of_freedom_spec.creative_features_spec), one feature at a time
# since v22.0 removed the standard_enhancements bundle. Source: marketing-api/creative/
# advantage-creative (features and enroll_status values).
CREATIVE_FEATURE_OPT_IN: Final = "OPT_IN"
CREATIVE_FEATURE_OPT_OUT: Final = "OPT_OUT"
CREATIVE_FEATURE_STATUSES: Final = (CREATIVE_FEATURE_OPT_IN, CREATIVE_FEATURE_OPT_OUT)
CREATIVE_FEATURES: Final = frozenset(
    {
        "image_touchups",
        "image_brightness_and_contrast",
        "image_templates",
        "image_uncrop",
        "text_optimizations",
        "inline_comment",
        "video_auto_crop",
        "adapt_to_placement",
        "add_text_overlay",
        "enhance_cta",
        "description_automation",
        "reveal_details_over_time",
    }
)
