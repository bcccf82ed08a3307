"""Who an ad set reaches, by Meta's rules of 2025-2026: the Advantage+ audience flag every new ad
set carries, placements Meta removed, DSA beneficiary and payor for the EU (with the ad
account's defaults), and fields Meta no longer takes."""

from __future__ import annotations

from typing import Any

import pytest
from drf_standardized_errors.formatter import flatten_errors
from rest_framework.exceptions import ValidationError

from platforms.meta.validation import validate_meta_ad_request
from tests.test_meta_validation import NOW, api_example, with_changes

TARGETING = "ad_sets.0.targeting"


def validate(body: dict[str, Any], account_config: dict[str, Any] | None = None) -> Any:
    """(cleaned body, None) or (None, {(attr, code), ...})."""
    try:
        return validate_meta_ad_request(body, now=NOW, account_config=account_config), None
    except ValidationError as exc:
        return None, {(e.attr, e.code) for e in flatten_errors(exc.detail)}


def with_targeting(targeting: dict[str, Any], **ad_set: Any) -> dict[str, Any]:
    return with_changes(
        api_example(),
        {TARGETING: targeting, **{f"ad_sets.0.{key}": value for key, value in ad_set.items()}},
    )


def sent_targeting(targeting: dict[str, Any], **ad_set: Any) -> dict[str, Any]:
    cleaned, errors = validate(with_targeting(targeting, **ad_set))
    assert errors is None, errors
    return cleaned["ad_sets"][0]["targeting"]


US = {"countries": ["US"]}


# --- Advantage+ audience --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targeting", "flag"),
    [
        ({"geo_locations": US}, 1),
        ({"geo_locations": US, "age_min": 18, "age_max": 65}, 1),
        ({"geo_locations": US, "genders": [1, 2]}, 1),
        ({"geo_locations": US, "excluded_custom_audiences": [{"id": "1"}]}, 1),
        ({"geo_locations": US, "age_min": 18, "age_max": 35}, 0),
        ({"geo_locations": US, "age_min": 21}, 0),
        ({"geo_locations": US, "genders": [2]}, 0),
        ({"geo_locations": US, "custom_audiences": [{"id": "23850000000000001"}]}, 0),
        ({"geo_locations": US, "interests": [{"id": "6003139266461"}]}, 0),
        ({"geo_locations": US, "flexible_spec": [{"behaviors": [{"id": "6002714895372"}]}]}, 0),
        # Ages given as a relaxation (a suggestion) keep Meta's default setup, whatever they are.
        (
            {
                "geo_locations": US,
                "age_min": 25,
                "targeting_automation": {"individual_setting": {"age": 1}},
            },
            1,
        ),
        (
            {
                "geo_locations": US,
                "age_min": 30,
                "age_max": 40,
                "targeting_automation": {"individual_setting": {"age": 1}},
            },
            1,
        ),
        ({"geo_locations": US, "moms": [{"id": "6002714398772"}]}, 0),
        ({"geo_locations": US, "flexible_spec": [{}]}, 1),
    ],
)
def test_every_ad_set_carries_the_advantage_audience_flag(
    targeting: dict[str, Any], flag: int
) -> None:
    automation = sent_targeting(targeting)["targeting_automation"]
    assert automation["advantage_audience"] == flag


@pytest.mark.parametrize("flag", [0, 1])
def test_the_clients_flag_is_kept(flag: int) -> None:
    targeting = {"geo_locations": US, "targeting_automation": {"advantage_audience": flag}}
    assert sent_targeting(targeting)["targeting_automation"] == {"advantage_audience": flag}


@pytest.mark.parametrize("flag", [2, -1, "1", True, None, 1.0])
def test_the_flag_is_zero_or_one(flag: Any) -> None:
    if flag is None:
        # An explicit null means "not set": mojito decides.
        assert sent_targeting(
            {"geo_locations": US, "targeting_automation": {"advantage_audience": None}}
        )["targeting_automation"] == {"advantage_audience": 1}
        return
    _, errors = validate(
        with_targeting({"geo_locations": US, "targeting_automation": {"advantage_audience": flag}})
    )
    assert errors == {(f"{TARGETING}.targeting_automation.advantage_audience", "invalid")}


def test_with_advantage_audience_on_ages_are_a_floor_and_a_suggestion() -> None:
    on = {"advantage_audience": 1}
    _, errors = validate(
        with_targeting(
            {"geo_locations": US, "age_min": 30, "age_max": 40, "targeting_automation": on}
        )
    )
    assert errors == {
        (f"{TARGETING}.age_min", "advantage_audience"),
        (f"{TARGETING}.age_max", "advantage_audience"),
    }
    # A floor up to 25, and a suggested range, are what Meta takes with it on.
    targeting = sent_targeting(
        {"geo_locations": US, "age_min": 25, "age_range": [25, 40], "targeting_automation": on}
    )
    assert targeting["age_range"] == [25, 40]


@pytest.mark.parametrize("age_range", [[40, 25], [25], [10, 30], "25-40", [25, "40"]])
def test_age_range_is_min_and_max(age_range: Any) -> None:
    _, errors = validate(with_targeting({"geo_locations": US, "age_range": age_range}))
    assert errors == {(f"{TARGETING}.age_range", "invalid")}


# --- Placements -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "positions", "index"),
    [
        ("facebook_positions", ["feed", "video_feeds"], 1),
        ("instagram_positions", ["explore", "stream"], 0),
        ("messenger_positions", ["story"], 0),
    ],
)
def test_placements_meta_removed_are_refused(field: str, positions: list[str], index: int) -> None:
    _, errors = validate(with_targeting({"geo_locations": US, field: positions}))
    assert errors == {(f"{TARGETING}.{field}.{index}", "removed")}


def test_current_placements_pass() -> None:
    targeting = {
        "geo_locations": US,
        "publisher_platforms": ["facebook", "instagram", "messenger"],
        "facebook_positions": ["feed", "right_hand_column", "facebook_reels"],
        "instagram_positions": ["stream", "explore_home", "reels"],
        "messenger_positions": ["sponsored_messages"],
    }
    assert sent_targeting(targeting)["instagram_positions"] == ["stream", "explore_home", "reels"]


@pytest.mark.parametrize("positions", ["feed", [1], {"feed": True}])
def test_positions_are_lists_of_names(positions: Any) -> None:
    _, errors = validate(with_targeting({"geo_locations": US, "facebook_positions": positions}))
    assert errors == {(f"{TARGETING}.facebook_positions", "not_a_list")}


# --- Fields Meta no longer takes ----------------------------------------------------------------


def test_custom_audiences_in_exclusions_are_refused() -> None:
    _, errors = validate(
        with_targeting({"geo_locations": US, "exclusions": {"custom_audiences": [{"id": "1"}]}})
    )
    assert errors == {(f"{TARGETING}.exclusions.custom_audiences", "removed")}


@pytest.mark.parametrize(
    ("exclusions", "code"),
    [({"interests": [{"id": "6003139266461"}]}, "removed"), ([1], "invalid")],
)
def test_detailed_targeting_exclusions_are_refused(exclusions: Any, code: str) -> None:
    _, errors = validate(with_targeting({"geo_locations": US, "exclusions": exclusions}))
    assert errors == {(f"{TARGETING}.exclusions", code)}
    assert sent_targeting({"geo_locations": US, "exclusions": {}})["exclusions"] == {}


@pytest.mark.parametrize(("goal", "refused"), [("LINK_CLICKS", True), ("REACH", False)])
def test_targeting_optimization_is_refused_for_click_goals(goal: str, refused: bool) -> None:
    body = with_targeting(
        {"geo_locations": US, "targeting_optimization": "expansion_all"}, optimization_goal=goal
    )
    _, errors = validate(body)
    assert errors == ({(f"{TARGETING}.targeting_optimization", "removed")} if refused else None)


def test_smart_promotion_type_and_existing_customer_budget_are_refused() -> None:
    body = with_changes(
        api_example(),
        {
            "campaign.extra_params": {"smart_promotion_type": "GUIDED_CREATION"},
            "ad_sets.0.extra_params": {"existing_customer_budget_percentage": 20},
        },
    )
    _, errors = validate(body)
    assert errors == {
        ("campaign.extra_params.smart_promotion_type", "removed"),
        ("ad_sets.0.extra_params.existing_customer_budget_percentage", "removed"),
    }


# --- DSA: ad sets that reach the EU -------------------------------------------------------------


@pytest.mark.parametrize(
    "geo",
    [
        {"countries": ["US", "DE"]},
        {"regions": [{"key": "1", "country": "FR"}]},
        {"cities": [{"key": "2", "country": "ES", "radius": 10}]},
        {"zips": [{"key": "FR:75001", "country_code": "FR"}]},
        {"country_groups": ["eu"]},
        {"country_groups": ["worldwide"]},
        {"countries": ["RE"]},  # La Réunion, an outermost region of the EU
    ],
)
def test_an_ad_set_that_reaches_the_eu_names_beneficiary_and_payor(geo: dict[str, Any]) -> None:
    _, errors = validate(with_targeting({"geo_locations": geo}), account_config={})
    assert errors == {
        ("ad_sets.0.dsa_beneficiary", "required"),
        ("ad_sets.0.dsa_payor", "required"),
    }


def test_the_ad_accounts_defaults_fill_beneficiary_and_payor() -> None:
    config = {"dsa_beneficiary": "Acme GmbH", "dsa_payor": "Acme Holding"}
    cleaned, errors = validate(with_targeting({"geo_locations": {"countries": ["DE"]}}), config)
    assert errors is None
    assert cleaned["ad_sets"][0]["dsa_beneficiary"] == "Acme GmbH"
    assert cleaned["ad_sets"][0]["dsa_payor"] == "Acme Holding"
    # The ad set's own values win over the account's.
    body = with_targeting({"geo_locations": {"countries": ["DE"]}}, dsa_payor="Agency SA")
    cleaned, _ = validate(body, config)
    assert cleaned["ad_sets"][0]["dsa_payor"] == "Agency SA"
    assert cleaned["ad_sets"][0]["dsa_beneficiary"] == "Acme GmbH"


def test_outside_the_eu_nothing_is_needed() -> None:
    cleaned, errors = validate(with_targeting({"geo_locations": {"countries": ["US"]}}), {})
    assert errors is None
    assert cleaned["ad_sets"][0]["dsa_payor"] is None


def test_the_accounts_defaults_go_with_every_ad_set_that_has_none() -> None:
    # A region named by Meta's key alone does not say its country (it may be in the EU).
    config = {"dsa_beneficiary": "Acme GmbH", "dsa_payor": "Acme Holding"}
    body = with_targeting({"geo_locations": {"regions": [{"key": "3847"}]}})
    cleaned, errors = validate(body, config)
    assert errors is None
    assert cleaned["ad_sets"][0]["dsa_payor"] == "Acme Holding"


def test_a_region_that_names_its_country_counts() -> None:
    body = with_targeting({"geo_locations": {"regions": [{"key": "1", "country_code": "DE"}]}})
    _, errors = validate(body, {})
    assert errors == {
        ("ad_sets.0.dsa_beneficiary", "required"),
        ("ad_sets.0.dsa_payor", "required"),
    }


def test_an_account_default_too_long_to_send_is_named() -> None:
    config = {"dsa_beneficiary": "x" * 513, "dsa_payor": "Acme"}
    _, errors = validate(with_targeting({"geo_locations": {"countries": ["DE"]}}), config)
    assert errors == {("ad_sets.0.dsa_beneficiary", "max_length")}


def test_without_a_known_account_the_dsa_rule_waits_for_it() -> None:
    # The ad_account_id error comes first; no second guess about the account's defaults.
    cleaned, errors = validate(with_targeting({"geo_locations": {"countries": ["DE"]}}), None)
    assert errors is None and cleaned["ad_sets"][0]["dsa_payor"] is None
