"""Targeting rules: ages, genders, locations, and the audience rules of special ad categories.

Sources: marketing-api/audiences/reference/basic-targeting, targeting-restrictions,
audiences/special-ad-category.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# --- Targeting (marketing-api/audiences/reference/basic-targeting, targeting-restrictions) ---

# age_min: "If used, must be 13 or higher"; age_max: "If used, must be 65 or lower". Without
# them Meta targets 18 to 65+ (the "default" ages of the Advantage+ audience rules below).
AGE_MIN: Final = 13
AGE_MAX: Final = 65
DEFAULT_AGE_MIN: Final = 18
DEFAULT_AGE_MAX: Final = 65
GENDERS: Final = frozenset({1, 2})  # "1 targets males, 2 targets females"; absent = all

# Keys of geo_locations that name places (location_types only qualifies them).
GEO_LOCATION_KEYS: Final = (
    "countries",
    "regions",
    "cities",
    "zips",
    "places",
    "custom_locations",
    "geo_markets",
    "electoral_districts",
    "country_groups",
    "large_geo_areas",
    "medium_geo_areas",
    "small_geo_areas",
    "metro_areas",
    "neighborhoods",
    "subcities",
    "subneighborhoods",
)
# "Limitations on ad targeting" table (targeting-restrictions).
GEO_LOCATION_LIMITS: Final[Mapping[str, int]] = {
    "cities": 250,
    "regions": 200,
    "custom_locations": 200,
    "geo_markets": 210,
    "zips": 50_000,
}

# Housing, employment, financial products and services (special-ad-category; Business Help
# "About audiences for housing, employment or financial products and services campaigns"):
# ages 18 through 65+ and all genders, no ZIP/postal code targeting, no location exclusions,
# and locations by city, address or pin carry at least a 15-mile radius.
RESTRICTED_AGE_MIN: Final = 18
RESTRICTED_AGE_MAX: Final = 65
RESTRICTED_MIN_RADIUS_MILES: Final = 15.0
KM_PER_MILE: Final = 1.609344

# --- Advantage+ audience (audiences/reference/targeting-expansion/advantage-audience) ---------
# "Beginning with v23.0, the advantage_audience parameter within targeting_automation defaults
# to 1 or requires an explicit value of either 1 or 0": Meta defaults it to 1 for the default
# setup (default or no age, gender, custom audience and detailed targeting) and refuses other
# setups without it (code 100, subcode 1870227). Blog 2025-06-13, "Marketing API changes to
# Advantage+ audience behaviors"; since v26.0 also every ad set of a housing, employment or
# financial campaign (v26.0 announcement).
ADVANTAGE_AUDIENCE_VALUES: Final = (0, 1)
# Detailed targeting inclusions (audiences/reference/advanced-targeting; the limit_type values
# of the targeting search, with flexible_spec that groups them): any of these, saying something,
# makes a setup non-default.
DETAILED_TARGETING_KEYS: Final = frozenset(
    {
        "flexible_spec",
        "interests",
        "behaviors",
        "life_events",
        "industries",
        "income",
        "net_worth",
        "family_statuses",
        "household_composition",
        "moms",
        "generation",
        "ethnic_affinity",
        "politics",
        "home_type",
        "home_ownership",
        "home_value",
        "office_type",
        "user_adclusters",
        "work_employers",
        "work_positions",
        "education_schools",
        "education_majors",
        "education_statuses",
        "relationship_statuses",
        "interested_in",
        "college_years",
    }
)
# With Advantage+ audience on, "minimum age" stays a hard constraint and other ages become a
# suggestion (age_range); Meta's answers refuse age_max below 65 (subcode 1870189) and an
# age_min above 25 for such ad sets. Observed in Meta's answers, not on a reference page.
ADVANTAGE_AUDIENCE_MAX_AGE_MIN: Final = 25

# --- Placements (audiences/reference/placement-targeting) -----------------------------------
POSITION_FIELDS: Final = (
    "publisher_platforms",
    "device_platforms",
    "facebook_positions",
    "instagram_positions",
    "messenger_positions",
    "audience_network_positions",
    "threads_positions",
    "whatsapp_positions",
)
# Placements Meta removed, by field: (value, what Meta says). A removed placement is refused
# before anything is sent, the silently dropped one too: what runs is what was asked for.
REMOVED_POSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    # Meta's SDK 24.0.0 release notes: "The Facebook video feeds ad placement is no longer
    # available in Marketing API v24.0, and attempts to use it will result in errors."
    "facebook_positions": {
        "video_feeds": "Meta removed the Facebook video feeds placement in Marketing API v24.0.",
    },
    # v26.0 announcement and SDK 26.0.0 notes: "The Instagram Explore Feed ad placement is
    # removed and returns errors if specified." (explore_home stays.)
    "instagram_positions": {
        "explore": "Meta removed the Instagram Explore feed placement in Marketing API v26.0.",
    },
    # v26.0: "Messenger Stories placement is silently removed from messenger_positions" (all
    # versions from October 27, 2026).
    "messenger_positions": {
        "story": "Meta removed the Messenger Stories placement in Marketing API v26.0 (it "
        "would be dropped without an error).",
    },
}

# --- EU (Digital Services Act) ----------------------------------------------------------------
# "ads which target the EU, associated territories, or select global/worldwide" need
# dsa_beneficiary and dsa_payor (blog 2023-05-16, "New Marketing API requirements for Facebook
# and Instagram ads targeting EU"; reference/ad-account/dsa_recommendations). Meta's full list
# of territories is not on its reference pages: the 27 member states, and the French outermost
# regions with ISO codes of their own.
# fmt: off
EU_COUNTRIES: Final = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    "GF", "GP", "MQ", "RE", "YT", "MF",
})
# fmt: on
EU_COUNTRY_GROUPS: Final = frozenset({"eu", "europe", "worldwide"})

# What `rules` shows of this module: its tables, not its imports.
__all__ = [name for name in dir() if name.isupper()]
