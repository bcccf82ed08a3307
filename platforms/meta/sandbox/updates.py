"""Updating and deleting ad objects (POST and DELETE /<id>), with the rules Meta documents.

Sources, named at each rule: the Ad Set reference ("Remarks": what a deleted or archived object
may still change), the Ad Creative reference ("Updating"), Marketing API rate limiting ("Ad Set
Level Rate Limiting") and the Marketing API best practices ("Object Archive and Delete Status").
"""

from __future__ import annotations

from collections import deque
from typing import Any

from . import errors
from .adsets import effective_bid_strategy
from .campaigns import (
    campaign_budget,
    check_objective,
    special_ad_categories,
    special_ad_category_country,
)
from .enums import (
    BID_AMOUNT_STRATEGIES,
    BID_STRATEGIES,
    BILLING_EVENTS,
    CREATIVE_STATUSES,
    OPTIMIZATION_GOALS,
    OPTIMIZATION_GOALS_BY_OBJECTIVE,
    STATUSES,
)
from .params import Params
from .polls import refuse_poll
from .review import ADSET_REVIEW_FIELDS, review_adset_ads, start_review
from .state import GraphObject, SandboxState
from .stories import refuse_instagram_actor_id
from .targeting import check_dsa, check_targeting_optimization, parse_targeting
from .writes import CONTROL_PARAMS, Ctx, adlabels, owned, positive_budget, stored, validate_only

BUDGET_FIELDS = ("daily_budget", "lifetime_budget")
# Marketing API rate limiting, "Ad Set Level Rate Limiting": 4 budget changes per hour.
BUDGET_CHANGES_PER_HOUR = 4
BUDGET_WINDOW_SECONDS = 3600.0


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
    elif obj.fields.get("status") == "ARCHIVED":
        if changes - {"name", "status"}:
            # "An archived ad set can only update two fields: name and campaign_status."
            raise errors.invalid_parameter(
                "Object archived",
                "An archived object can only change its name and status.",
                blame_fields=sorted(changes - {"name", "status"}),
            )
        if params.present("status") and params.str("status") not in ("ARCHIVED", "DELETED"):
            # Manage your ad object's status (best practices), "Archived": "An ARCHIVED object
            # has only two fields you can change: name and status. You can also only change
            # status to DELETED."
            raise errors.invalid_parameter(
                "Object archived",
                "An archived object can't be set back to ACTIVE or PAUSED; its status can only "
                "change to DELETED.",
                blame_fields=["status"],
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
    labels = adlabels(ctx, params)
    new_fields = stored(
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
            categories = special_ad_categories(params)
            if params.present("special_ad_category_country") or not obj.fields.get(
                "special_ad_category_country"
            ):
                special_ad_category_country(params, categories)
            new_fields["special_ad_categories"] = categories
        params.enum("bid_strategy", BID_STRATEGIES)
        _update_budgets(ctx, obj, params, new_fields, adset=False)
    elif obj.type == "adset":
        campaign = ctx.state.objects[str(obj.parent_id)]
        if params.present("targeting"):
            targeting = parse_targeting(params, ctx.version)
            assert targeting is not None
            new_fields["targeting"] = targeting
            check_dsa(ctx, params, targeting)
        params.enum("billing_event", BILLING_EVENTS)
        goal = params.enum("optimization_goal", OPTIMIZATION_GOALS)
        check_targeting_optimization(
            new_fields.get("targeting") or obj.fields.get("targeting") or {},
            goal or obj.fields.get("optimization_goal"),
        )
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
        end = merged.get("end_time")
        if (
            (params.present("end_time") or params.present("daily_budget"))
            and merged.get("daily_budget")
            and end is not None
            and end - (merged.get("start_time") or obj.created_time) <= 24 * 3600
        ):
            # Ad Set reference, daily_budget: "allowed only for ad sets with a duration
            # (difference between end_time and start_time) longer than 24 hours", on an update
            # as on a create.
            raise errors.invalid_parameter(
                "Schedule too short for a daily budget",
                "A daily budget is allowed only for ad sets that run longer than 24 hours.",
                blame_fields=["end_time" if params.present("end_time") else "daily_budget"],
            )
        strategy = effective_bid_strategy(merged, campaign)
        if strategy in BID_AMOUNT_STRATEGIES and not merged.get("bid_amount"):
            raise errors.invalid_parameter(
                "Bid amount required",
                f"Your bid strategy is {strategy}, which needs a bid_amount on the ad set.",
                subcode=1815857,
                blame_fields=["bid_amount"],
            )
    elif obj.type == "ad":
        # v22.0 changelog: instagram_actor_id is deprecated on POST /<ad-id> too.
        refuse_instagram_actor_id(params.values)
        if params.present("creative"):
            spec = params.json("creative", dict)
            creative = owned(ctx, (spec or {}).get("creative_id"), "adcreative")
            if creative is None or creative.deleted:
                raise errors.invalid_parameter(
                    "Invalid creative",
                    "creative.creative_id must name a creative of this account.",
                    blame_fields=["creative"],
                )
            refuse_poll(creative.fields, "creative")
            new_fields["creative"] = {"id": creative.id}
    if validate_only(params):
        return {"success": True}
    review = _needs_review(obj, new_fields, status)
    obj.fields.update(new_fields)
    if status is not None:
        if status == "DELETED":
            delete_object(ctx.state, obj, ctx.now)
        else:
            obj.fields["status"] = status
    if review and obj.type == "ad":
        start_review(ctx.state, obj, ctx.now)
    elif review:
        review_adset_ads(ctx.state, obj, ctx.now)
    if labels is not None:
        obj.fields["adlabels"] = labels
    obj.updated_time = ctx.now
    return {"success": True}


def _needs_review(obj: GraphObject, new_fields: dict[str, Any], status: str | None) -> bool:
    """Whether this update sends the ad (or the ad set's ads) to review: a new creative, an ad
    set's targeting, optimization goal or billing event (best practices, "Ad Changes Triggering
    Ad Reviews"; bid, budget and schedule do not), or an ad moved to ACTIVE from another status."""
    if obj.type == "ad":
        swapped = "creative" in new_fields and new_fields["creative"] != obj.fields.get("creative")
        activated = status == "ACTIVE" and obj.fields.get("status") != "ACTIVE"
        return swapped or activated
    if obj.type == "adset":
        return any(
            key in new_fields and new_fields[key] != obj.fields.get(key)
            for key in ADSET_REVIEW_FIELDS
        )
    return False


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
    values = {name: positive_budget(params, name) for name in touched}
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
        # "For each ad set, the budget is only allowed to change 4 times per hour, if exceeds
        # the limit, the budget change for that ad set will be blocked for an hour."
        if obj.extra.get("budget_blocked_until", 0.0) > ctx.now:
            raise errors.user_request_limit()
        changes = ctx.state.budget_changes.setdefault(obj.id, deque())
        while changes and changes[0] <= ctx.now - BUDGET_WINDOW_SECONDS:
            changes.popleft()
        if len(changes) >= BUDGET_CHANGES_PER_HOUR:
            obj.extra["budget_blocked_until"] = ctx.now + BUDGET_WINDOW_SECONDS
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
