"""Who an ad set may reach: the audience rules of special ad categories, Advantage+ audience
(the flag every new ad set carries), and whether it reaches the EU.

These rules read the targeting as a whole, once its fields are valid (`targeting`), together
with what the campaign says.
"""

from __future__ import annotations

import math
from typing import Any

from platforms.meta import rules
from platforms.meta.validation.fields import Errors, add_error

_PATH = ["targeting"]


def narrows_audience(targeting: dict[str, Any]) -> bool:
    """Whether the targeting is not Meta's "default setup": ages other than 18-65+, some
    genders, custom audiences or detailed targeting, unless relaxed (individual_setting).

    Source: blog 2025-06-13 "Marketing API changes to Advantage+ audience behaviors" (default and
    relaxed setups default to 1; any other setup needs the flag).
    """
    relaxed = (targeting.get("targeting_automation") or {}).get("individual_setting") or {}
    ages = (
        targeting.get("age_min", rules.DEFAULT_AGE_MIN),
        targeting.get("age_max", rules.DEFAULT_AGE_MAX),
    )
    if ages != (rules.DEFAULT_AGE_MIN, rules.DEFAULT_AGE_MAX) and not relaxed.get("age"):
        return True
    genders = targeting.get("genders")
    if genders and set(genders) != rules.GENDERS and not relaxed.get("gender"):
        return True
    if _says_something(targeting.get("custom_audiences")):
        return True
    return any(_says_something(targeting.get(key)) for key in rules.DETAILED_TARGETING_KEYS)


def _says_something(value: Any) -> bool:
    """A targeting value that selects someone: flexible_spec [{}] selects nobody in particular."""
    if isinstance(value, list):
        return any(_says_something(item) if isinstance(item, dict) else True for item in value)
    if isinstance(value, dict):
        return any(_says_something(item) for item in value.values())
    return value not in (None, "")


def apply_advantage_audience(targeting: dict[str, Any], errors: Errors) -> None:
    """Set `targeting_automation.advantage_audience` (the client's value, else 0 when the
    targeting narrows the audience, else 1: Meta's own default), and check what Meta attaches
    to it being on."""
    automation = dict(targeting.get("targeting_automation") or {})
    flag = automation.get("advantage_audience")
    if flag is None:
        # Meta's own default for this setup: its age rules are the setup's (a relaxed age
        # range is a suggestion already), not those of a flag the client turned on.
        automation["advantage_audience"] = 0 if narrows_audience(targeting) else 1
        targeting["targeting_automation"] = automation
        return
    if flag != 1:
        return
    # With Advantage+ audience turned on, age_min is a hard limit and the rest a suggestion
    # (age_range); Meta refuses an age_max below 65 and an age_min above 25 (see rules).
    age_max = targeting.get("age_max")
    if age_max is not None and age_max < rules.AGE_MAX:
        add_error(
            errors,
            [*_PATH, "age_max"],
            f"With Advantage+ audience on (advantage_audience 1) Meta takes no age_max below "
            f"{rules.AGE_MAX}: suggest ages with age_range, or set advantage_audience to 0.",
            "advantage_audience",
        )
    age_min = targeting.get("age_min")
    if age_min is not None and age_min > rules.ADVANTAGE_AUDIENCE_MAX_AGE_MIN:
        add_error(
            errors,
            [*_PATH, "age_min"],
            f"With Advantage+ audience on (advantage_audience 1) age_min may be at most "
            f"{rules.ADVANTAGE_AUDIENCE_MAX_AGE_MIN}: suggest ages with age_range, or set "
            "advantage_audience to 0.",
            "advantage_audience",
        )


def targets_eu(targeting: dict[str, Any]) -> bool:
    """Whether the ad set may reach the EU: a member state (or a place in one), or a group of
    countries that holds them (see `rules.EU_COUNTRIES`)."""
    geo = targeting.get("geo_locations") or {}
    countries = {str(c).upper() for c in geo.get("countries") or [] if isinstance(c, str)}
    for key in ("regions", "cities", "zips", "places", "geo_markets", "electoral_districts"):
        for place in geo.get(key) or []:
            # Meta's keys alone do not say the country; clients that kept Meta's targeting
            # search result send it along (country_code, or country).
            country = (
                place.get("country_code") or place.get("country")
                if isinstance(place, dict)
                else None
            )
            if isinstance(country, str):
                countries.add(country.upper())
    groups = {str(g).lower() for g in geo.get("country_groups") or [] if isinstance(g, str)}
    return bool(countries & rules.EU_COUNTRIES or groups & rules.EU_COUNTRY_GROUPS)


def check_restricted_targeting(targeting: dict[str, Any], errors: Errors) -> None:
    """Housing, employment and financial products/services audiences (see rules)."""
    path = _PATH
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
                miles = 0.0  # no number: no radius at all
            else:
                try:
                    miles = radius / rules.KM_PER_MILE if unit == "kilometer" else float(radius)
                except OverflowError:
                    miles = math.inf  # an integer past any float: wide enough for this rule
            # Meta's UI offers 25 km for the 15 miles; allow that rounding.
            if miles < rules.RESTRICTED_MIN_RADIUS_MILES - 0.5:
                add_error(
                    errors,
                    [*path, "geo_locations", key, index, "radius"],
                    "Special ad category campaigns need a radius of at least "
                    f"{rules.RESTRICTED_MIN_RADIUS_MILES:.0f} miles (25 km).",
                    "special_ad_category",
                )
