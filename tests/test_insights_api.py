"""GET /api/v1/campaigns/{id}/insights: the stored figures as JSON and CSV, the query's rules
(400 naming every bad parameter), tenancy, a fixed number of queries; and the admin's spend
chart on the pages of campaigns, ad sets and ads."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Ad, AdSet, InsightDay, ObjectType
from tests.factories import AdAccountFactory
from tests.test_insights import tree_rows

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
FIELDS = [
    "date",
    "level",
    "object_id",
    "platform_id",
    "spend",
    "impressions",
    "reach",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "currency",
]


def figures(obj: Any, level: str, campaign: Any, day: datetime.date, **values: Any) -> InsightDay:
    data = {
        "spend": 1234,
        "impressions": 1000,
        "reach": 800,
        "clicks": 10,
        "ctr": "1.0",
        "cpc": 123,
        "cpm": 1234,
        "currency": "USD",
        **values,
    }
    return InsightDay.objects.create(
        ad_account=campaign.ad_account,
        campaign=campaign,
        object_type=level,
        object_id=obj.pk,
        platform_id=obj.platform_id,
        date=day,
        synced_at=timezone.now(),
        **data,
    )


@pytest.fixture
def tree(caller):
    account = AdAccountFactory(team=caller.team)
    campaign = tree_rows(account, "9100", {"9110": ["9111", "9112"], "9120": ["9121"]})
    days = [TODAY - datetime.timedelta(days=d) for d in (2, 1, 0)]
    for n, day in enumerate(days):
        figures(campaign, ObjectType.CAMPAIGN, campaign, day, spend=1000 + n)
        for ad_set in AdSet.objects.filter(campaign=campaign):
            figures(ad_set, ObjectType.AD_SET, campaign, day)
        for ad in Ad.objects.filter(ad_set__campaign=campaign):
            figures(ad, ObjectType.AD, campaign, day, cpc=None, clicks=0, ctr="0")
    return campaign


def url(campaign: Any, **query: str) -> str:
    base = f"/api/v1/campaigns/{campaign.pk}/insights"
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_campaigns_figures_come_one_row_per_day_in_order(caller, tree):
    response = caller.client.get(url(tree))

    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [r["date"] for r in rows] == [
        (TODAY - datetime.timedelta(days=d)).isoformat() for d in (2, 1, 0)
    ]
    assert [r["spend"] for r in rows] == [1000, 1001, 1002]
    assert list(rows[0]) == FIELDS
    assert rows[0] | {"date": None, "spend": None} == {
        "date": None,
        "level": "campaign",
        "object_id": str(tree.pk),
        "platform_id": "9100",
        "spend": None,
        "impressions": 1000,
        "reach": 800,
        "clicks": 10,
        "ctr": "1.0",
        "cpc": 123,
        "cpm": 1234,
        "currency": "USD",
    }


def test_ad_rows_come_by_day_then_object_and_a_range_picks_the_days(caller, tree):
    yesterday = (TODAY - datetime.timedelta(days=1)).isoformat()
    response = caller.client.get(url(tree, level="ad", since=yesterday, until=yesterday))

    rows = response.json()["results"]
    assert [(r["date"], r["platform_id"]) for r in rows] == [
        (yesterday, "9111"),
        (yesterday, "9112"),
        (yesterday, "9121"),
    ]
    assert {r["level"] for r in rows} == {"ad"}
    assert rows[0]["cpc"] is None


def test_ad_set_level_and_days_before_the_default_30_are_left_out(caller, tree):
    figures(tree, ObjectType.CAMPAIGN, tree, TODAY - datetime.timedelta(days=30))
    figures(tree, ObjectType.CAMPAIGN, tree, TODAY - datetime.timedelta(days=29))

    campaign_days = caller.client.get(url(tree)).json()["results"]
    ad_sets = caller.client.get(url(tree, level="ad_set")).json()["results"]

    assert len(campaign_days) == 4  # 29 days ago is within the last 30, 30 days ago is not
    assert len(ad_sets) == 6 and {r["platform_id"] for r in ad_sets} == {"9110", "9120"}


def test_the_same_rows_come_as_csv(caller, tree):
    json_rows = caller.client.get(url(tree, level="ad")).json()["results"]

    response = caller.client.get(url(tree, level="ad", format="csv"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == FIELDS
    assert len(lines) == len(json_rows) + 1
    expected = [["" if v is None else str(v) for v in row.values()] for row in json_rows]
    assert lines[1:] == expected


def test_csv_of_no_figures_is_the_header_alone(caller, tree):
    long_ago = "2020-01-01"
    response = caller.client.get(url(tree, since=long_ago, until=long_ago, format="csv"))
    assert response.status_code == 200
    assert response.content.decode().strip() == ",".join(FIELDS)


@pytest.mark.parametrize(
    ("query", "bad"),
    [
        ({"since": "2026-13-01", "until": "yesterday"}, {"since", "until"}),
        ({"since": "2026-02-10", "until": "2026-02-01"}, {"since"}),
        ({"since": "2024-01-01", "until": "2026-01-01"}, {"since"}),
        ({"level": "adset"}, {"level"}),
        ({"level": "account", "since": "x"}, {"level", "since"}),
        ({"format": "xml"}, {"format"}),
    ],
)
def test_bad_parameters_answer_400_naming_each_of_them(caller, tree, query, bad):
    response = caller.client.get(url(tree, **query))

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["type"] == "validation_error"
    assert {e["attr"] for e in body["errors"]} == bad


def test_a_bad_parameter_with_csv_asked_still_answers_json(caller, tree):
    response = caller.client.get(url(tree, level="nope", format="csv"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "level"


def test_another_teams_campaign_is_not_found_nor_a_missing_one(caller, other_caller, tree):
    assert other_caller.client.get(url(tree)).status_code == 404
    assert other_caller.client.get(url(tree, format="csv")).status_code == 404
    missing = "/api/v1/campaigns/00000000-0000-0000-0000-000000000000/insights"
    assert caller.client.get(missing).status_code == 404
    assert caller.client.get("/api/v1/campaigns/abc-def/insights").status_code == 404
    assert caller.client.get(url(tree)).status_code == 200


def test_a_deleted_accounts_campaign_is_not_found(caller, tree):
    tree.ad_account.deleted_at = timezone.now()
    tree.ad_account.save(update_fields=["deleted_at"])
    assert caller.client.get(url(tree)).status_code == 404


def test_unauthenticated_callers_are_refused(tree):
    from rest_framework.test import APIClient

    assert APIClient().get(url(tree)).status_code == 401


def test_the_read_takes_the_same_queries_however_many_rows(caller, tree):
    with CaptureQueriesContext(connection) as few:
        caller.client.get(url(tree, level="ad"))
    for ad in Ad.objects.filter(ad_set__campaign=tree):
        for d in range(3, 25):
            figures(ad, ObjectType.AD, tree, TODAY - datetime.timedelta(days=d))

    with CaptureQueriesContext(connection) as many:
        response = caller.client.get(url(tree, level="ad"))

    assert len(response.json()["results"]) == 3 * 25
    assert len(many) == len(few) <= 4, [q["sql"] for q in many]


def test_the_schema_types_the_endpoint_and_its_csv(caller):
    schema = caller.client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/campaigns/{id}/insights/"]["get"]
    params = {p["name"] for p in operation["parameters"]}
    assert {"since", "until", "level", "format"} <= params
    content = operation["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(content)
    assert "400" in operation["responses"] and "404" in operation["responses"]
    # Errors are answered as JSON whatever the format asked.
    assert set(operation["responses"]["400"]["content"]) == {"application/json"}
    rows = schema["components"]["schemas"]["InsightRow"]
    assert set(rows["properties"]) == set(FIELDS)


# --- the admin's chart --------------------------------------------------------------------------


def test_a_campaigns_admin_page_draws_its_spend_per_day(admin_client, tree):
    response = admin_client.get(f"/admin/campaigns/campaign/{tree.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg class="spend-chart"') == 1
    assert page.count("<rect ") == 3
    assert f"{(TODAY - datetime.timedelta(days=2)).isoformat()}: 1000 USD" in page
    assert "spend 3003 USD in all" in page
    assert "<script" not in page.split('class="spend-chart"')[1].split("</svg>")[0]


def test_ad_set_and_ad_pages_draw_their_own_figures_and_show_issues_and_feedback(
    admin_client, tree
):
    ad = Ad.objects.get(platform_id="9111")
    Ad.objects.filter(pk=ad.pk).update(
        effective_status="DISAPPROVED",
        review_feedback={"global": {"Misleading claims": "The ad promises a cure."}},
        issues=[
            {
                "level": "AD",
                "error_code": 1815869,
                "error_summary": "Ad can't deliver",
                "error_message": "Payment method declined.",
                "error_type": "HARD_ERROR",
                "mid": "1",
            }
        ],
    )
    ad_set = AdSet.objects.get(platform_id="9110")

    ad_page = admin_client.get(f"/admin/campaigns/ad/{ad.pk}/change/").content.decode()
    set_page = admin_client.get(f"/admin/campaigns/adset/{ad_set.pk}/change/").content.decode()

    for page in (ad_page, set_page):
        assert page.count("<rect ") == 3
    assert "Misleading claims" in ad_page and "The ad promises a cure." in ad_page
    assert "Ad can&#x27;t deliver" in ad_page and "Payment method declined." in ad_page
    assert "DISAPPROVED" in ad_page


def test_an_object_without_figures_says_so(admin_client, caller):
    account = AdAccountFactory(team=caller.team)
    campaign = tree_rows(account, "9200", {"9210": ["9211"]})

    page = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()

    assert "No delivery figures synced in the last 30 days." in page
    assert '<svg class="spend-chart"' not in page
