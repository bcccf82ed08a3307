"""The ad set level: budget, bidding, schedule, optimization goal and promoted object, checked
against its campaign; its ads are validated from here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from platforms.meta import rules
from platforms.meta.validation.audience import (
    apply_advantage_audience,
    check_restricted_targeting,
    targets_eu,
)
from platforms.meta.validation.base import CampaignFacts, MetaSerializer, collect_list
from platforms.meta.validation.creative import AdSerializer
from platforms.meta.validation.fields import (
    EXPECTED_OBJECT,
    NAME_MAX_LENGTH,
    AwareDateTimeField,
    Errors,
    ExtraParamsField,
    MoneyField,
    StrictCharField,
    StrictChoiceField,
    add_error,
    is_int,
)
from platforms.meta.validation.targeting import TargetingField


class PromotedObjectField(serializers.JSONField):
    """The object an ad set promotes. Ids become strings; other keys pass through.

    Which keys are required depends on objective and goal: see
    `rules.required_promoted_object_keys`.
    Source: marketing-api/reference/ad-promoted-object.
    """

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationError(EXPECTED_OBJECT, code="invalid")
        cleaned = dict(data)
        errors: Errors = {}
        for key in rules.PROMOTED_OBJECT_ID_KEYS & set(data):
            value = data[key]
            if is_int(value) and value > 0:
                cleaned[key] = str(value)
            elif not (isinstance(value, str) and value.isdigit() and value.isascii()):
                add_error(errors, [key], "Must be a Graph id (digits).", "invalid")
        event = data.get("custom_event_type")
        if event is not None and (
            not isinstance(event, str) or event not in rules.CUSTOM_EVENT_TYPES
        ):
            add_error(
                errors, ["custom_event_type"], f'"{event}" is not a valid choice.', "invalid_choice"
            )
        if data.get("pixel_id") is not None and event is None:
            # "If you use pixel_id, you must provide custom_event_type"
            add_error(errors, ["custom_event_type"], "Required with pixel_id.", "required")
        if data.get("object_store_url") is not None:
            url = data["object_store_url"]
            try:
                URLValidator(schemes=["http", "https"])(url)
            except (DjangoValidationError, TypeError):
                add_error(
                    errors, ["object_store_url"], "Enter an http(s) URL with a host.", "invalid"
                )
            if data.get("application_id") is None:
                # "If you use object_store_url, you must include application_id"
                add_error(errors, ["application_id"], "Required with object_store_url.", "required")
        if errors:
            raise ValidationError(errors)
        return cleaned


# Stored as 512 characters (meta_ad_set_details).
DSA_MAX_LENGTH = 512


class AdSetSerializer(MetaSerializer):
    """An ad set and its ads; checked against its campaign's objective, budget and categories."""

    manual_fields = ("ads",)
    reserved_extra_params = frozenset({"campaign_id"})

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    status = StrictChoiceField(rules.CREATE_STATUSES, default=rules.DEFAULT_STATUS)
    daily_budget = MoneyField()
    lifetime_budget = MoneyField()
    bid_amount = MoneyField()
    bid_strategy = StrictChoiceField(
        rules.BID_STRATEGIES, required=False, allow_null=True, default=None
    )
    billing_event = StrictChoiceField(rules.BILLING_EVENTS)
    optimization_goal = StrictChoiceField(rules.OPTIMIZATION_GOALS)
    start_time = AwareDateTimeField(required=False, allow_null=True, default=None)
    end_time = AwareDateTimeField(required=False, allow_null=True, default=None)
    targeting = TargetingField()
    promoted_object = PromotedObjectField(required=False, allow_null=True, default=None)
    destination_type = StrictChoiceField(
        rules.DESTINATION_TYPES, required=False, allow_null=True, default=None
    )
    # Meta requires both for ads that reach the EU (see `_check_dsa`).
    dsa_beneficiary = StrictCharField(
        max_length=DSA_MAX_LENGTH,
        required=False,
        allow_null=True,
        default=None,
        help_text="Who benefits from the ads (EU Digital Services Act); required when the ad "
        "set reaches the EU, unless the ad account's additional_config has dsa_beneficiary.",
    )
    dsa_payor = StrictCharField(
        max_length=DSA_MAX_LENGTH,
        required=False,
        allow_null=True,
        default=None,
        help_text="Who pays for the ads (EU Digital Services Act); required when the ad set "
        "reaches the EU, unless the ad account's additional_config has dsa_payor.",
    )
    extra_params = ExtraParamsField()
    ads = AdSerializer(many=True, min_length=1, max_length=rules.MAX_ADS_PER_AD_SET)

    refused_extra_params = rules.REFUSED_AD_SET_PARAMS

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        assert isinstance(facts, CampaignFacts)
        self._check_budget(values, errors, facts)
        self._check_bidding(values, errors, facts)
        self._check_schedule(values, errors, facts)
        self._check_goal(values, errors, facts)
        if "targeting" in values:
            targeting = values["targeting"]
            if facts.restricted_targeting:
                check_restricted_targeting(targeting, errors)
            apply_advantage_audience(targeting, errors)
            self._check_targeting_optimization(values, errors)
            self._check_dsa(values, errors, facts)

        ads, ad_errors = collect_list(
            data, "ads", self.fields["ads"].child, facts, max_items=rules.MAX_ADS_PER_AD_SET
        )
        if ad_errors:
            errors["ads"] = ad_errors
        else:
            values["ads"] = ads
        self._check_promoted_page(values, errors, ads or [])

    @staticmethod
    def _check_targeting_optimization(values: dict[str, Any], errors: Errors) -> None:
        goal = values.get("optimization_goal")
        if (
            values["targeting"].get("targeting_optimization") is not None
            and goal in rules.TARGETING_OPTIMIZATION_REFUSED_GOALS
        ):
            add_error(
                errors,
                ["targeting", "targeting_optimization"],
                f"Meta does not take targeting_optimization for ad sets optimizing for {goal} "
                "(Marketing API v19.0).",
                "removed",
            )

    @staticmethod
    def _check_dsa(values: dict[str, Any], errors: Errors, facts: CampaignFacts) -> None:
        """Ad sets that reach the EU name who benefits and who pays (Digital Services Act):
        the ad set's own values, else the ad account's defaults from its additional_config.

        The defaults go with every ad set that has none, as Meta's own account defaults do: a
        region or city named by Meta's key alone does not say its country, so an ad set that
        reaches the EU that way is covered too.

        Source: blog 2023-05-16 "New Marketing API requirements for Facebook and Instagram ads
        targeting EU"; reference/ad-account/dsa_recommendations.
        """
        if facts.account_config is None:
            return
        reaches_eu = targets_eu(values["targeting"])
        for key in ("dsa_beneficiary", "dsa_payor"):
            if key not in values:
                continue  # invalid already
            default = facts.account_config.get(key)
            if values[key] is None and isinstance(default, str) and default.strip():
                if len(default.strip()) > DSA_MAX_LENGTH:
                    add_error(
                        errors,
                        [key],
                        f"The ad account's additional_config {key} is longer than "
                        f"{DSA_MAX_LENGTH} characters; give a shorter one here or there.",
                        "max_length",
                    )
                    continue
                values[key] = default.strip()
            if values[key] is None and reaches_eu:
                add_error(
                    errors,
                    [key],
                    f"Meta requires {key} for ad sets that reach the EU (Digital Services "
                    f"Act); give it here or as {key} in the ad account's additional_config.",
                    "required",
                )

    @staticmethod
    def _check_budget(values: dict[str, Any], errors: Errors, facts: CampaignFacts) -> None:
        # Source: marketing-api/bidding/guides/advantage-campaign-budget and .../overview/budgets.
        if "daily_budget" not in values or "lifetime_budget" not in values:
            return
        daily, lifetime = values["daily_budget"], values["lifetime_budget"]
        if facts.has_budget:
            for key in ("daily_budget", "lifetime_budget"):
                if values[key] is not None:
                    add_error(
                        errors,
                        [key],
                        "The campaign has a budget (Advantage campaign budget): ad sets have none.",
                        "campaign_budget",
                    )
            return
        if daily is not None and lifetime is not None:
            for key in ("daily_budget", "lifetime_budget"):
                add_error(
                    errors, [key], "Give daily_budget or lifetime_budget, not both.", "exclusive"
                )
        elif daily is None and lifetime is None and facts.has_budget is False:
            add_error(
                errors,
                ["daily_budget"],
                "Without a campaign budget every ad set needs daily_budget or lifetime_budget.",
                "required",
            )

    @staticmethod
    def _check_bidding(values: dict[str, Any], errors: Errors, facts: CampaignFacts) -> None:
        if "bid_strategy" not in values:
            return
        strategy = values["bid_strategy"]
        if facts.has_budget:
            if strategy is not None:
                # With a campaign budget Meta takes the bid strategy from the campaign.
                add_error(
                    errors,
                    ["bid_strategy"],
                    "With a campaign budget the bid strategy is set on the campaign.",
                    "campaign_budget",
                )
            strategy = facts.bid_strategy
        elif facts.has_budget is None:
            return
        if (
            strategy in rules.BID_AMOUNT_STRATEGIES
            and "bid_amount" in values
            and values["bid_amount"] is None
        ):
            add_error(errors, ["bid_amount"], f"Required with bid strategy {strategy}.", "required")
        if strategy == rules.MIN_ROAS_STRATEGY:
            goal = values.get("optimization_goal")
            if goal is not None and goal != rules.MIN_ROAS_OPTIMIZATION_GOAL:
                add_error(
                    errors,
                    ["optimization_goal"],
                    f"{rules.MIN_ROAS_STRATEGY} works with optimization_goal "
                    f"{rules.MIN_ROAS_OPTIMIZATION_GOAL} only.",
                    "invalid",
                )
            extra = values.get("extra_params")
            if extra is not None:
                constraints = extra.get("bid_constraints")
                floor = (
                    constraints.get("roas_average_floor") if isinstance(constraints, dict) else None
                )
                if not (is_int(floor) and floor > 0):
                    add_error(
                        errors,
                        ["extra_params", "bid_constraints"],
                        f"{rules.MIN_ROAS_STRATEGY} needs bid_constraints.roas_average_floor "
                        "(a positive integer).",
                        "required",
                    )

    @staticmethod
    def _check_schedule(values: dict[str, Any], errors: Errors, facts: CampaignFacts) -> None:
        if "end_time" not in values:
            return
        end_text = values["end_time"]
        if end_text is None:
            needs_end = values.get("lifetime_budget") is not None or facts.has_lifetime_budget
            if needs_end:
                add_error(errors, ["end_time"], "Required with a lifetime budget.", "required")
            return
        end = datetime.fromisoformat(end_text)
        if end <= facts.now:
            add_error(errors, ["end_time"], "Must be in the future.", "invalid")
        start_text = values.get("start_time")
        start = datetime.fromisoformat(start_text) if start_text is not None else facts.now
        if start_text is not None and end <= start:
            add_error(errors, ["end_time"], "Must be after start_time.", "invalid")
        elif (
            end > facts.now
            and values.get("daily_budget") is not None
            and end - start <= timedelta(hours=24)
        ):
            # Ad Set reference, daily_budget: "allowed only for ad sets with a duration
            # (difference between end_time and start_time) longer than 24 hours". Meta's
            # error names the budget, not the schedule, and so does this one.
            add_error(
                errors,
                ["daily_budget"],
                "A daily budget needs a schedule longer than 24 hours (end_time after "
                "start_time, or after now); give a lifetime_budget for a shorter one.",
                "schedule_too_short",
            )

    @staticmethod
    def _check_goal(values: dict[str, Any], errors: Errors, facts: CampaignFacts) -> None:
        objective = facts.objective
        goal = values.get("optimization_goal")
        if objective is None or goal is None:
            return
        allowed = rules.OPTIMIZATION_GOALS_BY_OBJECTIVE[objective]
        if goal not in allowed:
            add_error(
                errors,
                ["optimization_goal"],
                f"{goal} does not fit objective {objective}; "
                f"use one of {', '.join(sorted(allowed))}.",
                "objective_mismatch",
            )
            return
        if "destination_type" in values:
            destination = values["destination_type"]
            if objective == rules.APP_PROMOTION_OBJECTIVE:
                # App promotion ad sets send people to an app store: destination_type APP.
                if destination is None:
                    values["destination_type"] = destination = rules.APP_DESTINATION
                elif destination != rules.APP_DESTINATION:
                    add_error(
                        errors,
                        ["destination_type"],
                        f"{objective} ad sets have destination_type {rules.APP_DESTINATION}.",
                        "invalid",
                    )
                    return
            if "promoted_object" in values:
                _check_promoted_object(values, errors, objective, goal, destination)

    @staticmethod
    def _check_promoted_page(
        values: dict[str, Any], errors: Errors, ads: list[dict[str, Any]]
    ) -> None:
        # "If you use page_id, the creative must promote that page_id" (ad-promoted-object).
        promoted = values.get("promoted_object") or {}
        page_id = promoted.get("page_id")
        if page_id is None:
            return
        for index, ad in enumerate(ads):
            creative = ad.get("creative")
            if creative and creative.get("page_id") not in (None, page_id):
                add_error(
                    errors,
                    ["ads", index, "creative", "page_id"],
                    f"Must be the promoted Page {page_id}.",
                    "invalid",
                )


def _check_promoted_object(
    values: dict[str, Any], errors: Errors, objective: str, goal: str, destination: str | None
) -> None:
    required = rules.required_promoted_object_keys(objective, goal, destination)
    if not required:
        return
    promoted = values["promoted_object"]
    if promoted is None:
        add_error(
            errors,
            ["promoted_object"],
            f"Meta requires promoted_object with {', '.join(required)} for {objective} ad sets "
            f"optimizing for {goal}.",
            "required",
        )
        return
    for key in required:
        if promoted.get(key) is None:
            add_error(
                errors,
                ["promoted_object", key],
                f"Required for {objective} ad sets optimizing for {goal}.",
                "required",
            )
