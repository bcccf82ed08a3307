"""IMPORT jobs on Meta: a campaign built elsewhere, read from the sandbox over HTTP through the
real SDK and stored as mojito's rows, then managed like any other."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from facebook_business.adobjects.ad import Ad as FbAd
from facebook_business.adobjects.adaccount import AdAccount as FbAdAccount
from facebook_business.adobjects.adset import AdSet as FbAdSet

from adaccounts.models import AdAccount
from campaigns.engine.claims import job_claim
from campaigns.engine.runner import execute_job
from campaigns.models import (
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    Creative,
    JobKind,
    JobStatus,
    ObjectChange,
    ObjectType,
)
from platforms.meta import import_rows, imports, params
from platforms.meta.adapter import MetaAdapter
from platforms.meta.client import build_meta_client
from platforms.meta.models import CreativeFormat, MetaCreativeCard, MetaCreativeDetails
from platforms.meta.sandbox.server import SandboxServer
from tests.factories import AdAccountFactory
from tests.images import make_png

pytestmark = pytest.mark.django_db

TOKEN = "import-test-token"
ACCOUNT = "act_300000000000001"
PAGE = "300000000000002"
START = "2030-01-01T00:00:00+0000"
TARGETING = {
    "geo_locations": {"countries": ["US"]},
    "age_min": 18,
    "age_max": 35,
    "targeting_automation": {"advantage_audience": 0},
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def graph(sandbox: SandboxServer, settings) -> SandboxServer:
    requests.post(f"{sandbox.base_url}/__sandbox__/reset", timeout=5).raise_for_status()
    requests.post(
        f"{sandbox.base_url}/__sandbox__/accounts",
        json={"token": TOKEN, "account_id": ACCOUNT, "page_ids": [PAGE]},
        timeout=5,
    ).raise_for_status()
    settings.META_GRAPH_URL = sandbox.base_url
    settings.META_EXECUTION_MODE = "batch"
    return sandbox


@pytest.fixture
def account(caller) -> AdAccount:
    return AdAccountFactory(
        team=caller.team, platform_account_id=ACCOUNT, credentials={"access_token": TOKEN}
    )


def graph_requests(sandbox: SandboxServer) -> list[dict[str, Any]]:
    response = requests.get(f"{sandbox.base_url}/__sandbox__/requests", timeout=5)
    response.raise_for_status()
    return response.json()["data"]


class Advertiser:
    """Builds objects on the sandbox as Ads Manager would: straight through the SDK."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.client = build_meta_client(account_id=ACCOUNT, credentials={"access_token": TOKEN})
        self.account = FbAdAccount(ACCOUNT, api=self.client.api)
        response = requests.post(
            f"{sandbox.base_url}/v26.0/{ACCOUNT}/adimages",
            data={"access_token": TOKEN, "bytes": base64.b64encode(make_png(7, 7))},
            timeout=5,
        )
        response.raise_for_status()
        self.image_hash = next(iter(response.json()["images"].values()))["hash"]

    def campaign(self, name: str = "Built in Ads Manager") -> str:
        created = self.account.create_campaign(
            params={
                "name": name,
                "objective": "OUTCOME_TRAFFIC",
                "status": "PAUSED",
                "special_ad_categories": [],
                "is_adset_budget_sharing_enabled": False,
            }
        )
        return str(created["id"])

    def ad_set(self, campaign_id: str, name: str, daily_budget: int) -> str:
        created = self.account.create_ad_set(
            params={
                "name": name,
                "campaign_id": campaign_id,
                "status": "PAUSED",
                "daily_budget": daily_budget,
                "billing_event": "IMPRESSIONS",
                "optimization_goal": "LINK_CLICKS",
                "destination_type": "WEBSITE",
                "start_time": START,
                "targeting": TARGETING,
            }
        )
        return str(created["id"])

    def ad(self, ad_set_id: str, name: str) -> tuple[str, str]:
        creative = self.account.create_ad_creative(
            params={
                "name": f"Creative of {name}",
                "object_story_spec": {
                    "page_id": PAGE,
                    "link_data": {
                        "image_hash": self.image_hash,
                        "link": "https://example.com/sale",
                        "message": f"Text of {name}",
                        "name": f"Headline of {name}",
                        "call_to_action": {
                            "type": "SHOP_NOW",
                            "value": {"link": "https://example.com/sale"},
                        },
                    },
                },
            }
        )
        ad = self.account.create_ad(
            params={
                "name": name,
                "adset_id": ad_set_id,
                "status": "PAUSED",
                "creative": {"creative_id": str(creative["id"])},
            }
        )
        return str(ad["id"]), str(creative["id"])


def import_job(account: AdAccount, platform_id: str) -> CampaignJob:
    # What POST /api/v1/campaigns/import stores (campaigns.live.live_import_submit).
    return CampaignJob.objects.create(
        team=account.team,
        ad_account=account,
        platform_type="META",
        kind=JobKind.IMPORT,
        object_type=ObjectType.CAMPAIGN,
        payload={"ad_account_id": str(account.pk), "platform_id": platform_id},
        platform_campaign_id=platform_id,
    )


def run(job: CampaignJob) -> CampaignJob:
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None
    execute_job(claimed, MetaAdapter())
    job.refresh_from_db()
    return job


@pytest.fixture
def tree(graph: SandboxServer, monkeypatch) -> dict[str, Any]:
    """A campaign with two ad sets: "Small" with one ad, "Big" with three ads, more than one
    page of ads at the page size the import is set to here; plus an archived ad (kept), and a
    deleted ad and ad set (skipped)."""
    monkeypatch.setattr(imports, "PAGE_SIZE", 2)
    advertiser = Advertiser(graph)
    campaign = advertiser.campaign()
    small = advertiser.ad_set(campaign, "Small", 1500)
    big = advertiser.ad_set(campaign, "Big", 2500)
    gone = advertiser.ad_set(campaign, "Gone", 1000)
    ads = {name: advertiser.ad(small, name) for name in ["Small 0"]}
    ads |= {name: advertiser.ad(big, name) for name in ["Big 0", "Big 1", "Big 2"]}
    ads["Gone ad"] = advertiser.ad(gone, "Gone ad")
    deleted_ad, _ = advertiser.ad(big, "Deleted ad")
    api = advertiser.client.api
    FbAd(ads["Big 1"][0], api=api).api_update(params={"status": "ARCHIVED"})
    FbAd(deleted_ad, api=api).api_delete()
    FbAdSet(gone, api=api).api_delete()
    return {
        "campaign": campaign,
        "ad_sets": {"Small": small, "Big": big},
        "ads": ads,
        "image_hash": advertiser.image_hash,
    }


def test_an_import_stores_the_campaign_its_ad_sets_ads_and_creatives(account, tree, graph):
    job = import_job(account, tree["campaign"])

    with CaptureQueriesContext(connection) as queries:
        job = run(job)

    assert job.status == JobStatus.SUCCESS, job.error
    campaign = Campaign.objects.select_related("meta").get(job=job)
    assert (campaign.platform_id, campaign.name, campaign.status) == (
        tree["campaign"],
        "Built in Ads Manager",
        "PAUSED",
    )
    assert campaign.effective_status == "PAUSED"
    assert campaign.ad_account == account and campaign.synced_at is not None
    assert campaign.meta.objective == "OUTCOME_TRAFFIC"
    assert campaign.meta.special_ad_categories == []
    assert campaign.meta.is_adset_budget_sharing_enabled is False
    assert campaign.meta.daily_budget is None

    # The job names the campaign it brought in.
    job.refresh_from_db()
    assert (job.object_type, job.object_id) == ("campaign", campaign.pk)

    ad_sets = list(AdSet.objects.filter(campaign=campaign).select_related("meta"))
    # Meta lists an edge newest first; positions follow creation, as in a campaign mojito
    # made. "Gone" was deleted.
    assert [(s.position, s.name) for s in ad_sets] == [(0, "Small"), (1, "Big")]
    small, big = ad_sets
    assert big.platform_id == tree["ad_sets"]["Big"] and big.job == job
    assert (big.status, big.effective_status) == ("PAUSED", "CAMPAIGN_PAUSED")
    assert (big.meta.daily_budget, small.meta.daily_budget) == (2500, 1500)
    assert isinstance(big.meta.daily_budget, int)
    assert (big.meta.billing_event, big.meta.optimization_goal) == (
        "IMPRESSIONS",
        "LINK_CLICKS",
    )
    assert big.meta.targeting == TARGETING
    assert big.meta.destination_type == "WEBSITE"
    assert big.meta.start_time == datetime(2030, 1, 1, tzinfo=UTC)
    assert big.meta.end_time is None

    ads = list(
        Ad.objects.filter(ad_set__campaign=campaign)
        .select_related("creative__meta", "meta")
        .order_by("ad_set__position", "position")
    )
    # "Big 1" is archived and kept; the deleted ad and the deleted ad set's ad are not.
    assert [(a.ad_set.name, a.position, a.name, a.status) for a in ads] == [
        ("Small", 0, "Small 0", "PAUSED"),
        ("Big", 0, "Big 0", "PAUSED"),
        ("Big", 1, "Big 1", "ARCHIVED"),
        ("Big", 2, "Big 2", "PAUSED"),
    ]
    for ad in ads:
        ad_id, creative_id = tree["ads"][ad.name]
        assert (ad.platform_id, ad.creative.platform_id) == (ad_id, creative_id)
        assert ad.job == job and ad.meta is not None
        creative = ad.creative
        assert creative.job == job and not creative.is_existing
        assert creative.name == f"Creative of {ad.name}"
        details = creative.meta
        assert details.format == CreativeFormat.IMAGE
        assert (details.page_id, details.image_hash) == (PAGE, tree["image_hash"])
        assert details.link == "https://example.com/sale"
        assert (details.message, details.headline) == (
            f"Text of {ad.name}",
            f"Headline of {ad.name}",
        )
        assert details.call_to_action == {"type": "SHOP_NOW", "link": None}
    assert Creative.objects.filter(job=job).count() == 4

    # The whole tree in one INSERT statement, whatever its size (besides the job's audit event).
    inserts = [
        q["sql"]
        for q in queries.captured_queries
        if "INSERT INTO" in q["sql"] and not q["sql"].startswith('INSERT INTO "audit_events"')
    ]
    assert len(inserts) == 1, inserts
    # Every page of the ads edge was read: 4 live ads at 2 a page.
    ad_pages = [
        r for r in graph_requests(graph) if r["method"] == "GET" and r["path"].endswith("/ads")
    ]
    assert len(ad_pages) == 2


def test_importing_a_campaign_meta_does_not_know_fails_with_metas_error(account, graph):
    job = run(import_job(account, "120219999999999999"))

    assert job.status == JobStatus.FAILED
    assert job.error["code"] == 100
    assert "does not exist" in job.error["message"]
    assert not Campaign.objects.filter(job=job).exists()


def test_importing_a_deleted_campaign_fails_and_stores_nothing(account, graph):
    advertiser = Advertiser(graph)
    campaign_id = advertiser.campaign("Deleted one")
    requests.delete(
        f"{graph.base_url}/v26.0/{campaign_id}", params={"access_token": TOKEN}, timeout=5
    ).raise_for_status()

    job = run(import_job(account, campaign_id))

    assert job.status == JobStatus.FAILED
    assert "deleted" in job.error["message"]
    assert not Campaign.objects.filter(job=job).exists()


def test_an_import_that_crashed_before_storing_stores_the_tree_once_when_run_again(
    account, tree, graph, monkeypatch
):
    real_insert = imports.insert_rows
    crashes = []

    def crash_once(rows: Any) -> None:
        if not crashes:
            crashes.append(True)
            raise RuntimeError("worker killed between read and store")
        real_insert(rows)

    monkeypatch.setattr(imports, "insert_rows", crash_once)
    job = run(import_job(account, tree["campaign"]))
    assert job.status == JobStatus.PENDING, job.error
    assert not Campaign.objects.filter(job=job).exists()

    CampaignJob.objects.filter(pk=job.pk).update(next_attempt_at=None)
    job = run(job)
    assert job.status == JobStatus.SUCCESS, job.error

    # Delivered once more (a duplicate message, a retry by hand): nothing is read or stored.
    before = len(graph_requests(graph))
    CampaignJob.objects.filter(pk=job.pk).update(status=JobStatus.PENDING, next_attempt_at=None)
    job = run(job)
    assert job.status == JobStatus.SUCCESS, job.error
    assert len(graph_requests(graph)) == before
    assert Campaign.objects.filter(platform_id=tree["campaign"]).count() == 1
    assert AdSet.objects.filter(campaign__job=job).count() == 2
    assert Ad.objects.filter(ad_set__campaign__job=job).count() == 4


def test_an_imported_ad_set_can_be_changed_like_any_other(account, tree, graph):
    imported = run(import_job(account, tree["campaign"]))
    assert imported.status == JobStatus.SUCCESS, imported.error
    ad_set = AdSet.objects.get(platform_id=tree["ad_sets"]["Small"])

    update = CampaignJob.objects.create(
        team=account.team,
        ad_account=account,
        platform_type="META",
        kind=JobKind.UPDATE,
        object_type=ObjectType.AD_SET,
        object_id=ad_set.pk,
        payload={"changes": {"status": "ACTIVE"}},
        platform_campaign_id=tree["campaign"],
    )
    ObjectChange.objects.create(
        job=update,
        position=0,
        object_type=ObjectType.AD_SET,
        object_id=ad_set.pk,
        values={"status": "ACTIVE"},
    )
    update = run(update)

    assert update.status == JobStatus.SUCCESS, update.error
    ad_set.refresh_from_db()
    assert ad_set.status == "ACTIVE"
    response = requests.get(
        f"{graph.base_url}/v26.0/{ad_set.platform_id}",
        params={"access_token": TOKEN, "fields": "status"},
        timeout=5,
    )
    assert response.json()["status"] == "ACTIVE"


@pytest.mark.parametrize(
    "fields, cards",
    [
        (
            {
                "format": CreativeFormat.VIDEO,
                "page_id": PAGE,
                "video_id": "900000000000101",
                "thumbnail_hash": "abc",
                "link": "https://example.com/watch",
                "message": "Watch",
                "headline": "Title",
                "description": "More",
                "call_to_action": {"type": "LEARN_MORE", "link": None},
            },
            [],
        ),
        (
            {
                "format": CreativeFormat.CAROUSEL,
                "page_id": PAGE,
                "instagram_user_id": "1789",
                "link": "https://example.com/all",
                "message": "Pick one",
                "multi_share_optimized": False,
            },
            [
                {"link": "https://example.com/a", "headline": "A", "image_hash": "h1"},
                {"link": "https://example.com/b", "video_id": "9001", "thumbnail_hash": "h2"},
            ],
        ),
    ],
    ids=["video", "carousel"],
)
def test_a_creative_read_back_from_meta_holds_what_mojito_would_have_sent(fields, cards):
    creative = Creative(name="Read back")
    # Sets creative.meta, which CreativeParams reads.
    MetaCreativeDetails(creative=creative, **fields)
    creative.cards = [
        MetaCreativeCard(creative=creative, position=n, **c) for n, c in enumerate(cards)
    ]
    sent = params.CreativeParams({}, lambda video_id: "https://thumbnail")(creative, "label")

    read, read_cards = import_rows._creative_details(sent)

    assert {name: read.get(name) for name in fields} == fields
    assert [
        {name: card.get(name) for name in c} for card, c in zip(read_cards, cards, strict=True)
    ] == cards
