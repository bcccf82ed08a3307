"""An ad set's targeting spec: locations and ages checked, the rest passed through, and the
audience rules of special ad categories.

Source: marketing-api/audiences/reference/basic-targeting and targeting-restrictions.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from platforms.meta import rules
from platforms.meta.validation.fields import EXPECTED_OBJECT, Errors, add_error, is_int


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
            or not all(is_int(g) and g in rules.GENDERS for g in genders)
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
            if not is_int(value):
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


def check_restricted_targeting(targeting: dict[str, Any], errors: Errors) -> None:
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
