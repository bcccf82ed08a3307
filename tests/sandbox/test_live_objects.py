"""Managing live objects through the real SDK over HTTP: ad review, importing a whole tree,
updates and archiving, the ad set budget-change limit (README, "Live objects")."""

from __future__ import annotations

import time
from typing import Any

import pytest
from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adcreative import AdCreative
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign

from platforms.meta.sandbox import DEMO_PAGE_ID
from platforms.meta.sandbox import graph as graph_module

from .conftest import Sandbox, refused

REVIEW = 0.3  # review_seconds for these tests
US = {"geo_locations": {"countries": ["US"]}, "age_min": 18, "age_max": 65}


class Clock:
    """``time`` for the sandbox's Graph module, moved forward by ``offset`` seconds."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class Tree:
    """A campaign, an ad set and its creatives/ads made through the SDK."""

    def __init__(self, sandbox: Sandbox, account: AdAccount, status: str = "ACTIVE") -> None:
        self.sandbox = sandbox
        self.account = account
        self.campaign = account.create_campaign(
            params={
                "name": "Live campaign",
                "objective": Campaign.Objective.outcome_traffic,
                "status": status,
                "special_ad_categories": [],
                "is_adset_budget_sharing_enabled": False,
            }
        )["id"]
        self.adset = account.create_ad_set(
            params={
                "name": "Live ad set",
                "campaign_id": self.campaign,
                "billing_event": AdSet.BillingEvent.impressions,
                "optimization_goal": AdSet.OptimizationGoal.link_clicks,
                "daily_budget": 2000,
                "targeting": US,
                "status": status,
            }
        )["id"]
        self.image_hash = sandbox.image_hash()
        self.creatives: set[str] = set()
        self.clock: Clock | None = None

    def after_review(self) -> None:
        """Move the sandbox's clock past the review of what was just sent."""
        assert self.clock is not None
        self.clock.offset += REVIEW + 0.01

    def creative(self, name: str = "Creative") -> str:
        creative_id = self.account.create_ad_creative(
            params={
                "name": name,
                "object_story_spec": {
                    "page_id": DEMO_PAGE_ID,
                    "link_data": {
                        "link": "https://example.com/sale",
                        "message": "Primary text",
                        "image_hash": self.image_hash,
                    },
                },
            }
        )["id"]
        self.creatives.add(creative_id)
        return creative_id

    def ad(self, name: str = "Ad", status: str = "ACTIVE", creative: str | None = None) -> str:
        return self.account.create_ad(
            params={
                "name": name,
                "adset_id": self.adset,
                "creative": {"creative_id": creative or self.creative()},
                "status": status,
            }
        )["id"]

    def node(self, object_id: str) -> Any:
        """The SDK object for an id: Campaign, AdSet, AdCreative or Ad."""
        kinds = {self.campaign: Campaign, self.adset: AdSet}
        kind = kinds.get(object_id)
        if kind is None:
            kind = AdCreative if object_id in self.creatives else Ad
        return kind(object_id, api=self.account.get_api())

    def read(self, object_id: str, *fields: str) -> dict[str, Any]:
        return self.node(object_id).api_get(fields=list(fields)).export_all_data()

    def status(self, object_id: str) -> str:
        return self.read(object_id, "effective_status")["effective_status"]

    def update(self, object_id: str, **params: Any) -> None:
        self.node(object_id).api_update(params=params)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The sandbox's clock, moved by the tests instead of waited for."""
    clock = Clock()
    monkeypatch.setattr(graph_module, "time", clock)
    return clock


@pytest.fixture
def tree(sandbox: Sandbox, account: AdAccount, clock: Clock) -> Tree:
    sandbox.configure(review_seconds=REVIEW)
    built = Tree(sandbox, account)
    built.clock = clock
    return built


# --- ad review ----------------------------------------------------------------------------------


def test_review_time_is_configurable_through_the_control_api(sandbox: Sandbox) -> None:
    assert sandbox.control("GET", "config")["review_seconds"] == 2.0
    sandbox.configure(review_seconds=0.5)
    assert sandbox.control("GET", "config")["review_seconds"] == 0.5


def test_a_new_active_ad_is_in_process_then_active(tree: Tree) -> None:
    ad_id = tree.ad()
    read = tree.read(ad_id, "status", "configured_status", "effective_status")
    assert (read["status"], read["configured_status"], read["effective_status"]) == (
        "ACTIVE",
        "ACTIVE",
        "IN_PROCESS",
    )
    listed = tree.sandbox.get(
        f"{tree.adset}/ads", fields="effective_status", effective_status=["IN_PROCESS"]
    ).json()["data"]
    assert [item["id"] for item in listed] == [ad_id]
    tree.after_review()
    assert tree.status(ad_id) == "ACTIVE"
    assert "ad_review_feedback" not in tree.read(ad_id, "ad_review_feedback")


def test_the_disapprove_marker_in_the_ad_name_disapproves_it(tree: Tree) -> None:
    ad_id = tree.ad(name="Miracle cure [sandbox:disapprove]")
    assert tree.status(ad_id) == "IN_PROCESS"
    assert "ad_review_feedback" not in tree.read(ad_id, "ad_review_feedback")
    tree.after_review()
    read = tree.read(ad_id, "effective_status", "ad_review_feedback")
    assert read["effective_status"] == "DISAPPROVED"
    feedback = read["ad_review_feedback"]
    assert list(feedback) == ["global"]
    ((policy, text),) = feedback["global"].items()
    assert policy and "[sandbox:disapprove]" in text


def test_the_disapprove_marker_in_the_creative_name_disapproves_the_ad(tree: Tree) -> None:
    ad_id = tree.ad(creative=tree.creative(name="Creative [sandbox:disapprove]"))
    tree.after_review()
    assert tree.status(ad_id) == "DISAPPROVED"


def test_a_creative_swap_sends_the_ad_back_to_review(tree: Tree) -> None:
    ad_id = tree.ad()
    tree.after_review()
    assert tree.status(ad_id) == "ACTIVE"
    tree.update(ad_id, creative={"creative_id": tree.creative(name="New [sandbox:disapprove]")})
    assert tree.status(ad_id) == "IN_PROCESS"
    tree.after_review()
    assert tree.status(ad_id) == "DISAPPROVED"
    tree.update(ad_id, creative={"creative_id": tree.creative(name="Clean")})
    tree.after_review()
    assert tree.status(ad_id) == "ACTIVE"
    assert "ad_review_feedback" not in tree.read(ad_id, "ad_review_feedback")


def test_setting_an_ad_active_sends_it_to_review_and_a_rename_does_not(tree: Tree) -> None:
    ad_id = tree.ad(status="PAUSED")
    assert tree.status(ad_id) == "PAUSED"  # a paused ad stays paused through review
    tree.after_review()
    tree.update(ad_id, name="Renamed")
    assert tree.status(ad_id) == "PAUSED"
    tree.update(ad_id, status="ACTIVE")
    assert tree.status(ad_id) == "IN_PROCESS"
    tree.after_review()
    assert tree.status(ad_id) == "ACTIVE"
    tree.update(ad_id, name="Renamed again")
    assert tree.status(ad_id) == "ACTIVE"


def test_targeting_changes_review_the_ad_sets_ads_and_budget_changes_do_not(tree: Tree) -> None:
    ad_id = tree.ad()
    tree.after_review()
    tree.update(tree.adset, daily_budget=2500, bid_amount=300)
    assert tree.status(ad_id) == "ACTIVE"
    tree.update(tree.adset, targeting={**US, "age_min": 21})
    assert tree.status(ad_id) == "IN_PROCESS"
    tree.after_review()
    assert tree.status(ad_id) == "ACTIVE"


def test_paused_parents_show_in_the_effective_status(tree: Tree) -> None:
    ad_id = tree.ad()
    tree.after_review()
    tree.update(tree.adset, status="PAUSED")
    assert tree.status(tree.adset) == "PAUSED"
    assert tree.status(ad_id) == "ADSET_PAUSED"
    tree.update(tree.campaign, status="PAUSED")
    assert tree.status(tree.adset) == "CAMPAIGN_PAUSED"
    assert tree.status(ad_id) == "CAMPAIGN_PAUSED"
    tree.update(tree.campaign, status="ACTIVE")
    tree.update(tree.adset, status="ACTIVE")
    assert tree.status(ad_id) == "ACTIVE"


# --- archive ------------------------------------------------------------------------------------


def test_archived_objects_read_archived_and_can_only_be_renamed_or_deleted(tree: Tree) -> None:
    ad_id = tree.ad()
    tree.update(tree.campaign, status="ARCHIVED")
    assert tree.status(tree.campaign) == "ARCHIVED"
    assert tree.status(tree.adset) == "ARCHIVED"
    assert tree.status(ad_id) == "ARCHIVED"
    for status in ("ACTIVE", "PAUSED"):
        error = refused(lambda status=status: tree.update(tree.campaign, status=status))
        assert error.api_error_code() == 100
        assert "only change to DELETED" in error.body()["error"]["error_user_msg"]
    error = refused(lambda: tree.update(tree.campaign, spend_cap=100000))
    assert error.api_error_code() == 100
    tree.update(tree.campaign, name="Archived campaign")
    assert tree.read(tree.campaign, "name", "status") == {
        "name": "Archived campaign",
        "status": "ARCHIVED",
        "id": tree.campaign,
    }
    # Edges leave archived objects out unless a status filter asks for them.
    campaigns = tree.account.get_campaigns(fields=["name"])
    assert [c["id"] for c in campaigns] == []
    archived = tree.account.get_campaigns(
        fields=["name"], params={"effective_status": ["ARCHIVED"]}
    )
    assert [c["id"] for c in archived] == [tree.campaign]
    tree.update(tree.campaign, status="DELETED")
    assert tree.status(tree.campaign) == "DELETED"
    assert refused(lambda: tree.update(tree.campaign, status="ARCHIVED")).api_error_code() == 100


def test_an_archived_ad_set_and_ad_stay_archived(tree: Tree) -> None:
    ad_id = tree.ad()
    tree.update(ad_id, status="ARCHIVED")
    assert tree.status(ad_id) == "ARCHIVED"
    assert refused(lambda: tree.update(ad_id, status="ACTIVE")).api_error_code() == 100
    tree.update(tree.adset, status="ARCHIVED")
    assert refused(lambda: tree.update(tree.adset, status="PAUSED")).api_error_code() == 100
    assert refused(lambda: tree.update(tree.adset, daily_budget=3000)).api_error_code() == 100
    assert tree.status(tree.adset) == "ARCHIVED"


# --- updates ------------------------------------------------------------------------------------


def test_updates_on_every_object_read_back(tree: Tree) -> None:
    creative_id = tree.creative()
    ad_id = tree.ad(creative=creative_id)
    tree.update(tree.campaign, name="Renamed campaign")
    tree.update(
        tree.adset,
        name="Renamed ad set",
        daily_budget=3100,
        end_time="2027-01-31T00:00:00+0000",
        targeting={**US, "age_max": 40},
    )
    tree.update(ad_id, name="Renamed ad")
    tree.update(creative_id, name="Renamed creative")
    assert tree.read(tree.campaign, "name")["name"] == "Renamed campaign"
    adset = tree.read(tree.adset, "name", "daily_budget", "end_time", "targeting")
    assert (adset["name"], adset["daily_budget"]) == ("Renamed ad set", "3100")
    assert adset["end_time"] == "2027-01-31T00:00:00+0000"
    assert adset["targeting"]["age_max"] == 40
    assert tree.read(ad_id, "name")["name"] == "Renamed ad"
    assert tree.read(creative_id, "name")["name"] == "Renamed creative"
    # A creative's content can't change after creation (Ad Creative reference, "Updating").
    error = refused(
        lambda: AdCreative(creative_id, api=tree.account.get_api()).api_update(
            params={"object_story_spec": {"page_id": DEMO_PAGE_ID}}
        )
    )
    assert error.api_error_code() == 100


# --- the ad set budget-change limit -------------------------------------------------------------


def test_a_fifth_budget_change_within_an_hour_is_meta_error_17_and_blocks_an_hour(
    tree: Tree, clock: Clock
) -> None:
    for amount in (2100, 2200, 2300, 2400):
        tree.update(tree.adset, daily_budget=amount)
    clock.offset = 1800
    error = refused(lambda: tree.update(tree.adset, daily_budget=2500))
    # Marketing API rate limiting, "Ad Set Level Rate Limiting".
    assert error.api_error_code() == 17
    assert error.api_error_subcode() is None
    assert error.api_error_message() == "(#17) User request limit reached"
    assert error.api_transient_error() is True
    tree.update(tree.adset, name="Other changes go through")
    # The four changes are more than an hour old, but the block lasts an hour from the refusal.
    clock.offset = 3700
    assert refused(lambda: tree.update(tree.adset, lifetime_budget=0)).api_error_code() == 17
    clock.offset = 5500
    tree.update(tree.adset, daily_budget=2600)
    assert tree.read(tree.adset, "daily_budget")["daily_budget"] == "2600"


# --- importing a whole tree ---------------------------------------------------------------------

SALES_ADSET = {
    "name": "Buyers",
    "billing_event": AdSet.BillingEvent.impressions,
    "optimization_goal": AdSet.OptimizationGoal.offsite_conversions,
    "bid_strategy": AdSet.BidStrategy.cost_cap,
    "bid_amount": 450,
    "daily_budget": 5000,
    "targeting": US,
    "start_time": "2027-02-01T00:00:00+0000",
    "end_time": "2027-03-15T00:00:00+0000",
    "promoted_object": {"pixel_id": "1234567890", "custom_event_type": "PURCHASE"},
    "destination_type": "WEBSITE",
    "status": "PAUSED",
}
ADSET_FIELDS = [
    "name",
    "status",
    "effective_status",
    "daily_budget",
    "lifetime_budget",
    "bid_strategy",
    "bid_amount",
    "billing_event",
    "optimization_goal",
    "targeting",
    "start_time",
    "end_time",
    "promoted_object",
    "destination_type",
    "campaign_id",
]


def test_a_tree_made_through_the_sdk_reads_back_with_every_stored_field(
    sandbox: Sandbox, account: AdAccount
) -> None:
    api = account.get_api()
    campaign_id = account.create_campaign(
        params={
            "name": "Import me",
            "objective": Campaign.Objective.outcome_sales,
            "status": "PAUSED",
            "special_ad_categories": [],
            "is_adset_budget_sharing_enabled": False,
        }
    )["id"]
    adset_id = account.create_ad_set(params={**SALES_ADSET, "campaign_id": campaign_id})["id"]
    spec = {
        "page_id": DEMO_PAGE_ID,
        "link_data": {
            "link": "https://example.com/buy",
            "message": "Buy now",
            "name": "Headline",
            "image_hash": sandbox.image_hash(),
            "call_to_action": {"type": "SHOP_NOW"},
        },
    }
    creative_id = account.create_ad_creative(params={"name": "Buy", "object_story_spec": spec})[
        "id"
    ]
    ad_id = account.create_ad(
        params={
            "name": "Buy ad",
            "adset_id": adset_id,
            "creative": {"creative_id": creative_id},
            "status": "PAUSED",
        }
    )["id"]

    campaign = Campaign(campaign_id, api=api).api_get(
        fields=["name", "status", "effective_status", "objective", "daily_budget", "bid_strategy"]
    )
    assert (campaign["name"], campaign["status"], campaign["objective"]) == (
        "Import me",
        "PAUSED",
        "OUTCOME_SALES",
    )
    assert campaign["effective_status"] == "PAUSED"

    adsets = list(Campaign(campaign_id, api=api).get_ad_sets(fields=ADSET_FIELDS))
    assert [a["id"] for a in adsets] == [adset_id]
    adset = adsets[0].export_all_data()
    expected = {**SALES_ADSET, "daily_budget": "5000", "campaign_id": campaign_id}
    targeting = expected.pop("targeting")
    for key, value in expected.items():
        assert adset[key] == value, key
    # Meta adds its defaults (Advantage+ audience) to what was sent.
    assert adset["targeting"].items() >= targeting.items()
    assert adset["effective_status"] == "CAMPAIGN_PAUSED"

    ads = list(
        AdSet(adset_id, api=api).get_ads(
            fields=["name", "status", "effective_status", "creative{id}", "adset_id"]
        )
    )
    assert [a.export_all_data() for a in ads] == [
        {
            "name": "Buy ad",
            "status": "PAUSED",
            "effective_status": "CAMPAIGN_PAUSED",
            "creative": {"id": creative_id},
            "adset_id": adset_id,
            "id": ad_id,
        }
    ]
    plain = sandbox.get(f"{adset_id}/ads", fields="creative").json()["data"]
    assert plain == [{"creative": {"id": creative_id}, "id": ad_id}]

    creative = AdCreative(creative_id, api=api).api_get(
        fields=["name", "object_story_spec", "image_hash", "call_to_action_type", "status"]
    )
    assert creative["name"] == "Buy"
    assert creative["object_story_spec"].export_all_data() == spec
    assert creative["image_hash"] == spec["link_data"]["image_hash"]
    assert creative["call_to_action_type"] == "SHOP_NOW"


def test_tree_edges_page_with_limit_and_after_cursors(tree: Tree) -> None:
    ad_ids = [tree.ad(name=f"Ad {i}") for i in range(5)]
    newest_first = ad_ids[::-1]
    first = tree.sandbox.get(f"{tree.adset}/ads", fields="name", limit=2).json()
    assert [item["id"] for item in first["data"]] == newest_first[:2]
    assert "next" in first["paging"]
    after = first["paging"]["cursors"]["after"]
    second = tree.sandbox.get(f"{tree.adset}/ads", fields="name", limit=2, after=after).json()
    assert [item["id"] for item in second["data"]] == newest_first[2:4]
    last = tree.sandbox.get(
        f"{tree.adset}/ads", limit=2, after=second["paging"]["cursors"]["after"]
    ).json()
    assert [item["id"] for item in last["data"]] == newest_first[4:]
    assert "next" not in last["paging"]
    # The SDK's cursor follows paging.next through every page.
    cursor = AdSet(tree.adset, api=tree.account.get_api()).get_ads(
        fields=["name"], params={"limit": 2}
    )
    assert [ad["id"] for ad in cursor] == newest_first
    # The campaign's ads edge and a nested edge page the same way.
    campaign_ads = tree.sandbox.get(f"{tree.campaign}/ads", limit=3).json()
    assert [item["id"] for item in campaign_ads["data"]] == newest_first[:3]
    nested = tree.sandbox.get(tree.adset, fields="ads.limit(2){name}").json()["ads"]
    assert [item["id"] for item in nested["data"]] == newest_first[:2]
    rest = tree.sandbox.get(
        f"{tree.adset}/ads", limit=10, after=nested["paging"]["cursors"]["after"]
    ).json()
    assert [item["id"] for item in rest["data"]] == newest_first[2:]


def test_nested_edges_leave_archived_and_deleted_children_out(tree: Tree) -> None:
    kept, archived, deleted = tree.ad(name="Kept"), tree.ad(name="Archived"), tree.ad(name="Gone")
    tree.update(archived, status="ARCHIVED")
    Ad(deleted, api=tree.account.get_api()).api_delete()
    nested = tree.sandbox.get(tree.adset, fields="ads{name}").json()["ads"]["data"]
    assert nested == [{"name": "Kept", "id": kept}]
    # Each still answers by id.
    assert tree.status(archived) == "ARCHIVED"
    assert tree.status(deleted) == "DELETED"
