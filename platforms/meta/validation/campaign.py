"""The campaign level: objective, special ad categories, and the campaign budget (CBO)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from platforms.meta import rules
from platforms.meta.validation.base import MetaSerializer
from platforms.meta.validation.fields import (
    NAME_MAX_LENGTH,
    Errors,
    ExtraParamsField,
    MoneyField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    add_error,
)


class ObjectiveField(StrictChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(rules.CURRENT_OBJECTIVES, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str) and data in rules.LEGACY_OBJECTIVE_REPLACEMENTS:
            replacement = rules.LEGACY_OBJECTIVE_REPLACEMENTS[data]
            raise ValidationError(
                f'"{data}" is a legacy objective; Meta creates campaigns only with the '
                f"OUTCOME_ objectives since Marketing API v17. Use {replacement}.",
                code="legacy_objective",
            )
        return super().to_internal_value(data)


class SpecialAdCategoryField(StrictChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(rules.SPECIAL_AD_CATEGORIES, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str) and data in rules.REPLACED_SPECIAL_AD_CATEGORIES:
            raise ValidationError(
                f"Meta replaced {data} with {rules.REPLACED_SPECIAL_AD_CATEGORIES[data]} on "
                "January 14, 2025.",
                code="replaced",
            )
        return super().to_internal_value(data)


class CampaignSerializer(MetaSerializer):
    """The campaign: objective, special ad categories and, for CBO, the budget and bid strategy."""

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    objective = ObjectiveField()
    status = StrictChoiceField(rules.CREATE_STATUSES, default=rules.DEFAULT_STATUS)
    special_ad_categories = serializers.ListField(child=SpecialAdCategoryField(), default=list)
    special_ad_category_country = serializers.ListField(
        child=StrictChoiceField(rules.COUNTRY_CODES),
        required=False,
        allow_null=True,
        default=None,
        min_length=1,
        help_text="Where the special ad category applies (ISO 3166-1 alpha-2 codes); required "
        "with any category but NONE.",
    )
    buying_type = StrictChoiceField(rules.BUYING_TYPES, default=rules.DEFAULT_BUYING_TYPE)
    bid_strategy = StrictChoiceField(
        rules.BID_STRATEGIES, required=False, allow_null=True, default=None
    )
    daily_budget = MoneyField()
    lifetime_budget = MoneyField()
    spend_cap = MoneyField()
    is_adset_budget_sharing_enabled = StrictBooleanField(
        required=False, allow_null=True, default=None
    )
    extra_params = ExtraParamsField()

    refused_extra_params = rules.REFUSED_CAMPAIGN_PARAMS
    extra_params_aliases = frozenset({"special_ad_category_country"})

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        categories = values.get("special_ad_categories")
        if categories is not None:
            if rules.NO_SPECIAL_AD_CATEGORY in categories and len(categories) > 1:
                add_error(
                    errors,
                    ["special_ad_categories"],
                    "NONE cannot be combined with other categories.",
                    "invalid",
                )
            elif len(set(categories)) != len(categories):
                add_error(errors, ["special_ad_categories"], "Categories repeat.", "invalid")
            self._check_category_country(values, errors, categories)

        if "daily_budget" not in values or "lifetime_budget" not in values:
            return
        daily, lifetime = values["daily_budget"], values["lifetime_budget"]
        if daily is not None and lifetime is not None:
            for key in ("daily_budget", "lifetime_budget"):
                add_error(
                    errors, [key], "Give daily_budget or lifetime_budget, not both.", "exclusive"
                )
        has_budget = daily is not None or lifetime is not None
        if not has_budget and values.get("bid_strategy") is not None:
            # Without a campaign budget the bid strategy belongs to each ad set.
            add_error(
                errors,
                ["bid_strategy"],
                "A campaign bid strategy needs a campaign budget; set it on the ad sets instead.",
                "invalid",
            )
        if not has_budget and values.get("is_adset_budget_sharing_enabled", True) is None:
            # Meta requires the flag on campaigns without a campaign budget (DESIGN.md).
            values["is_adset_budget_sharing_enabled"] = False

    @staticmethod
    def _check_category_country(
        values: dict[str, Any], errors: Errors, categories: list[str]
    ) -> None:
        # "If special_ad_categories are selected, you must also set a special_ad_category_country"
        # (marketing-api/audiences/special-ad-category). Clients that knew no named field sent
        # it through extra_params, which still works; once, not twice.
        extra = values.get("extra_params")
        if "special_ad_category_country" not in values or extra is None:
            return  # invalid already
        named = values["special_ad_category_country"]
        passed = extra.get("special_ad_category_country")
        if named is not None and passed is not None:
            add_error(
                errors,
                ["extra_params", "special_ad_category_country"],
                "Given twice: keep campaign.special_ad_category_country.",
                "exclusive",
            )
            return
        if named is not None or not set(categories) - {rules.NO_SPECIAL_AD_CATEGORY}:
            return
        if passed is None:
            add_error(
                errors,
                ["special_ad_category_country"],
                "Meta requires special_ad_category_country (a list of country codes) with "
                "special_ad_categories.",
                "required",
            )
        elif (
            not isinstance(passed, list)
            or not passed
            or not all(isinstance(c, str) and c in rules.COUNTRY_CODES for c in passed)
        ):
            add_error(
                errors,
                ["extra_params", "special_ad_category_country"],
                "Expected a non-empty list of ISO 3166-1 alpha-2 country codes.",
                "invalid",
            )
