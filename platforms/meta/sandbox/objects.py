"""Creating, updating and deleting ad objects, with the checks Meta documents for each field.

Each rule names its source. Pages are on developers.facebook.com/docs/marketing-api/ unless a
full URL is given:
- Campaign: reference/ad-campaign-group ("Creating", "Objective Validation");
  bidding/guides/adset-budget-sharing (is_adset_budget_sharing_enabled, subcodes 4834002/4834011).
- Ad set: reference/ad-campaign ("Creating", "Considerations", DSA, "Outcome-Driven Ads
  Experiences").
- Ad creative: reference/ad-creative; reference/ad-account/adcreatives.
- Ad: reference/adgroup; reference/ad-account/ads.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from . import errors
from .enums import (
    BID_AMOUNT_STRATEGIES,
    BID_STRATEGIES,
    BILLING_EVENTS,
    BUYING_TYPES,
    CALL_TO_ACTION_TYPES,
    CREATE_STATUSES,
    CREATIVE_STATUSES,
    CUSTOM_EVENT_TYPES,
    DESTINATION_TYPES,
    EU_COUNTRIES,
    EU_COUNTRY_GROUPS,
    LEGACY_OBJECTIVES,
    ODAX_OBJECTIVES,
    ODAX_OBJECTIVES_MESSAGE_ORDER,
    ODAX_ONLY_SINCE,
    OPTIMIZATION_GOALS,
    OPTIMIZATION_GOALS_BY_OBJECTIVE,
    SPECIAL_AD_CATEGORIES,
    STATUSES,
)
from .media import image_format, image_size, is_video
from .params import Params, UploadedFile
from .state import Account, GraphObject, SandboxState, Token

# Parameters that steer the call rather than describe the object; never stored as fields.
CONTROL_PARAMS: frozenset[str] = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "fields",
        "execution_options",
        "method",
        "format",
        "pretty",
        "suppress_http_code",
        "locale",
        "summary",
        "limit",
        "after",
        "before",
        "filtering",
        "include_headers",
        "debug",
        "fb_api_req_friendly_name",
        "fb_api_caller_class",
        "redownload",
    }
)
JSON_OBJECT_PARAMS: frozenset[str] = frozenset(
    {
        "targeting",
        "promoted_object",
        "object_story_spec",
        "asset_feed_spec",
        "creative",
        "bid_constraints",
        "degrees_of_freedom_spec",
        "call_to_action",
        "contextual_multi_ads",
        "regional_regulation_identities",
        "tracking_and_conversion_with_defaults",
    }
)
JSON_LIST_PARAMS: frozenset[str] = frozenset(
    {
        "special_ad_categories",
        "special_ad_category_country",
        "adlabels",
        "attribution_spec",
        "frequency_control_specs",
        "tracking_specs",
        "conversion_specs",
        "pacing_type",
        "adset_schedule",
        "budget_schedule_specs",
        "regional_regulated_categories",
        "creative_sequence",
    }
)
BUDGET_FIELDS = ("daily_budget", "lifetime_budget")
# Marketing API rate limiting, "Ad Set Level Rate Limiting": 4 budget changes per hour.
BUDGET_CHANGES_PER_HOUR = 4
MAX_ADSETS_PER_CAMPAIGN = 200  # Campaign reference, "Limits"
MAX_ADS_PER_ADSET = 50  # Ad Set reference, "Limits" (non-archived ads)

# Ad Set reference, "Bid/Budget Validations": minimum daily budgets with LOWEST_COST_WITHOUT_CAP,
# in US cents, already doubled for the countries listed there (the United States among them);
# low-frequency actions are the same everywhere. The sandbox applies them to USD accounts only.
USD_MIN_DAILY_BUDGET_CENTS: dict[str, int] = {
    "IMPRESSIONS": 100,
    "CLICKS": 500,
    "LINK_CLICKS": 500,
    "PAGE_LIKES": 500,
    "POST_ENGAGEMENT": 500,
    "THRUPLAY": 500,
    "APP_INSTALLS": 4000,
    "OFFER_CLAIMS": 4000,
}


@dataclass
class Ctx:
    """What a write needs to know about the call it serves."""

    state: SandboxState
    token: Token
    account: Account
    version: tuple[int, int]
    origin: str
    now: float


@dataclass
class Created:
    body: dict[str, Any]
    ids: list[str]


def _stored(params: Params, skip: set[str]) -> dict[str, Any]:
    """Parameters kept verbatim as readable fields (JSON strings decoded)."""
    fields: dict[str, Any] = {}
    for name, value in params.values.items():
        if name in CONTROL_PARAMS or name in skip or value is None:
            continue
        if isinstance(value, str) and (name in JSON_OBJECT_PARAMS or name in JSON_LIST_PARAMS):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        fields[name] = value
    return fields


def validate_only(params: Params) -> bool:
    options = params.json("execution_options", list)
    return bool(options) and "validate_only" in options


def _create_status(params: Params) -> str:
    # "Only ACTIVE and PAUSED are valid during creation." When absent the sandbox stores ACTIVE,
    # Graph's default for new objects.
    return params.enum("status", CREATE_STATUSES) or "ACTIVE"


def _positive_budget(params: Params, name: str) -> int | None:
    value = params.int(name)
    if value is None or value == 0:
        return None
    if value < 0:
        raise errors.invalid_parameter(
            "Invalid budget",
            f"{name} must be a positive amount in the account currency's minor unit.",
            blame_fields=[name],
        )
    return value


def _adlabels(ctx: Ctx, params: Params) -> list[dict[str, str]] | None:
    labels = params.json("adlabels", list)
    if labels is None:
        return None
    result = []
    known = ctx.state.adlabels.get(ctx.account.id, {})
    by_id = {label_id: name for name, label_id in known.items()}
    for index, label in enumerate(labels):
        if isinstance(label, str):
            label = {"name": label}
        if not isinstance(label, dict) or not (label.get("name") or label.get("id")):
            raise errors.invalid_parameter(
                "Invalid ad label",
                "Each ad label needs a name or an id.",
                blame_fields=[f"adlabels[{index}]"],
            )
        if label.get("name"):
            name = str(label["name"])
            result.append({"id": ctx.state.label_id(ctx.account.id, name), "name": name})
        else:
            label_id = str(label["id"])
            if label_id not in by_id:
                raise errors.invalid_parameter(
                    "Invalid ad label",
                    f"Ad label {label_id} does not exist in this ad account.",
                    blame_fields=["adlabels"],
                )
            result.append({"id": label_id, "name": by_id[label_id]})
    return result


def _owned(ctx: Ctx, object_id: Any, object_type: str) -> GraphObject | None:
    obj = ctx.state.get_object(str(object_id)) if object_id is not None else None
    if obj is None or obj.type != object_type or obj.account_id != ctx.account.id:
        return None
    return obj


def _new_object(
    ctx: Ctx, object_type: str, parent_id: str | None, fields: dict[str, Any]
) -> GraphObject:
    object_id = ctx.state.new_id(object_type)
    fields = {**fields, "id": object_id}
    return GraphObject(
        id=object_id,
        type=object_type,
        account_id=ctx.account.id,
        parent_id=parent_id,
        fields=fields,
        created_time=ctx.now,
        updated_time=ctx.now,
    )


# --- campaigns --------------------------------------------------------------------------------


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


def _special_ad_categories(params: Params) -> list[str]:
    # Campaign reference: special_ad_categories is [required] (since v7.0); "Businesses whose
    # ads do not belong to a Special Ad Category must indicate NONE or send an empty array".
    categories = params.json("special_ad_categories", list, required=True)
    for index, category in enumerate(categories):
        if category not in SPECIAL_AD_CATEGORIES:
            raise errors.enum_param(f"special_ad_categories[{index}]", SPECIAL_AD_CATEGORIES)
    return categories


def create_campaign(ctx: Ctx, params: Params) -> Created:
    objective = check_objective(params.str("objective"), ctx.version)
    categories = _special_ad_categories(params)
    status = _create_status(params)
    buying_type = params.enum("buying_type", BUYING_TYPES) or "AUCTION"
    bid_strategy = params.enum("bid_strategy", BID_STRATEGIES)
    daily = _positive_budget(params, "daily_budget")
    lifetime = _positive_budget(params, "lifetime_budget")
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
    countries = params.json("special_ad_category_country", list)
    for index, country in enumerate(countries or []):
        if not (isinstance(country, str) and len(country) == 2 and country.isupper()):
            raise errors.GraphError(
                f"(#100) Param special_ad_category_country[{index}] must be a country code",
                code=100,
            )
    spend_cap = params.int("spend_cap")
    labels = _adlabels(ctx, params)
    promoted = params.json("promoted_object", dict)
    if validate_only(params):
        return Created({"success": True}, [])
    fields = _stored(params, skip={"status", "daily_budget", "lifetime_budget", "adlabels"})
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
    obj = ctx.state.add_object(_new_object(ctx, "campaign", None, fields))
    return Created({"id": obj.id}, [obj.id])


def campaign_budget(campaign: GraphObject) -> tuple[int | None, int | None]:
    return campaign.fields.get("daily_budget"), campaign.fields.get("lifetime_budget")


# --- ad sets ----------------------------------------------------------------------------------


_LOCATION_KEYS = (
    "countries",
    "regions",
    "cities",
    "zips",
    "places",
    "custom_locations",
    "geo_markets",
    "electoral_districts",
    "country_groups",
    "location_cluster_ids",
    "large_geo_areas",
    "medium_geo_areas",
    "small_geo_areas",
    "metro_areas",
    "neighborhoods",
    "subneighborhoods",
)


def _targeting(params: Params, required: bool = True) -> dict[str, Any] | None:
    targeting = params.json("targeting", dict, required=required)
    if targeting is None:
        return None
    geo = targeting.get("geo_locations")
    # Ad Set reference, targeting: "An ad set's targeting structure. "countries" is required."
    # (geo_locations with at least one location).
    if not isinstance(geo, dict) or not any(geo.get(key) for key in _LOCATION_KEYS):
        raise errors.invalid_parameter(
            "Location is required",
            "Your ad set's targeting needs geo_locations with at least one location, such as "
            "a country.",
            blame_fields=["targeting", "geo_locations"],
        )
    for index, country in enumerate(geo.get("countries") or []):
        if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
            raise errors.invalid_parameter(
                "Invalid country",
                f"targeting.geo_locations.countries[{index}] must be a two-letter country code.",
                blame_fields=["targeting", "geo_locations", "countries"],
            )
    for key in ("age_min", "age_max"):
        if key in targeting and not isinstance(targeting[key], int):
            raise errors.invalid_parameter(
                "Invalid age", f"targeting.{key} must be an integer.", blame_fields=["targeting"]
            )
    age_min = targeting.get("age_min", 18)
    age_max = targeting.get("age_max", 65)
    if not (13 <= age_min <= 65 and 13 <= age_max <= 65 and age_min <= age_max):
        raise errors.invalid_parameter(
            "Invalid age range",
            "age_min and age_max must be between 13 and 65, min <= max.",
            blame_fields=["targeting"],
        )
    return targeting


def _targets_eu(targeting: dict[str, Any]) -> bool:
    geo = targeting.get("geo_locations") or {}
    countries = {str(c).upper() for c in geo.get("countries") or []}
    regions = {
        str(r.get("country", "")).upper() for r in geo.get("regions") or [] if isinstance(r, dict)
    }
    cities = {
        str(c.get("country", "")).upper() for c in geo.get("cities") or [] if isinstance(c, dict)
    }
    groups = {str(g).lower() for g in geo.get("country_groups") or []}
    return bool((countries | regions | cities) & EU_COUNTRIES or groups & EU_COUNTRY_GROUPS)


def _check_dsa(ctx: Ctx, params: Params, targeting: dict[str, Any]) -> None:
    """Ad Set reference, "Targeting DSA Regulated Locations (EU)": dsa_payor and dsa_beneficiary
    are required (or the ad account's default_dsa_payor/default_dsa_beneficiary)."""
    if not _targets_eu(targeting):
        return
    if not (params.str("dsa_payor") or ctx.account.default_dsa_payor):
        raise errors.invalid_parameter(
            "No payor provided in DSA regulated region",
            "The DSA requires ads to provide payor information in regulated regions. "
            "Updating/creating ad needs to provide payor of the ad.",
            subcode=3858079,
            blame_fields=["dsa_payor"],
        )
    if not (params.str("dsa_beneficiary") or ctx.account.default_dsa_beneficiary):
        raise errors.invalid_parameter(
            "No payor/beneficiary provided in DSA regulated location",
            "The DSA requires ads to provide beneficiary information in regulated regions. "
            "Updating/creating ad needs to provide beneficiary of the ad.",
            subcode=3858081,
            blame_fields=["dsa_beneficiary"],
        )


def _check_promoted_object(objective: str, goal: str, promoted: dict[str, Any] | None) -> None:
    """Ad Set reference, promoted_object ("Required with certain campaign objectives") and the
    Campaign reference "Objective Mapping" table."""
    promoted = promoted or {}
    app = bool(promoted.get("application_id") and promoted.get("object_store_url"))
    pixel = bool(promoted.get("pixel_id") and promoted.get("custom_event_type"))
    event_type = promoted.get("custom_event_type")
    if event_type is not None and event_type not in CUSTOM_EVENT_TYPES:
        raise errors.enum_param("promoted_object[custom_event_type]", CUSTOM_EVENT_TYPES)
    needed: str | None = None
    if objective == "OUTCOME_APP_PROMOTION" and not app:
        needed = "application_id and object_store_url"
    elif (
        goal in ("OFFSITE_CONVERSIONS", "VALUE")
        and objective in ("OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_ENGAGEMENT")
        and not (pixel or app)
    ):
        needed = "pixel_id and custom_event_type (or application_id and object_store_url)"
    elif goal in ("LEAD_GENERATION", "QUALITY_LEAD", "PAGE_LIKES") and not promoted.get("page_id"):
        needed = "page_id"
    elif goal == "APP_INSTALLS" and not app:
        needed = "application_id and object_store_url"
    if needed:
        raise errors.invalid_parameter(
            "Promoted object required",
            f"An ad set optimizing for {goal} in a {objective} campaign needs a promoted_object "
            f"with {needed}.",
            blame_fields=["promoted_object"],
        )


def _check_schedule(
    daily: int | None,
    lifetime: int | None,
    start: float | None,
    end: float | None,
    now: float,
    campaign_lifetime: bool,
) -> None:
    if end is not None and start is not None and end <= start:
        raise errors.invalid_parameter(
            "Invalid schedule",
            "The ad set's end_time must be after its start_time.",
            blame_fields=["end_time"],
        )
    if (lifetime is not None or campaign_lifetime) and end is None:
        # Ad Set reference, end_time: "required when lifetime_budget is specified"; the
        # lifetime_budget parameter: "If specified, you must also specify an end_time".
        raise errors.invalid_parameter(
            "End time required",
            "An ad set with a lifetime budget needs an end_time.",
            blame_fields=["end_time"],
        )
    if daily is not None and end is not None and end - (start or now) <= 24 * 3600:
        # Ad Set reference, daily_budget: "allowed only for ad sets with a duration ... longer
        # than 24 hours".
        raise errors.invalid_parameter(
            "Schedule too short for a daily budget",
            "A daily budget is allowed only for ad sets that run longer than 24 hours.",
            blame_fields=["daily_budget"],
        )


def _check_minimum_budget(
    account: Account,
    billing_event: str,
    strategy: str,
    bid_amount: int | None,
    daily: int | None,
    lifetime: int | None,
    start: float | None,
    end: float | None,
    now: float,
) -> None:
    """Ad Set reference, "Bid/Budget Validations" (USD accounts only)."""
    if account.currency != "USD":
        return
    if strategy == "LOWEST_COST_WITH_BID_CAP" and bid_amount:
        factor = 1 if billing_event == "IMPRESSIONS" else 5
        minimum = bid_amount * factor
    else:
        minimum = USD_MIN_DAILY_BUDGET_CENTS.get(billing_event, 0)
    if not minimum:
        return
    if daily is not None:
        amount, required = daily, minimum
    elif lifetime is not None and end is not None:
        days = max(1, math.ceil((end - (start or now)) / 86400))
        amount, required = lifetime, minimum * days
    else:
        return
    if amount < required:
        raise errors.invalid_parameter(
            "Your Budget Is Too Low",
            f"The minimum budget for this ad set is ${required / 100:.2f}.",
            subcode=1885272,
            blame_fields=["daily_budget" if daily is not None else "lifetime_budget"],
        )


def effective_bid_strategy(adset_fields: dict[str, Any], campaign: GraphObject) -> str:
    daily, lifetime = campaign_budget(campaign)
    if daily is not None or lifetime is not None:
        return str(campaign.fields.get("bid_strategy") or "LOWEST_COST_WITH_BID_CAP")
    if adset_fields.get("bid_strategy"):
        return str(adset_fields["bid_strategy"])
    # Ad Set reference, bid_strategy: LOWEST_COST_WITH_BID_CAP "is set if you provide
    # bid_amount only"; otherwise lowest cost without cap.
    if adset_fields.get("bid_amount"):
        return "LOWEST_COST_WITH_BID_CAP"
    return "LOWEST_COST_WITHOUT_CAP"


def create_adset(ctx: Ctx, params: Params) -> Created:
    name = params.str("name", required=True)  # Ad Set reference: name [required]
    campaign_id = params.str("campaign_id", required=True)
    campaign = _owned(ctx, campaign_id, "campaign")
    if campaign is None or campaign.deleted:
        raise errors.invalid_parameter(
            "Invalid campaign",
            f"Campaign {campaign_id} does not exist in this ad account.",
            blame_fields=["campaign_id"],
        )
    live = [a for a in ctx.state.children(campaign.id, "adset") if not a.deleted]
    if len(live) >= MAX_ADSETS_PER_CAMPAIGN:
        raise errors.invalid_parameter(
            "Too many ad sets",
            "You can only create 200 ad sets per campaign.",
            blame_fields=["campaign_id"],
        )
    # billing_event and optimization_goal: the sandbox requires both (Graph refuses an ad set
    # without them; subcode 2446404 in client reports).
    billing_event = params.enum("billing_event", BILLING_EVENTS, required=True)
    goal = params.enum("optimization_goal", OPTIMIZATION_GOALS, required=True)
    objective = str(campaign.fields.get("objective"))
    allowed_goals = OPTIMIZATION_GOALS_BY_OBJECTIVE.get(objective)
    if allowed_goals is not None and goal not in allowed_goals:
        # Ad Set reference, "Outcome-Driven Ads Experiences, Restrictions" table.
        raise errors.invalid_parameter(
            "Performance goal unavailable",
            f"Optimization goal {goal} is not available for the {objective} objective. Use one "
            f"of: {', '.join(sorted(allowed_goals))}.",
            blame_fields=["optimization_goal"],
        )
    targeting = _targeting(params)
    assert targeting is not None
    status = _create_status(params)
    params.enum("destination_type", DESTINATION_TYPES)
    bid_strategy = params.enum("bid_strategy", BID_STRATEGIES)
    bid_amount = params.int("bid_amount")
    daily = _positive_budget(params, "daily_budget")
    lifetime = _positive_budget(params, "lifetime_budget")
    start = params.datetime("start_time")
    end_raw = params.str("end_time")
    end = None if end_raw in (None, "0") else params.datetime("end_time")
    camp_daily, camp_lifetime = campaign_budget(campaign)
    cbo = camp_daily is not None or camp_lifetime is not None
    if cbo and (daily is not None or lifetime is not None):
        # Campaign reference, daily_budget: "You can either set budget at the campaign level or
        # at the adset level, not both." Graph answers subcode 1885621.
        raise errors.invalid_parameter(
            "Budget conflict",
            "This campaign already has a campaign budget, so its ad sets can't have their own "
            "budget. Remove daily_budget/lifetime_budget from the ad set.",
            subcode=1885621,
            blame_fields=["daily_budget" if daily is not None else "lifetime_budget"],
        )
    if not cbo:
        if daily is not None and lifetime is not None:
            raise errors.invalid_parameter(
                "Only one budget type allowed",
                "Set either daily_budget or lifetime_budget on the ad set, not both.",
                blame_fields=["lifetime_budget"],
            )
        if daily is None and lifetime is None:
            # Ad Set reference: "Either daily_budget or lifetime_budget must be greater than 0."
            raise errors.invalid_parameter(
                "Budget required",
                "Either daily_budget or lifetime_budget must be greater than 0.",
                blame_fields=["daily_budget"],
            )
    _check_schedule(
        daily, lifetime, start, end, ctx.now, campaign_lifetime=camp_lifetime is not None
    )
    if bid_amount is not None and bid_amount <= 0:
        raise errors.invalid_parameter(
            "Invalid bid amount",
            "bid_amount must be a positive integer.",
            blame_fields=["bid_amount"],
        )
    strategy = effective_bid_strategy(
        {"bid_strategy": bid_strategy, "bid_amount": bid_amount}, campaign
    )
    if strategy in BID_AMOUNT_STRATEGIES and bid_amount is None:
        # Ad Set reference, bid_amount: "required if bid_strategy is set to
        # LOWEST_COST_WITH_BID_CAP or COST_CAP" (Graph subcode 1815857).
        raise errors.invalid_parameter(
            "Bid amount required",
            f"Your bid strategy is {strategy}, which needs a bid_amount on the ad set.",
            subcode=1815857,
            blame_fields=["bid_amount"],
        )
    promoted = params.json("promoted_object", dict)
    _check_promoted_object(objective, goal, promoted)
    _check_dsa(ctx, params, targeting)
    _check_minimum_budget(
        ctx.account, billing_event, strategy, bid_amount, daily, lifetime, start, end, ctx.now
    )
    labels = _adlabels(ctx, params)
    if validate_only(params):
        return Created({"success": True}, [])
    fields = _stored(
        params,
        skip={
            "status",
            "daily_budget",
            "lifetime_budget",
            "adlabels",
            "start_time",
            "end_time",
            "bid_amount",
        },
    )
    fields.update(
        {
            "account_id": ctx.account.id,
            "campaign_id": campaign.id,
            "name": name,
            "status": status,
            "billing_event": billing_event,
            "optimization_goal": goal,
            "targeting": targeting,
            "bid_strategy": strategy,
            "start_time": start if start is not None else ctx.now,
        }
    )
    for key, value in (
        ("daily_budget", daily),
        ("lifetime_budget", lifetime),
        ("bid_amount", bid_amount),
        ("end_time", end),
        ("adlabels", labels),
    ):
        if value is not None:
            fields[key] = value
    obj = ctx.state.add_object(_new_object(ctx, "adset", campaign.id, fields))
    return Created({"id": obj.id}, [obj.id])


# --- ad creatives -----------------------------------------------------------------------------


def _check_page(ctx: Ctx, page_id: Any, where: str) -> None:
    if not str(page_id).isdigit():
        raise errors.invalid_parameter(
            "Invalid Page",
            f"{where} must be the numeric id of a Facebook Page.",
            blame_fields=[where],
        )
    pages = ctx.token.page_ids
    if pages and str(page_id) not in pages:
        raise errors.invalid_parameter(
            "Invalid Page",
            f"Page {page_id} can't be used: the access token has no ADVERTISE task on it.",
            blame_fields=[where],
        )


def _check_image_hash(ctx: Ctx, image_hash: Any, where: str) -> None:
    image = ctx.state.get_object(f"{ctx.account.id}:{image_hash}")
    if image is None or image.deleted:
        raise errors.invalid_parameter(
            "Image not found",
            f"Image hash {image_hash} ({where}) is not in this ad account's image library. "
            "Upload it to /adimages first.",
            blame_fields=[where],
        )


def _check_video(ctx: Ctx, video_id: Any, where: str) -> None:
    video = _owned(ctx, video_id, "advideo")
    if video is None or video.deleted:
        raise errors.invalid_parameter(
            "Video not found",
            f"Video {video_id} ({where}) is not in this ad account.",
            blame_fields=[where],
        )
    if video_status(ctx.state, video, ctx.now) != "ready":
        raise errors.invalid_parameter(
            "Video not ready",
            f"Video {video_id} is still being processed. Wait until its status is ready.",
            blame_fields=[where],
        )


def _check_call_to_action(cta: Any, where: str) -> None:
    if cta is None:
        return
    if not isinstance(cta, dict) or cta.get("type") not in CALL_TO_ACTION_TYPES:
        raise errors.enum_param(f"{where}[type]", sorted(CALL_TO_ACTION_TYPES))


def _check_story_spec(ctx: Ctx, spec: dict[str, Any]) -> None:
    # Ad Creative reference, object_story_spec: "The Page ID and the content to create a new
    # unpublished page post. Specify link_data, photo_data, video_data, text_data or
    # template_data with the content."
    if not spec.get("page_id"):
        raise errors.required_param("object_story_spec[page_id]")
    _check_page(ctx, spec["page_id"], "object_story_spec[page_id]")
    kinds = [
        k
        for k in ("link_data", "photo_data", "video_data", "text_data", "template_data")
        if spec.get(k) is not None
    ]
    if len(kinds) != 1:
        raise errors.invalid_parameter(
            "Invalid object story spec",
            "object_story_spec needs exactly one of link_data, photo_data, video_data, "
            "text_data or template_data.",
            blame_fields=["object_story_spec"],
        )
    kind = kinds[0]
    data = spec[kind]
    if not isinstance(data, dict):
        raise errors.not_json(f"object_story_spec[{kind}]", "object")
    where = f"object_story_spec[{kind}]"
    if kind == "link_data":
        if not data.get("link") and not data.get("child_attachments"):
            raise errors.required_param(f"{where}[link]")
        if data.get("image_hash"):
            _check_image_hash(ctx, data["image_hash"], f"{where}[image_hash]")
        for index, child in enumerate(data.get("child_attachments") or []):
            child_where = f"{where}[child_attachments][{index}]"
            if not isinstance(child, dict) or not child.get("link"):
                raise errors.required_param(f"{child_where}[link]")
            if child.get("image_hash"):
                _check_image_hash(ctx, child["image_hash"], f"{child_where}[image_hash]")
            if child.get("video_id"):
                _check_video(ctx, child["video_id"], f"{child_where}[video_id]")
        _check_call_to_action(data.get("call_to_action"), f"{where}[call_to_action]")
    elif kind == "photo_data":
        if data.get("image_hash"):
            _check_image_hash(ctx, data["image_hash"], f"{where}[image_hash]")
        elif not data.get("url"):
            raise errors.required_param(f"{where}[image_hash]")
    elif kind == "video_data":
        if not data.get("video_id"):
            raise errors.required_param(f"{where}[video_id]")
        _check_video(ctx, data["video_id"], f"{where}[video_id]")
        # A video creative needs a thumbnail (video_data.image_url or image_hash; see the
        # "Video Page Like ad" example in the Ad Creative reference).
        if data.get("image_hash"):
            _check_image_hash(ctx, data["image_hash"], f"{where}[image_hash]")
        elif not data.get("image_url"):
            raise errors.invalid_parameter(
                "Video thumbnail required",
                "video_data needs a thumbnail: image_url or image_hash.",
                blame_fields=[where, "image_url"],
            )
        _check_call_to_action(data.get("call_to_action"), f"{where}[call_to_action]")


def _creative_signature(params: Params) -> str:
    content = {k: v for k, v in params.values.items() if k not in CONTROL_PARAMS}
    for key, value in list(content.items()):
        if isinstance(value, str) and (key in JSON_OBJECT_PARAMS or key in JSON_LIST_PARAMS):
            with contextlib.suppress(ValueError):
                content[key] = json.loads(value)
    return json.dumps(content, sort_keys=True, default=str)


def create_creative(ctx: Ctx, params: Params) -> Created:
    spec = params.json("object_story_spec", dict)
    story_id = params.str("object_story_id")
    feed = params.json("asset_feed_spec", dict)
    if spec is None and story_id is None and feed is None:
        raise errors.invalid_parameter(
            "Creative content required",
            "An ad creative needs object_story_spec, object_story_id or asset_feed_spec.",
            blame_fields=["object_story_spec"],
        )
    if spec is not None:
        if feed is not None:
            # With asset_feed_spec, object_story_spec only names the page (and identity).
            if not spec.get("page_id"):
                raise errors.required_param("object_story_spec[page_id]")
            _check_page(ctx, spec["page_id"], "object_story_spec[page_id]")
        else:
            _check_story_spec(ctx, spec)
    if story_id is not None and "_" not in story_id:
        raise errors.invalid_parameter(
            "Invalid post",
            "object_story_id must look like <page id>_<post id>.",
            blame_fields=["object_story_id"],
        )
    for index, image in enumerate((feed or {}).get("images") or []):
        if isinstance(image, dict) and image.get("hash"):
            _check_image_hash(ctx, image["hash"], f"asset_feed_spec[images][{index}][hash]")
    for index, video in enumerate((feed or {}).get("videos") or []):
        if isinstance(video, dict) and video.get("video_id"):
            _check_video(ctx, video["video_id"], f"asset_feed_spec[videos][{index}][video_id]")
    params.enum("call_to_action_type", tuple(sorted(CALL_TO_ACTION_TYPES)))
    labels = _adlabels(ctx, params)
    if validate_only(params):
        return Created({"success": True}, [])
    # Ad Creative reference, "Creating": "If you try to add an creative that isn't unique, we do
    # not generate it and return the creative ID of the existing ad creative."
    signature = _creative_signature(params)
    existing = ctx.state.get_object(
        ctx.state.creative_signatures.get((ctx.account.id, signature), "")
    )
    if existing is not None and not existing.deleted:
        return Created({"id": existing.id}, [])
    fields = _stored(params, skip={"adlabels"})
    fields.update({"account_id": ctx.account.id, "status": "ACTIVE"})
    if params.str("name") is not None:
        fields["name"] = params.str("name")
    if labels is not None:
        fields["adlabels"] = labels
    obj = _new_object(ctx, "adcreative", None, fields)
    page_id = (spec or {}).get("page_id")
    if spec is not None:
        obj.fields["actor_id"] = str(page_id)
        content = next(
            (
                spec[k]
                for k in ("link_data", "photo_data", "video_data")
                if isinstance(spec.get(k), dict)
            ),
            {},
        )
        if content.get("image_hash"):
            obj.fields["image_hash"] = content["image_hash"]
        if content.get("video_id"):
            obj.fields["video_id"] = str(content["video_id"])
        cta = content.get("call_to_action")
        if isinstance(cta, dict) and cta.get("type"):
            obj.fields["call_to_action_type"] = cta["type"]
        obj.fields["effective_object_story_id"] = f"{page_id}_{obj.id[-9:]}"
    elif story_id is not None:
        obj.fields["effective_object_story_id"] = story_id
    ctx.state.creative_signatures[(ctx.account.id, signature)] = obj.id
    ctx.state.add_object(obj)
    return Created({"id": obj.id}, [obj.id])


# --- ads ----------------------------------------------------------------------------------------


def create_ad(ctx: Ctx, params: Params) -> Created:
    name = params.str("name", required=True)  # Ad Account Ads reference: name [required]
    adset_id = params.str("adset_id", required=True)  # "The ID of the ad set, required on creation"
    adset = _owned(ctx, adset_id, "adset")
    if adset is None or adset.deleted:
        raise errors.invalid_parameter(
            "Invalid ad set",
            f"Ad set {adset_id} does not exist in this ad account.",
            blame_fields=["adset_id"],
        )
    if params.present("bid_amount"):
        # Ad Account Ads reference, bid_amount: "Deprecated. We no longer allow setting the
        # bid_amount value on an ad. Please set bid_amount for the ad set."
        raise errors.invalid_parameter(
            "bid_amount not allowed on ads",
            "We no longer allow setting the bid_amount value on an ad. Please set bid_amount "
            "for the ad set.",
            blame_fields=["bid_amount"],
        )
    creative_spec = params.json("creative", dict, required=True)  # creative [required]
    status = _create_status(params)
    live = [
        a
        for a in ctx.state.children(adset.id, "ad")
        if not a.deleted and a.fields.get("status") != "ARCHIVED"
    ]
    if len(live) >= MAX_ADS_PER_ADSET:
        raise errors.invalid_parameter(
            "Too many ads in ad set",
            "An ad set can hold at most 50 non-archived ads.",
            blame_fields=["adset_id"],
        )
    labels = _adlabels(ctx, params)
    created_ids: list[str] = []
    if "creative_id" in creative_spec:
        creative = _owned(ctx, creative_spec["creative_id"], "adcreative")
        if creative is None or creative.deleted:
            raise errors.invalid_parameter(
                "Invalid creative",
                f"Creative {creative_spec['creative_id']} does not exist in this ad account.",
                blame_fields=["creative", "creative_id"],
            )
        creative_id = creative.id
    else:
        # "You may supply the ID within an object ... or creative spec" (ads reference).
        inline = creative_spec.get("creative", creative_spec)
        if not isinstance(inline, dict):
            raise errors.not_json("creative", "object")
        if validate_only(params):
            return Created({"success": True}, [])
        made = create_creative(ctx, Params(dict(inline)))
        creative_id = made.body["id"]
        created_ids.extend(made.ids)
    if validate_only(params):
        return Created({"success": True}, [])
    fields = _stored(params, skip={"status", "adlabels", "creative"})
    fields.update(
        {
            "account_id": ctx.account.id,
            "adset_id": adset.id,
            "campaign_id": adset.parent_id,
            "name": name,
            "status": status,
            "creative": {"id": creative_id},
        }
    )
    if labels is not None:
        fields["adlabels"] = labels
    obj = ctx.state.add_object(_new_object(ctx, "ad", adset.id, fields))
    return Created({"id": obj.id}, [*created_ids, obj.id])


# --- images -------------------------------------------------------------------------------------


def _store_image(ctx: Ctx, name: str, data: bytes) -> dict[str, Any]:
    fmt = image_format(data)
    if fmt is None:
        # Ad Image reference: images must be image files (JPG, PNG, GIF, BMP, WebP...).
        raise errors.invalid_parameter(
            "Image Resize Failed",
            f"Could not read {name!r} as an image: it is not a JPEG, PNG, GIF, BMP or WebP file.",
            blame_fields=["bytes"],
        )
    width, height = image_size(data, fmt)
    image_hash = hashlib.md5(data).hexdigest()  # noqa: S324 - Meta's image hash is an MD5
    image_id = f"{ctx.account.id}:{image_hash}"
    url = f"{ctx.origin}/__sandbox__/media/images/{image_hash}.{fmt}"
    existing = ctx.state.get_object(image_id)
    if existing is None:
        obj = GraphObject(
            id=image_id,
            type="adimage",
            account_id=ctx.account.id,
            parent_id=None,
            fields={},
            created_time=ctx.now,
            updated_time=ctx.now,
            blob=data,
        )
        ctx.state.add_object(obj)
    else:
        obj = existing
        obj.deleted = False
        obj.updated_time = ctx.now
    obj.fields.update(
        {
            "id": image_id,
            "account_id": ctx.account.id,
            "hash": image_hash,
            "name": name,
            "url": url,
            "url_128": url,
            "permalink_url": url,
            "width": width,
            "height": height,
            "original_width": width,
            "original_height": height,
            "status": "ACTIVE",
        }
    )
    return {
        "hash": image_hash,
        "url": url,
        "url_128": url,
        "url_256": url,
        "url_256_height": str(min(height, 256)),
        "url_256_width": str(min(width, 256)),
        "height": height,
        "width": width,
        "name": name,
    }


def create_images(ctx: Ctx, params: Params, files: dict[str, UploadedFile]) -> Created:
    """POST /act_<id>/adimages (Ad Account Ad Images reference): multipart files or ``bytes``
    (base64); answers ``{"images": {"<name>": {"hash", "url", ...}}}``; the hash is the MD5 of
    the bytes, so uploading the same image again returns the same hash."""
    images: dict[str, Any] = {}
    created: list[str] = []
    for upload in files.values():
        key = upload.filename or upload.field
        before = ctx.state.get_object(f"{ctx.account.id}:{hashlib.md5(upload.content).hexdigest()}")  # noqa: S324
        images[key] = _store_image(ctx, key, upload.content)
        if before is None:
            created.append(f"{ctx.account.id}:{images[key]['hash']}")
    encoded = params.str("bytes")
    if encoded is not None:
        try:
            data = base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError):
            raise errors.invalid_parameter(
                "Invalid image",
                "bytes must be the base64-encoded image file.",
                blame_fields=["bytes"],
            ) from None
        image_hash = hashlib.md5(data).hexdigest()  # noqa: S324
        before = ctx.state.get_object(f"{ctx.account.id}:{image_hash}")
        images["bytes"] = _store_image(ctx, "bytes", data)
        if before is None:
            created.append(f"{ctx.account.id}:{image_hash}")
    copy_from = params.json("copy_from", dict)
    if copy_from is not None:
        source_account = str(copy_from.get("source_account_id", "")).removeprefix("act_")
        source = ctx.state.get_object(f"{source_account}:{copy_from.get('hash')}")
        if source is None or source_account not in ctx.token.account_ids or source.blob is None:
            raise errors.invalid_parameter(
                "Image not found",
                "copy_from names an image this token can't read.",
                blame_fields=["copy_from"],
            )
        images[str(copy_from.get("hash"))] = _store_image(
            ctx, str(source.fields.get("name")), source.blob
        )
    if not images:
        raise errors.invalid_parameter(
            "No image",
            "Send the image as a multipart file, as base64 in bytes, or copy_from.",
            blame_fields=["bytes"],
        )
    return Created({"images": images}, created)


# --- videos -------------------------------------------------------------------------------------


def video_status(state: SandboxState, video: GraphObject, now: float) -> str:
    if video.extra.get("error"):
        return "error"
    started = video.extra.get("processing_started")
    if started is None:
        return "processing"
    ready_after = video.extra.get("ready_after", state.config.video_ready_after)
    return "ready" if now >= started + ready_after else "processing"


def video_status_field(state: SandboxState, video: GraphObject, now: float) -> dict[str, Any]:
    """The shape of a Video's ``status`` field: ``video_status`` plus per-phase statuses."""
    status = video_status(state, video, now)
    uploaded = video.extra.get("processing_started") is not None
    transferred = video.extra.get("bytes_transferred", 0)
    phases = {
        "uploading_phase": {
            "status": "complete" if uploaded else "in_progress",
            "bytes_transferred": transferred,
        },
        "processing_phase": {
            "status": {"ready": "complete", "error": "error"}.get(
                status, "in_progress" if uploaded else "not_started"
            )
        },
        "publishing_phase": {"status": "complete" if status == "ready" else "not_started"},
    }
    if status == "error":
        phases["processing_phase"]["errors"] = [
            {"code": 1363008, "message": "The video could not be processed (sandbox marker)."}
        ]
    return {"video_status": status, **phases}


def _new_video(ctx: Ctx, params: Params, **extra: Any) -> GraphObject:
    title = params.str("title") or params.str("name")
    fields: dict[str, Any] = {}
    if title is not None:
        fields["title"] = title
    if params.str("description") is not None:
        fields["description"] = params.str("description")
    video = _new_object(ctx, "advideo", None, fields)
    video.extra.update(extra)
    if title and "[sandbox:video_error]" in title:
        video.extra["error"] = True
    return video


def upload_video(ctx: Ctx, params: Params, files: dict[str, UploadedFile]) -> Created:
    """POST /act_<id>/advideos (Ad Videos reference): ``file_url``, ``source`` as multipart, or a
    chunked upload (``upload_phase`` start/transfer/finish/cancel with ``file_size``,
    ``upload_session_id``, ``start_offset``, ``video_file_chunk``)."""
    phase = params.enum("upload_phase", ("start", "transfer", "finish", "cancel"))
    file_url = params.str("file_url")
    if phase is not None and file_url is not None:
        # Video reference, file_url: "Accessible URL of a video file. Cannot be used with
        # upload_phase."
        raise errors.invalid_parameter(
            "file_url with upload_phase",
            "file_url cannot be used with upload_phase.",
            blame_fields=["file_url"],
        )
    if phase == "start":
        return _chunk_start(ctx, params)
    if phase is not None:
        return _chunk_continue(ctx, params, files, phase)
    if file_url is not None:
        if not file_url.startswith(("http://", "https://")):
            raise errors.GraphError("(#389) Unable to fetch video file from URL.", code=389)
        # The sandbox records the URL and never fetches it (the network here is closed).
        video = _new_video(ctx, params, file_url=file_url, processing_started=ctx.now)
        ctx.state.add_object(video)
        return Created({"id": video.id}, [video.id])
    upload = files.get("source") or next(iter(files.values()), None)
    if upload is None:
        raise errors.invalid_parameter(
            "No video",
            "Send the video as source (multipart), file_url, or a chunked upload.",
            blame_fields=["source"],
        )
    if not is_video(upload.content):
        raise errors.GraphError(
            "(#352) The video file you selected is in a format that we don't support.", code=352
        )
    video = _new_video(
        ctx, params, processing_started=ctx.now, bytes_transferred=len(upload.content)
    )
    video.blob = upload.content
    ctx.state.add_object(video)
    return Created({"id": video.id}, [video.id])


def _chunk_start(ctx: Ctx, params: Params) -> Created:
    size = params.int("file_size", required=True)
    assert size is not None
    if size <= 0:
        raise errors.GraphError(
            "(#382) The video file you tried to upload is too small. Please try again with a "
            "larger file.",
            code=382,
        )
    video = _new_video(ctx, params, bytes_transferred=0)
    ctx.state.add_object(video)
    session_id = ctx.state.new_upload_session_id()
    end = min(size, ctx.state.config.video_chunk_size)
    ctx.state.upload_sessions[session_id] = {
        "video_id": video.id,
        "account_id": ctx.account.id,
        "size": size,
        "data": bytearray(),
    }
    return Created(
        {
            "video_id": video.id,
            "upload_session_id": session_id,
            "start_offset": "0",
            "end_offset": str(end),
        },
        [video.id],
    )


def _chunk_continue(
    ctx: Ctx, params: Params, files: dict[str, UploadedFile], phase: str
) -> Created:
    session_id = params.str("upload_session_id", required=True)
    session = ctx.state.upload_sessions.get(str(session_id))
    if session is None or session["account_id"] != ctx.account.id:
        raise errors.invalid_parameter(
            "Invalid upload session",
            f"Upload session {session_id} does not exist.",
            blame_fields=["upload_session_id"],
        )
    video = ctx.state.objects[session["video_id"]]
    received: bytearray = session["data"]
    size: int = session["size"]
    if phase == "cancel":
        video.deleted = True
        del ctx.state.upload_sessions[str(session_id)]
        return Created({"success": True}, [])
    if phase == "transfer":
        start = params.int("start_offset", required=True)
        upload = files.get("video_file_chunk") or next(iter(files.values()), None)
        if upload is None:
            raise errors.required_param("video_file_chunk")
        if start != len(received) or start + len(upload.content) > size:
            # The SDK's VideoUploadTransferRequestManager resumes on subcode 1363037 from
            # error_data.start_offset/end_offset; the sandbox answers the same way.
            expected_end = min(size, len(received) + ctx.state.config.video_chunk_size)
            raise errors.GraphError(
                "Invalid parameter",
                code=100,
                subcode=1363037,
                user_title="Chunk offset mismatch",
                user_msg=f"Expected the chunk starting at byte {len(received)}.",
                error_data={"start_offset": len(received), "end_offset": expected_end},
            )
        received.extend(upload.content)
        video.extra["bytes_transferred"] = len(received)
        new_start = len(received)
        new_end = min(size, new_start + ctx.state.config.video_chunk_size)
        return Created({"start_offset": str(new_start), "end_offset": str(new_end)}, [])
    # finish
    if len(received) != size:
        raise errors.invalid_parameter(
            "Upload incomplete",
            f"Received {len(received)} of {size} bytes; transfer the rest before finishing.",
            blame_fields=["upload_phase"],
        )
    if not is_video(bytes(received)):
        raise errors.GraphError(
            "(#352) The video file you selected is in a format that we don't support.", code=352
        )
    title = params.str("title") or params.str("name")
    if title is not None:
        video.fields["title"] = title
        if "[sandbox:video_error]" in title:
            video.extra["error"] = True
    video.blob = bytes(received)
    video.extra["processing_started"] = ctx.now
    video.updated_time = ctx.now
    del ctx.state.upload_sessions[str(session_id)]
    return Created({"success": True}, [])


# --- updates and deletes ------------------------------------------------------------------------

UPDATABLE: dict[str, frozenset[str]] = {
    # Ad Creative reference, "Updating": account_id, adlabels, name, status.
    "adcreative": frozenset({"account_id", "adlabels", "name", "status"}),
    "advideo": frozenset({"name", "title", "description"}),
}


def update_object(ctx: Ctx, obj: GraphObject, params: Params) -> dict[str, Any]:
    changes = {k for k in params.values if k not in CONTROL_PARAMS}
    if obj.deleted or obj.fields.get("status") == "DELETED":
        # Ad Set reference, "Remarks": "A deleted ad set can only change its name."
        if changes - {"name"}:
            raise errors.invalid_parameter(
                "Object deleted",
                "A deleted object can only change its name.",
                blame_fields=sorted(changes - {"name"}),
            )
    elif obj.fields.get("status") == "ARCHIVED" and changes - {"name", "status"}:
        # "An archived ad set can only update two fields: name and campaign_status."
        raise errors.invalid_parameter(
            "Object archived",
            "An archived object can only change its name and status.",
            blame_fields=sorted(changes - {"name", "status"}),
        )
    allowed = UPDATABLE.get(obj.type)
    if allowed is not None and changes - allowed:
        raise errors.invalid_parameter(
            "Field can't be updated",
            f"These fields can't be changed on an existing {obj.type}: "
            f"{', '.join(sorted(changes - allowed))}.",
            blame_fields=sorted(changes - allowed),
        )
    statuses = CREATIVE_STATUSES if obj.type == "adcreative" else STATUSES
    status = params.enum("status", statuses)
    labels = _adlabels(ctx, params)
    new_fields = _stored(
        params,
        skip={
            "status",
            "adlabels",
            "daily_budget",
            "lifetime_budget",
            "bid_amount",
            "start_time",
            "end_time",
            "creative",
        },
    )
    if obj.type == "campaign":
        if params.present("objective"):
            check_objective(params.str("objective"), ctx.version)
        if params.present("special_ad_categories"):
            new_fields["special_ad_categories"] = _special_ad_categories(params)
        params.enum("bid_strategy", BID_STRATEGIES)
        _update_budgets(ctx, obj, params, new_fields, adset=False)
    elif obj.type == "adset":
        campaign = ctx.state.objects[str(obj.parent_id)]
        if params.present("targeting"):
            targeting = _targeting(params)
            assert targeting is not None
            new_fields["targeting"] = targeting
            _check_dsa(ctx, params, targeting)
        params.enum("billing_event", BILLING_EVENTS)
        goal = params.enum("optimization_goal", OPTIMIZATION_GOALS)
        allowed_goals = OPTIMIZATION_GOALS_BY_OBJECTIVE.get(str(campaign.fields.get("objective")))
        if goal and allowed_goals is not None and goal not in allowed_goals:
            raise errors.invalid_parameter(
                "Performance goal unavailable",
                f"Optimization goal {goal} is not available for this campaign's objective.",
                blame_fields=["optimization_goal"],
            )
        params.enum("bid_strategy", BID_STRATEGIES)
        bid_amount = params.int("bid_amount")
        if bid_amount is not None:
            new_fields["bid_amount"] = bid_amount
        for key in ("start_time", "end_time"):
            if params.present(key):
                raw = params.str(key)
                new_fields[key] = None if raw == "0" else params.datetime(key)
        _update_budgets(ctx, obj, params, new_fields, adset=True, campaign=campaign)
        merged = {**obj.fields, **new_fields}
        strategy = effective_bid_strategy(merged, campaign)
        if strategy in BID_AMOUNT_STRATEGIES and not merged.get("bid_amount"):
            raise errors.invalid_parameter(
                "Bid amount required",
                f"Your bid strategy is {strategy}, which needs a bid_amount on the ad set.",
                subcode=1815857,
                blame_fields=["bid_amount"],
            )
    elif obj.type == "ad" and params.present("creative"):
        spec = params.json("creative", dict)
        creative = _owned(ctx, (spec or {}).get("creative_id"), "adcreative")
        if creative is None or creative.deleted:
            raise errors.invalid_parameter(
                "Invalid creative",
                "creative.creative_id must name a creative of this account.",
                blame_fields=["creative"],
            )
        new_fields["creative"] = {"id": creative.id}
    if validate_only(params):
        return {"success": True}
    obj.fields.update(new_fields)
    if status is not None:
        if status == "DELETED":
            delete_object(ctx.state, obj, ctx.now)
        else:
            obj.fields["status"] = status
    if labels is not None:
        obj.fields["adlabels"] = labels
    obj.updated_time = ctx.now
    return {"success": True}


def _update_budgets(
    ctx: Ctx,
    obj: GraphObject,
    params: Params,
    new_fields: dict[str, Any],
    *,
    adset: bool,
    campaign: GraphObject | None = None,
) -> None:
    touched = [name for name in BUDGET_FIELDS if params.present(name)]
    if not touched:
        return
    values = {name: _positive_budget(params, name) for name in touched}
    if adset and campaign is not None:
        daily, lifetime = campaign_budget(campaign)
        if daily is not None or lifetime is not None:
            raise errors.invalid_parameter(
                "Budget conflict",
                "This campaign already has a campaign budget, so its ad sets can't have their "
                "own budget.",
                subcode=1885621,
                blame_fields=touched,
            )
        changes = ctx.state.budget_changes.setdefault(obj.id, deque())
        while changes and changes[0] <= ctx.now - 3600:
            changes.popleft()
        if len(changes) >= BUDGET_CHANGES_PER_HOUR:
            raise errors.user_request_limit()
        changes.append(ctx.now)
    if not adset:
        with_budgets = [
            a
            for a in ctx.state.children(obj.id, "adset")
            if not a.deleted and (a.fields.get("daily_budget") or a.fields.get("lifetime_budget"))
        ]
        if with_budgets and any(values.values()):
            raise errors.invalid_parameter(
                "Budget conflict",
                "Ad sets of this campaign have their own budgets; move them to the campaign with "
                "adset_budgets or remove them first.",
                subcode=1885621,
                blame_fields=touched,
            )
    for name, value in values.items():
        if value is None:
            obj.fields.pop(name, None)
            new_fields.pop(name, None)
        else:
            new_fields[name] = value


def delete_object(state: SandboxState, obj: GraphObject, now: float) -> None:
    """DELETE /<id>: the object keeps answering reads by id with status DELETED (Marketing API
    best practices, "Object Archive and Delete Status"); children go with it."""
    obj.deleted = True
    obj.fields["status"] = "DELETED"
    obj.updated_time = now
    if obj.type in ("campaign", "adset"):
        for child in state.children(obj.id):
            if not child.deleted:
                delete_object(state, child, now)
