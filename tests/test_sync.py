"""SYNC jobs: the schedule, the claim's rule that a sync yields, and a sync's reads through the
engine and the Meta adapter, against the sandbox over HTTP through the real SDK.

tests/e2e/test_sync.py drives the same with a real worker and beat.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
import requests
from django.utils import timezone

from adaccounts.models import AdAccountStatus
from audit.models import AuditEvent
from campaigns.engine.claims import AccountBusy, job_claim
from campaigns.engine.runner import execute_job
from campaigns.models import (
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    InsightDay,
    JobKind,
    JobStatus,
    ObjectType,
    SyncRead,
)
from campaigns.sync import campaign_sync_submit, sync_schedule, sync_slot
from notifications.models import WebhookEvent
from platforms.meta import ratelimit
from platforms.meta.adapter import MetaAdapter
from tests import test_meta_adapter as base
from tests.factories import AdAccountFactory, CampaignJobFactory
from tests.test_meta_adapter import TOKEN, graph_requests
from tests.test_meta_changes import IMAGE, change_job, images, live_tree  # noqa: F401

sandbox = base.sandbox
graph = base.graph
image_server = base.image_server

pytestmark = pytest.mark.django_db


def account_sync(source: CampaignJob) -> CampaignJob:
    """A SYNC job of the source job's account, as beat starts it."""
    (job_id,) = sync_schedule(now=timezone.now())
    job = CampaignJob.objects.get(pk=job_id)
    assert (job.ad_account_id, job.object_type) == (source.ad_account_id, ObjectType.AD_ACCOUNT)
    return job


def execute(job: CampaignJob) -> CampaignJob:
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None
    execute_job(claimed, MetaAdapter())
    job.refresh_from_db()
    return job


def graph_post(graph, path: str, **params: Any) -> dict[str, Any]:
    """What an advertiser does in Ads Manager: a Graph call of their own, past mojito."""
    response = requests.post(
        f"{graph.base_url}/v26.0/{path}", data={"access_token": TOKEN, **params}, timeout=5
    )
    response.raise_for_status()
    return response.json()


def graph_get(graph, platform_id: str, **params: Any) -> dict[str, Any]:
    response = requests.get(
        f"{graph.base_url}/v26.0/{platform_id}", params={"access_token": TOKEN, **params}, timeout=5
    )
    response.raise_for_status()
    return response.json()


# --- the schedule ----------------------------------------------------------------------------


def live_campaign(account, **fields: Any) -> Campaign:
    job = CampaignJobFactory(ad_account=account, team=account.team, status=JobStatus.SUCCESS)
    return Campaign.objects.create(
        job=job, ad_account=account, name="Live", platform_id=fields.pop("platform_id", "1201")
    )


def test_beat_syncs_each_active_account_with_live_campaigns_once_per_interval(settings):
    settings.META_SYNC_INTERVAL_SECONDS = 900
    now = timezone.now()
    active = AdAccountFactory()
    live_campaign(active)
    inactive = AdAccountFactory(status=AdAccountStatus.REQUIRES_REAUTH)
    live_campaign(inactive, platform_id="1202")
    nothing_live = AdAccountFactory()
    Campaign.objects.create(
        job=CampaignJobFactory(ad_account=nothing_live, team=nothing_live.team),
        ad_account=nothing_live,
        name="Never created",
    )

    (first,) = sync_schedule(now=now)
    job = CampaignJob.objects.get(pk=first)
    assert (job.kind, job.object_type, job.object_id) == (
        JobKind.SYNC,
        ObjectType.AD_ACCOUNT,
        active.pk,
    )
    assert job.created_by is None
    # Its reads are planned with it: three status lists and three levels of figures.
    assert list(SyncRead.objects.filter(job=job).values_list("name", flat=True)) == [
        "status:campaign",
        "status:ad_set",
        "status:ad",
        "insights:campaign",
        "insights:ad_set",
        "insights:ad",
    ]
    # Not a second one while the first is unfinished, nor once it finished, until its moment
    # of the next interval.
    assert sync_schedule(now=now + timedelta(seconds=60)) == []
    CampaignJob.objects.filter(pk=first).update(status=JobStatus.SUCCESS)
    assert sync_schedule(now=now + timedelta(seconds=120)) == []
    later = sync_slot(active.pk, 900, now + timedelta(seconds=1800)) + timedelta(seconds=1)
    assert len(sync_schedule(now=later)) == 1


def test_accounts_synced_all_at_once_spread_out_over_the_next_interval(settings):
    settings.META_SYNC_INTERVAL_SECONDS = 600
    start = timezone.now()
    accounts = [AdAccountFactory() for _ in range(30)]
    for n, account in enumerate(accounts):
        live_campaign(account, platform_id=f"13{n:03d}")

    started: dict[Any, list[int]] = {account.pk: [] for account in accounts}
    per_minute = []
    for minute in range(21):
        ids = sync_schedule(now=start + timedelta(seconds=60 * minute))
        jobs = CampaignJob.objects.filter(pk__in=ids)
        # As if it had been started then, and done at once.
        jobs.update(created_at=start + timedelta(seconds=60 * minute), status=JobStatus.SUCCESS)
        for job in jobs:
            started[job.object_id].append(minute)
        per_minute.append(len(ids))

    # The first schedule syncs every account (a deploy, or every account new) ...
    assert per_minute[0] == 30
    # ... then each at its own moment: no minute carries more than a third of them, ...
    assert max(per_minute[1:]) <= 10, per_minute
    # ... each account again within an interval and a half, never twice in half of one.
    for minutes in started.values():
        assert 2 <= len(minutes) <= 3, minutes
        assert all(b - a >= 5 for a, b in pairwise(minutes)), minutes
        assert minutes[1] <= 16, minutes


def test_an_interval_of_zero_turns_the_schedule_off(settings):
    settings.META_SYNC_INTERVAL_SECONDS = 0
    live_campaign(AdAccountFactory())
    assert sync_schedule() == []


# --- the claim: a sync yields -------------------------------------------------------------


def job_of(account, kind: str = JobKind.SYNC, obj: Any = None, **fields: Any) -> CampaignJob:
    """A stored job of `kind` on `obj` (a campaign), or on the whole account."""
    return CampaignJob.objects.create(
        team=account.team,
        ad_account=account,
        platform_type="META",
        kind=kind,
        object_type=ObjectType.CAMPAIGN if obj is not None else ObjectType.AD_ACCOUNT,
        object_id=(obj or account).pk,
        payload={},
        **fields,
    )


def test_a_sync_waits_while_a_creation_of_its_account_is_due_or_running(sql_path):
    account = AdAccountFactory()
    creation = CampaignJobFactory(ad_account=account, team=account.team)
    sync = job_of(account)

    with pytest.raises(AccountBusy):
        job_claim(job_id=sync.pk)
    CampaignJob.objects.filter(pk=creation.pk).update(
        status=JobStatus.PROCESSING, lease_expires_at=timezone.now() + timedelta(minutes=5)
    )
    with pytest.raises(AccountBusy):
        job_claim(job_id=sync.pk)
    # A creation waiting for its backoff leaves the account's budget to the sync meanwhile.
    CampaignJob.objects.filter(pk=creation.pk).update(
        status=JobStatus.PENDING,
        lease_expires_at=None,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    claimed = job_claim(job_id=sync.pk)
    assert claimed is not None and claimed.status == JobStatus.PROCESSING


def test_a_change_never_waits_for_an_earlier_sync_of_its_campaign(sql_path):
    account = AdAccountFactory()
    campaign = live_campaign(account)
    job_of(account, JobKind.SYNC, campaign)
    change = job_of(account, JobKind.UPDATE, campaign)
    assert job_claim(job_id=change.pk) is not None


# --- a sync's reads on the sandbox -----------------------------------------------------------


def test_a_sync_reads_every_objects_status_in_one_request_per_object_type(caller, graph):
    source = live_tree(caller, ad_sets=2, ads=2)
    before = len(graph_requests(graph))

    job = execute(account_sync(source))

    assert job.status == JobStatus.SUCCESS, job.error
    sent = graph_requests(graph)[before:]
    # One list per object type, then one insights read per level: 6 for the whole account.
    assert [r["path"].rsplit("/", 1)[-1] for r in sent] == [
        "campaigns",
        "adsets",
        "ads",
        "insights",
        "insights",
        "insights",
    ]
    assert [r["params"]["level"] for r in sent[3:]] == ["campaign", "adset", "ad"]
    for model in (Campaign, AdSet, Ad):
        for row in model.objects.filter(job=source):
            meta = graph_get(graph, row.platform_id, fields="effective_status")
            assert row.effective_status == meta["effective_status"], row
            assert row.synced_at is not None
    # Paused when created: Meta says the ads cannot run because their campaign is paused.
    assert set(Ad.objects.values_list("effective_status", flat=True)) == {"CAMPAIGN_PAUSED"}


def test_what_changed_in_ads_manager_comes_back_but_never_over_a_change_under_way(caller, graph):
    source = live_tree(caller, ad_sets=2, ads=1)
    first, second = AdSet.objects.filter(job=source).order_by("position")
    graph_post(graph, first.platform_id, status="ACTIVE")
    graph_post(graph, second.platform_id, status="ACTIVE")
    # mojito is about to pause the second one (its change waits for a retry): the read must
    # not undo that.
    change = change_job(source, ObjectType.AD_SET, second, {"status": "PAUSED"})
    CampaignJob.objects.filter(pk=change.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    job = execute(account_sync(source))

    assert job.status == JobStatus.SUCCESS, job.error
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "ACTIVE"
    assert second.status == "PAUSED"


def test_a_sync_of_an_account_near_its_rate_limit_waits_without_spending_an_attempt(
    caller, graph, settings
):
    source = live_tree(caller)
    job = account_sync(source)
    ratelimit.note_usage(str(source.ad_account_id), ratelimit.Usage(percent=70, regain_seconds=0))
    settings.META_SYNC_MAX_USAGE_PERCENT = 50
    before = len(graph_requests(graph))

    job = execute(job)

    assert job.status == JobStatus.PENDING
    assert job.attempts == 0
    assert job.next_attempt_at is not None and job.next_attempt_at > timezone.now()
    assert graph_requests(graph)[before:] == []


def test_a_campaign_deleted_in_ads_manager_reads_deleted(caller, graph):
    source = live_tree(caller)
    campaign = Campaign.objects.get(job=source)
    requests.delete(
        f"{graph.base_url}/v26.0/{campaign.platform_id}", params={"access_token": TOKEN}, timeout=5
    ).raise_for_status()

    job = execute(account_sync(source))

    assert job.status == JobStatus.SUCCESS, job.error
    campaign.refresh_from_db()
    assert (campaign.status, campaign.effective_status) == ("DELETED", "DELETED")


# --- a campaign's sync on demand -----------------------------------------------------------


def test_a_campaigns_sync_on_demand_reads_only_its_tree(caller, graph):
    source = live_tree(caller)
    other = live_tree(caller)
    campaign = Campaign.objects.get(job=source)
    job = campaign_sync_submit(user=caller.user, campaign=campaign)
    assert campaign_sync_submit(user=caller.user, campaign=campaign).pk == job.pk

    job = execute(job)

    assert job.status == JobStatus.SUCCESS, job.error
    assert Ad.objects.get(job=source).synced_at is not None
    assert Ad.objects.get(job=other).synced_at is None


def test_the_sync_endpoint_answers_202_with_a_sync_job(caller, other_caller, graph):
    source = live_tree(caller)
    campaign = Campaign.objects.get(job=source)

    response = caller.client.post(f"/api/v1/campaigns/{campaign.pk}/sync", format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["object_type"], body["object_id"]) == (
        "SYNC",
        "PENDING",
        "campaign",
        str(campaign.pk),
    )
    assert response["Location"] == f"/api/v1/jobs/{body['id']}"
    assert other_caller.client.post(f"/api/v1/campaigns/{campaign.pk}/sync").status_code == 404
    source.ad_account.status = AdAccountStatus.REQUIRES_REAUTH
    source.ad_account.save()
    CampaignJob.objects.filter(kind=JobKind.SYNC).update(status=JobStatus.SUCCESS)
    assert caller.client.post(f"/api/v1/campaigns/{campaign.pk}/sync").status_code == 409


def test_jobs_can_be_listed_by_kind_and_object(caller, graph):
    source = live_tree(caller)
    campaign = Campaign.objects.get(job=source)
    sync = campaign_sync_submit(user=caller.user, campaign=campaign)

    response = caller.client.get(f"/api/v1/jobs?kind=SYNC&object_id={campaign.pk}")

    assert response.status_code == 200
    assert [job["id"] for job in response.json()["results"]] == [str(sync.pk)]
    assert caller.client.get("/api/v1/jobs?kind=NOPE").status_code == 400


def test_a_scheduled_sync_leaves_no_job_events_but_one_asked_for_is_audited(caller):
    account = AdAccountFactory(team=caller.team)
    campaign = live_campaign(account)
    (scheduled,) = sync_schedule()
    on_demand = campaign_sync_submit(user=caller.user, campaign=campaign)

    assert not AuditEvent.objects.filter(object_id=scheduled).exists()
    (created,) = AuditEvent.objects.filter(object_id=on_demand.pk)
    assert (created.action, created.actor) == ("job.created", f"user:{caller.user.username}")


def test_a_sync_with_a_private_callback_address_is_refused(caller, graph, settings):
    campaign = Campaign.objects.get(job=live_tree(caller))
    settings.MEDIA_FETCH_ALLOW_PRIVATE = False

    response = caller.client.post(
        f"/api/v1/campaigns/{campaign.pk}/sync",
        {"callback_url": "http://127.0.0.1:9/hook"},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert [e["attr"] for e in response.json()["errors"]] == ["callback_url"]
    assert not CampaignJob.objects.filter(kind=JobKind.SYNC).exists()


def test_an_ad_disapproved_on_meta_shows_its_feedback_and_is_announced_once(caller, graph):
    source = live_tree(caller, ad_sets=1, ads=2)
    caller.team.webhook_url = "https://hooks.example.com/mojito"
    caller.team.save()
    disapproved, approved = Ad.objects.filter(job=source).order_by("position")
    # Running in Ads Manager (a paused campaign's ads read CAMPAIGN_PAUSED whatever review says).
    for row in (Campaign.objects.get(job=source), AdSet.objects.get(job=source), disapproved):
        graph_post(graph, row.platform_id, status="ACTIVE")
    with graph.state.lock:
        ad = graph.state.get_object(disapproved.platform_id)
        ad.extra["review"] = {"started": 0.0, "until": 0.0, "disapproved": True}

    job = execute(account_sync(source))

    assert job.status == JobStatus.SUCCESS, job.error
    disapproved.refresh_from_db()
    approved.refresh_from_db()
    assert disapproved.effective_status == "DISAPPROVED"
    assert disapproved.review_feedback and disapproved.review_feedback.get("global")
    assert approved.review_feedback is None
    (event,) = WebhookEvent.objects.filter(type="ad.disapproved")
    assert event.object_id == disapproved.pk
    assert event.data["effective_status"] == "DISAPPROVED"
    (synced,) = AuditEvent.objects.filter(object_id=disapproved.pk, action="ad.synced")
    assert synced.changes["effective_status"]["after"] == "DISAPPROVED"
    assert synced.changes["status"] == {"before": "PAUSED", "after": "ACTIVE"}

    # Read again: still disapproved, nothing new to announce.
    CampaignJob.objects.filter(kind=JobKind.SYNC).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    again = CampaignJob.objects.get(
        pk=campaign_sync_submit(user=caller.user, campaign=Campaign.objects.get(job=source)).pk
    )
    assert execute(again).status == JobStatus.SUCCESS
    assert WebhookEvent.objects.filter(type="ad.disapproved").count() == 1


def test_a_sync_stores_each_levels_daily_figures_and_a_restated_day_is_corrected(caller, graph):
    source = live_tree(caller, ad_sets=1, ads=2)
    campaign = Campaign.objects.get(job=source)
    # Running for five days already: a campaign never read is read from its creation.
    today = timezone.now().date()
    Campaign.objects.filter(pk=campaign.pk).update(created_at=timezone.now() - timedelta(days=4))
    requests.post(
        f"{graph.base_url}/__sandbox__/insights/delivery",
        json={"object_id": campaign.platform_id, "since": str(today - timedelta(days=4))},
        timeout=5,
    ).raise_for_status()

    assert execute(account_sync(source)).status == JobStatus.SUCCESS
    rows = InsightDay.objects.filter(campaign=campaign)
    days = sorted(set(rows.values_list("date", flat=True)))
    assert days == [today - timedelta(days=n) for n in range(4, -1, -1)]
    levels = sorted(rows.filter(date=today).values_list("object_type", flat=True))
    assert levels == ["ad", "ad", "ad_set", "campaign"], levels
    day = rows.get(object_type=ObjectType.CAMPAIGN, date=today - timedelta(days=1))
    stored = rows.count()
    # What Meta said of that day, in minor units: the insights endpoint shows it the same.
    meta = graph_get(
        graph,
        f"{campaign.platform_id}/insights",
        fields="spend,impressions",
        time_range=f'{{"since":"{day.date}","until":"{day.date}"}}',
    )["data"][0]
    assert day.spend == round(float(meta["spend"]) * 100)
    assert day.impressions == int(meta["impressions"])

    requests.post(
        f"{graph.base_url}/__sandbox__/insights/restate",
        json={"object_id": campaign.platform_id, "date": str(day.date), "factor": 2},
        timeout=5,
    ).raise_for_status()
    CampaignJob.objects.filter(kind=JobKind.SYNC).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    assert execute(account_sync(source)).status == JobStatus.SUCCESS

    restated = InsightDay.objects.get(pk=day.pk)
    assert restated.impressions == 2 * day.impressions
    # Upserted, not added (the last few days read again, the rest kept).
    assert InsightDay.objects.filter(campaign=campaign).count() == stored


def test_a_large_accounts_figures_come_by_a_report_run_polled_by_rescheduling(
    caller, graph, settings
):
    settings.META_INSIGHTS_ASYNC_MIN_ROWS = 1
    settings.META_INSIGHTS_POLL_SECONDS = 30
    requests.post(
        f"{graph.base_url}/__sandbox__/report_runs", json={"polls": 1}, timeout=5
    ).raise_for_status()
    source = live_tree(caller)
    job = account_sync(source)
    assert job.payload["report_runs"] is True

    job = execute(job)
    # Statuses stored; each level's report started and not ready yet: back in 30 s, no
    # attempt spent, and no worker sleeping meanwhile.
    assert job.status == JobStatus.PENDING
    assert job.attempts == 0
    assert job.next_attempt_at > timezone.now() + timedelta(seconds=20)
    started = SyncRead.objects.filter(job=job, name__startswith="insights:")
    assert all(read.report_id for read in started)
    CampaignJob.objects.filter(pk=job.pk).update(next_attempt_at=None)

    job = execute(job)

    assert job.status == JobStatus.SUCCESS, job.error
    report_reads = [r for r in graph_requests(graph) if "insights" in r["path"]]
    assert {r["method"] for r in report_reads} == {"POST", "GET"}
    assert InsightDay.objects.filter(campaign__job=source).count() == 3
