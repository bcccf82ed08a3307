"""Changes to live Meta objects and additions to them, as the API would answer them: the attrs
and codes of the 400 (API.md, "Live objects"), or the values mojito would send.

The objects are real rows, built by the submission service and made "live" by giving them
platform ids, as a finished CREATE job leaves them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.exceptions import ValidationError

from campaigns import services
from campaigns.models import Ad, AdSet, Campaign
from platforms.base import PlatformType
from platforms.meta.validation import validate_meta_additions, validate_meta_change
from tests.factories import AdAccountFactory
from tests.payloads import ad, ad_set, api_example, tree

pytestmark = pytest.mark.django_db

NOW = datetime(2029, 6, 1, 12, 0, tzinfo=UTC)
FUTURE_END = "2030-02-01T00:00:00+00:00"


@pytest.fixture
def account(caller):
    return AdAccountFactory(team=caller.team)


@pytest.fixture
def live(caller, account):
    """Submit a body and return its campaign with every object given a Meta id."""

    def build(body: dict[str, Any] | None = None) -> Campaign:
        body = body or api_example(account.platform_account_id)
        submission = services.job_submit(
            user=caller.user, platform_type=PlatformType.META, data=body
        )
        assert submission is not None
        campaign = Campaign.objects.get(job=submission.job)
        Campaign.objects.filter(pk=campaign.pk).update(platform_id="120000000000001")
        for n, row in enumerate(AdSet.objects.filter(campaign=campaign).order_by("position")):
            AdSet.objects.filter(pk=row.pk).update(platform_id=f"12000000000010{n}")
        for n, row in enumerate(Ad.objects.filter(ad_set__campaign=campaign)):
            Ad.objects.filter(pk=row.pk).update(platform_id=f"12000000000020{n}")
        return Campaign.objects.select_related("meta").get(pk=campaign.pk)

    return build


def first_ad_set(campaign: Campaign) -> AdSet:
    return AdSet.objects.select_related("meta", "campaign__meta").filter(campaign=campaign)[0]


def first_ad(campaign: Campaign) -> Ad:
    return Ad.objects.select_related("ad_set__meta", "ad_set__campaign__meta", "creative").filter(
        ad_set__campaign=campaign
    )[0]


def change(
    object_type: str,
    obj: Any,
    data: Any,
    *,
    cascade: bool = False,
    budget_changes: list[datetime] | None = None,
) -> dict[str, Any]:
    return validate_meta_change(
        object_type=object_type,
        obj=obj,
        data=data,
        cascade=cascade,
        now=NOW,
        budget_changes=budget_changes or [],
    )


def refused(call: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    """The attrs and codes a client would see, as {attr: code} (drf-standardized-errors)."""
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    found: dict[str, str] = {}

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)])
        elif isinstance(node, list) and node and not isinstance(node[0], str):
            for index, value in enumerate(node):
                walk(value, [*path, str(index)])
        elif isinstance(node, list):
            found[".".join(path)] = node[0].code

    walk(caught.value.detail, [])
    return found


def message(call: Any, *args: Any, attr: str, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    node: Any = caught.value.detail
    for key in attr.split("."):
        node = node[int(key)] if isinstance(node, list) else node[key]
    return str(node[0])


# --- The body -----------------------------------------------------------------------------


def test_a_valid_change_returns_the_cleaned_values_by_field(live):
    campaign = live()
    assert change("campaign", campaign, {"name": "Summer", "status": "ACTIVE"}) == {
        "name": "Summer",
        "status": "ACTIVE",
    }


def test_unknown_fields_and_an_empty_body_are_refused(live):
    campaign = live()
    assert refused(change, "campaign", campaign, {"objective": "OUTCOME_SALES", "name": "x"}) == {
        "objective": "unknown_field"
    }
    assert refused(change, "campaign", campaign, {}) == {"non_field_errors": "required"}
    assert refused(change, "campaign", campaign, ["name"]) == {"non_field_errors": "invalid"}


def test_every_bad_field_is_listed_at_once(live):
    ad_set_row = first_ad_set(live())
    found = refused(
        change,
        "ad_set",
        ad_set_row,
        {
            "name": "",
            "status": "DELETED",
            "daily_budget": 0,
            "bid_amount": "5",
            "end_time": "2020-01-01T00:00:00Z",
            "targeting": {"geo_locations": {}},
            "optimization_goal": "REACH",
        },
        cascade=True,
    )
    assert found == {
        "name": "blank",
        "status": "invalid_choice",
        "daily_budget": "min_value",
        "bid_amount": "invalid",
        "end_time": "invalid",
        "targeting.geo_locations": "required",
        "optimization_goal": "unknown_field",
        "cascade": "invalid",
    }


def test_cascade_goes_only_with_a_campaign_status_change(live):
    campaign = live()
    assert change("campaign", campaign, {"status": "PAUSED"}, cascade=True) == {"status": "PAUSED"}
    assert refused(
        change, "campaign", campaign, {"status": "PAUSED", "name": "x"}, cascade=True
    ) == {"cascade": "invalid"}
    assert refused(
        change, "ad_set", first_ad_set(campaign), {"status": "PAUSED"}, cascade=True
    ) == {"cascade": "invalid"}


def test_archived_is_no_change_value_and_an_archived_object_changes_only_its_name(live):
    campaign = live()
    assert refused(change, "campaign", campaign, {"status": "ARCHIVED"}) == {
        "status": "invalid_choice"
    }
    assert "DELETE" in message(change, "campaign", campaign, {"status": "ARCHIVED"}, attr="status")
    ad_row = first_ad(campaign)
    Ad.objects.filter(pk=ad_row.pk).update(status="ARCHIVED")
    ad_row.refresh_from_db()
    assert change("ad", ad_row, {"name": "Old ad"}) == {"name": "Old ad"}
    assert refused(change, "ad", ad_row, {"status": "ACTIVE", "name": "x"}) == {
        "status": "archived"
    }
    assert "never" in message(change, "ad", ad_row, {"status": "ACTIVE"}, attr="status")


def test_a_stored_start_time_in_the_past_does_not_stop_a_status_change(live, account):
    body = api_example(account.platform_account_id)
    campaign = live(body)
    ad_set_row = first_ad_set(campaign)
    # NOW is before the submission's start; a month after it the start has passed.
    later = datetime(2030, 2, 1, tzinfo=UTC)
    assert validate_meta_change(
        object_type="ad_set",
        obj=ad_set_row,
        data={"status": "ACTIVE"},
        cascade=False,
        now=later,
        budget_changes=[],
    ) == {"status": "ACTIVE"}


# --- Campaign budgets -------------------------------------------------------------------


def test_a_campaign_whose_ad_sets_have_budgets_gets_no_campaign_budget(live):
    campaign = live()
    assert refused(change, "campaign", campaign, {"daily_budget": 5000}) == {
        "daily_budget": "ad_set_budgets"
    }


def cbo_body(account, **campaign: Any) -> dict[str, Any]:
    body = api_example(account.platform_account_id)
    body["campaign"].update(daily_budget=10000, **campaign)
    body["ad_sets"][0]["daily_budget"] = None
    return body


def test_a_campaign_budget_changes_but_is_neither_doubled_nor_removed(live, account):
    campaign = live(cbo_body(account))
    assert change("campaign", campaign, {"daily_budget": 12000}) == {"daily_budget": 12000}
    assert refused(change, "campaign", campaign, {"lifetime_budget": 50000}) == {
        "lifetime_budget": "exclusive"
    }
    assert refused(change, "campaign", campaign, {"daily_budget": None}) == {
        "daily_budget": "required"
    }


def test_a_campaign_lifetime_budget_needs_ad_sets_that_end(live, account):
    campaign = live(cbo_body(account))
    assert refused(
        change, "campaign", campaign, {"daily_budget": None, "lifetime_budget": 50000}
    ) == {"lifetime_budget": "end_time_required"}


def test_a_campaign_bid_strategy_needs_a_budget_and_caps_on_its_ad_sets(live, account):
    assert refused(change, "campaign", live(), {"bid_strategy": "LOWEST_COST_WITHOUT_CAP"}) == {
        "bid_strategy": "invalid"
    }
    campaign = live(cbo_body(account))
    assert change("campaign", campaign, {"bid_strategy": "LOWEST_COST_WITHOUT_CAP"}) == {
        "bid_strategy": "LOWEST_COST_WITHOUT_CAP"
    }
    assert refused(change, "campaign", campaign, {"bid_strategy": "COST_CAP"}) == {
        "bid_strategy": "bid_amount_required"
    }
    # The ad set optimizes for LINK_CLICKS, with no ROAS floor.
    assert refused(change, "campaign", campaign, {"bid_strategy": "LOWEST_COST_WITH_MIN_ROAS"}) == {
        "bid_strategy": "invalid"
    }
    assert refused(change, "campaign", campaign, {"bid_strategy": "NOT_A_STRATEGY"}) == {
        "bid_strategy": "invalid_choice"
    }
    assert refused(change, "campaign", campaign, {"spend_cap": -1}) == {"spend_cap": "min_value"}


# --- Ad set budgets, schedule and bid -------------------------------------------------------


def test_an_ad_set_under_a_campaign_budget_gets_none_of_its_own(live, account):
    ad_set_row = first_ad_set(live(cbo_body(account)))
    assert refused(change, "ad_set", ad_set_row, {"daily_budget": 3000}) == {
        "daily_budget": "campaign_budget"
    }


def test_an_ad_set_budget_changes_in_kind_never(live):
    ad_set_row = first_ad_set(live())
    assert change("ad_set", ad_set_row, {"daily_budget": 2500}) == {"daily_budget": 2500}
    assert refused(
        change,
        "ad_set",
        ad_set_row,
        {"daily_budget": None, "lifetime_budget": 90000, "end_time": FUTURE_END},
    ) == {"lifetime_budget": "budget_kind_fixed"}
    assert refused(change, "ad_set", ad_set_row, {"daily_budget": None}) == {
        "daily_budget": "required"
    }


def test_an_ad_set_budget_changes_four_times_an_hour_and_the_error_says_when_next(live):
    ad_set_row = first_ad_set(live())
    three = [NOW - timedelta(minutes=m) for m in (50, 30, 10)]
    assert change("ad_set", ad_set_row, {"daily_budget": 2500}, budget_changes=three) == {
        "daily_budget": 2500
    }
    four = [NOW - timedelta(minutes=m) for m in (70, 50, 40, 30, 10)]
    assert refused(change, "ad_set", ad_set_row, {"daily_budget": 2500}, budget_changes=four) == {
        "daily_budget": "rate_limited"
    }
    text = message(
        change,
        "ad_set",
        ad_set_row,
        {"daily_budget": 2500},
        attr="daily_budget",
        budget_changes=four,
    )
    # The oldest change of the hour (50 minutes ago) ages out in 10 minutes.
    assert (NOW + timedelta(minutes=10)).isoformat() in text
    # Other fields are not limited.
    assert change("ad_set", ad_set_row, {"name": "x"}, budget_changes=four) == {"name": "x"}


def lifetime_body(account) -> dict[str, Any]:
    body = api_example(account.platform_account_id)
    body["ad_sets"][0].update(daily_budget=None, lifetime_budget=90000, end_time=FUTURE_END)
    return body


def test_a_lifetime_ad_set_keeps_its_end_time(live, account):
    ad_set_row = first_ad_set(live(lifetime_body(account)))
    assert refused(change, "ad_set", ad_set_row, {"end_time": None}) == {"end_time": "required"}
    assert change("ad_set", ad_set_row, {"end_time": "2030-03-01T00:00:00Z"}) == {
        "end_time": "2030-03-01T00:00:00+00:00"
    }
    assert refused(change, "ad_set", ad_set_row, {"end_time": "2029-12-01T00:00:00Z"}) == {
        "end_time": "invalid"
    }
    assert refused(change, "ad_set", ad_set_row, {"daily_budget": 1000}) == {
        "daily_budget": "budget_kind_fixed"
    }


def test_a_bid_cap_ad_set_keeps_its_bid_amount(live, account):
    body = api_example(account.platform_account_id)
    body["ad_sets"][0].update(bid_strategy="LOWEST_COST_WITH_BID_CAP", bid_amount=150)
    ad_set_row = first_ad_set(live(body))
    assert change("ad_set", ad_set_row, {"bid_amount": 200}) == {"bid_amount": 200}
    assert refused(change, "ad_set", ad_set_row, {"bid_amount": None}) == {"bid_amount": "null"}


def test_what_meta_documents_no_way_to_clear_is_not_cleared(live, account):
    campaign = live()
    ad_set_row = first_ad_set(campaign)
    assert refused(change, "campaign", campaign, {"spend_cap": None, "bid_strategy": None}) == {
        "spend_cap": "null",
        "bid_strategy": "null",
    }
    assert refused(change, "ad_set", ad_set_row, {"bid_amount": None}) == {"bid_amount": "null"}
    # An ad set with a daily budget may become ongoing: end_time=0 on Meta.
    assert change("ad_set", ad_set_row, {"end_time": None}) == {"end_time": None}


# --- Targeting -----------------------------------------------------------------------------


def test_new_targeting_gets_advantage_audience_as_on_submission(live):
    ad_set_row = first_ad_set(live())
    values = change("ad_set", ad_set_row, {"targeting": {"geo_locations": {"countries": ["CA"]}}})
    assert values["targeting"]["targeting_automation"] == {"advantage_audience": 1}
    narrowed = change(
        "ad_set",
        ad_set_row,
        {"targeting": {"geo_locations": {"countries": ["CA"]}, "age_min": 30}},
    )
    assert narrowed["targeting"]["targeting_automation"] == {"advantage_audience": 0}


def test_new_targeting_follows_the_special_ad_category_rules(live, account):
    body = api_example(account.platform_account_id)
    body["campaign"].update(special_ad_categories=["HOUSING"], special_ad_category_country=["US"])
    body["ad_sets"][0]["targeting"] = {"geo_locations": {"countries": ["US"]}}
    ad_set_row = first_ad_set(live(body))
    assert refused(
        change,
        "ad_set",
        ad_set_row,
        {"targeting": {"geo_locations": {"countries": ["US"]}, "age_min": 30, "genders": [1]}},
    ) == {"targeting.age_min": "special_ad_category", "targeting.genders": "special_ad_category"}


def test_new_targeting_that_reaches_the_eu_needs_the_dsa_fields(live, account):
    ad_set_row = first_ad_set(live())
    eu = {"targeting": {"geo_locations": {"countries": ["FR"]}}}
    assert refused(change, "ad_set", ad_set_row, eu) == {"targeting": "required"}
    account.additional_config = {"dsa_beneficiary": "Acme", "dsa_payor": "Acme"}
    account.save()
    ad_set_row = AdSet.objects.select_related("meta", "campaign__meta").get(pk=ad_set_row.pk)
    values = change("ad_set", ad_set_row, eu)
    assert values["targeting"]["geo_locations"] == {"countries": ["FR"]}
    # The account's defaults go to Meta with the targeting that needs them.
    assert (values["dsa_beneficiary"], values["dsa_payor"]) == ("Acme", "Acme")


# --- Ads -------------------------------------------------------------------------------------


def test_a_new_creative_is_validated_as_on_submission(live):
    ad_row = first_ad(live())
    spec = ad("New")["creative"]
    values = change("ad", ad_row, {"creative": spec})
    assert values["creative"]["image_url"] == spec["image_url"]
    assert values["creative"]["format"] == "IMAGE"
    bad = dict(spec, image_url="not a url", link=None)
    assert refused(change, "ad", ad_row, {"creative": bad, "creative_id": "1"}) == {
        "creative.image_url": "invalid",
        "creative.link": "required",
        "creative_id": "unknown_field",
    }
    assert refused(change, "ad", ad_row, {"creative": None}) == {"creative": "null"}


# --- Additions -------------------------------------------------------------------------------


def add(parent_type: str, parent: Any, data: Any) -> list[dict[str, Any]]:
    return validate_meta_additions(
        parent_type=parent_type, parent=parent, data=data, now=NOW, account_config={}
    )


def test_ad_sets_added_to_a_campaign_are_validated_as_on_submission(live, account):
    campaign = live()
    items = add("campaign", campaign, {"ad_sets": [ad_set("Extra", [ad("A")])]})
    assert [item["name"] for item in items] == ["Extra"]
    assert items[0]["targeting"]["targeting_automation"] == {"advantage_audience": 0}
    assert items[0]["ads"][0]["creative"]["format"] == "IMAGE"
    bad = ad_set("Bad", [ad("B", image_url="nope")], optimization_goal="LEAD_GENERATION")
    assert refused(add, "campaign", campaign, {"ad_sets": [ad_set("Fine", [ad("C")]), bad]}) == {
        "ad_sets.1.optimization_goal": "objective_mismatch",
        "ad_sets.1.ads.0.creative.image_url": "invalid",
    }
    assert refused(add, "campaign", campaign, {"ad_sets": [], "ads": []}) == {
        "ad_sets": "min_length",
        "ads": "unknown_field",
    }


def test_ad_sets_added_under_a_campaign_budget_get_none_of_their_own(live, account):
    campaign = live(cbo_body(account))
    assert refused(add, "campaign", campaign, {"ad_sets": [ad_set("Own budget", [ad("A")])]}) == {
        "ad_sets.0.daily_budget": "campaign_budget"
    }
    assert add("campaign", campaign, {"ad_sets": [ad_set("Shared", [ad("A")], daily_budget=None)]})


def test_a_campaign_holds_at_most_fifty_ad_sets_with_those_it_has(live, account):
    campaign = live(tree(account.platform_account_id, ad_sets=48))
    assert add("campaign", campaign, {"ad_sets": [ad_set(f"S{i}", [ad("A")]) for i in range(2)]})
    assert refused(
        add, "campaign", campaign, {"ad_sets": [ad_set(f"S{i}", [ad("A")]) for i in range(3)]}
    ) == {"ad_sets": "max_length"}


def test_ads_added_to_an_ad_set_are_validated_with_its_campaign(live, account):
    ad_set_row = first_ad_set(live(tree(account.platform_account_id, ads=49)))
    items = add("ad_set", ad_set_row, {"ads": [ad("New")]})
    assert items[0]["creative"]["format"] == "IMAGE"
    assert refused(add, "ad_set", ad_set_row, {"ads": [ad("X"), ad("Y")]}) == {"ads": "max_length"}
    assert refused(add, "ad_set", ad_set_row, {"ads": [{"name": "No creative"}]}) == {
        "ads.0.creative": "required"
    }


def test_a_daily_budget_ad_set_keeps_a_schedule_longer_than_24_hours(live):
    # Ad Set reference, daily_budget: only for ad sets running longer than 24 hours (start
    # 2030-01-01T00:00Z in the example).
    ad_set_row = first_ad_set(live())
    assert ad_set_row.meta.daily_budget is not None

    assert refused(change, "ad_set", ad_set_row, {"end_time": "2030-01-01T12:00:00Z"}) == {
        "end_time": "schedule_too_short"
    }
    assert change("ad_set", ad_set_row, {"end_time": "2030-01-02T00:00:01Z"}) == {
        "end_time": "2030-01-02T00:00:01+00:00"
    }

    # As an ad set imported from Meta with a shorter schedule would be: a new daily budget
    # names the budget.
    type(ad_set_row.meta).objects.filter(pk=ad_set_row.meta.pk).update(
        end_time=datetime(2030, 1, 1, 20, tzinfo=UTC)
    )
    short = first_ad_set(ad_set_row.campaign)
    assert refused(change, "ad_set", short, {"daily_budget": 6000}) == {
        "daily_budget": "schedule_too_short"
    }
