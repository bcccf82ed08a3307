"""An ad set's targeting: locations and ages, placements, exclusions, Advantage detailed
targeting, and what targeting the EU requires (DSA). Advantage+ audience: audience.py.

Each rule names its source. Pages are on developers.facebook.com/docs/marketing-api/ unless a
full URL is given:
- Ad set: reference/ad-campaign (targeting; "Targeting DSA Regulated Locations (EU)").
- Placements: enums.REMOVED_POSITIONS and SILENTLY_REMOVED_POSITIONS name theirs.
- Exclusions (v22.0, all versions April 21, 2025):
  https://developers.facebook.com/docs/marketing-api/marketing-api-changelog/version22.0
- targeting_optimization (v19.0, all versions April 22, 2024):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/version19.0
"""

from __future__ import annotations

from typing import Any

from . import errors
from .audience import check_targeting_automation
from .enums import (
    EU_COUNTRIES,
    EU_COUNTRY_GROUPS,
    NO_TARGETING_OPTIMIZATION_GOALS,
    PLACEMENT_KEYS,
    REMOVED_POSITIONS,
    SILENTLY_REMOVED_POSITIONS,
)
from .params import Params
from .writes import Ctx

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


def parse_targeting(
    params: Params, version: tuple[int, int], required: bool = True
) -> dict[str, Any] | None:
    """The targeting to store (checked on create and update alike), or Meta's error."""
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
    genders = targeting.get("genders")
    if genders is not None and not (
        isinstance(genders, list)
        and all(not isinstance(g, bool) and str(g) in ("1", "2") for g in genders)
    ):
        # Basic targeting: genders, "Genders to target. Defaults to all." (1 men, 2 women).
        raise errors.invalid_parameter(
            "Invalid genders",
            "targeting.genders must be a list of 1 (men) and 2 (women).",
            blame_fields=["targeting", "genders"],
        )
    check_targeting_automation(targeting)
    _check_exclusions(targeting)
    return _placements(targeting, version)


def _placements(targeting: dict[str, Any], version: tuple[int, int]) -> dict[str, Any]:
    """Position lists are lists of strings; removed positions are refused, or dropped where
    Meta drops them silently."""
    cleaned = dict(targeting)
    for key in PLACEMENT_KEYS:
        if key not in targeting:
            continue
        values = targeting[key]
        if not isinstance(values, list):
            raise errors.not_json(f"targeting[{key}]", "array")
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise errors.GraphError(
                    f"(#100) Param targeting[{key}][{index}] must be a string", code=100
                )
            removed = REMOVED_POSITIONS.get((key, value))
            if removed is not None and version >= removed[0]:
                raise errors.invalid_parameter(
                    "Placement no longer available",
                    f"{removed[1]} Remove {value} from {key}.",
                    blame_fields=["targeting", key],
                )
        cleaned[key] = [v for v in values if (key, v) not in SILENTLY_REMOVED_POSITIONS]
    return cleaned


def _check_exclusions(targeting: dict[str, Any]) -> None:
    # v22.0 changelog: "custom audiences will be deprecated within the exclusions field. You can
    # still continue using custom audience exclusions by using [excluded_custom_audiences]".
    exclusions = targeting.get("exclusions")
    if exclusions is None:
        return
    if not isinstance(exclusions, dict):
        raise errors.not_json("targeting[exclusions]", "object")
    if exclusions.get("custom_audiences"):
        raise errors.invalid_parameter(
            "Custom audiences not allowed in exclusions",
            "Custom audiences can no longer be used within the exclusions field. Exclude them "
            "with excluded_custom_audiences in the targeting spec instead.",
            blame_fields=["targeting", "exclusions", "custom_audiences"],
        )
    # Same change: "an error message will be shown when adding any new detailed targeting
    # exclusions that are not within audience control exclusions at the account level"
    # (blog 2025-01-21, "Removal of detailed targeting exclusions"). The sandbox keeps no
    # account-level audience controls, so every detailed exclusion is new to it.
    if any(value for value in exclusions.values()):
        raise errors.invalid_parameter(
            "Detailed targeting exclusions unavailable",
            "Detailed targeting exclusions are no longer available. Use the ad account's "
            "audience controls, or excluded_custom_audiences for custom audiences.",
            blame_fields=["targeting", "exclusions"],
        )


def check_targeting_optimization(targeting: dict[str, Any], goal: str | None) -> None:
    """v19.0 changelog: "The targeting_optimization field will not be accepted for campaigns that
    are optimized for link clicks or landing page views. This also applies to previous
    optimizations that were included in Advantage Detailed Targeting with no option to opt-out
    including conversions, value, app installs, app events and conversations"."""
    if targeting.get("targeting_optimization") is None or goal not in (
        NO_TARGETING_OPTIMIZATION_GOALS
    ):
        return
    raise errors.invalid_parameter(
        "Advantage detailed targeting unavailable",
        "The targeting_optimization field will not be accepted for campaigns optimized for "
        f"{goal}. Remove it, or optimize for another goal.",
        blame_fields=["targeting", "targeting_optimization"],
    )


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


def check_dsa(ctx: Ctx, params: Params, targeting: dict[str, Any]) -> None:
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
