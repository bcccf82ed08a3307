"""An ad set's targeting spec, field by field: locations, ages, genders, Advantage+ audience
settings and placements are checked; every other key passes through.

The rules that depend on the campaign (special ad categories) or decide Advantage+ audience
are in `audience`.
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
        self._check_automation(data, errors)
        self._check_placements(data, errors)
        self._check_exclusions(data, errors)
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
        given = [key for key in rules.GEO_LOCATION_KEYS if geo.get(key) is not None]
        if not any(geo[key] for key in given):
            add_error(
                errors,
                ["geo_locations"],
                "Give at least one location: " + ", ".join(rules.GEO_LOCATION_KEYS) + ".",
                "required",
            )
        for key in given:
            value = geo[key]
            if not isinstance(value, list):
                # "" or {} name no place, and are no list either.
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
        age_range = data.get("age_range")
        if age_range is not None and not (
            isinstance(age_range, list)
            and len(age_range) == 2
            and all(is_int(age) and rules.AGE_MIN <= age <= rules.AGE_MAX for age in age_range)
            and age_range[0] <= age_range[1]
        ):
            add_error(
                errors,
                ["age_range"],
                f"Expected [min, max], ages {rules.AGE_MIN} to {rules.AGE_MAX}.",
                "invalid",
            )

    @staticmethod
    def _check_automation(data: dict[str, Any], errors: Errors) -> None:
        """targeting_automation: advantage_audience 0 or 1, relaxations as 0 or 1 per setting.

        Source: audiences/reference/targeting-expansion/advantage-audience; changelog v23.0
        ("individual_setting's age and gender parameters inside targeting_automation").
        """
        if "targeting_automation" not in data:
            return
        automation = data["targeting_automation"]
        if not isinstance(automation, dict):
            add_error(errors, ["targeting_automation"], EXPECTED_OBJECT, "invalid")
            return
        flag = automation.get("advantage_audience")
        if flag is not None and not (is_int(flag) and flag in rules.ADVANTAGE_AUDIENCE_VALUES):
            add_error(
                errors,
                ["targeting_automation", "advantage_audience"],
                "Expected 1 (Advantage+ audience on) or 0 (off).",
                "invalid",
            )
        individual = automation.get("individual_setting")
        if individual is None:
            return
        if not isinstance(individual, dict) or not all(
            is_int(value) and value in (0, 1) for value in individual.values()
        ):
            add_error(
                errors,
                ["targeting_automation", "individual_setting"],
                'Expected an object of 0 or 1 per setting, e.g. {"age": 1, "gender": 1}.',
                "invalid",
            )

    @staticmethod
    def _check_placements(data: dict[str, Any], errors: Errors) -> None:
        """Position lists are lists of names; placements Meta removed are refused.

        Source: audiences/reference/placement-targeting; removals in `rules.REMOVED_POSITIONS`.
        """
        for key in rules.POSITION_FIELDS:
            if key not in data:
                continue
            positions = data[key]
            if not isinstance(positions, list) or not all(isinstance(p, str) for p in positions):
                add_error(errors, [key], "Expected a list of names.", "not_a_list")
                continue
            removed = rules.REMOVED_POSITIONS.get(key, {})
            for index, position in enumerate(positions):
                if position in removed:
                    add_error(errors, [key, index], removed[position], "removed")

    @staticmethod
    def _check_exclusions(data: dict[str, Any], errors: Errors) -> None:
        # Changelog v22.0: "custom audiences will be deprecated within the exclusions field";
        # excluded_custom_audiences stays.
        # The same change removed detailed targeting exclusions ("an error message will be shown
        # when adding any new detailed targeting exclusions that are not within audience control
        # exclusions at the account level"; blog 2025-01-21): the account's audience controls
        # apply without being repeated here.
        exclusions = data.get("exclusions")
        if exclusions is None:
            return
        if not isinstance(exclusions, dict):
            add_error(errors, ["exclusions"], EXPECTED_OBJECT, "invalid")
        elif exclusions.get("custom_audiences"):
            add_error(
                errors,
                ["exclusions", "custom_audiences"],
                "Meta no longer takes custom audiences in exclusions (v22.0): use "
                "excluded_custom_audiences.",
                "removed",
            )
        elif any(exclusions.values()):
            add_error(
                errors,
                ["exclusions"],
                "Meta no longer takes detailed targeting exclusions (v22.0, all versions since "
                "April 21, 2025): use the ad account's audience controls.",
                "removed",
            )
