"""A level of the request as a serializer that collects every error, and the facts one level
passes down to the next (a campaign's objective and budget decide what its ad sets may say)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, empty, get_error_detail

from platforms.meta import rules
from platforms.meta.validation.fields import EXPECTED_OBJECT, Errors, add_error, detail


@dataclass(frozen=True)
class CampaignFacts:
    """What an ad set needs to know about its (possibly partly invalid) campaign.

    `None` means "unknown because that campaign field is itself invalid": rules depending on it
    are skipped rather than reported twice.
    """

    now: datetime
    objective: str | None = None
    has_budget: bool | None = None
    has_lifetime_budget: bool = False
    bid_strategy: str | None = None
    restricted_targeting: bool = False
    # The ad account's additional_config (its defaults); None when the account is unknown, and
    # the rules that need it are then skipped.
    account_config: Mapping[str, Any] | None = None


class MetaSerializer(serializers.Serializer):
    """A level of the request: unknown keys are errors, and valid fields survive invalid ones.

    `collect()` returns the valid values and every error of the level; `check()` adds the rules
    that tie fields together, given only the values that passed. Fields named in `manual_fields`
    (nested lists) are handled by `check()` itself.
    """

    manual_fields: ClassVar[tuple[str, ...]] = ()
    # Keys extra_params may not carry although they are no named field: the executor sets them.
    reserved_extra_params: ClassVar[frozenset[str]] = frozenset()
    # Keys Meta no longer takes, with what to do instead.
    refused_extra_params: ClassVar[Mapping[str, str]] = {}
    # Named fields extra_params may still carry (clients sent them there before they were
    # named); `check()` makes sure they are given once.
    extra_params_aliases: ClassVar[frozenset[str]] = frozenset()

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values, errors = self.collect(data, self.context.get("campaign_facts"))
        if errors:
            raise ValidationError(errors)
        return values

    def collect(self, data: Any, facts: CampaignFacts | None) -> tuple[dict[str, Any], Any]:
        if not isinstance(data, Mapping):
            return {}, [detail(EXPECTED_OBJECT, "invalid")]
        values: dict[str, Any] = {}
        errors: Errors = {}
        for key in data:
            if key not in self.fields:
                errors[str(key)] = [detail("Unknown field.", "unknown_field")]
        for field in self._writable_fields:
            if field.field_name in self.manual_fields:
                continue
            try:
                values[field.field_name] = field.run_validation(field.get_value(data))
            except ValidationError as exc:
                errors[field.field_name] = exc.detail
            except DjangoValidationError as exc:
                errors[field.field_name] = get_error_detail(exc)
            except SkipField:
                pass
        if "extra_params" in values:
            values["extra_params"] = values["extra_params"] or {}
            self._check_extra_params(values["extra_params"], errors)
        self.check(values, errors, data, facts)
        return values, errors

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        """Cross-field rules; add to `errors` with `add_error`."""

    def _check_extra_params(self, extra: dict[str, Any], errors: Errors) -> None:
        named = (set(self.fields) - {"extra_params", *self.extra_params_aliases}) | (
            self.reserved_extra_params
        )
        for key in sorted(named & set(extra)):
            add_error(
                errors,
                ["extra_params", key],
                f"'{key}' is set by a named field or by mojito; extra_params may not override it.",
                "reserved",
            )
        for key in sorted(self.refused_extra_params.keys() & set(extra)):
            add_error(errors, ["extra_params", key], self.refused_extra_params[key], "removed")


def collect_list(
    data: Mapping[str, Any],
    name: str,
    child: MetaSerializer,
    facts: CampaignFacts | None,
    *,
    max_items: int,
    min_items: int = 1,
) -> tuple[list[dict[str, Any]] | None, Any]:
    """Validate the list `data[name]` item by item: (items, None) or (partial items, errors)."""
    raw = data.get(name, empty)
    if raw is empty:
        return None, [detail("This field is required.", "required")]
    if raw is None:
        return None, [detail("This field may not be null.", "null")]
    if not isinstance(raw, list):
        return None, [detail("Expected a list.", "not_a_list")]
    if len(raw) < min_items:
        message = (
            "At least one item is required." if min_items == 1 else f"At least {min_items} items."
        )
        return None, [detail(message, "min_length")]
    if len(raw) > max_items:
        return None, [detail(f"At most {max_items} items are allowed.", "max_length")]
    items: list[dict[str, Any]] = []
    item_errors: list[Any] = []
    for item in raw:
        values, errors = child.collect(item, facts)
        items.append(values)
        item_errors.append(errors or {})
    return items, (item_errors if any(item_errors) else None)


def campaign_facts(
    campaign: Any, *, now: datetime, account_config: Mapping[str, Any] | None
) -> CampaignFacts:
    """What the submission tells an ad set of its campaign, from the stored campaign."""
    meta = campaign.meta
    return CampaignFacts(
        now=now,
        objective=meta.objective,
        has_budget=meta.daily_budget is not None or meta.lifetime_budget is not None,
        has_lifetime_budget=meta.lifetime_budget is not None and meta.daily_budget is None,
        bid_strategy=meta.bid_strategy,
        restricted_targeting=bool(
            set(meta.special_ad_categories or ()) & rules.TARGETING_RESTRICTED_CATEGORIES
        ),
        account_config=account_config,
    )
