"""Ad set rules: billing events, optimization goals per objective, promoted objects, limits.

Sources: marketing-api/reference/ad-campaign, reference/ad-promoted-object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from facebook_business.adobjects.adpromotedobject import AdPromotedObject
from facebook_business.adobjects.adset import AdSet

from platforms.meta.rules.campaign import CURRENT_OBJECTIVES
from platforms.meta.rules.sdk import sdk_values

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


# Optimization goals that fit each ODAX objective: the union, over the objective's conversion
# locations, of the goals in the "Restrictions" table of the Ad Set reference
# (marketing-api/reference/ad-campaign, "Outcome-Driven Ads Experiences"), plus QUALITY_CALL for
# the call locations, less the app-event goal outside app promotion and sales (it needs an app
# promoted object this table does not ask for there). A goal the table does not list for an
# objective is one Meta refuses (CONVERSATIONS under OUTCOME_TRAFFIC, whose Messenger and
# WhatsApp locations optimize for link clicks, impressions or reach; VALUE under
# OUTCOME_LEADS), so it is refused here, before any Meta call, rather than accepted as a job
# that could only fail on Meta. tests/test_payload_properties.py holds this table to the
# sandbox's.
OPTIMIZATION_GOALS_BY_OBJECTIVE: Final[Mapping[str, frozenset[str]]] = {
    "OUTCOME_AWARENESS": _goals("REACH", "IMPRESSIONS", "AD_RECALL_LIFT", "THRUPLAY"),
    "OUTCOME_TRAFFIC": _goals(
        "LINK_CLICKS", "LANDING_PAGE_VIEWS", "REACH", "IMPRESSIONS", "QUALITY_CALL"
    ),
    "OUTCOME_ENGAGEMENT": _goals(
        "THRUPLAY",
        "POST_ENGAGEMENT",
        "EVENT_RESPONSES",
        "PAGE_LIKES",
        "CONVERSATIONS",
        "OFFSITE_CONVERSIONS",
        "LINK_CLICKS",
        "LANDING_PAGE_VIEWS",
        "REACH",
        "IMPRESSIONS",
    ),
    "OUTCOME_LEADS": _goals(
        "LEAD_GENERATION",
        "QUALITY_LEAD",
        "QUALITY_CALL",
        "OFFSITE_CONVERSIONS",
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
        "LINK_CLICKS",
    ),
    "OUTCOME_SALES": _goals(
        "OFFSITE_CONVERSIONS",
        "VALUE",
        "CONVERSATIONS",
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
    # Engagement too: its Website location optimizes for conversion events (Restrictions table
    # of the Ad Set reference), which a pixel reports.
    if (
        objective in ("OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_ENGAGEMENT")
        and optimization_goal in _CONVERSION_GOALS
    ):
        if destination_type == APP_DESTINATION:
            return (*_APP_KEYS, "custom_event_type")
        return ("pixel_id", "custom_event_type")
    if objective == "OUTCOME_LEADS" and optimization_goal in ("LEAD_GENERATION", "QUALITY_LEAD"):
        return ("page_id",)
    if objective == "OUTCOME_ENGAGEMENT" and optimization_goal == "PAGE_LIKES":
        return ("page_id",)
    return ()


# Ad set fields Meta no longer takes on creation, with what to do instead.
REFUSED_AD_SET_PARAMS: Final[Mapping[str, str]] = {
    # marketing-api/advantage-campaigns: "The existing_customer_budget_percentage field is not
    # available for new Advantage+ campaigns" (deprecated with the ASC API in v25.0).
    "existing_customer_budget_percentage": (
        "Meta no longer takes existing_customer_budget_percentage on new ad sets (Marketing API "
        "v25.0, with Advantage+ shopping campaigns)."
    ),
}

# Changelog v19.0: "The targeting_optimization field will not be accepted for campaigns that
# are optimized for link clicks or landing page views. This also applies to previous
# optimizations that were included in Advantage Detailed Targeting with no option to opt-out
# including conversions, value, app installs, app events and conversations."
TARGETING_OPTIMIZATION_REFUSED_GOALS: Final = _goals(
    "LINK_CLICKS",
    "LANDING_PAGE_VIEWS",
    "OFFSITE_CONVERSIONS",
    "VALUE",
    "APP_INSTALLS",
    "APP_INSTALLS_AND_OFFSITE_CONVERSIONS",
    "CONVERSATIONS",
)

# What `rules` shows of this module: its tables and functions, not its imports.
__all__ = [name for name in dir() if name.isupper()] + ["required_promoted_object_keys"]
