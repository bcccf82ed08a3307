"""Validation of the body of `POST /api/v1/ads/meta`, following Meta's own rules.

Meta answers a bad campaign with one error at a time, after part of the tree may already exist.
This module finds every problem up front: each level collects its field errors and then checks
the rules that tie fields together (and levels: the campaign's objective and budget decide what
its ad sets may say) on whatever part of the data is valid, so one request lists everything that
is wrong. Errors are a nested dict/list structure that drf-standardized-errors flattens into
attrs such as `ad_sets.1.ads.0.creative.image_url`.

The tables (allowed values, objective/goal pairs, Meta's limits) live in `platforms.meta.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator, URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import SkipField, empty, get_error_detail

from mojito.api import shared_serializer
from platforms.meta import rules

Errors = dict[str, Any]

NAME_MAX_LENGTH = 400
EXPECTED_OBJECT = "Expected a JSON object."


def _detail(message: str, code: str) -> ErrorDetail:
    return ErrorDetail(message, code=code)


def add_error(errors: Errors, path: Sequence[str | int], message: str, code: str) -> None:
    """Attach one error at `path` (keys and list indexes) inside a nested error structure."""
    detail = _detail(message, code)
    node: Any = errors
    for position, key in enumerate(path):
        last = position == len(path) - 1
        if isinstance(node, list):
            assert isinstance(key, int)
            while len(node) <= key:
                node.append({})
            child = node[key]
        else:
            child = node.get(key)
        if last:
            if isinstance(child, list) and all(isinstance(item, ErrorDetail) for item in child):
                child.append(detail)
            elif not child:
                node[key] = [detail]
            else:
                # Nested errors already sit below this key: keep them and add ours beside them.
                child.setdefault("non_field_errors", []).append(detail)
            return
        if child and isinstance(child, list) and isinstance(child[0], ErrorDetail):
            # The container itself is already invalid (e.g. "Expected a JSON object.").
            child.append(detail)
            return
        if not child:
            child = [] if isinstance(path[position + 1], int) else {}
            node[key] = child
        node = child


# --- Fields -----------------------------------------------------------------------------------
# DRF's fields coerce (123 -> "123", "5" -> 5, "true" -> True); a JSON API should not guess.


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictChoiceField(serializers.ChoiceField):
    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(sorted(choices), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


# Amounts are stored as 64-bit integers (Meta's too); nothing larger can be a real budget.
MONEY_MAX = 2**63 - 1


class MoneyField(StrictIntegerField):
    """An amount in the account currency's minor unit. Meta's per-currency minimums depend on
    the account, which validation does not see, so only `>= 1` is checked here."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("default", None)
        super().__init__(min_value=1, max_value=MONEY_MAX, **kwargs)


class GraphIdField(StrictCharField):
    """A Graph object id: Meta ids are numeric strings (kept as strings: they exceed 2**53)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=32,
            validators=[RegexValidator(r"^\d+$", "Must be a string of digits.", code="invalid")],
            **kwargs,
        )


class HttpUrlField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=2048,
            validators=[
                URLValidator(schemes=["http", "https"], message="Enter an http(s) URL with a host.")
            ],
            **kwargs,
        )


class AwareDateTimeField(StrictCharField):
    """ISO-8601 with an explicit offset, kept as an ISO string (the payload is stored as JSON).

    Meta reads a time without offset in the ad account's timezone, which the caller may not know:
    refuse the ambiguity.
    """

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError(
                "Expected an ISO-8601 date-time, e.g. 2026-12-01T00:00:00Z.", code="invalid"
            )
        if parsed.tzinfo is None:
            raise ValidationError(
                "Give a timezone (Z or an offset such as +02:00).", code="timezone_required"
            )
        try:
            # A time that leaves Python's range once in UTC could be stored but never read.
            parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError("The date-time is out of range.", code="invalid") from None
        return parsed.isoformat()


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


class ExtraParamsField(serializers.DictField):
    """Further Graph fields passed through unchanged (null counts as {})."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, default=dict, **kwargs)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class TargetingField(serializers.JSONField):
    """Meta's targeting spec: geo_locations and ages are checked, every other key passes through.

    Source: marketing-api/audiences/reference/basic-targeting and targeting-restrictions.
    """

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationError(EXPECTED_OBJECT, code="invalid")
        errors: Errors = {}
        self._check_geo_locations(data, errors)
        self._check_ages(data, errors)
        genders = data.get("genders")
        if genders is not None and (
            not isinstance(genders, list)
            or not all(_is_int(g) and g in rules.GENDERS for g in genders)
        ):
            add_error(
                errors, ["genders"], "Expected a list of 1 (men) and/or 2 (women).", "invalid"
            )
        if errors:
            raise ValidationError(errors)
        return dict(data)

    @staticmethod
    def _check_geo_locations(data: dict[str, Any], errors: Errors) -> None:
        if "geo_locations" not in data:
            add_error(errors, ["geo_locations"], "This field is required.", "required")
            return
        geo = data["geo_locations"]
        if not isinstance(geo, dict):
            add_error(errors, ["geo_locations"], EXPECTED_OBJECT, "invalid")
            return
        named = [key for key in rules.GEO_LOCATION_KEYS if geo.get(key)]
        if not named:
            add_error(
                errors,
                ["geo_locations"],
                "Give at least one location: " + ", ".join(rules.GEO_LOCATION_KEYS) + ".",
                "required",
            )
        for key in named:
            value = geo[key]
            if not isinstance(value, list):
                add_error(errors, ["geo_locations", key], "Expected a list.", "not_a_list")
                continue
            limit = rules.GEO_LOCATION_LIMITS.get(key)
            if limit is not None and len(value) > limit:
                add_error(
                    errors,
                    ["geo_locations", key],
                    f"Meta allows at most {limit} {key} per ad set.",
                    "max_length",
                )
        countries = geo.get("countries")
        if isinstance(countries, list):
            for index, code in enumerate(countries):
                if not isinstance(code, str) or code not in rules.COUNTRY_CODES:
                    add_error(
                        errors,
                        ["geo_locations", "countries", index],
                        f'"{code}" is not an ISO 3166-1 alpha-2 country code (upper case).',
                        "invalid_choice",
                    )

    @staticmethod
    def _check_ages(data: dict[str, Any], errors: Errors) -> None:
        ages: dict[str, int] = {}
        for key in ("age_min", "age_max"):
            if key not in data:
                continue
            value = data[key]
            if not _is_int(value):
                add_error(errors, [key], "A valid integer is required.", "invalid")
            elif not rules.AGE_MIN <= value <= rules.AGE_MAX:
                add_error(
                    errors,
                    [key],
                    f"Meta targets ages {rules.AGE_MIN} to {rules.AGE_MAX}.",
                    "out_of_range",
                )
            else:
                ages[key] = value
        if "age_min" in ages and "age_max" in ages and ages["age_min"] > ages["age_max"]:
            add_error(errors, ["age_max"], "age_max must be at least age_min.", "invalid")


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
            if _is_int(value) and value > 0:
                cleaned[key] = str(value)
            elif not (isinstance(value, str) and value.isdigit() and value.isascii()):
                add_error(errors, [key], "Must be a Graph id (digits).", "invalid")
        event = data.get("custom_event_type")
        if event is not None and event not in rules.CUSTOM_EVENT_TYPES:
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


# --- Serializers --------------------------------------------------------------------------------


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


class MetaSerializer(serializers.Serializer):
    """A level of the request: unknown keys are errors, and valid fields survive invalid ones.

    `collect()` returns the valid values and every error of the level; `check()` adds the rules
    that tie fields together, given only the values that passed. Fields named in `manual_fields`
    (nested lists) are handled by `check()` itself.
    """

    manual_fields: ClassVar[tuple[str, ...]] = ()
    # Keys extra_params may not carry although they are no named field: the executor sets them.
    reserved_extra_params: ClassVar[frozenset[str]] = frozenset()

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values, errors = self.collect(data, self.context.get("campaign_facts"))
        if errors:
            raise ValidationError(errors)
        return values

    def collect(self, data: Any, facts: CampaignFacts | None) -> tuple[dict[str, Any], Any]:
        if not isinstance(data, Mapping):
            return {}, [_detail(EXPECTED_OBJECT, "invalid")]
        values: dict[str, Any] = {}
        errors: Errors = {}
        for key in data:
            if key not in self.fields:
                errors[str(key)] = [_detail("Unknown field.", "unknown_field")]
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
        named = (set(self.fields) - {"extra_params"}) | self.reserved_extra_params
        for key in sorted(named & set(extra)):
            add_error(
                errors,
                ["extra_params", key],
                f"'{key}' is set by a named field or by mojito; extra_params may not override it.",
                "reserved",
            )


def collect_list(
    data: Mapping[str, Any],
    name: str,
    child: MetaSerializer,
    facts: CampaignFacts | None,
    *,
    max_items: int,
) -> tuple[list[dict[str, Any]] | None, Any]:
    """Validate the list `data[name]` item by item: (items, None) or (partial items, errors)."""
    raw = data.get(name, empty)
    if raw is empty:
        return None, [_detail("This field is required.", "required")]
    if raw is None:
        return None, [_detail("This field may not be null.", "null")]
    if not isinstance(raw, list):
        return None, [_detail("Expected a list.", "not_a_list")]
    if not raw:
        return None, [_detail("At least one item is required.", "min_length")]
    if len(raw) > max_items:
        return None, [_detail(f"At most {max_items} items are allowed.", "max_length")]
    items: list[dict[str, Any]] = []
    item_errors: list[Any] = []
    for item in raw:
        values, errors = child.collect(item, facts)
        items.append(values)
        item_errors.append(errors or {})
    return items, (item_errors if any(item_errors) else None)


class CallToActionSerializer(MetaSerializer):
    """The creative's button: a type from the SDK and an optional link."""

    type = StrictChoiceField(rules.CALL_TO_ACTION_TYPES)
    link = HttpUrlField(required=False, allow_null=True, default=None)


class CreativeSerializer(MetaSerializer):
    """An ad creative built from a Page post spec (link_data / video_data)."""

    reserved_extra_params = frozenset({"object_story_spec"})

    name = StrictCharField(
        max_length=NAME_MAX_LENGTH, required=False, allow_null=True, default=None
    )
    page_id = GraphIdField()
    instagram_user_id = GraphIdField(required=False, allow_null=True, default=None)
    link = HttpUrlField()
    message = StrictCharField(max_length=5000, required=False, allow_null=True, default=None)
    headline = StrictCharField(max_length=255, required=False, allow_null=True, default=None)
    description = StrictCharField(max_length=255, required=False, allow_null=True, default=None)
    call_to_action = CallToActionSerializer(required=False, allow_null=True, default=None)
    image_url = HttpUrlField(required=False, allow_null=True, default=None)
    image_hash = StrictCharField(max_length=128, required=False, allow_null=True, default=None)
    video_url = HttpUrlField(required=False, allow_null=True, default=None)
    video_id = GraphIdField(required=False, allow_null=True, default=None)
    thumbnail_url = HttpUrlField(required=False, allow_null=True, default=None)
    thumbnail_hash = StrictCharField(max_length=128, required=False, allow_null=True, default=None)
    extra_params = ExtraParamsField()

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        # Presence is judged on the raw data: an invalid image_url is still a media source.
        media = [key for key in rules.MEDIA_FIELDS if data.get(key) is not None]
        if not media:
            add_error(
                errors,
                ["image_url"],
                "Give one media source: image_url, image_hash, video_url or video_id.",
                "required",
            )
        for key in media[1:]:
            add_error(
                errors,
                [key],
                f"Only one media source per creative; {media[0]} is already given.",
                "exclusive",
            )
        thumbnails = [key for key in rules.THUMBNAIL_FIELDS if data.get(key) is not None]
        is_video = bool({"video_url", "video_id"} & set(media))
        if not is_video:
            for key in thumbnails:
                add_error(
                    errors, [key], "A thumbnail goes with video_url or video_id only.", "invalid"
                )
        elif "video_url" in media and not thumbnails:
            # Meta's video_data needs a thumbnail (image_url or image_hash); for an uploaded
            # video_id the executor can take one of Meta's generated thumbnails instead.
            add_error(
                errors,
                ["thumbnail_url"],
                "video_url needs thumbnail_url or thumbnail_hash.",
                "required",
            )
        if len(thumbnails) > 1:
            add_error(
                errors,
                ["thumbnail_hash"],
                "Give thumbnail_url or thumbnail_hash, not both.",
                "exclusive",
            )


class AdSerializer(MetaSerializer):
    """An ad: a new `creative` or an existing `creative_id`, exactly one."""

    reserved_extra_params = frozenset({"adset_id"})

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    status = StrictChoiceField(rules.CREATE_STATUSES, default=rules.DEFAULT_STATUS)
    creative = CreativeSerializer(required=False, allow_null=True, default=None)
    creative_id = GraphIdField(required=False, allow_null=True, default=None)
    extra_params = ExtraParamsField()

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        has_creative = data.get("creative") is not None
        has_creative_id = data.get("creative_id") is not None
        if has_creative and has_creative_id:
            add_error(
                errors, ["creative_id"], "Give creative or creative_id, not both.", "exclusive"
            )
        elif not has_creative and not has_creative_id:
            add_error(errors, ["creative"], "Give creative or creative_id.", "required")


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
    # Meta requires both for ads that reach the EU unless the ad account has defaults
    # (marketing-api/reference/ad-account/dsa_recommendations); those defaults are not visible
    # here, so absence is left for Meta to judge.
    dsa_beneficiary = StrictCharField(max_length=512, required=False, allow_null=True, default=None)
    dsa_payor = StrictCharField(max_length=512, required=False, allow_null=True, default=None)
    extra_params = ExtraParamsField()
    ads = AdSerializer(many=True, min_length=1, max_length=rules.MAX_ADS_PER_AD_SET)

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        assert isinstance(facts, CampaignFacts)
        self._check_budget(values, errors, facts)
        self._check_bidding(values, errors, facts)
        self._check_schedule(values, errors, facts)
        self._check_goal(values, errors, facts)
        if facts.restricted_targeting and "targeting" in values:
            _check_restricted_targeting(values["targeting"], errors)

        ads, ad_errors = collect_list(
            data, "ads", self.fields["ads"].child, facts, max_items=rules.MAX_ADS_PER_AD_SET
        )
        if ad_errors:
            errors["ads"] = ad_errors
        else:
            values["ads"] = ads
        self._check_promoted_page(values, errors, ads or [])

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
                if not (_is_int(floor) and floor > 0):
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
        if start_text is not None and end <= datetime.fromisoformat(start_text):
            add_error(errors, ["end_time"], "Must be after start_time.", "invalid")

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


def _check_restricted_targeting(targeting: dict[str, Any], errors: Errors) -> None:
    """Housing, employment and financial products/services audiences (see rules)."""
    path = ["targeting"]
    age_min, age_max = targeting.get("age_min"), targeting.get("age_max")
    if age_min is not None and age_min != rules.RESTRICTED_AGE_MIN:
        add_error(
            errors,
            [*path, "age_min"],
            f"Special ad category campaigns reach ages {rules.RESTRICTED_AGE_MIN}-"
            f"{rules.RESTRICTED_AGE_MAX}+: age_min must be {rules.RESTRICTED_AGE_MIN} or absent.",
            "special_ad_category",
        )
    if age_max is not None and age_max != rules.RESTRICTED_AGE_MAX:
        add_error(
            errors,
            [*path, "age_max"],
            f"Special ad category campaigns reach ages {rules.RESTRICTED_AGE_MIN}-"
            f"{rules.RESTRICTED_AGE_MAX}+: age_max must be {rules.RESTRICTED_AGE_MAX} or absent.",
            "special_ad_category",
        )
    genders = targeting.get("genders")
    if genders and set(genders) != rules.GENDERS:
        add_error(
            errors,
            [*path, "genders"],
            "Special ad category campaigns reach all genders.",
            "special_ad_category",
        )
    if targeting.get("excluded_geo_locations"):
        add_error(
            errors,
            [*path, "excluded_geo_locations"],
            "Special ad category campaigns cannot exclude locations.",
            "special_ad_category",
        )
    geo = targeting["geo_locations"]
    if geo.get("zips"):
        add_error(
            errors,
            [*path, "geo_locations", "zips"],
            "Special ad category campaigns cannot target ZIP or postal codes.",
            "special_ad_category",
        )
    for key in ("cities", "custom_locations"):
        places = geo.get(key)
        if not isinstance(places, list):
            continue
        for index, place in enumerate(places):
            if not isinstance(place, dict) or place.get("radius") is None:
                continue
            radius, unit = place["radius"], place.get("distance_unit", "mile")
            if isinstance(radius, bool) or not isinstance(radius, int | float):
                miles = 0.0
            else:
                miles = radius / rules.KM_PER_MILE if unit == "kilometer" else float(radius)
            # Meta's UI offers 25 km for the 15 miles; allow that rounding.
            if miles < rules.RESTRICTED_MIN_RADIUS_MILES - 0.5:
                add_error(
                    errors,
                    [*path, "geo_locations", key, index, "radius"],
                    "Special ad category campaigns need a radius of at least "
                    f"{rules.RESTRICTED_MIN_RADIUS_MILES:.0f} miles (25 km).",
                    "special_ad_category",
                )


class CampaignSerializer(MetaSerializer):
    """The campaign: objective, special ad categories and, for CBO, the budget and bid strategy."""

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    objective = ObjectiveField()
    status = StrictChoiceField(rules.CREATE_STATUSES, default=rules.DEFAULT_STATUS)
    special_ad_categories = serializers.ListField(
        child=StrictChoiceField(rules.SPECIAL_AD_CATEGORIES), default=list
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
        if not set(categories) - {rules.NO_SPECIAL_AD_CATEGORY}:
            return
        extra = values.get("extra_params")
        if extra is None:
            return
        # "If special_ad_categories are selected, you must also set a special_ad_category_country"
        # (marketing-api/audiences/special-ad-category).
        countries = extra.get("special_ad_category_country")
        if countries is None:
            add_error(
                errors,
                ["extra_params", "special_ad_category_country"],
                "Meta requires special_ad_category_country (a list of country codes) with "
                "special_ad_categories.",
                "required",
            )
        elif (
            not isinstance(countries, list)
            or not countries
            or not all(isinstance(c, str) and c in rules.COUNTRY_CODES for c in countries)
        ):
            add_error(
                errors,
                ["extra_params", "special_ad_category_country"],
                "Expected a non-empty list of ISO 3166-1 alpha-2 country codes.",
                "invalid",
            )


class MetaAdRequestSerializer(MetaSerializer):
    """Validates everything except `ad_account_id` (the generic app resolves the account)."""

    manual_fields = ("campaign", "ad_sets")

    ad_account_id = StrictCharField(max_length=64)
    campaign = CampaignSerializer()
    ad_sets = AdSetSerializer(many=True, min_length=1, max_length=rules.MAX_AD_SETS)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise ValidationError({"non_field_errors": [_detail(EXPECTED_OBJECT, "invalid")]})
        return super().to_internal_value(data)

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        # `validate_meta_ad_request` passes the time in `facts` (its tree is shared, so it has no
        # per-request context); a serializer used directly may carry it in its context.
        now = (
            facts.now
            if isinstance(facts, CampaignFacts)
            else self.context.get("now") or timezone.now()
        )
        raw_campaign = data.get("campaign", empty)
        campaign: dict[str, Any] = {}
        if raw_campaign is empty:
            errors["campaign"] = [_detail("This field is required.", "required")]
        elif raw_campaign is None:
            errors["campaign"] = [_detail("This field may not be null.", "null")]
        else:
            campaign, campaign_errors = self.fields["campaign"].collect(raw_campaign, None)
            if campaign_errors:
                errors["campaign"] = campaign_errors
            else:
                values["campaign"] = campaign

        budget_known = "daily_budget" in campaign and "lifetime_budget" in campaign
        campaign_facts = CampaignFacts(
            now=now,
            objective=campaign.get("objective"),
            has_budget=(
                (campaign["daily_budget"] is not None or campaign["lifetime_budget"] is not None)
                if budget_known
                else None
            ),
            # With both campaign budgets set (an error already) the end_time rule waits.
            has_lifetime_budget=(
                campaign.get("lifetime_budget") is not None and campaign.get("daily_budget") is None
            ),
            bid_strategy=campaign.get("bid_strategy"),
            restricted_targeting=bool(
                set(campaign.get("special_ad_categories") or ())
                & rules.TARGETING_RESTRICTED_CATEGORIES
            ),
        )
        ad_sets, ad_set_errors = collect_list(
            data,
            "ad_sets",
            self.fields["ad_sets"].child,
            campaign_facts,
            max_items=rules.MAX_AD_SETS,
        )
        if ad_set_errors:
            errors["ad_sets"] = ad_set_errors
        else:
            values["ad_sets"] = ad_sets


def validate_meta_ad_request(data: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Return the cleaned payload (defaults filled: status PAUSED everywhere,
    special_ad_categories [] ...).

    Raise `rest_framework.exceptions.ValidationError` whose `.detail` is a nested dict/list
    structure, so that drf-standardized-errors renders attrs like
    "ad_sets.0.targeting.geo_locations" and "ad_sets.1.ads.0.creative.image_url". Every invalid
    field is reported, not only the first.
    """
    if not isinstance(data, Mapping):
        raise ValidationError({"non_field_errors": [_detail(EXPECTED_OBJECT, "invalid")]})
    if now is None:
        now = timezone.now()
    elif timezone.is_naive(now):
        now = now.replace(tzinfo=UTC)
    # What `MetaAdRequestSerializer(data=data).is_valid()` does, minus the per-instance state:
    # the serializer declares no validators and no validate(), so collecting is all of it. One
    # tree serves every request: building it (DRF deep-copies declared fields per instance)
    # cost more than the validation. collect() keeps its state in locals, and the request's
    # time travels in `facts`, not in a context.
    validator = shared_serializer(MetaAdRequestSerializer)
    values, errors = validator.collect(data, CampaignFacts(now=now))
    if errors:
        raise ValidationError(errors)
    return values
