"""The sandbox's Insights API through the real SDK over HTTP: account-level and node-level
reads by level and day, figures that add up and look like Meta's, filtering, paging, report
runs, and the control API's restated days, delivery starts and report-run behaviour (README,
"Insights")."""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from typing import Any

import pytest
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.adsinsights import AdsInsights
from facebook_business.adobjects.campaign import Campaign
from facebook_business.api import Cursor

from platforms.meta.sandbox import DEMO_PAGE_ID, DEMO_TOKEN
from platforms.meta.sandbox.insights import account_day

from .conftest import ACT, OTHER_TOKEN, Sandbox, make_api, png_bytes, refused

FIGURES = (
    "date_start,date_stop,campaign_id,adset_id,ad_id,account_currency,"
    "spend,impressions,reach,clicks,ctr,cpc,cpm"
)


class Tree:
    """A campaign with ad sets and ads, delivering from `days` days ago."""

    def __init__(self, sandbox: Sandbox, ad_sets: int = 2, ads: int = 2, days: int = 5) -> None:
        self.sandbox = sandbox
        self.campaign = sandbox.campaign(status="ACTIVE")
        creative = sandbox.creative()
        self.ad_sets: dict[str, list[str]] = {}
        for _ in range(ad_sets):
            ad_set = sandbox.adset(self.campaign, status="ACTIVE")
            self.ad_sets[ad_set] = []
            for _ in range(ads):
                response = sandbox.post(
                    f"{ACT}/ads",
                    name="Ad",
                    adset_id=ad_set,
                    creative={"creative_id": creative},
                    status="ACTIVE",
                )
                assert response.status_code == 200, response.text
                self.ad_sets[ad_set].append(response.json()["id"])
        self.today = today(sandbox)
        self.since = self.today - datetime.timedelta(days=days - 1)
        sandbox.control(
            "POST", "insights/delivery", object_id=self.campaign, since=self.since.isoformat()
        )

    @property
    def ads(self) -> list[str]:
        return [ad for ads in self.ad_sets.values() for ad in ads]


def today(sandbox: Sandbox) -> datetime.date:
    """Today in the demo account's time zone (America/Los_Angeles, UTC-8 in the sandbox)."""
    account = sandbox.state.accounts[ACT.removeprefix("act_")]
    return account_day(account, time.time())


def rows_of(node: Any, **params: Any) -> list[dict[str, Any]]:
    """Every row of a node's insights, page after page, as the SDK's cursor reads them."""
    cursor = Cursor(
        source_object=node,
        target_objects_class=AdsInsights,
        fields=params.pop("fields", FIGURES).split(","),
        params=params,
        include_summary=False,
        endpoint="insights",
    )
    return [row.export_all_data() for row in cursor]


def daily(tree: Tree, level: str, **params: Any) -> dict[str, Any]:
    return {
        "level": level,
        "time_increment": 1,
        "time_range": {"since": tree.since.isoformat(), "until": tree.today.isoformat()},
        **params,
    }


def test_daily_rows_of_each_level_add_up_to_the_campaigns(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox)

    by_level = {
        level: rows_of(account, **daily(tree, level)) for level in ("campaign", "adset", "ad")
    }

    spend: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    impressions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for level, rows in by_level.items():
        for row in rows:
            assert row["date_start"] == row["date_stop"]
            spend[level][row["date_start"]] += float(row["spend"])
            impressions[level][row["date_start"]] += int(row["impressions"])
    assert spend["campaign"]
    for day, total in spend["campaign"].items():
        assert total == pytest.approx(spend["adset"][day], abs=0.011)
        assert total == pytest.approx(spend["ad"][day], abs=0.021)
        assert impressions["campaign"][day] == impressions["ad"][day]
    assert {r["ad_id"] for r in by_level["ad"]} <= set(tree.ads)
    assert {r["campaign_id"] for r in by_level["campaign"]} == {tree.campaign}


def test_figures_look_like_metas_strings_and_hold_together(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=3)

    rows = rows_of(account, **daily(tree, "ad"))

    assert rows
    for row in rows:
        assert all(isinstance(value, str) for value in row.values())
        impressions, reach, clicks = (int(row[k]) for k in ("impressions", "reach", "clicks"))
        spend = float(row["spend"])
        assert impressions >= reach >= 0 and 0 <= clicks <= impressions
        assert row["spend"] == f"{spend:.2f}"
        assert row["account_currency"] == "USD"
        assert float(row["ctr"]) == pytest.approx(clicks / impressions * 100, abs=1e-5)
        assert float(row["cpm"]) == pytest.approx(spend / impressions * 1000, abs=1e-5)
        if clicks:
            assert float(row["cpc"]) == pytest.approx(spend / clicks, abs=1e-5)
        else:
            assert "cpc" not in row


def test_days_run_from_the_delivery_start_to_today_and_no_further(
    sandbox: Sandbox, account: AdAccount
):
    tree = Tree(sandbox, ad_sets=1, ads=4, days=3)
    wide = {
        "since": (tree.since - datetime.timedelta(days=10)).isoformat(),
        "until": (tree.today + datetime.timedelta(days=5)).isoformat(),
    }

    rows = rows_of(account, level="campaign", time_increment=1, time_range=wide)

    days = sorted(r["date_start"] for r in rows)
    assert days[0] >= tree.since.isoformat() and days[-1] <= tree.today.isoformat()
    assert len(days) == len(set(days)) == 3


def test_a_new_object_delivers_only_from_its_creation_day(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=3)
    sandbox.state.get_object(tree.campaign).extra.pop("delivery_since")

    rows = rows_of(account, **daily(tree, "ad"))

    assert {r["date_start"] for r in rows} <= {tree.today.isoformat()}


def test_figures_are_the_same_at_every_read(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox)
    assert rows_of(account, **daily(tree, "ad")) == rows_of(account, **daily(tree, "ad"))


def test_filtering_on_campaign_ad_set_and_ad_ids(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox)
    other = Tree(sandbox, ad_sets=1, ads=1)
    ad_set, first_ads = next(iter(tree.ad_sets.items()))

    by_campaign = rows_of(
        account,
        **daily(tree, "ad"),
        filtering=[{"field": "campaign.id", "operator": "IN", "value": [tree.campaign]}],
    )
    by_ad_set = rows_of(
        account,
        **daily(tree, "ad"),
        filtering=[{"field": "adset.id", "operator": "IN", "value": [ad_set]}],
    )
    by_ad = rows_of(
        account,
        **daily(tree, "ad"),
        filtering=[{"field": "ad.id", "operator": "IN", "value": [first_ads[0]]}],
    )

    assert {r["ad_id"] for r in by_campaign} == set(tree.ads)
    assert not {r["ad_id"] for r in by_campaign} & set(other.ads)
    assert {r["ad_id"] for r in by_ad_set} == set(first_ads)
    assert {r["ad_id"] for r in by_ad} == {first_ads[0]}


def test_archived_and_deleted_ads_are_left_out_unless_their_status_is_asked(
    sandbox: Sandbox, account: AdAccount
):
    tree = Tree(sandbox, ad_sets=1, ads=3)
    archived, deleted, live = tree.ads
    assert sandbox.post(archived, status="ARCHIVED").status_code == 200
    assert sandbox.delete(deleted).status_code == 200

    plain = {r["ad_id"] for r in rows_of(account, **daily(tree, "ad"))}
    every = {
        r["ad_id"]
        for r in rows_of(
            account,
            **daily(tree, "ad"),
            filtering=[
                {
                    "field": "ad.effective_status",
                    "operator": "IN",
                    "value": ["ACTIVE", "PAUSED", "ARCHIVED", "DELETED", "IN_PROCESS"],
                }
            ],
        )
    }
    # A node's own insights include every child, whatever its status (best practices).
    node = {
        r["ad_id"]
        for r in rows_of(Campaign(tree.campaign, api=account.get_api()), **daily(tree, "ad"))
    }

    assert plain == {live}
    assert every == node == {archived, deleted, live}


def test_pages_follow_limit_and_cursors_and_end_without_next(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=3, days=6)
    everything = rows_of(account, **daily(tree, "ad"))
    first = sandbox.get(
        f"{ACT}/insights", **daily(tree, "ad"), fields="ad_id,spend", limit=4
    ).json()

    paged = rows_of(account, **daily(tree, "ad"), limit=4)

    assert len(first["data"]) == 4 and "next" in first["paging"]
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    assert paged == everything
    last = sandbox.get(f"{ACT}/insights", **daily(tree, "ad"), limit=500).json()
    assert "next" not in last["paging"]


def test_a_restated_day_changes_that_day_only_and_parents_with_it(
    sandbox: Sandbox, account: AdAccount
):
    tree = Tree(sandbox, ad_sets=1, ads=2, days=3)
    before = {(r["ad_id"], r["date_start"]): r for r in rows_of(account, **daily(tree, "ad"))}
    campaign_before = {r["date_start"]: r for r in rows_of(account, **daily(tree, "campaign"))}
    ad, day = next(iter(before))

    sandbox.control("POST", "insights/restate", object_id=ad, date=day, factor=1.5)

    after = {(r["ad_id"], r["date_start"]): r for r in rows_of(account, **daily(tree, "ad"))}
    campaign_after = {r["date_start"]: r for r in rows_of(account, **daily(tree, "campaign"))}
    assert int(after[(ad, day)]["impressions"]) == round(
        int(before[(ad, day)]["impressions"]) * 1.5
    )
    assert {k: v for k, v in after.items() if k != (ad, day)} == {
        k: v for k, v in before.items() if k != (ad, day)
    }
    added = int(after[(ad, day)]["impressions"]) - int(before[(ad, day)]["impressions"])
    assert (
        int(campaign_after[day]["impressions"]) == int(campaign_before[day]["impressions"]) + added
    )


def test_a_zero_decimal_account_spends_whole_units(sandbox: Sandbox, api: Any):
    yen = "act_300000000000003"
    sandbox.control("POST", "accounts", token=DEMO_TOKEN, account_id=yen, currency="JPY")
    image = sandbox.post(
        f"{yen}/adimages", files={"img.png": ("img.png", png_bytes(), "image/png")}
    ).json()["images"]["img.png"]["hash"]
    campaign = sandbox.post(
        f"{yen}/campaigns",
        name="Yen",
        objective="OUTCOME_TRAFFIC",
        status="PAUSED",
        special_ad_categories=[],
        is_adset_budget_sharing_enabled=False,
    ).json()["id"]
    ad_set = sandbox.post(
        f"{yen}/adsets",
        name="Set",
        campaign_id=campaign,
        billing_event="IMPRESSIONS",
        optimization_goal="LINK_CLICKS",
        daily_budget=2000,
        targeting={"geo_locations": {"countries": ["JP"]}},
        status="PAUSED",
    ).json()["id"]
    creative = sandbox.post(
        f"{yen}/adcreatives",
        name="Creative",
        object_story_spec={
            "page_id": DEMO_PAGE_ID,
            "link_data": {"link": "https://example.com", "image_hash": image},
        },
    ).json()["id"]
    ad = sandbox.post(
        f"{yen}/ads", name="Ad", adset_id=ad_set, creative={"creative_id": creative}
    ).json()["id"]
    since = today(sandbox) - datetime.timedelta(days=4)
    sandbox.control("POST", "insights/delivery", object_id=ad, since=since.isoformat())

    rows = rows_of(
        AdAccount(yen, api=api),
        level="campaign",
        time_increment=1,
        time_range={"since": since.isoformat(), "until": today(sandbox).isoformat()},
    )

    assert rows and all(r["account_currency"] == "JPY" for r in rows)
    assert all(r["spend"].isdigit() for r in rows)


def test_bad_requests_are_refused_as_graph_does(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=1)
    for params in (
        {"level": "everything"},
        {"fields": "spend,not_a_field"},
        {"time_range": {"since": "2026-02-10", "until": "2026-02-01"}},
        {"time_increment": "hourly"},
        {"filtering": [{"field": "creative.id", "operator": "IN", "value": ["1"]}]},
    ):
        error = refused(lambda p=params: rows_of(account, **{**daily(tree, "ad"), **p}))
        assert error.api_error_code() == 100, params


# --- report runs ----------------------------------------------------------------------------


def test_a_report_run_goes_through_its_statuses_then_answers_the_same_rows(
    sandbox: Sandbox, account: AdAccount
):
    tree = Tree(sandbox)
    sandbox.control("POST", "report_runs", polls=3)

    run = account.get_insights(params=daily(tree, "ad", fields=FIGURES.split(",")), is_async=True)
    run_id = run["report_run_id"]
    statuses = []
    for _ in range(5):
        read = AdReportRun(run_id, api=account.get_api()).api_get(
            fields=["async_status", "async_percent_completion"]
        )
        statuses.append((read["async_status"], read["async_percent_completion"]))

    assert [s for s, _ in statuses] == [
        "Job Not Started",
        "Job Started",
        "Job Running",
        "Job Completed",
        "Job Completed",
    ]
    assert [p for _, p in statuses] == sorted(p for _, p in statuses) and statuses[-1][1] == 100
    from_run = rows_of(AdReportRun(run_id, api=account.get_api()), fields="")
    assert from_run == rows_of(account, **daily(tree, "ad"))


def test_a_report_runs_rows_are_refused_before_it_completes(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=1)
    sandbox.control("POST", "report_runs", polls=10)
    run_id = account.get_insights(params=daily(tree, "ad"), is_async=True)["report_run_id"]

    error = refused(lambda: rows_of(AdReportRun(run_id, api=account.get_api()), fields=""))

    assert error.api_error_code() == 100


def test_report_runs_can_be_told_to_fail_or_be_skipped(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=1)
    sandbox.control("POST", "report_runs", polls=0, outcome="Job Skipped")
    skipped = account.get_insights(params=daily(tree, "ad"), is_async=True)["report_run_id"]
    sandbox.control("POST", "report_runs", polls=5, outcome="Job Completed")
    failing = account.get_insights(params=daily(tree, "ad"), is_async=True)["report_run_id"]

    def status(run_id: str) -> str:
        return AdReportRun(run_id, api=account.get_api()).api_get(fields=["async_status"])[
            "async_status"
        ]

    assert status(skipped) == "Job Skipped"
    assert status(failing) == "Job Not Started"
    sandbox.control("POST", f"report_runs/{failing}", outcome="Job Failed")
    assert status(failing) == "Job Failed"
    listed = {r["id"]: r for r in sandbox.control("GET", "report_runs")["data"]}
    assert listed[failing]["async_status"] == "Job Failed"
    assert listed[skipped]["outcome"] == "Job Skipped"


def test_a_report_run_can_take_seconds_instead_of_polls(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=1)
    sandbox.control("POST", "report_runs", seconds=0.4)
    run_id = account.get_insights(params=daily(tree, "ad"), is_async=True)["report_run_id"]
    run = AdReportRun(run_id, api=account.get_api())

    assert run.api_get(fields=["async_status"])["async_status"] != "Job Completed"
    time.sleep(0.5)
    assert run.api_get(fields=["async_status"])["async_status"] == "Job Completed"


def test_another_tokens_report_run_does_not_exist_for_it(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=1)
    run_id = account.get_insights(params=daily(tree, "ad"), is_async=True)["report_run_id"]

    error = refused(
        lambda: AdReportRun(run_id, api=make_api(sandbox, token=OTHER_TOKEN)).api_get(
            fields=["async_status"]
        )
    )
    assert error.api_error_code() == 100
