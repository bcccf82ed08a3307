"""Validation of `POST /api/v1/ads/meta` bodies against Meta's rules.

Errors are flattened with drf-standardized-errors' own formatter, so the `attr` strings asserted
here are exactly the ones the API answers with.
"""

from __future__ import annotations

import copy
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from drf_standardized_errors.formatter import flatten_errors
from rest_framework.exceptions import ValidationError

from platforms.meta import rules
from platforms.meta.validation import MetaAdRequestSerializer, validate_meta_ad_request
from tests import payloads

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DELETE = object()


def api_example() -> dict[str, Any]:
    """The body of API.md, with start_time in the future relative to NOW."""
    body = payloads.api_example()
    body["ad_sets"][0]["start_time"] = "2026-12-01T00:00:00Z"
    return body


def minimal_body() -> dict[str, Any]:
    """Only what is required: every default is left to the validator."""
    return {
        "ad_account_id": "act_123",
        "campaign": {"name": "Spring sale", "objective": "OUTCOME_TRAFFIC"},
        "ad_sets": [
            {
                "name": "US",
                "daily_budget": 2000,
                "billing_event": "IMPRESSIONS",
                "optimization_goal": "LINK_CLICKS",
                "targeting": {"geo_locations": {"countries": ["US"]}},
                "ads": [
                    {
                        "name": "Ad 1",
                        "creative": {
                            "page_id": "1234567890",
                            "link": "https://example.com/sale",
                            "image_hash": "0123456789abcdef0123456789abcdef",
                        },
                    }
                ],
            }
        ],
    }


def with_changes(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of `body` with dotted paths ("ad_sets.0.targeting.age_min") set or DELETEd."""
    body = copy.deepcopy(body)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = body
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return body


def errors_of(body: Any) -> list[Any]:
    try:
        validate_meta_ad_request(body, now=NOW)
    except ValidationError as exc:
        return flatten_errors(exc.detail)
    return []


def attrs_of(body: Any) -> set[str]:
    return {error.attr for error in errors_of(body)}


def assert_valid(body: dict[str, Any]) -> dict[str, Any]:
    assert errors_of(body) == []
    return validate_meta_ad_request(body, now=NOW)


def ad_set(**overrides: Any) -> dict[str, Any]:
    base = copy.deepcopy(api_example()["ad_sets"][0])
    base.update(overrides)
    return base


# --- The happy path and defaults ----------------------------------------------------------------


def test_it_accepts_the_api_example_unchanged() -> None:
    cleaned = assert_valid(api_example())
    assert cleaned["campaign"]["objective"] == "OUTCOME_TRAFFIC"
    assert cleaned["ad_sets"][0]["start_time"] == "2026-12-01T00:00:00+00:00"
    assert cleaned["ad_sets"][0]["ads"][0]["creative"]["call_to_action"] == {
        "type": "SHOP_NOW",
        "link": None,
    }


def test_it_fills_defaults_everywhere() -> None:
    cleaned = assert_valid(minimal_body())
    campaign = cleaned["campaign"]
    assert campaign["status"] == "PAUSED"
    assert campaign["special_ad_categories"] == []
    assert campaign["buying_type"] == "AUCTION"
    assert campaign["bid_strategy"] is None
    assert campaign["daily_budget"] is campaign["lifetime_budget"] is campaign["spend_cap"] is None
    # Meta wants the flag on every campaign without a campaign budget.
    assert campaign["is_adset_budget_sharing_enabled"] is False
    assert campaign["extra_params"] == {}
    ad_set_ = cleaned["ad_sets"][0]
    assert ad_set_["status"] == "PAUSED"
    assert ad_set_["extra_params"] == {}
    assert ad_set_["promoted_object"] is None
    assert ad_set_["end_time"] is None
    ad = ad_set_["ads"][0]
    assert ad["status"] == "PAUSED"
    assert ad["creative_id"] is None
    assert ad["creative"]["call_to_action"] is None
    assert ad["creative"]["extra_params"] == {}


def test_the_cleaned_payload_is_plain_json() -> None:
    import json

    cleaned = assert_valid(api_example())
    assert json.loads(json.dumps(cleaned)) == cleaned


def test_the_serializer_can_be_used_directly_without_context() -> None:
    serializer = MetaAdRequestSerializer(data=minimal_body())
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["ad_account_id"] == "act_123"


@pytest.mark.parametrize("value", ["", "x" * 65, 123, None, DELETE])
def test_it_requires_an_ad_account_id_string_up_to_64_chars(value: Any) -> None:
    assert attrs_of(with_changes(minimal_body(), {"ad_account_id": value})) == {"ad_account_id"}


@pytest.mark.parametrize("body", [[], "body", None, 1, [{"campaign": {}}]])
def test_it_refuses_a_body_that_is_not_an_object(body: Any) -> None:
    errors = errors_of(body)
    assert [(e.attr, e.detail) for e in errors] == [("non_field_errors", "Expected a JSON object.")]


@pytest.mark.parametrize(
    "path", ["campaign", "ad_sets.0", "ad_sets.0.ads.0", "ad_sets.0.ads.0.creative"]
)
def test_a_nested_level_that_is_not_an_object_is_named(path: str) -> None:
    errors = errors_of(with_changes(api_example(), {path: "oops"}))
    assert [(e.attr, e.detail) for e in errors] == [(path, "Expected a JSON object.")]


# --- Unknown fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "campaign_typo",
        "campaign.objectve",
        "ad_sets.0.daily_budgett",
        "ad_sets.0.ads.0.statuss",
        "ad_sets.0.ads.0.creative.imageurl",
        "ad_sets.0.ads.0.creative.call_to_action.url",
    ],
)
def test_it_names_unknown_fields_at_every_level(path: str) -> None:
    errors = errors_of(with_changes(api_example(), {path: "x"}))
    assert [(e.attr, e.code, e.detail) for e in errors] == [
        (path, "unknown_field", "Unknown field.")
    ]


@pytest.mark.parametrize(
    "path",
    [
        "campaign.extra_params.pacing_type",
        "ad_sets.0.extra_params.attribution_spec",
        "ad_sets.0.ads.0.creative.extra_params.url_tags",
        "ad_sets.0.targeting.publisher_platforms",
        "ad_sets.0.targeting.geo_locations.location_types",
        "ad_sets.0.promoted_object",
    ],
)
def test_free_form_objects_pass_unknown_keys_through(path: str) -> None:
    value = {"anything": True} if path.endswith("promoted_object") else ["facebook"]
    cleaned = assert_valid(with_changes(api_example(), {path: value}))
    node: Any = cleaned
    for key in path.split("."):
        node = node[int(key)] if isinstance(node, list) else node[key]
    assert node == value


# --- Types and required fields --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("campaign.name", 123),
        ("campaign.name", ""),
        ("campaign.name", "x" * 401),
        ("campaign.status", "active"),
        ("campaign.status", "ARCHIVED"),
        ("campaign.is_adset_budget_sharing_enabled", "false"),
        ("campaign.special_ad_categories", "HOUSING"),
        ("campaign.buying_type", "FIXED_CPM"),
        ("campaign.extra_params", ["a"]),
        ("ad_sets.0.daily_budget", "2000"),
        ("ad_sets.0.daily_budget", 20.5),
        ("ad_sets.0.daily_budget", True),
        ("ad_sets.0.daily_budget", 0),
        ("ad_sets.0.bid_amount", -1),
        ("ad_sets.0.targeting", ["US"]),
        ("ad_sets.0.targeting", None),
        ("ad_sets.0.ads.0.name", None),
        ("ad_sets.0.ads.0.creative.message", "x" * 5001),
        ("ad_sets.0.ads.0.creative.headline", 5),
    ],
)
def test_it_reports_wrong_types_and_values_at_the_field(path: str, value: Any) -> None:
    assert attrs_of(with_changes(api_example(), {path: value})) == {path}


@pytest.mark.parametrize(
    "path",
    [
        "campaign",
        "ad_sets",
        "campaign.name",
        "campaign.objective",
        "ad_sets.0.name",
        "ad_sets.0.billing_event",
        "ad_sets.0.optimization_goal",
        "ad_sets.0.targeting",
        "ad_sets.0.ads",
        "ad_sets.0.ads.0.name",
        "ad_sets.0.ads.0.creative.page_id",
        "ad_sets.0.ads.0.creative.link",
        "ad_sets.0.ads.0.creative.call_to_action.type",
    ],
)
def test_it_requires_the_fields_meta_requires(path: str) -> None:
    errors = errors_of(with_changes(api_example(), {path: DELETE}))
    assert [(e.attr, e.code) for e in errors] == [(path, "required")]


# --- Campaign -------------------------------------------------------------------------------------


@pytest.mark.parametrize("objective", sorted(rules.LEGACY_OBJECTIVES))
def test_it_refuses_legacy_objectives_naming_the_replacement(objective: str) -> None:
    errors = errors_of(with_changes(api_example(), {"campaign.objective": objective}))
    assert [(e.attr, e.code) for e in errors] == [("campaign.objective", "legacy_objective")]
    assert rules.LEGACY_OBJECTIVE_REPLACEMENTS[objective].split()[0] in errors[0].detail


def test_link_clicks_points_to_outcome_traffic() -> None:
    errors = errors_of(with_changes(api_example(), {"campaign.objective": "LINK_CLICKS"}))
    assert "Use OUTCOME_TRAFFIC" in errors[0].detail


@pytest.mark.parametrize("objective", ["TRAFFIC", "outcome_traffic", 1])
def test_it_refuses_unknown_objectives(objective: Any) -> None:
    errors = errors_of(with_changes(api_example(), {"campaign.objective": objective}))
    assert [(e.attr, e.code) for e in errors] == [("campaign.objective", "invalid_choice")]


def test_the_current_objectives_are_the_six_outcomes() -> None:
    assert {
        "OUTCOME_APP_PROMOTION",
        "OUTCOME_AWARENESS",
        "OUTCOME_ENGAGEMENT",
        "OUTCOME_LEADS",
        "OUTCOME_SALES",
        "OUTCOME_TRAFFIC",
    } == rules.CURRENT_OBJECTIVES


@pytest.mark.parametrize(
    ("categories", "attrs"),
    [
        (["NONE"], set()),
        (["NONE", "HOUSING"], {"campaign.special_ad_categories"}),
        (["HOUSING", "HOUSING"], {"campaign.special_ad_categories"}),
        (["SOMETHING"], {"campaign.special_ad_categories.0"}),
        (["EMPLOYMENT", "BOGUS"], {"campaign.special_ad_categories.1"}),
    ],
)
def test_special_ad_categories_take_sdk_values_and_none_alone(
    categories: list[str], attrs: set[str]
) -> None:
    body = with_changes(
        api_example(),
        {
            "campaign.special_ad_categories": categories,
            "campaign.extra_params": {"special_ad_category_country": ["US"]},
            "ad_sets.0.targeting": {"geo_locations": {"countries": ["US"]}},
        },
    )
    assert attrs_of(body) == attrs


def _financial(**campaign: Any) -> dict[str, Any]:
    return with_changes(
        api_example(),
        {
            "campaign.special_ad_categories": ["FINANCIAL_PRODUCTS_SERVICES"],
            **{f"campaign.{key}": value for key, value in campaign.items()},
            "ad_sets.0.targeting": {"geo_locations": {"countries": ["US"]}},
        },
    )


def test_a_special_ad_category_needs_its_country() -> None:
    errors = errors_of(_financial())
    assert [(e.attr, e.code) for e in errors] == [
        ("campaign.special_ad_category_country", "required")
    ]
    cleaned = assert_valid(_financial(special_ad_category_country=["US", "CA"]))
    assert cleaned["campaign"]["special_ad_category_country"] == ["US", "CA"]


@pytest.mark.parametrize(
    ("countries", "attr"),
    [
        ([], "campaign.special_ad_category_country"),
        (["USA"], "campaign.special_ad_category_country.0"),
        ("US", "campaign.special_ad_category_country"),
    ],
)
def test_special_ad_category_country_is_a_list_of_country_codes(countries: Any, attr: str) -> None:
    assert attrs_of(_financial(special_ad_category_country=countries)) == {attr}


@pytest.mark.parametrize("countries", [[], ["USA"], "US"])
def test_special_ad_category_country_may_still_come_through_extra_params(countries: Any) -> None:
    assert_valid(_financial(extra_params={"special_ad_category_country": ["US"]}))
    body = _financial(extra_params={"special_ad_category_country": countries})
    assert attrs_of(body) == {"campaign.extra_params.special_ad_category_country"}


def test_special_ad_category_country_is_given_once() -> None:
    body = _financial(
        special_ad_category_country=["US"], extra_params={"special_ad_category_country": ["US"]}
    )
    assert [(e.attr, e.code) for e in errors_of(body)] == [
        ("campaign.extra_params.special_ad_category_country", "exclusive")
    ]


def test_credit_is_refused_for_financial_products_services() -> None:
    body = _financial(special_ad_categories=["CREDIT"], special_ad_category_country=["US"])
    (error,) = errors_of(body)
    assert (error.attr, error.code) == ("campaign.special_ad_categories.0", "replaced")
    assert "FINANCIAL_PRODUCTS_SERVICES" in error.detail


@pytest.mark.parametrize("key", ["objective", "name", "daily_budget", "special_ad_categories"])
def test_campaign_extra_params_may_not_override_named_fields(key: str) -> None:
    body = with_changes(api_example(), {"campaign.extra_params": {key: "x"}})
    errors = errors_of(body)
    assert [(e.attr, e.code) for e in errors] == [(f"campaign.extra_params.{key}", "reserved")]


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("ad_sets.0.extra_params", "targeting"),
        ("ad_sets.0.extra_params", "campaign_id"),
        ("ad_sets.0.ads.0.extra_params", "adset_id"),
        ("ad_sets.0.ads.0.creative.extra_params", "link"),
        ("ad_sets.0.ads.0.creative.extra_params", "object_story_spec"),
    ],
)
def test_extra_params_below_the_campaign_may_not_override_either(path: str, key: str) -> None:
    assert attrs_of(with_changes(api_example(), {path: {key: "x"}})) == {f"{path}.{key}"}


def test_extra_params_null_counts_as_empty() -> None:
    cleaned = assert_valid(with_changes(api_example(), {"campaign.extra_params": None}))
    assert cleaned["campaign"]["extra_params"] == {}


# --- Budgets and bidding --------------------------------------------------------------------------

CBO = {"campaign.daily_budget": 10000, "ad_sets.0.daily_budget": None}


def test_campaign_budget_with_budgetless_ad_sets_passes() -> None:
    cleaned = assert_valid(with_changes(api_example(), CBO))
    assert cleaned["campaign"]["daily_budget"] == 10000


@pytest.mark.parametrize(
    ("changes", "attrs"),
    [
        # Neither a campaign budget nor an ad set budget.
        ({"ad_sets.0.daily_budget": None}, {"ad_sets.0.daily_budget"}),
        # Both levels carry a budget.
        ({"campaign.daily_budget": 10000}, {"ad_sets.0.daily_budget"}),
        (
            {
                **CBO,
                "ad_sets.0.lifetime_budget": 5000,
                "ad_sets.0.end_time": "2026-12-31T00:00:00Z",
            },
            {"ad_sets.0.lifetime_budget"},
        ),
        # Daily xor lifetime, at each level.
        (
            {**CBO, "campaign.lifetime_budget": 90000},
            {"campaign.daily_budget", "campaign.lifetime_budget"},
        ),
        (
            {"ad_sets.0.lifetime_budget": 9000, "ad_sets.0.end_time": "2026-12-31T00:00:00Z"},
            {"ad_sets.0.daily_budget", "ad_sets.0.lifetime_budget"},
        ),
        # A lifetime budget needs an end.
        (
            {"ad_sets.0.daily_budget": None, "ad_sets.0.lifetime_budget": 9000},
            {"ad_sets.0.end_time"},
        ),
        (
            {"campaign.lifetime_budget": 90000, "ad_sets.0.daily_budget": None},
            {"ad_sets.0.end_time"},
        ),
    ],
)
def test_budget_rules(changes: dict[str, Any], attrs: set[str]) -> None:
    assert attrs_of(with_changes(api_example(), changes)) == attrs


def test_a_campaign_lifetime_budget_needs_an_end_on_every_ad_set() -> None:
    body = with_changes(api_example(), {"campaign.lifetime_budget": 90000})
    body["ad_sets"] = [
        ad_set(daily_budget=None, end_time="2026-12-31T00:00:00Z"),
        ad_set(daily_budget=None),
        ad_set(daily_budget=None),
    ]
    assert attrs_of(body) == {"ad_sets.1.end_time", "ad_sets.2.end_time"}


def test_lifetime_budgets_with_an_end_pass() -> None:
    assert_valid(
        with_changes(
            api_example(),
            {
                "ad_sets.0.daily_budget": None,
                "ad_sets.0.lifetime_budget": 90000,
                "ad_sets.0.end_time": "2026-12-31T00:00:00+02:00",
            },
        )
    )


@pytest.mark.parametrize(
    ("changes", "attrs"),
    [
        # The bid strategy belongs to the campaign under a campaign budget...
        ({**CBO, "ad_sets.0.bid_strategy": "LOWEST_COST_WITHOUT_CAP"}, {"ad_sets.0.bid_strategy"}),
        # ...and to the ad sets without one.
        ({"campaign.bid_strategy": "LOWEST_COST_WITHOUT_CAP"}, {"campaign.bid_strategy"}),
        # Caps need an amount, on the ad set in both cases.
        ({"ad_sets.0.bid_strategy": "LOWEST_COST_WITH_BID_CAP"}, {"ad_sets.0.bid_amount"}),
        ({"ad_sets.0.bid_strategy": "COST_CAP"}, {"ad_sets.0.bid_amount"}),
        ({**CBO, "campaign.bid_strategy": "COST_CAP"}, {"ad_sets.0.bid_amount"}),
        ({"ad_sets.0.bid_strategy": "HIGHEST_VALUE"}, {"ad_sets.0.bid_strategy"}),
        ({"campaign.bid_strategy": "TARGET_COST"}, {"campaign.bid_strategy"}),
    ],
)
def test_bid_strategy_rules(changes: dict[str, Any], attrs: set[str]) -> None:
    assert attrs_of(with_changes(api_example(), changes)) == attrs


@pytest.mark.parametrize(
    "changes",
    [
        {"ad_sets.0.bid_strategy": "LOWEST_COST_WITH_BID_CAP", "ad_sets.0.bid_amount": 150},
        {"ad_sets.0.bid_strategy": "LOWEST_COST_WITHOUT_CAP"},
        {**CBO, "campaign.bid_strategy": "COST_CAP", "ad_sets.0.bid_amount": 300},
        {**CBO, "campaign.bid_strategy": "LOWEST_COST_WITHOUT_CAP"},
    ],
)
def test_valid_bidding_passes(changes: dict[str, Any]) -> None:
    assert_valid(with_changes(api_example(), changes))


def _roas_body(**changes: Any) -> dict[str, Any]:
    return with_changes(
        api_example(),
        {
            "campaign.objective": "OUTCOME_SALES",
            "ad_sets.0.optimization_goal": "VALUE",
            "ad_sets.0.bid_strategy": "LOWEST_COST_WITH_MIN_ROAS",
            "ad_sets.0.promoted_object": {"pixel_id": "111", "custom_event_type": "PURCHASE"},
            **changes,
        },
    )


def test_min_roas_needs_a_roas_floor_and_value_optimization() -> None:
    assert attrs_of(_roas_body()) == {"ad_sets.0.extra_params.bid_constraints"}
    floor = {"bid_constraints": {"roas_average_floor": 15000}}
    assert_valid(_roas_body(**{"ad_sets.0.extra_params": floor}))
    body = _roas_body(
        **{"ad_sets.0.extra_params": floor, "ad_sets.0.optimization_goal": "OFFSITE_CONVERSIONS"}
    )
    assert attrs_of(body) == {"ad_sets.0.optimization_goal"}


# --- Ad set: enums, schedule, goals ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "ad_sets.0.billing_event",
        "ad_sets.0.optimization_goal",
        "ad_sets.0.destination_type",
        "ad_sets.0.status",
        "ad_sets.0.ads.0.status",
        "ad_sets.0.ads.0.creative.call_to_action.type",
    ],
)
def test_enums_refuse_values_outside_the_sdk(path: str) -> None:
    errors = errors_of(with_changes(api_example(), {path: "NOT_A_VALUE"}))
    assert [(e.attr, e.code) for e in errors] == [(path, "invalid_choice")]


def test_enums_come_from_the_sdk() -> None:
    from facebook_business.adobjects.adset import AdSet

    assert "THRUPLAY" in rules.OPTIMIZATION_GOALS
    assert AdSet.BillingEvent.impressions in rules.BILLING_EVENTS
    assert "SHOP_NOW" in rules.CALL_TO_ACTION_TYPES
    assert "PURCHASE" in rules.CUSTOM_EVENT_TYPES


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"ad_sets.0.start_time": "2026-12-01T00:00:00"}, "timezone_required"),
        ({"ad_sets.0.start_time": "next tuesday"}, "invalid"),
        ({"ad_sets.0.start_time": 1733011200}, "invalid"),
        ({"ad_sets.0.end_time": "2026-11-30T00:00:00Z"}, "invalid"),  # before start_time
        ({"ad_sets.0.end_time": "2026-05-01T00:00:00Z", "ad_sets.0.start_time": None}, "invalid"),
    ],
)
def test_schedule_rules(changes: dict[str, Any], code: str) -> None:
    errors = errors_of(with_changes(api_example(), changes))
    path = next(iter(changes))
    assert [(e.attr, e.code) for e in errors] == [(path, code)]


def test_an_end_in_the_past_is_reported_against_now() -> None:
    body = with_changes(
        api_example(),
        {"ad_sets.0.start_time": "2026-01-01T00:00:00Z", "ad_sets.0.end_time": "2026-05-31T00:00Z"},
    )
    errors = errors_of(body)
    assert [(e.attr, e.detail) for e in errors] == [
        ("ad_sets.0.end_time", "Must be in the future.")
    ]


@pytest.mark.parametrize(
    ("objective", "goal"),
    [
        ("OUTCOME_AWARENESS", "LINK_CLICKS"),
        ("OUTCOME_AWARENESS", "OFFSITE_CONVERSIONS"),
        ("OUTCOME_TRAFFIC", "APP_INSTALLS"),
        ("OUTCOME_LEADS", "THRUPLAY"),
        ("OUTCOME_SALES", "PAGE_LIKES"),
        ("OUTCOME_ENGAGEMENT", "APP_INSTALLS"),
        ("OUTCOME_APP_PROMOTION", "REACH"),
    ],
)
def test_optimization_goals_must_fit_the_objective(objective: str, goal: str) -> None:
    body = with_changes(
        api_example(), {"campaign.objective": objective, "ad_sets.0.optimization_goal": goal}
    )
    errors = errors_of(body)
    assert [(e.attr, e.code) for e in errors] == [
        ("ad_sets.0.optimization_goal", "objective_mismatch")
    ]


APP = {"application_id": "555", "object_store_url": "https://apps.apple.com/app/id555"}


@pytest.mark.parametrize(
    ("objective", "goal", "promoted_object", "destination"),
    [
        ("OUTCOME_AWARENESS", "REACH", None, None),
        ("OUTCOME_AWARENESS", "THRUPLAY", None, None),
        ("OUTCOME_TRAFFIC", "LANDING_PAGE_VIEWS", None, "WEBSITE"),
        ("OUTCOME_ENGAGEMENT", "POST_ENGAGEMENT", None, "ON_POST"),
        ("OUTCOME_ENGAGEMENT", "PAGE_LIKES", {"page_id": "1234567890"}, "ON_PAGE"),
        ("OUTCOME_LEADS", "LEAD_GENERATION", {"page_id": "1234567890"}, "ON_AD"),
        ("OUTCOME_LEADS", "QUALITY_LEAD", {"page_id": "1234567890"}, "ON_AD"),
        (
            "OUTCOME_LEADS",
            "OFFSITE_CONVERSIONS",
            {"pixel_id": "1", "custom_event_type": "LEAD"},
            None,
        ),
        (
            "OUTCOME_SALES",
            "OFFSITE_CONVERSIONS",
            {"pixel_id": "1", "custom_event_type": "PURCHASE"},
            None,
        ),
        ("OUTCOME_SALES", "VALUE", {"pixel_id": 1, "custom_event_type": "PURCHASE"}, "WEBSITE"),
        ("OUTCOME_SALES", "OFFSITE_CONVERSIONS", {**APP, "custom_event_type": "PURCHASE"}, "APP"),
        ("OUTCOME_APP_PROMOTION", "APP_INSTALLS", APP, "APP"),
        ("OUTCOME_APP_PROMOTION", "APP_INSTALLS", APP, None),
    ],
)
def test_fitting_objective_goal_and_promoted_object_pass(
    objective: str, goal: str, promoted_object: dict[str, Any] | None, destination: str | None
) -> None:
    body = with_changes(
        api_example(),
        {
            "campaign.objective": objective,
            "ad_sets.0.optimization_goal": goal,
            "ad_sets.0.promoted_object": promoted_object,
            "ad_sets.0.destination_type": destination,
        },
    )
    assert_valid(body)


def test_app_promotion_defaults_destination_to_app_and_stringifies_ids() -> None:
    body = with_changes(
        api_example(),
        {
            "campaign.objective": "OUTCOME_APP_PROMOTION",
            "ad_sets.0.optimization_goal": "APP_INSTALLS",
            "ad_sets.0.promoted_object": {**APP, "application_id": 555},
            "ad_sets.0.destination_type": None,
        },
    )
    cleaned = assert_valid(body)
    assert cleaned["ad_sets"][0]["destination_type"] == "APP"
    assert cleaned["ad_sets"][0]["promoted_object"]["application_id"] == "555"


@pytest.mark.parametrize(
    ("objective", "goal", "promoted_object", "destination", "attrs"),
    [
        ("OUTCOME_SALES", "OFFSITE_CONVERSIONS", None, None, {"ad_sets.0.promoted_object"}),
        (
            "OUTCOME_SALES",
            "VALUE",
            {"custom_event_type": "PURCHASE"},
            None,
            {"ad_sets.0.promoted_object.pixel_id"},
        ),
        (
            "OUTCOME_SALES",
            "OFFSITE_CONVERSIONS",
            {"pixel_id": "1"},
            None,
            {"ad_sets.0.promoted_object.custom_event_type"},
        ),
        (
            "OUTCOME_SALES",
            "OFFSITE_CONVERSIONS",
            {"pixel_id": "1", "custom_event_type": "BUY_STUFF"},
            None,
            {"ad_sets.0.promoted_object.custom_event_type"},
        ),
        (
            "OUTCOME_SALES",
            "OFFSITE_CONVERSIONS",
            {"pixel_id": "px-1", "custom_event_type": "PURCHASE"},
            None,
            {"ad_sets.0.promoted_object.pixel_id"},
        ),
        ("OUTCOME_LEADS", "LEAD_GENERATION", None, "ON_AD", {"ad_sets.0.promoted_object"}),
        (
            "OUTCOME_LEADS",
            "QUALITY_LEAD",
            {"pixel_id": "1", "custom_event_type": "LEAD"},
            "ON_AD",
            {"ad_sets.0.promoted_object.page_id"},
        ),
        ("OUTCOME_APP_PROMOTION", "APP_INSTALLS", None, "APP", {"ad_sets.0.promoted_object"}),
        (
            "OUTCOME_APP_PROMOTION",
            "APP_INSTALLS",
            {"application_id": "555"},
            "APP",
            {"ad_sets.0.promoted_object.object_store_url"},
        ),
        (
            "OUTCOME_APP_PROMOTION",
            "APP_INSTALLS",
            {"object_store_url": "https://play.google.com/store/apps/details?id=x"},
            "APP",
            {"ad_sets.0.promoted_object.application_id"},
        ),
        ("OUTCOME_APP_PROMOTION", "APP_INSTALLS", APP, "WEBSITE", {"ad_sets.0.destination_type"}),
    ],
)
def test_promoted_object_rules(
    objective: str,
    goal: str,
    promoted_object: dict[str, Any] | None,
    destination: str | None,
    attrs: set[str],
) -> None:
    body = with_changes(
        api_example(),
        {
            "campaign.objective": objective,
            "ad_sets.0.optimization_goal": goal,
            "ad_sets.0.promoted_object": promoted_object,
            "ad_sets.0.destination_type": destination,
        },
    )
    assert attrs_of(body) == attrs


def test_a_promoted_page_must_be_the_creatives_page() -> None:
    body = with_changes(
        api_example(),
        {
            "campaign.objective": "OUTCOME_LEADS",
            "ad_sets.0.optimization_goal": "LEAD_GENERATION",
            "ad_sets.0.promoted_object": {"page_id": "999"},
            "ad_sets.0.destination_type": "ON_AD",
        },
    )
    assert attrs_of(body) == {"ad_sets.0.ads.0.creative.page_id"}


def test_dsa_fields_are_optional_even_for_eu_targeting() -> None:
    # Meta accepts the ad account's DSA defaults, which validation cannot see.
    body = with_changes(api_example(), {"ad_sets.0.targeting.geo_locations": {"countries": ["DE"]}})
    assert_valid(body)
    body = with_changes(body, {"ad_sets.0.dsa_beneficiary": "Acme", "ad_sets.0.dsa_payor": "Acme"})
    assert assert_valid(body)["ad_sets"][0]["dsa_payor"] == "Acme"


# --- Targeting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targeting", "attrs"),
    [
        ({"age_min": 18}, {"ad_sets.0.targeting.geo_locations"}),
        ({"geo_locations": {}}, {"ad_sets.0.targeting.geo_locations"}),
        ({"geo_locations": ["US"]}, {"ad_sets.0.targeting.geo_locations"}),
        ({"geo_locations": {"country": ["US"]}}, {"ad_sets.0.targeting.geo_locations"}),
        ({"geo_locations": {"countries": []}}, {"ad_sets.0.targeting.geo_locations"}),
        ({"geo_locations": {"countries": "US"}}, {"ad_sets.0.targeting.geo_locations.countries"}),
        (
            {"geo_locations": {"countries": ["US", "USA", "fr"]}},
            {
                "ad_sets.0.targeting.geo_locations.countries.1",
                "ad_sets.0.targeting.geo_locations.countries.2",
            },
        ),
        (
            {"geo_locations": {"cities": [{"key": str(i)} for i in range(251)]}},
            {"ad_sets.0.targeting.geo_locations.cities"},
        ),
        ({"geo_locations": {"countries": ["US"]}, "age_min": 12}, {"ad_sets.0.targeting.age_min"}),
        ({"geo_locations": {"countries": ["US"]}, "age_max": 66}, {"ad_sets.0.targeting.age_max"}),
        (
            {"geo_locations": {"countries": ["US"]}, "age_min": "18"},
            {"ad_sets.0.targeting.age_min"},
        ),
        (
            {"geo_locations": {"countries": ["US"]}, "age_min": 40, "age_max": 30},
            {"ad_sets.0.targeting.age_max"},
        ),
        ({"geo_locations": {"countries": ["US"]}, "genders": [3]}, {"ad_sets.0.targeting.genders"}),
    ],
)
def test_targeting_rules(targeting: dict[str, Any], attrs: set[str]) -> None:
    assert attrs_of(with_changes(api_example(), {"ad_sets.0.targeting": targeting})) == attrs


@pytest.mark.parametrize(
    ("targeting", "advantage_audience"),
    [
        ({"geo_locations": {"countries": ["US"]}, "age_min": 13, "age_max": 65}, 0),
        ({"geo_locations": {"regions": [{"key": "4081"}]}}, 1),
        (
            {
                "geo_locations": {
                    "cities": [{"key": "777934", "radius": 10, "distance_unit": "mile"}]
                }
            },
            1,
        ),
        ({"geo_locations": {"custom_locations": [{"latitude": 1.0, "longitude": 2.0}]}}, 1),
        (
            {
                "geo_locations": {"countries": ["GB"], "location_types": ["home"]},
                "interests": [{"id": 6003139266461}],
                "publisher_platforms": ["facebook", "instagram"],
                "genders": [2],
            },
            0,
        ),
    ],
)
def test_valid_targeting_passes_through_with_the_advantage_audience_flag(
    targeting: dict[str, Any], advantage_audience: int
) -> None:
    cleaned = assert_valid(with_changes(api_example(), {"ad_sets.0.targeting": targeting}))
    assert cleaned["ad_sets"][0]["targeting"] == {
        **targeting,
        "targeting_automation": {"advantage_audience": advantage_audience},
    }


def _restricted(targeting: dict[str, Any], category: str = "HOUSING") -> dict[str, Any]:
    return with_changes(
        api_example(),
        {
            "campaign.special_ad_categories": [category],
            "campaign.extra_params": {"special_ad_category_country": ["US"]},
            "ad_sets.0.targeting": targeting,
        },
    )


US = {"countries": ["US"]}


@pytest.mark.parametrize("category", sorted(rules.TARGETING_RESTRICTED_CATEGORIES))
@pytest.mark.parametrize(
    ("targeting", "attrs"),
    [
        ({"geo_locations": US, "age_min": 25}, {"ad_sets.0.targeting.age_min"}),
        ({"geo_locations": US, "age_max": 40}, {"ad_sets.0.targeting.age_max"}),
        ({"geo_locations": US, "genders": [1]}, {"ad_sets.0.targeting.genders"}),
        (
            {"geo_locations": {"zips": [{"key": "US:94304"}]}},
            {"ad_sets.0.targeting.geo_locations.zips"},
        ),
        (
            {"geo_locations": US, "excluded_geo_locations": {"regions": [{"key": "3847"}]}},
            {"ad_sets.0.targeting.excluded_geo_locations"},
        ),
        (
            {"geo_locations": {"cities": [{"key": "1", "radius": 15}, {"key": "2", "radius": 10}]}},
            {"ad_sets.0.targeting.geo_locations.cities.1.radius"},
        ),
        (
            {
                "geo_locations": {
                    "custom_locations": [
                        {"latitude": 1, "longitude": 2, "radius": 20, "distance_unit": "kilometer"}
                    ]
                }
            },
            {"ad_sets.0.targeting.geo_locations.custom_locations.0.radius"},
        ),
    ],
)
def test_special_ad_categories_restrict_targeting(
    category: str, targeting: dict[str, Any], attrs: set[str]
) -> None:
    assert attrs_of(_restricted(targeting, category)) == attrs


@pytest.mark.parametrize(
    ("targeting", "category"),
    [
        ({"geo_locations": US, "age_min": 18, "age_max": 65, "genders": [1, 2]}, "HOUSING"),
        (
            {"geo_locations": {"cities": [{"key": "1", "radius": 15, "distance_unit": "mile"}]}},
            "FINANCIAL_PRODUCTS_SERVICES",
        ),
        (
            {
                "geo_locations": {
                    "cities": [{"key": "1", "radius": 25, "distance_unit": "kilometer"}]
                }
            },
            "EMPLOYMENT",
        ),
        # Meta: social issue, election and political ads keep normal targeting.
        (
            {"geo_locations": {"zips": [{"key": "US:94304"}]}, "age_min": 30},
            "ISSUES_ELECTIONS_POLITICS",
        ),
    ],
)
def test_allowed_special_category_targeting_passes(
    targeting: dict[str, Any], category: str
) -> None:
    assert_valid(_restricted(targeting, category))


# --- Ads and creatives ----------------------------------------------------------------------------


def _ads(count: int) -> list[dict[str, Any]]:
    return [copy.deepcopy(api_example()["ad_sets"][0]["ads"][0]) for _ in range(count)]


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"ad_sets.0.ads": []}, "ad_sets.0.ads"),
        ({"ad_sets.0.ads": _ads(51)}, "ad_sets.0.ads"),
        ({"ad_sets.0.ads": {"name": "x"}}, "ad_sets.0.ads"),
        ({"ad_sets": []}, "ad_sets"),
        ({"ad_sets": [ad_set() for _ in range(51)]}, "ad_sets"),
    ],
)
def test_list_sizes(changes: dict[str, Any], attr: str) -> None:
    assert attrs_of(with_changes(api_example(), changes)) == {attr}


def test_fifty_ad_sets_of_fifty_ads_pass() -> None:
    body = api_example()
    body["ad_sets"] = [ad_set(ads=_ads(50)) for _ in range(50)]
    assert len(assert_valid(body)["ad_sets"]) == 50


@pytest.mark.parametrize(
    ("changes", "attrs"),
    [
        ({"ad_sets.0.ads.0.creative": None}, {"ad_sets.0.ads.0.creative"}),
        ({"ad_sets.0.ads.0.creative": DELETE}, {"ad_sets.0.ads.0.creative"}),
        ({"ad_sets.0.ads.0.creative_id": "1200"}, {"ad_sets.0.ads.0.creative_id"}),
        (
            {"ad_sets.0.ads.0.creative": DELETE, "ad_sets.0.ads.0.creative_id": "12ab"},
            {"ad_sets.0.ads.0.creative_id"},
        ),
        (
            {"ad_sets.0.ads.0.creative": DELETE, "ad_sets.0.ads.0.creative_id": 1200},
            {"ad_sets.0.ads.0.creative_id"},
        ),
    ],
)
def test_an_ad_has_exactly_one_of_creative_and_creative_id(
    changes: dict[str, Any], attrs: set[str]
) -> None:
    assert attrs_of(with_changes(api_example(), changes)) == attrs


def test_an_existing_creative_id_passes() -> None:
    body = with_changes(
        api_example(), {"ad_sets.0.ads.0.creative": DELETE, "ad_sets.0.ads.0.creative_id": "1200"}
    )
    assert assert_valid(body)["ad_sets"][0]["ads"][0]["creative"] is None


C = "ad_sets.0.ads.0.creative"


@pytest.mark.parametrize(
    ("media", "attrs"),
    [
        ({"image_url": None}, {f"{C}.image_url"}),
        ({"image_hash": "abc"}, {f"{C}.image_hash"}),
        ({"video_id": "123"}, {f"{C}.video_id"}),
        ({"image_url": None, "video_url": "https://cdn.example.com/v.mp4"}, {f"{C}.thumbnail_url"}),
        ({"thumbnail_url": "https://cdn.example.com/t.jpg"}, {f"{C}.thumbnail_url"}),
        (
            {
                "image_url": None,
                "video_url": "https://cdn.example.com/v.mp4",
                "thumbnail_url": "https://cdn.example.com/t.jpg",
                "thumbnail_hash": "abc",
            },
            {f"{C}.thumbnail_hash"},
        ),
    ],
)
def test_media_rules(media: dict[str, Any], attrs: set[str]) -> None:
    changes = {f"{C}.{key}": value for key, value in media.items()}
    assert attrs_of(with_changes(api_example(), changes)) == attrs


@pytest.mark.parametrize(
    "media",
    [
        {"image_hash": "0123456789abcdef0123456789abcdef"},
        {
            "video_url": "https://cdn.example.com/v.mp4",
            "thumbnail_url": "https://cdn.example.com/t.jpg",
        },
        {"video_url": "https://cdn.example.com/v.mp4", "thumbnail_hash": "abc"},
        {"video_id": "1234"},
        {"video_id": "1234", "thumbnail_hash": "abc"},
    ],
)
def test_one_media_source_passes(media: dict[str, Any]) -> None:
    changes = {f"{C}.image_url": None} | {f"{C}.{key}": value for key, value in media.items()}
    assert_valid(with_changes(api_example(), changes))


@pytest.mark.parametrize("field", ["link", "image_url", "call_to_action.link"])
@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.jpg",
        "https://",
        "example.com/a.jpg",
        "javascript:alert(1)",
        "https://cdn.example.com/a b.jpg",
        42,
    ],
)
def test_urls_must_be_http_with_a_host(field: str, url: Any) -> None:
    assert attrs_of(with_changes(api_example(), {f"{C}.{field}": url})) == {f"{C}.{field}"}


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765/a.jpg", "https://cdn.example.com/a%20b.jpg?x=1&y=2"]
)
def test_http_urls_pass(url: str) -> None:
    assert_valid(with_changes(api_example(), {f"{C}.image_url": url}))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (f"{C}.page_id", "12ab"),
        (f"{C}.page_id", 1234567890),
        (f"{C}.instagram_user_id", "ig-1"),
        (f"{C}.call_to_action", "SHOP_NOW"),
        (f"{C}.call_to_action.type", "BUY_IT"),
    ],
)
def test_creative_fields(path: str, value: Any) -> None:
    assert attrs_of(with_changes(api_example(), {path: value})) == {path}


# --- Collecting every error -----------------------------------------------------------------------


def test_it_lists_every_error_across_ad_sets_and_levels() -> None:
    body = api_example()
    body["campaign"]["objective"] = "CONVERSIONS"
    body["campaign"]["extra_params"] = {"name": "shadow"}
    second = ad_set(billing_event="SOMETIMES", targeting={"geo_locations": {}})
    second["ads"][0]["creative"]["image_url"] = None
    third = ad_set(daily_budget=None, lifetime_budget=1000, end_time=None)
    third["ads"].append({"name": "Ad 2", "creative_id": "77", "creative": {"page_id": "1"}})
    third["ads"][0]["creative"]["call_to_action"] = {"type": "SHOP_NOW", "link": "nope"}
    body["ad_sets"] = [ad_set(), second, third]

    assert attrs_of(body) == {
        "campaign.objective",
        "campaign.extra_params.name",
        "ad_sets.1.billing_event",
        "ad_sets.1.targeting.geo_locations",
        "ad_sets.1.ads.0.creative.image_url",
        "ad_sets.2.end_time",
        "ad_sets.2.ads.0.creative.call_to_action.link",
        "ad_sets.2.ads.1.creative.link",
        "ad_sets.2.ads.1.creative.image_url",
        "ad_sets.2.ads.1.creative_id",
    }


def test_cross_level_rules_still_run_when_the_campaign_has_other_errors() -> None:
    body = with_changes(
        api_example(),
        {
            "campaign.name": "",
            "campaign.objective": "OUTCOME_AWARENESS",
            "ad_sets.0.daily_budget": None,
        },
    )
    assert attrs_of(body) == {
        "campaign.name",
        "ad_sets.0.optimization_goal",
        "ad_sets.0.daily_budget",
    }


def test_rules_depending_on_an_invalid_campaign_field_are_skipped() -> None:
    # The campaign budget is itself invalid: whether ad sets need one is unknown, not an error.
    body = with_changes(
        api_example(), {"campaign.daily_budget": "lots", "ad_sets.0.daily_budget": None}
    )
    assert attrs_of(body) == {"campaign.daily_budget"}


def test_a_naive_now_is_taken_as_utc() -> None:
    naive_now = datetime(2026, 6, 1)
    body = with_changes(api_example(), {"ad_sets.0.end_time": "2026-12-31T00:00:00Z"})
    assert validate_meta_ad_request(body, now=naive_now)["ad_sets"][0]["end_time"]


# --- One validator for every request -------------------------------------------------------------
# The serializer tree is built once per process and shared by every request and thread.


def test_a_request_leaves_nothing_behind_for_the_next() -> None:
    assert attrs_of(with_changes(minimal_body(), {"campaign.name": ""})) == {"campaign.name"}
    first = assert_valid(minimal_body())
    # Defaults are fresh objects: changing one answer cannot change the next.
    first["campaign"]["special_ad_categories"].append("HOUSING")
    first["campaign"]["extra_params"]["spend_cap"] = 1
    second = assert_valid(minimal_body())
    assert second["campaign"]["special_ad_categories"] == []
    assert second["campaign"]["extra_params"] == {}
    assert attrs_of(with_changes(minimal_body(), {"ad_sets.0.name": ""})) == {"ad_sets.0.name"}


def test_each_call_judges_times_against_its_own_now() -> None:
    body = with_changes(api_example(), {"ad_sets.0.end_time": "2026-12-31T00:00:00Z"})
    assert validate_meta_ad_request(body, now=NOW)["ad_sets"][0]["end_time"]
    with pytest.raises(ValidationError):
        validate_meta_ad_request(body, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert validate_meta_ad_request(body, now=NOW)["ad_sets"][0]["end_time"]


def test_the_serializer_used_directly_takes_now_from_its_context() -> None:
    body = with_changes(minimal_body(), {"ad_sets.0.end_time": "2026-12-31T00:00:00Z"})
    later = MetaAdRequestSerializer(data=body, context={"now": datetime(2027, 1, 1, tzinfo=UTC)})
    assert not later.is_valid()
    assert MetaAdRequestSerializer(data=body, context={"now": NOW}).is_valid()


def test_requests_validated_in_parallel_threads_get_their_own_answers() -> None:
    bodies: list[Any] = [
        minimal_body(),
        api_example(),
        with_changes(minimal_body(), {"campaign.name": "", "ad_sets.0.daily_budget": "x"}),
        with_changes(api_example(), {"ad_sets.0.ads.0.creative.image_url": "ftp://x"}),
        with_changes(api_example(), {"ad_sets.0.end_time": "2026-12-31T00:00:00Z"}),
        with_changes(minimal_body(), {"ad_sets.0.targeting": {}, "campaign.unknown": 1}),
        [],
    ]
    nows = [NOW, datetime(2027, 1, 1, tzinfo=UTC)]

    def answer(index: int) -> tuple[Any, ...]:
        body, now = bodies[index % len(bodies)], nows[index // len(bodies) % len(nows)]
        try:
            return ("valid", validate_meta_ad_request(body, now=now))
        except ValidationError as exc:
            return ("invalid", [(e.code, e.detail, e.attr) for e in flatten_errors(exc.detail)])

    cases = range(len(bodies) * len(nows) * 100)
    expected = [answer(index) for index in cases]
    interval = sys.getswitchinterval()
    # Switch threads every few bytecodes rather than every 5 ms, so that validations interleave.
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(answer, cases))
    finally:
        sys.setswitchinterval(interval)
    assert answers == expected
    assert {kind for kind, _ in expected} == {"valid", "invalid"}


# --- Shapes fuzzing found (schemathesis against /api/schema/) ---------------------------------


@pytest.mark.parametrize("event", [{}, [], 7])
def test_a_custom_event_type_that_is_no_string_is_a_400_not_a_crash(event: Any) -> None:
    body = with_changes(api_example(), {"ad_sets.0.promoted_object": {"custom_event_type": event}})
    assert attrs_of(body) == {"ad_sets.0.promoted_object.custom_event_type"}


def test_graph_ids_are_ascii_digits() -> None:
    body = with_changes(api_example(), {"ad_sets.0.ads.0.creative.page_id": "\u0663\u0664"})
    assert attrs_of(body) == {"ad_sets.0.ads.0.creative.page_id"}


@pytest.mark.parametrize("value", ["", {}, 0, False])
def test_a_location_key_that_is_given_is_a_list(value: Any) -> None:
    body = with_changes(
        api_example(),
        {"ad_sets.0.targeting.geo_locations": {"countries": ["US"], "regions": value}},
    )
    assert attrs_of(body) == {"ad_sets.0.targeting.geo_locations.regions"}


def test_a_radius_too_big_for_a_float_is_no_crash() -> None:
    body = _restricted({"geo_locations": {"cities": [{"key": "1", "radius": 10**400}]}})
    assert attrs_of(body) == set()  # wide enough for the 15-mile rule; Meta judges the rest
    body = _restricted(
        {
            "geo_locations": {
                "cities": [{"key": "1", "radius": 10**400, "distance_unit": "kilometer"}]
            }
        }
    )
    assert attrs_of(body) == set()
