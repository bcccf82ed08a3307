"""Advantage+ audience (``targeting.targeting_automation``) on ad set creation: when
``advantage_audience`` must be sent, what Meta stores when it is not, and what opting in implies
for the age range.

Sources:
- Advantage+ audience guide ("Beginning with v23.0, the advantage_audience parameter within
  targeting_automation defaults to 1 or requires an explicit value of either 1 or 0. This
  behavior applies only when creating a new ad set"):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/audiences/reference/targeting-expansion/advantage-audience
- Blog "Marketing API changes to Advantage+ audience behaviors" (June 13, 2025): the default and
  relaxed setups ("default values for Age, Gender, Custom Audience Inclusion, and Detailed
  Targeting Inclusion, or omitting these fields"):
  https://developers.facebook.com/blog/post/2025/06/13/marketing-api-changes-to-advantage-plus-audience-behaviors/
- v23.0 changelog (individual_setting age and gender "as suggestions"):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/version23.0
- v26.0 blog (housing, employment and financial ad sets must set advantage_audience):
  https://developers.facebook.com/blog/post/2026/07/29/introducing-graph-api-v26-and-marketing-api-v26/?locale=zh_CN
"""

from __future__ import annotations

from typing import Any

from . import errors
from .enums import (
    ADVANTAGE_AUDIENCE_VALUES,
    ALL_GENDERS,
    DEFAULT_AGE_MAX,
    DEFAULT_AGE_MIN,
    DETAILED_TARGETING_KEYS,
    HEC_SPECIAL_AD_CATEGORIES,
    INDIVIDUAL_SETTINGS,
)
from .state import GraphObject

FLAG_FIELD = ["targeting", "targeting_automation", "advantage_audience"]
# Age limits of Advantage+ audience as Meta's answers show them (not in the stored guide text):
# age_max below 65 is refused with subcode 1870189, age_min is capped at 25.
ADVANTAGE_AGE_MIN_CAP = 25
AGE_MAX_WITH_ADVANTAGE_SUBCODE = 1870189


def _flag(value: Any, name: str) -> int:
    """0 or 1, as an integer or its string; anything else is Graph's enum error."""
    if isinstance(value, bool) or str(value) not in ADVANTAGE_AUDIENCE_VALUES:
        raise errors.enum_param(name, ADVANTAGE_AUDIENCE_VALUES)
    return int(value)


def check_targeting_automation(targeting: dict[str, Any]) -> None:
    """The shape of targeting_automation, on create and update alike."""
    automation = targeting.get("targeting_automation")
    if automation is None:
        return
    if not isinstance(automation, dict):
        raise errors.not_json("targeting[targeting_automation]", "object")
    if automation.get("advantage_audience") is not None:
        _flag(
            automation["advantage_audience"],
            "targeting[targeting_automation][advantage_audience]",
        )
    setting = automation.get("individual_setting")
    if setting is None:
        return
    if not isinstance(setting, dict):
        raise errors.not_json("targeting[targeting_automation][individual_setting]", "object")
    for key in INDIVIDUAL_SETTINGS:
        if setting.get(key) is not None:
            _flag(setting[key], f"targeting[targeting_automation][individual_setting][{key}]")


def _relaxed(targeting: dict[str, Any], dimension: str) -> bool:
    setting = (targeting.get("targeting_automation") or {}).get("individual_setting") or {}
    return str(setting.get(dimension)) == "1"


def narrowed_dimensions(targeting: dict[str, Any]) -> list[str]:
    """What takes the targeting out of the "default" setup (and is not relaxed)."""
    narrowed = []
    age_min = targeting.get("age_min", DEFAULT_AGE_MIN)
    age_max = targeting.get("age_max", DEFAULT_AGE_MAX)
    if (age_min, age_max) != (DEFAULT_AGE_MIN, DEFAULT_AGE_MAX) and not _relaxed(targeting, "age"):
        narrowed.append("age")
    genders = {int(g) for g in targeting.get("genders") or []}
    if genders and genders != ALL_GENDERS and not _relaxed(targeting, "gender"):
        narrowed.append("gender")
    if targeting.get("custom_audiences"):
        narrowed.append("custom audiences")
    detailed = [key for key in sorted(DETAILED_TARGETING_KEYS) if _non_empty(targeting.get(key))]
    if detailed:
        narrowed.append("detailed targeting")
    return narrowed


def _non_empty(value: Any) -> bool:
    if isinstance(value, list):
        # flexible_spec is a list of objects; [{}] narrows nothing.
        return any(_non_empty(item) if isinstance(item, dict) else True for item in value)
    if isinstance(value, dict):
        return any(_non_empty(item) for item in value.values())
    return value not in (None, "")


def flag_required() -> errors.GraphError:
    # Code 100 / subcode 1870227 and this title and text are Meta's answers as client projects
    # recorded them (the guide does not quote the error).
    return errors.invalid_parameter(
        "Advantage Audience Flag Required",
        "To create your ad set, you need to enable or disable the Advantage audience feature. "
        "This can be done by setting the advantage_audience flag to either 1 or 0 within the "
        "targeting_automation field in the targeting spec.",
        subcode=1870227,
        blame_fields=FLAG_FIELD,
    )


def apply_advantage_audience(
    targeting: dict[str, Any], campaign: GraphObject, version: tuple[int, int]
) -> dict[str, Any]:
    """Ad set creation only ("updating an existing ad set will not exhibit this behavior on any
    version"): the targeting to store, or the error Meta answers."""
    if version < (23, 0):
        return targeting
    automation = targeting.get("targeting_automation") or {}
    flag = automation.get("advantage_audience")
    if flag is None:
        categories = set(campaign.fields.get("special_ad_categories") or [])
        if narrowed_dimensions(targeting):
            raise flag_required()
        if version >= (26, 0) and categories & HEC_SPECIAL_AD_CATEGORIES:
            # v26.0 blog: ad sets of housing, employment and financial products and services
            # campaigns "must explicitly set advantage_audience to 1 or 0".
            raise flag_required()
        # Default (or relaxed) setup: "Ad sets are now opted-in to Advantage+ audience by
        # default" (v23.0 changelog); Meta stores the 1.
        return {**targeting, "targeting_automation": {**automation, "advantage_audience": 1}}
    if int(flag) == 1:
        age_max = targeting.get("age_max")
        if age_max is not None and age_max < DEFAULT_AGE_MAX:
            raise errors.invalid_parameter(
                "Maximum age unavailable with Advantage+ audience",
                "With Advantage+ audience on (advantage_audience 1), age_max can't be below 65: "
                "the age range is a suggestion, not a limit. Send your preferred range as "
                "age_range, or set advantage_audience to 0.",
                subcode=AGE_MAX_WITH_ADVANTAGE_SUBCODE,
                blame_fields=["targeting", "age_max"],
            )
        age_min = targeting.get("age_min")
        if age_min is not None and age_min > ADVANTAGE_AGE_MIN_CAP:
            raise errors.invalid_parameter(
                "Minimum age too high for Advantage+ audience",
                "With Advantage+ audience on (advantage_audience 1), age_min can be at most 25. "
                "Send your preferred range as age_range, or set advantage_audience to 0.",
                blame_fields=["targeting", "age_min"],
            )
    return targeting
