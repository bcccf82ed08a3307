"""Changes to a live ad set (`PATCH /api/v1/ad_sets/{id}`): its budget (kind, amount, Meta's
four changes an hour), its schedule (end_time, a daily budget's 24 hours), its bid amount and
new targeting, judged as the ad set the patch makes. The patch's fields, the merge and the
report are `validation.changes`'."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from platforms.meta import rules
from platforms.meta.rules import changes as change_rules
from platforms.meta.validation.ad_set import AdSetSerializer
from platforms.meta.validation.audience import (
    apply_advantage_audience,
    check_restricted_targeting,
    targets_eu,
)
from platforms.meta.validation.base import CampaignFacts
from platforms.meta.validation.fields import Errors, add_error

__all__ = ["check_ad_set_change"]


def check_ad_set_change(
    ad_set: Any,
    values: dict[str, Any],
    errors: Errors,
    now: datetime,
    budget_changes: list[datetime],
) -> None:
    stored = ad_set.meta
    campaign = ad_set.campaign.meta
    campaign_budget = campaign.daily_budget is not None or campaign.lifetime_budget is not None
    touched = [key for key in change_rules.BUDGET_FIELDS if key in values]
    budget = {key: values.get(key, getattr(stored, key)) for key in change_rules.BUDGET_FIELDS}
    if touched:
        _check_ad_set_budget(stored, values, errors, touched, budget, campaign_budget)
        if not any(key in errors for key in touched):
            _check_budget_rate(errors, touched, now, budget_changes)

    lifetime = budget["lifetime_budget"] is not None or (
        campaign.lifetime_budget is not None and campaign.daily_budget is None
    )
    end_time = values.get("end_time", stored.end_time)
    ends_needed = "end_time" in values or (touched and budget["lifetime_budget"] is not None)
    if ends_needed and end_time is None and lifetime:
        message = (
            "An ad set with a lifetime budget keeps its end_time: it can't be removed."
            if "end_time" in values
            else "Required with a lifetime budget."
        )
        add_error(errors, ["end_time"], message, "required")
    if values.get("end_time") is not None:
        end = datetime.fromisoformat(values["end_time"])
        if end <= now:
            add_error(errors, ["end_time"], "Must be in the future.", "invalid")
        if stored.start_time is not None and end <= stored.start_time:
            add_error(
                errors,
                ["end_time"],
                f"Must be after the ad set's start_time ({stored.start_time.isoformat()}).",
                "invalid",
            )
    if (
        budget["daily_budget"] is not None
        and end_time is not None
        and ("end_time" in values or "daily_budget" in touched)
        and "end_time" not in errors
    ):
        _check_daily_budget_schedule(ad_set, values, errors, end_time)

    if "bid_amount" in values and values["bid_amount"] is None:
        strategy = campaign.bid_strategy if campaign_budget else stored.bid_strategy
        if strategy in rules.BID_AMOUNT_STRATEGIES:
            add_error(errors, ["bid_amount"], f"Required with bid strategy {strategy}.", "required")

    if "targeting" in values:
        _check_targeting(ad_set, values, errors, now)


def _check_daily_budget_schedule(
    ad_set: Any, values: dict[str, Any], errors: Errors, end_time: datetime | str
) -> None:
    # Ad Set reference, daily_budget: "allowed only for ad sets with a duration (difference
    # between end_time and start_time) longer than 24 hours", as on submission. An ad set
    # without a start_time started when it was made. The error names what the change moved.
    end = datetime.fromisoformat(end_time) if isinstance(end_time, str) else end_time
    start = ad_set.meta.start_time or ad_set.created_at
    if end - start > timedelta(hours=24):
        return
    if "end_time" in values:
        attr, message = "end_time", "An ad set with a daily budget must run longer than 24 hours."
    else:
        attr, message = (
            "daily_budget",
            "A daily budget needs a schedule longer than 24 hours; this ad set's is shorter "
            "(give a lifetime_budget).",
        )
    add_error(errors, [attr], message, "schedule_too_short")


def _check_ad_set_budget(
    stored: Any,
    values: dict[str, Any],
    errors: Errors,
    touched: list[str],
    budget: dict[str, Any],
    campaign_budget: bool,
) -> None:
    if campaign_budget:
        for key in touched:
            if values[key] is not None:
                add_error(
                    errors,
                    [key],
                    "The campaign has a budget (Advantage campaign budget): ad sets have none.",
                    "campaign_budget",
                )
        return
    switch = change_rules.budget_kind_switch(
        {key: getattr(stored, key) for key in change_rules.BUDGET_FIELDS}, values
    )
    if switch is not None:
        kind, asked = switch
        add_error(
            errors,
            [asked],
            f"The ad set has a {kind.split('_')[0]} budget, and Meta does not switch an ad set "
            "between daily and lifetime budgets: create a new ad set instead.",
            "budget_kind_fixed",
        )
        return
    if all(v is not None for v in budget.values()):
        for key in touched:
            add_error(errors, [key], "Give daily_budget or lifetime_budget, not both.", "exclusive")
    elif all(v is None for v in budget.values()):
        for key in touched:
            add_error(
                errors,
                [key],
                "Without a campaign budget the ad set needs daily_budget or lifetime_budget: "
                "it can't be removed.",
                "required",
            )


def _check_budget_rate(
    errors: Errors, touched: list[str], now: datetime, budget_changes: list[datetime]
) -> None:
    # Marketing API rate limiting, "Ad Set Level Rate Limiting" (rules.changes): 4 budget
    # changes an hour, after which Meta answers error 17 and blocks the budget for an hour.
    allowed_at = change_rules.next_budget_change_at(budget_changes, now)
    if allowed_at is None:
        return
    limit = change_rules.AD_SET_BUDGET_CHANGES_PER_WINDOW
    for key in touched:
        add_error(
            errors,
            [key],
            f"Meta lets an ad set's budget change {limit} times an hour: the next change is "
            f"allowed at {allowed_at.isoformat()}.",
            "rate_limited",
        )


def _check_targeting(ad_set: Any, values: dict[str, Any], errors: Errors, now: datetime) -> None:
    """The submission's targeting rules for the new targeting: the campaign's special ad
    categories, Advantage+ audience (its flag filled in as Meta should get it), the ad set's
    optimization goal, and the EU's DSA fields (stored, or the ad account's defaults)."""
    stored = ad_set.meta
    campaign = ad_set.campaign
    targeting = values["targeting"]
    local: Errors = {}
    if set(campaign.meta.special_ad_categories or ()) & rules.TARGETING_RESTRICTED_CATEGORIES:
        check_restricted_targeting(targeting, local)
    apply_advantage_audience(targeting, local)
    merged = {
        "targeting": targeting,
        "optimization_goal": stored.optimization_goal,
        "dsa_beneficiary": stored.dsa_beneficiary,
        "dsa_payor": stored.dsa_payor,
    }
    AdSetSerializer._check_targeting_optimization(merged, local)
    account_config = campaign.ad_account.additional_config or {}
    facts = CampaignFacts(now=now, account_config=account_config)
    dsa: Errors = {}
    AdSetSerializer._check_dsa(merged, dsa, facts)
    for key, found in dsa.items():
        # The DSA fields are no PATCH field: say what the new targeting needs of the ad set.
        message = "; ".join(str(error) for error in found)
        add_error(
            local,
            ["targeting"],
            f"This targeting reaches the EU, and the ad set has no {key}: {message}",
            "required",
        )
    if local:
        # The audience rules name their attrs from the body already ("targeting.age_max").
        errors.update(local)
        del values["targeting"]
    elif targets_eu(targeting):
        # The account's defaults filled what the ad set lacks: they go to Meta with the
        # targeting, and are kept on the ad set once Meta accepted them.
        for key in ("dsa_beneficiary", "dsa_payor"):
            if merged[key] != getattr(stored, key):
                values[key] = merged[key]
