"""Changes to live objects (`PATCH /api/v1/campaigns|ad_sets|ads/{id}`), checked before any
Meta call.

A change is judged as the object it makes: the stored values with the patch over them, under
the submission's rules, plus Meta's limits on changing what already exists
(`platforms.meta.rules.changes`). Only what the patch causes is reported: a stored start_time
that has passed does not stop a status change. Additions: `validation.additions`.

An ad set's own rules: `validation.ad_set_changes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.fields import Field, get_error_detail

from mojito.api import shared_serializer
from platforms.meta import rules
from platforms.meta.rules import changes as change_rules
from platforms.meta.validation.ad_set import AdSetSerializer
from platforms.meta.validation.ad_set_changes import check_ad_set_change
from platforms.meta.validation.base import campaign_facts
from platforms.meta.validation.creative import CreativeSerializer
from platforms.meta.validation.fields import (
    EXPECTED_OBJECT,
    NAME_MAX_LENGTH,
    AwareDateTimeField,
    Errors,
    MoneyField,
    StrictCharField,
    StrictChoiceField,
    add_error,
    detail,
)
from platforms.meta.validation.targeting import TargetingField

_LABEL = {"campaign": "campaign", "ad_set": "ad set", "ad": "ad"}
# A PATCH may clear only what Meta documents a way to clear: an ad set's end_time ("specify
# end_time=0 to set the set as ongoing", Ad Set reference), for a daily budget. A budget's
# null has rules of its own (a budget is never removed, only replaced by the other kind
# where Meta allows it: `_check_campaign`, `ad_set_changes._check_ad_set_budget`).
_CLEARABLE = frozenset({"end_time", "daily_budget", "lifetime_budget"})
_ARTICLE = {"campaign": "a", "ad set": "an", "ad": "an"}

# The PATCH fields, one instance each: they keep no state while validating (as the shared
# submission tree), and are run only on the keys a patch names, so no default ever fills in.
_FIELDS: dict[str, dict[str, Field]] = {
    "campaign": {
        "name": StrictCharField(max_length=NAME_MAX_LENGTH),
        "status": StrictChoiceField(rules.CREATE_STATUSES),
        "daily_budget": MoneyField(),
        "lifetime_budget": MoneyField(),
        "spend_cap": MoneyField(),
        "bid_strategy": StrictChoiceField(rules.BID_STRATEGIES, allow_null=True),
    },
    "ad_set": {
        "name": StrictCharField(max_length=NAME_MAX_LENGTH),
        "status": StrictChoiceField(rules.CREATE_STATUSES),
        "daily_budget": MoneyField(),
        "lifetime_budget": MoneyField(),
        "bid_amount": MoneyField(),
        "end_time": AwareDateTimeField(allow_null=True),
        "targeting": TargetingField(),
    },
    "ad": {
        "name": StrictCharField(max_length=NAME_MAX_LENGTH),
        "status": StrictChoiceField(rules.CREATE_STATUSES),
    },
}
assert {k: tuple(v) for k, v in _FIELDS.items()} == {
    k: tuple(f for f in v if f != "creative") for k, v in change_rules.CHANGE_FIELDS.items()
}


def validate_meta_change(
    *,
    object_type: str,
    obj: Any,
    data: Any,
    cascade: bool,
    now: datetime,
    budget_changes: list[datetime],
) -> dict[str, Any]:
    """Validate a PATCH body for a live object; return the cleaned values by API field name
    (a new ad creative under "creative", as the submission validates it).

    Raise `ValidationError` naming every bad field at once, with attrs relative to the body.
    """
    if not isinstance(data, Mapping):
        raise ValidationError({"non_field_errors": [detail(EXPECTED_OBJECT, "invalid")]})
    label = _LABEL[object_type]
    allowed = change_rules.CHANGE_FIELDS[object_type]
    errors: Errors = {}
    for key in data:
        if key not in allowed:
            errors[str(key)] = [
                detail(
                    f"Unknown field; {_ARTICLE[label]} {label} changes {', '.join(allowed)}.",
                    "unknown_field",
                )
            ]
    if not data:
        errors["non_field_errors"] = [
            detail(f"Nothing to change: give one or more of {', '.join(allowed)}.", "required")
        ]
    if cascade and not (object_type == "campaign" and set(data) == {"status"}):
        errors["cascade"] = [
            detail("cascade goes with a campaign change of status alone.", "invalid")
        ]

    given = [key for key in allowed if key in data]
    if obj.status == change_rules.ARCHIVED_STATUS:
        for key in given:
            if key not in change_rules.ARCHIVED_CHANGEABLE_FIELDS:
                add_error(
                    errors,
                    [key],
                    f"The {label} is archived: only its name can change (Meta changes nothing "
                    "else of an archived object), and mojito never brings it back.",
                    "archived",
                )
        given = [key for key in given if key in change_rules.ARCHIVED_CHANGEABLE_FIELDS]

    values: dict[str, Any] = {}
    for key in given:
        raw = data[key]
        if key == "status" and raw == change_rules.ARCHIVED_STATUS:
            add_error(
                errors,
                [key],
                f"To archive the {label}, DELETE it; a change sets ACTIVE or PAUSED.",
                "invalid_choice",
            )
        elif key == "creative":
            _collect_creative(obj, raw, errors, values, now)
        elif raw is None and key not in _CLEARABLE:
            add_error(
                errors,
                [key],
                f"Meta documents no way to remove an existing {key}: give a new value.",
                "null",
            )
        else:
            try:
                values[key] = _FIELDS[object_type][key].run_validation(raw)
            except ValidationError as exc:
                errors[key] = exc.detail
            except DjangoValidationError as exc:
                errors[key] = get_error_detail(exc)

    if object_type == "campaign":
        _check_campaign(obj, values, errors)
    elif object_type == "ad_set":
        check_ad_set_change(obj, values, errors, now, budget_changes)
    if errors:
        raise ValidationError(errors)
    return values


def _collect_creative(
    ad: Any, raw: Any, errors: Errors, values: dict[str, Any], now: datetime
) -> None:
    if raw is None:
        errors["creative"] = [detail("This field may not be null.", "null")]
        return
    ad_set = ad.ad_set
    # The campaign decides what a creative may be (an app promotion carousel's cards).
    facts = campaign_facts(ad_set.campaign, now=now, account_config=None)
    creative, creative_errors = shared_serializer(CreativeSerializer).collect(raw, facts)
    if creative_errors:
        errors["creative"] = creative_errors
        return
    values["creative"] = creative
    # "If you use page_id, the creative must promote that page_id" (ad-promoted-object).
    promoted = {"promoted_object": ad_set.meta.promoted_object}
    nested: Errors = {}
    AdSetSerializer._check_promoted_page(promoted, nested, [{"creative": creative}])
    if nested:
        errors["creative"] = nested["ads"][0]["creative"]
        del values["creative"]


def _live_ad_sets(campaign: Any) -> list[Any]:
    return list(
        campaign.ad_sets.exclude(status=change_rules.ARCHIVED_STATUS)
        .select_related("meta")
        .order_by("position")
    )


def _roas_floor(extra_params: Any) -> Any:
    constraints = (extra_params or {}).get("bid_constraints")
    return constraints.get("roas_average_floor") if isinstance(constraints, dict) else None


def _names(ad_sets: list[Any]) -> str:
    shown = ", ".join(f'"{a.name}"' for a in ad_sets[:5])
    return shown + (f" and {len(ad_sets) - 5} more" if len(ad_sets) > 5 else "")


def _check_campaign(campaign: Any, values: dict[str, Any], errors: Errors) -> None:
    stored = campaign.meta
    touched = [key for key in change_rules.BUDGET_FIELDS if key in values]
    budget = {key: values.get(key, getattr(stored, key)) for key in change_rules.BUDGET_FIELDS}
    strategy = values.get("bid_strategy", stored.bid_strategy)
    had_budget = stored.daily_budget is not None or stored.lifetime_budget is not None
    has_budget = any(v is not None for v in budget.values())
    if not touched and "bid_strategy" not in values:
        return
    ad_sets: list[Any] | None = None
    if touched:
        if all(v is not None for v in budget.values()):
            for key in touched:
                add_error(
                    errors,
                    [key],
                    "Give daily_budget or lifetime_budget, not both (set the other to null).",
                    "exclusive",
                )
            return
        ad_sets = _live_ad_sets(campaign)
        if has_budget and not had_budget:
            # marketing-api/bidding/guides/advantage-campaign-budget: a campaign budget is
            # shared by the ad sets, which then have none of their own.
            with_budgets = [
                a
                for a in ad_sets
                if a.meta.daily_budget is not None or a.meta.lifetime_budget is not None
            ]
            if with_budgets:
                for key in touched:
                    add_error(
                        errors,
                        [key],
                        f"Ad sets of this campaign have their own budgets ({_names(with_budgets)})"
                        ": a campaign budget can't be added to them.",
                        "ad_set_budgets",
                    )
        if not has_budget and had_budget and ad_sets:
            for key in touched:
                add_error(
                    errors,
                    [key],
                    "Its ad sets have no budgets of their own: the campaign budget can't be "
                    "removed.",
                    "required",
                )
        if budget["lifetime_budget"] is not None and stored.lifetime_budget is None:
            open_ended = [a for a in ad_sets if a.meta.end_time is None]
            if open_ended:
                add_error(
                    errors,
                    ["lifetime_budget"],
                    f"A lifetime budget needs every ad set to end; {_names(open_ended)} "
                    "have no end_time.",
                    "end_time_required",
                )
    if strategy is not None and not has_budget:
        # Without a campaign budget the bid strategy belongs to each ad set.
        for key in ["bid_strategy"] if "bid_strategy" in values else touched:
            add_error(
                errors,
                [key],
                f"A campaign bid strategy ({strategy}) needs a campaign budget"
                + ("; set bid_strategy to null too." if key != "bid_strategy" else "."),
                "invalid",
            )
        return
    if "bid_strategy" in values and strategy == rules.MIN_ROAS_STRATEGY:
        ad_sets = ad_sets if ad_sets is not None else _live_ad_sets(campaign)
        # "LOWEST_COST_WITH_MIN_ROAS: Specific bidding option for value optimization. You must
        # specify a roas_average_floor" (bidding/overview/bid-strategy), on each ad set.
        unfit = [
            a
            for a in ad_sets
            if a.meta.optimization_goal != rules.MIN_ROAS_OPTIMIZATION_GOAL
            or not _roas_floor(a.meta.extra_params)
        ]
        if unfit:
            add_error(
                errors,
                ["bid_strategy"],
                f"{strategy} needs ad sets optimizing for {rules.MIN_ROAS_OPTIMIZATION_GOAL} with "
                f"bid_constraints.roas_average_floor; {_names(unfit)} are not.",
                "invalid",
            )
    if "bid_strategy" in values and strategy in rules.BID_AMOUNT_STRATEGIES:
        ad_sets = ad_sets if ad_sets is not None else _live_ad_sets(campaign)
        # The cap is the ad sets' bid_amount (adset_bid_amounts in advantage-campaign-budget).
        uncapped = [a for a in ad_sets if a.meta.bid_amount is None]
        if uncapped:
            add_error(
                errors,
                ["bid_strategy"],
                f"{strategy} needs a bid_amount on every ad set; {_names(uncapped)} have none.",
                "bid_amount_required",
            )
