"""Creating ad sets, with the checks Meta documents for each field (targeting: targeting.py).

Each rule names its source. Pages are on developers.facebook.com/docs/marketing-api/ unless a
full URL is given:
- Ad set: reference/ad-campaign ("Creating", "Considerations", DSA, "Outcome-Driven Ads
  Experiences").
- Advantage+ audience (v23.0, v26.0): audience.py.
- existing_customer_budget_percentage (v25.0):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/advantage-campaigns.md
"""

from __future__ import annotations

import math
from typing import Any

from . import errors
from .audience import apply_advantage_audience
from .campaigns import campaign_budget
from .enums import (
    BID_AMOUNT_STRATEGIES,
    BID_STRATEGIES,
    BILLING_EVENTS,
    CUSTOM_EVENT_TYPES,
    DESTINATION_TYPES,
    OPTIMIZATION_GOALS,
    OPTIMIZATION_GOALS_BY_OBJECTIVE,
)
from .params import Params
from .state import Account, GraphObject
from .targeting import check_dsa, check_targeting_optimization, parse_targeting
from .writes import (
    Created,
    Ctx,
    adlabels,
    create_status,
    new_object,
    owned,
    positive_budget,
    stored,
    validate_only,
)

MAX_ADSETS_PER_CAMPAIGN = 200  # Campaign reference, "Limits"

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
    campaign = owned(ctx, campaign_id, "campaign")
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
    if params.present("existing_customer_budget_percentage") and ctx.version >= (25, 0):
        # Advantage+ campaigns guide: "The existing_customer_budget_percentage field is not
        # available for new Advantage+ campaigns" ("deprecated at the same time as the ASC API
        # in v25.0").
        raise errors.invalid_parameter(
            "existing_customer_budget_percentage is no longer available",
            "The existing_customer_budget_percentage field is not available for new ad sets "
            "from v25.0: Advantage+ shopping campaigns can no longer be created.",
            blame_fields=["existing_customer_budget_percentage"],
        )
    targeting = parse_targeting(params, ctx.version)
    assert targeting is not None
    targeting = apply_advantage_audience(targeting, campaign, ctx.version)
    check_targeting_optimization(targeting, goal)
    status = create_status(params)
    params.enum("destination_type", DESTINATION_TYPES)
    bid_strategy = params.enum("bid_strategy", BID_STRATEGIES)
    bid_amount = params.int("bid_amount")
    daily = positive_budget(params, "daily_budget")
    lifetime = positive_budget(params, "lifetime_budget")
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
    check_dsa(ctx, params, targeting)
    _check_minimum_budget(
        ctx.account, billing_event, strategy, bid_amount, daily, lifetime, start, end, ctx.now
    )
    labels = adlabels(ctx, params)
    if validate_only(params):
        return Created({"success": True}, [])
    fields = stored(
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
    obj = ctx.state.add_object(new_object(ctx, "adset", campaign.id, fields))
    return Created({"id": obj.id}, [obj.id])
