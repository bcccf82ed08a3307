"""An ad set's targeting: locations and ages, and what targeting the EU requires (DSA).

Each rule names its source. Pages are on developers.facebook.com/docs/marketing-api/ unless a
full URL is given:
- Ad set: reference/ad-campaign (targeting; "Targeting DSA Regulated Locations (EU)").
"""

from __future__ import annotations

from typing import Any

from . import errors
from .audience import check_targeting_automation
from .enums import EU_COUNTRIES, EU_COUNTRY_GROUPS
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


def parse_targeting(params: Params, required: bool = True) -> dict[str, Any] | None:
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
    check_targeting_automation(targeting)
    return targeting


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
