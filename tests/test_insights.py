"""Delivery figures on the Meta side: Meta's rows stored as InsightDay (money in the
currency's minor unit, a restated day corrected, rows of unknown objects skipped, few
queries), and the reads themselves, plain and by report run, through the real SDK over HTTP
against the sandbox."""

from __future__ import annotations

import base64
import datetime
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from adaccounts.models import AdAccount
from campaigns.models import Ad, AdSet, Campaign, Creative, InsightDay, ObjectType
from platforms.meta import insights
from platforms.meta.client import build_meta_client
from platforms.meta.currencies import to_minor
from platforms.meta.errors import MetaError
from platforms.meta.sandbox.server import SandboxServer
from tests.factories import AdAccountFactory, CampaignJobFactory
from tests.images import make_png

pytestmark = pytest.mark.django_db

TOKEN = "insights-test-token"
ACCOUNT = "act_500000000000001"
YEN_ACCOUNT = "act_500000000000002"
PAGE = "500000000000009"
TODAY = datetime.date.today()


# --- building trees: mojito's rows, and (for the HTTP tests) the sandbox's objects ----------


def tree_rows(account: AdAccount, campaign_pid: str, ad_sets: dict[str, list[str]]) -> Campaign:
    """A live campaign of mojito's with the given platform ids (ad set id -> its ad ids)."""
    job = CampaignJobFactory(ad_account=account, team=account.team, status="SUCCESS")
    campaign = Campaign.objects.create(
        job=job, ad_account=account, name="Live", platform_id=campaign_pid
    )
    creative = Creative.objects.create(job=job, ad_account=account, name="C", platform_id="9")
    for n, (ad_set_pid, ad_pids) in enumerate(ad_sets.items()):
        ad_set = AdSet.objects.create(
            job=job, campaign=campaign, name=f"Set {n}", position=n, platform_id=ad_set_pid
        )
        for m, ad_pid in enumerate(ad_pids):
            Ad.objects.create(
                job=job,
                ad_set=ad_set,
                creative=creative,
                name=f"Ad {m}",
                position=m,
                platform_id=ad_pid,
            )
    return campaign


def meta_row(level: str, platform_id: str, day: datetime.date, **figures: Any) -> dict:
    row = {
        "date_start": day.isoformat(),
        "date_stop": day.isoformat(),
        insights.ID_FIELDS[level]: platform_id,
        "account_currency": "USD",
        "spend": "12.34",
        "impressions": "1000",
        "reach": "800",
        "clicks": "25",
        "ctr": "2.5",
        "cpc": "0.4936",
        "cpm": "12.34",
    }
    row.update(figures)
    return {k: v for k, v in row.items() if v is not None}


@pytest.fixture
def account() -> AdAccount:
    return AdAccountFactory(platform_account_id=ACCOUNT, credentials={"access_token": TOKEN})


# --- the money rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "USD", 1234),
        ("0.005", "EUR", 1),  # half a cent rounds up
        ("7", "GBP", 700),
        ("1234", "JPY", 1234),  # Meta's offset 1: no minor unit
        ("1234.6", "KRW", 1235),
        ("99", "CLP", 99),
        ("3.456789", "usd", 346),
        ("", "USD", None),
        (None, "USD", None),
        ("n/a", "USD", None),
    ],
)
def test_meta_amounts_become_integers_in_the_currencys_minor_unit(amount, currency, minor):
    assert to_minor(amount, currency) == minor


def test_a_row_is_stored_with_money_in_minor_units_counts_as_integers_and_ctr_as_sent(account):
    campaign = tree_rows(account, "700", {"701": ["702"]})
    day = TODAY - datetime.timedelta(days=1)

    stored = insights.insights_store(
        account=account,
        level=ObjectType.CAMPAIGN,
        rows=[meta_row(ObjectType.CAMPAIGN, "700", day)],
        now=timezone.now(),
    )

    assert stored == 1
    row = InsightDay.objects.get()
    assert (row.object_type, row.object_id, row.campaign_id, row.date) == (
        ObjectType.CAMPAIGN,
        campaign.pk,
        campaign.pk,
        day,
    )
    assert (row.spend, row.cpc, row.cpm, row.currency) == (1234, 49, 1234, "USD")
    assert (row.impressions, row.reach, row.clicks, row.ctr) == (1000, 800, 25, "2.5")


def test_a_zero_decimal_currency_keeps_its_amounts_and_left_out_costs_stay_null(account):
    tree_rows(account, "710", {"711": ["712"]})
    row = meta_row(
        ObjectType.AD,
        "712",
        TODAY,
        account_currency="JPY",
        spend="1520",
        cpc=None,
        cpm="380.4",
        clicks="0",
        ctr="0",
    )

    insights.insights_store(account=account, level=ObjectType.AD, rows=[row], now=timezone.now())

    stored = InsightDay.objects.get()
    assert (stored.spend, stored.cpm, stored.cpc, stored.currency) == (1520, 380, None, "JPY")
    assert stored.object_type == ObjectType.AD
    assert stored.campaign_id == Campaign.objects.get(platform_id="710").pk


def test_a_restated_day_is_corrected_not_doubled(account):
    tree_rows(account, "720", {"721": ["722"]})
    day = TODAY - datetime.timedelta(days=2)
    first = timezone.now()
    insights.insights_store(
        account=account,
        level=ObjectType.AD_SET,
        rows=[meta_row(ObjectType.AD_SET, "721", day, spend="10.00", impressions="500")],
        now=first,
    )

    later = first + datetime.timedelta(minutes=15)
    insights.insights_store(
        account=account,
        level=ObjectType.AD_SET,
        rows=[meta_row(ObjectType.AD_SET, "721", day, spend="11.50", impressions="560")],
        now=later,
    )

    (row,) = InsightDay.objects.all()
    assert (row.spend, row.impressions, row.synced_at) == (1150, 560, later)


def test_rows_of_objects_mojito_does_not_manage_or_of_another_account_are_skipped(account):
    tree_rows(account, "730", {"731": ["732"]})
    other = AdAccountFactory()
    tree_rows(other, "740", {"741": ["742"]})
    rows = [
        meta_row(ObjectType.AD, "732", TODAY),
        meta_row(ObjectType.AD, "999999", TODAY),  # made in Ads Manager
        meta_row(ObjectType.AD, "742", TODAY),  # another account's ad
    ]

    stored = insights.insights_store(
        account=account, level=ObjectType.AD, rows=rows, now=timezone.now()
    )

    assert stored == 1
    assert list(InsightDay.objects.values_list("platform_id", flat=True)) == ["732"]


def test_storing_takes_two_queries_however_many_rows(account):
    ads = [str(800 + n) for n in range(20)]
    tree_rows(account, "790", {"791": ads})
    rows = [
        meta_row(ObjectType.AD, ad, TODAY - datetime.timedelta(days=d))
        for ad in ads
        for d in range(5)
    ]

    with CaptureQueriesContext(connection) as queries:
        stored = insights.insights_store(
            account=account, level=ObjectType.AD, rows=rows, now=timezone.now()
        )

    assert stored == 100
    assert len(queries) == 2, [q["sql"] for q in queries]


def test_the_read_parameters_ask_meta_for_daily_rows_of_every_status_of_the_campaigns():
    since, until = TODAY - datetime.timedelta(days=2), TODAY
    params = insights.insights_params(
        level=ObjectType.AD_SET, since=since, until=until, campaign_ids=["1", "2"]
    )

    assert params["level"] == "adset"
    assert params["time_increment"] == 1
    assert params["time_range"] == {"since": since.isoformat(), "until": until.isoformat()}
    assert params["fields"].split(",") == [
        "date_start",
        "date_stop",
        "adset_id",
        "account_currency",
        "spend",
        "impressions",
        "reach",
        "clicks",
        "ctr",
        "cpc",
        "cpm",
    ]
    by_field = {f["field"]: f for f in params["filtering"]}
    assert by_field["campaign.id"] == {
        "field": "campaign.id",
        "operator": "IN",
        "value": ["1", "2"],
    }
    assert {"ARCHIVED", "DELETED", "ACTIVE", "PAUSED"} <= set(
        by_field["ad.effective_status"]["value"]
    )
    assert "campaign.id" not in {
        f["field"]
        for f in insights.insights_params(level=ObjectType.AD, since=since, until=until)[
            "filtering"
        ]
    }


# --- the reads, through the real SDK against the sandbox ------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


class Graph:
    """The sandbox over plain HTTP: what Ads Manager (or Meta itself) does."""

    def __init__(self, server: SandboxServer) -> None:
        self.base = server.base_url

    def control(self, method: str, path: str, **body: Any) -> Any:
        response = requests.request(method, f"{self.base}/__sandbox__/{path}", json=body, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, **params: Any) -> dict[str, Any]:
        data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
        response = requests.post(
            f"{self.base}/v26.0/{path}", data={"access_token": TOKEN, **data}, timeout=5
        )
        assert response.status_code == 200, response.text
        return response.json()

    def tree(self, account: str, ad_sets: int, ads: int) -> tuple[str, dict[str, list[str]]]:
        """A campaign with ad sets and ads on the sandbox: (campaign id, ad set id -> ad ids)."""
        image = self.post(f"{account}/adimages", bytes=base64.b64encode(make_png(3, 3)).decode())
        image_hash = next(iter(image["images"].values()))["hash"]
        campaign = self.post(
            f"{account}/campaigns",
            name="Spring",
            objective="OUTCOME_TRAFFIC",
            status="PAUSED",
            special_ad_categories=[],
            is_adset_budget_sharing_enabled=False,
        )["id"]
        creative = self.post(
            f"{account}/adcreatives",
            name="Creative",
            object_story_spec={
                "page_id": PAGE,
                "link_data": {"link": "https://example.com", "image_hash": image_hash},
            },
        )["id"]
        tree: dict[str, list[str]] = {}
        for n in range(ad_sets):
            ad_set = self.post(
                f"{account}/adsets",
                name=f"Set {n}",
                campaign_id=campaign,
                billing_event="IMPRESSIONS",
                optimization_goal="LINK_CLICKS",
                daily_budget=2000,
                targeting={"geo_locations": {"countries": ["US"]}},
                status="PAUSED",
            )["id"]
            tree[ad_set] = [
                self.post(
                    f"{account}/ads",
                    name=f"Ad {n}.{m}",
                    adset_id=ad_set,
                    creative={"creative_id": creative},
                    status="PAUSED",
                )["id"]
                for m in range(ads)
            ]
        return campaign, tree


@pytest.fixture
def graph(sandbox: SandboxServer, settings) -> Graph:
    settings.META_GRAPH_URL = sandbox.base_url
    graph = Graph(sandbox)
    graph.control("POST", "reset")
    graph.control(
        "POST", "accounts", token=TOKEN, account_id=ACCOUNT, page_ids=[PAGE], name="USD account"
    )
    graph.control(
        "POST", "accounts", token=TOKEN, account_id=YEN_ACCOUNT, currency="JPY", name="Yen"
    )
    return graph


def client_for(account_id: str = ACCOUNT) -> Any:
    return build_meta_client(account_id=account_id, credentials={"access_token": TOKEN})


def live_tree_on(graph: Graph, account: AdAccount, *, ad_sets: int, ads: int, days: int):
    campaign_pid, tree = graph.tree(account.platform_account_id, ad_sets, ads)
    since = TODAY - datetime.timedelta(days=days - 1)
    graph.control("POST", "insights/delivery", object_id=campaign_pid, since=since.isoformat())
    return tree_rows(account, campaign_pid, tree), since


def stored(level: str) -> dict[tuple[str, datetime.date], InsightDay]:
    return {(r.platform_id, r.date): r for r in InsightDay.objects.filter(object_type=level)}


def test_the_daily_figures_of_every_level_are_read_and_add_up(graph, account):
    campaign, since = live_tree_on(graph, account, ad_sets=2, ads=2, days=4)
    client = client_for()
    for level in insights.LEVELS:
        params = insights.insights_params(
            level=level, since=since, until=TODAY, campaign_ids=[campaign.platform_id]
        )
        rows = insights.read_insights(client, ACCOUNT, params=params)
        insights.insights_store(account=account, level=level, rows=rows, now=timezone.now())

    campaigns, ad_sets, ads = (stored(level) for level in insights.LEVELS)
    assert {day for _, day in campaigns} <= {since + datetime.timedelta(days=d) for d in range(4)}
    assert len(campaigns) >= 3  # the sandbox's ads deliver on most days
    assert len(ads) > len(ad_sets) > len(campaigns)
    for (_, day), row in campaigns.items():
        day_sets = [r for (_, d), r in ad_sets.items() if d == day]
        day_ads = [r for (_, d), r in ads.items() if d == day]
        assert row.spend == sum(r.spend for r in day_sets) == sum(r.spend for r in day_ads)
        assert row.impressions == sum(r.impressions for r in day_ads)
        assert row.clicks == sum(r.clicks for r in day_ads)
        assert 0 < row.reach <= row.impressions
        assert row.currency == "USD"
    for row in ads.values():
        assert row.clicks <= row.impressions
        assert row.reach <= row.impressions
        assert float(row.ctr) == pytest.approx(row.clicks / row.impressions * 100, abs=1e-5)
        assert row.cpm == round(row.spend / row.impressions * 1000)
        if row.clicks:
            assert row.cpc == pytest.approx(row.spend / row.clicks, abs=1)
        else:
            assert row.cpc is None


def test_every_page_is_read_one_request_per_page(graph, account):
    campaign, since = live_tree_on(graph, account, ad_sets=1, ads=3, days=10)
    before = graph.control("GET", "requests")["last_seq"]
    params = insights.insights_params(
        level=ObjectType.AD, since=since, until=TODAY, campaign_ids=[campaign.platform_id]
    )

    rows = insights.read_insights(client_for(), ACCOUNT, params={**params, "limit": 7})

    keys = [(r["ad_id"], r["date_start"]) for r in rows]
    assert len(keys) == len(set(keys)) > 14
    sent = graph.control("GET", f"requests?since={before}&path_contains=/insights")
    assert sent["count"] == -(-len(rows) // 7)  # one request per page of 7
    assert all(r["method"] == "GET" for r in sent["data"])


def test_a_campaign_scoped_read_leaves_other_campaigns_out_and_keeps_archived_ads(graph, account):
    campaign, since = live_tree_on(graph, account, ad_sets=1, ads=2, days=3)
    live_tree_on(graph, account, ad_sets=1, ads=1, days=3)  # another campaign
    archived = Ad.objects.filter(ad_set__campaign=campaign).first()
    graph.post(str(archived.platform_id), status="ARCHIVED")
    params = insights.insights_params(
        level=ObjectType.AD, since=since, until=TODAY, campaign_ids=[campaign.platform_id]
    )

    rows = insights.read_insights(client_for(), ACCOUNT, params=params)

    ads = {r["ad_id"] for r in rows}
    assert ads == set(
        Ad.objects.filter(ad_set__campaign=campaign).values_list("platform_id", flat=True)
    )
    assert archived.platform_id in ads  # the past figures of what mojito archived


def test_a_zero_decimal_account_is_read_in_whole_yen(graph):
    yen = AdAccountFactory(platform_account_id=YEN_ACCOUNT, credentials={"access_token": TOKEN})
    _, since = live_tree_on(graph, yen, ad_sets=1, ads=1, days=3)
    params = insights.insights_params(level=ObjectType.CAMPAIGN, since=since, until=TODAY)

    rows = insights.read_insights(client_for(YEN_ACCOUNT), YEN_ACCOUNT, params=params)
    insights.insights_store(account=yen, level=ObjectType.CAMPAIGN, rows=rows, now=timezone.now())

    assert rows and all("." not in r["spend"] for r in rows)
    for row in rows:
        day = InsightDay.objects.get(date=row["date_start"])
        assert (day.spend, day.currency) == (int(row["spend"]), "JPY")


def test_a_day_restated_on_meta_is_corrected_at_the_next_read(graph, account):
    campaign, since = live_tree_on(graph, account, ad_sets=1, ads=1, days=3)
    params = insights.insights_params(level=ObjectType.CAMPAIGN, since=since, until=TODAY)
    client = client_for()
    rows = insights.read_insights(client, ACCOUNT, params=params)
    insights.insights_store(
        account=account, level=ObjectType.CAMPAIGN, rows=rows, now=timezone.now()
    )
    day = InsightDay.objects.order_by("date").first()
    before = (day.spend, day.impressions)

    graph.control(
        "POST",
        "insights/restate",
        object_id=campaign.platform_id,
        date=day.date.isoformat(),
        factor=2,
    )
    rows = insights.read_insights(client, ACCOUNT, params=params)
    insights.insights_store(
        account=account, level=ObjectType.CAMPAIGN, rows=rows, now=timezone.now()
    )

    day.refresh_from_db()
    assert (day.spend, day.impressions) == pytest.approx((before[0] * 2, before[1] * 2), abs=1)
    assert InsightDay.objects.filter(date=day.date).count() == 1


def test_a_report_run_is_started_polled_until_completed_and_read(graph, account):
    campaign, since = live_tree_on(graph, account, ad_sets=2, ads=2, days=3)
    graph.control("POST", "report_runs", polls=3)
    client = client_for()
    params = insights.insights_params(
        level=ObjectType.AD, since=since, until=TODAY, campaign_ids=[campaign.platform_id]
    )

    report_id = insights.start_insights_report(client, ACCOUNT, params=params)
    seen = [insights.insights_report_status(client, ACCOUNT, report_id) for _ in range(4)]
    rows = insights.read_insights_report(client, ACCOUNT, report_id)

    assert [status for status, _ in seen] == [
        insights.REPORT_NOT_STARTED,
        insights.REPORT_STARTED,
        insights.REPORT_RUNNING,
        insights.REPORT_COMPLETED,
    ]
    percents = [percent for _, percent in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    assert sorted(rows, key=str) == sorted(
        insights.read_insights(client, ACCOUNT, params=params), key=str
    )
    insights.insights_store(account=account, level=ObjectType.AD, rows=rows, now=timezone.now())
    assert InsightDay.objects.filter(object_type=ObjectType.AD).count() == len(rows) > 0


def test_a_failed_report_run_says_so_and_has_no_rows(graph, account):
    live_tree_on(graph, account, ad_sets=1, ads=1, days=2)
    graph.control("POST", "report_runs", polls=5)
    client = client_for()
    params = insights.insights_params(
        level=ObjectType.AD, since=TODAY - datetime.timedelta(days=1), until=TODAY
    )
    report_id = insights.start_insights_report(client, ACCOUNT, params=params)
    assert insights.insights_report_status(client, ACCOUNT, report_id)[0] not in (
        insights.REPORT_GAVE_UP
    )

    graph.control("POST", f"report_runs/{report_id}", outcome=insights.REPORT_FAILED)
    status, _ = insights.insights_report_status(client, ACCOUNT, report_id)

    assert status in insights.REPORT_GAVE_UP
    with pytest.raises(MetaError) as refused:
        insights.read_insights_report(client, ACCOUNT, report_id)
    assert refused.value.code == 100
    assert TOKEN not in str(refused.value.message)


def test_figures_by_day_are_deterministic_per_object_and_day(graph, account):
    _, since = live_tree_on(graph, account, ad_sets=1, ads=2, days=3)
    params = insights.insights_params(level=ObjectType.AD, since=since, until=TODAY)
    client = client_for()
    first = insights.read_insights(client, ACCOUNT, params=params)
    again = insights.read_insights(client, ACCOUNT, params=params)
    assert first == again
    by_ad: dict[str, int] = defaultdict(int)
    for row in first:
        by_ad[row["ad_id"]] += 1
    assert set(by_ad) <= set(Ad.objects.values_list("platform_id", flat=True))
