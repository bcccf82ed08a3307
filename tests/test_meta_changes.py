"""UPDATE, ARCHIVE and add-to-live jobs through the job engine and the Meta adapter, against the
sandbox over HTTP through the real SDK.

The jobs are built here as `campaigns.live` stores them (a job naming its object, its
`ObjectChange` rows, the planner's rows), so that these tests pin the worker's side alone;
tests/e2e/test_live.py drives the same through the API and a real worker.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from campaigns import services
from campaigns.engine import pauses
from campaigns.engine.claims import ObjectBusy, job_claim
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
from mojito.db import insert_rows
from platforms.meta.adapter import MetaAdapter
from platforms.meta.planning import plan_meta_additions, plan_meta_creative
from platforms.meta.validation import validate_meta_ad_request
from tests import test_meta_adapter as base
from tests.test_meta_adapter import body_with, graph_requests, objects, run, sandbox_get

# The sandbox, reset per test, and a loopback image server: test_meta_adapter's fixtures.
sandbox = base.sandbox
graph = base.graph
image_server = base.image_server

pytestmark = pytest.mark.django_db

IMAGE: dict[str, str] = {}


@pytest.fixture(autouse=True)
def images(image_server: str) -> None:
    IMAGE["image_url"] = f"{image_server}/img0.png"


def live_tree(caller, *, ad_sets: int = 1, ads: int = 1, **campaign: Any) -> CampaignJob:
    body = body_with(caller, ad_sets=ad_sets, ads=ads, media=IMAGE)
    body["campaign"].update(campaign)
    if campaign.get("daily_budget"):
        for ad_set in body["ad_sets"]:
            ad_set["daily_budget"] = None
    job = run(caller, body)
    assert job.status == JobStatus.SUCCESS, job.error
    return job


def new_job(source: CampaignJob, kind: str, object_type: str, obj: Any) -> CampaignJob:
    return CampaignJob(
        team=source.team,
        ad_account=source.ad_account,
        platform_type="META",
        kind=kind,
        object_type=object_type,
        object_id=obj.pk,
        payload={},
        platform_campaign_id=source.platform_campaign_id,
    )


def change_job(
    source: CampaignJob,
    object_type: str,
    obj: Any,
    values: dict[str, Any],
    *,
    kind: str = JobKind.UPDATE,
    children: list[tuple[str, Any]] = (),
    rows: list[Any] = (),
) -> CampaignJob:
    job = new_job(source, kind, object_type, obj)
    changes = [
        ObjectChange(job=job, position=n, object_type=t, object_id=o.pk, values=values)
        for n, (t, o) in enumerate([(object_type, obj), *children])
    ]
    insert_rows([(CampaignJob, [job]), *rows, (ObjectChange, changes)])
    return job


def swap_job(
    caller, source: CampaignJob, ad: Ad, creative_name: str, **values: Any
) -> tuple[CampaignJob, Creative]:
    """An UPDATE job swapping a new creative (another image) onto `ad`, as `campaigns.live`
    stores it: the creative's rows, and the ad's change naming it."""
    other_image = {"image_url": IMAGE["image_url"].replace("img0", "img1")}
    body = body_with(caller, ad_sets=1, ads=1, media=other_image)
    creative_data = validate_meta_ad_request(body)["ad_sets"][0]["ads"][0]["creative"]
    creative_data["name"] = creative_name
    job = new_job(source, JobKind.UPDATE, ObjectType.AD, ad)
    creative, rows = plan_meta_creative(job=job, creative=creative_data, name=ad.name)
    change = ObjectChange(
        job=job,
        position=0,
        object_type=ObjectType.AD,
        object_id=ad.pk,
        values={"creative_id": str(creative.pk), **values},
    )
    insert_rows([(CampaignJob, [job]), *rows, (ObjectChange, [change])])
    return job, creative


def execute(job: CampaignJob) -> CampaignJob:
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None
    execute_job(claimed, MetaAdapter())
    job.refresh_from_db()
    return job


def graph_object(graph, platform_id: str) -> dict[str, Any]:
    """The sandbox's record of an object: its fields as stored, parent and deletion."""
    return next(o for o in sandbox_get(graph, "objects") if o["id"] == str(platform_id))


def test_pausing_a_live_ad_set_reaches_meta_and_then_the_local_row(caller, graph):
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)
    ad_set_id = ad_set.platform_id
    job = execute(change_job(source, ObjectType.AD_SET, ad_set, {"status": "ACTIVE"}))

    assert job.status == JobStatus.SUCCESS, job.error
    assert graph_object(graph, ad_set_id)["fields"]["status"] == "ACTIVE"
    ad_set.refresh_from_db()
    assert ad_set.status == "ACTIVE"
    # What Meta says of it now, read after the change: its campaign is still paused.
    assert (ad_set.effective_status, bool(ad_set.synced_at)) == ("CAMPAIGN_PAUSED", True)
    change = ObjectChange.objects.get(job=job)
    assert change.applied_at is not None
    assert change.previous == {"status": "PAUSED"}


def test_a_budget_change_and_a_rename_update_the_meta_details(caller, graph):
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)
    job = execute(
        change_job(source, ObjectType.AD_SET, ad_set, {"daily_budget": 7500, "name": "Renamed"})
    )

    assert job.status == JobStatus.SUCCESS, job.error
    fields = graph_object(graph, ad_set.platform_id)["fields"]
    assert (fields["daily_budget"], fields["name"]) == (7500, "Renamed")
    ad_set = AdSet.objects.select_related("meta").get(pk=ad_set.pk)
    assert (ad_set.meta.daily_budget, ad_set.name) == (7500, "Renamed")


def test_a_change_meta_refuses_leaves_the_local_rows_as_they_were(caller, graph):
    # Meta refuses an ad set budget under a campaign that has its own budget.
    source = live_tree(caller, daily_budget=10000, bid_strategy="LOWEST_COST_WITHOUT_CAP")
    ad_set = AdSet.objects.select_related("meta").get(job=source)
    job = execute(
        change_job(source, ObjectType.AD_SET, ad_set, {"daily_budget": 5000, "name": "New name"})
    )

    assert job.status == JobStatus.FAILED
    assert job.error["code"] == 100 and "campaign budget" in job.error["user_message"]
    after = AdSet.objects.select_related("meta").get(pk=ad_set.pk)
    assert (after.name, after.meta.daily_budget) == (ad_set.name, ad_set.meta.daily_budget)
    assert graph_object(graph, ad_set.platform_id)["fields"]["name"] == ad_set.name
    assert ObjectChange.objects.get(job=job).applied_at is None


def test_a_cascade_pauses_the_whole_tree_one_batch_per_ad_set(caller, graph):
    source = live_tree(caller, ad_sets=2, ads=2)
    campaign = Campaign.objects.get(job=source)
    AdSet.objects.filter(job=source).update(status="ACTIVE")
    children = [(ObjectType.AD_SET, s) for s in AdSet.objects.filter(job=source)] + [
        (ObjectType.AD, a) for a in Ad.objects.filter(job=source)
    ]
    before = len(graph_requests(graph))
    job = execute(
        change_job(source, ObjectType.CAMPAIGN, campaign, {"status": "PAUSED"}, children=children)
    )

    assert job.status == JobStatus.SUCCESS, job.error
    # Meta takes one ad set of a campaign per batch, changes included: two ad sets, two
    # requests, the campaign and the ads sharing them.
    sent = graph_requests(graph)[before:]
    assert len(sent) == 2, [r["path"] for r in sent]
    assert all(r["status"] == 200 for r in sent)
    assert Campaign.objects.get(pk=campaign.pk).effective_status == "PAUSED"
    assert {s.effective_status for s in AdSet.objects.filter(job=source)} == {"CAMPAIGN_PAUSED"}
    for model in (Campaign, AdSet, Ad):
        rows = model.objects.filter(
            **({"job": source} if model is not Campaign else {"pk": campaign.pk})
        )
        assert {row.status for row in rows} == {"PAUSED"}
        for row in rows:
            assert graph_object(graph, row.platform_id)["fields"]["status"] == "PAUSED"


def test_archiving_sets_archived_on_meta_never_deleted(caller, graph):
    source = live_tree(caller)
    campaign = Campaign.objects.get(job=source)
    job = execute(
        change_job(
            source, ObjectType.CAMPAIGN, campaign, {"status": "ARCHIVED"}, kind=JobKind.ARCHIVE
        )
    )

    assert job.status == JobStatus.SUCCESS, job.error
    on_meta = graph_object(graph, campaign.platform_id)
    assert on_meta["fields"]["status"] == "ARCHIVED" and not on_meta.get("deleted")
    campaign.refresh_from_db()
    assert campaign.status == "ARCHIVED"


def test_a_new_creative_is_created_then_swapped_onto_the_ad(caller, graph):
    source = live_tree(caller)
    ad = Ad.objects.select_related("creative").get(job=source)
    old_creative = ad.creative
    job, creative = swap_job(caller, source, ad, "Creative v2")
    job = execute(job)

    assert job.status == JobStatus.SUCCESS, job.error
    creative.refresh_from_db()
    assert creative.platform_id and creative.platform_id != old_creative.platform_id
    on_meta = graph_object(graph, ad.platform_id)["fields"]
    assert on_meta["creative"] == {"id": creative.platform_id}
    ad.refresh_from_db()
    assert ad.creative_id == creative.pk
    # The old creative stays recorded.
    assert Creative.objects.get(pk=old_creative.pk).platform_id == old_creative.platform_id
    assert ObjectChange.objects.get(job=job).previous == {"creative_id": str(old_creative.pk)}


def test_ad_sets_added_to_a_live_campaign_are_created_under_it(caller, graph):
    source = live_tree(caller)
    campaign = Campaign.objects.get(job=source)
    body = body_with(caller, ad_sets=2, ads=1, media=IMAGE)
    items = validate_meta_ad_request(body)["ad_sets"]
    for n, item in enumerate(items):
        item["name"] = f"Added {n}"
    job = new_job(source, JobKind.CREATE, ObjectType.CAMPAIGN, campaign)
    rows = plan_meta_additions(
        job=job, parent_type="campaign", parent=campaign, items=items, first_position=1
    )
    insert_rows([(CampaignJob, [job]), *rows])
    campaigns_before = len(objects(graph, "campaign"))
    job = execute(job)

    assert job.status == JobStatus.SUCCESS, job.error
    assert len(objects(graph, "campaign")) == campaigns_before
    added = list(AdSet.objects.filter(job=job).order_by("position"))
    assert [(s.name, s.position) for s in added] == [("Added 0", 1), ("Added 1", 2)]
    for ad_set in added:
        assert graph_object(graph, ad_set.platform_id)["parent_id"] == campaign.platform_id
        (ad,) = Ad.objects.filter(ad_set=ad_set)
        assert ad.platform_id and ad.job_id == job.pk


def test_ads_added_to_a_live_ad_set_are_created_under_it(caller, graph):
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)
    body = body_with(caller, ad_sets=1, ads=2, media=IMAGE)
    items = validate_meta_ad_request(body)["ad_sets"][0]["ads"]
    job = new_job(source, JobKind.CREATE, ObjectType.AD_SET, ad_set)
    rows = plan_meta_additions(
        job=job, parent_type="ad_set", parent=ad_set, items=items, first_position=1
    )
    insert_rows([(CampaignJob, [job]), *rows])
    job = execute(job)

    assert job.status == JobStatus.SUCCESS, job.error
    added = list(Ad.objects.filter(job=job).order_by("position"))
    assert [a.position for a in added] == [1, 2]
    for ad in added:
        assert graph_object(graph, ad.platform_id)["parent_id"] == ad_set.platform_id
    assert AdSet.objects.filter(campaign=ad_set.campaign).count() == 1


def test_a_later_change_of_an_object_waits_for_the_earlier_one(caller, graph, sql_path):
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)
    first = change_job(source, ObjectType.AD_SET, ad_set, {"name": "First"})
    second = change_job(source, ObjectType.AD_SET, ad_set, {"name": "Second"})

    with pytest.raises(ObjectBusy):
        job_claim(job_id=second.pk)
    assert execute(first).status == JobStatus.SUCCESS
    assert execute(second).status == JobStatus.SUCCESS
    ad_set.refresh_from_db()
    assert ad_set.name == "Second"
    assert graph_object(graph, ad_set.platform_id)["fields"]["name"] == "Second"


def test_a_change_of_an_ad_set_waits_for_an_earlier_cascade_over_its_campaign(
    caller, graph, sql_path
):
    source = live_tree(caller)
    campaign = Campaign.objects.get(job=source)
    ad_set = AdSet.objects.get(job=source)
    cascade = change_job(
        source,
        ObjectType.CAMPAIGN,
        campaign,
        {"status": "ACTIVE"},
        children=[(ObjectType.AD_SET, ad_set)],
    )
    later = change_job(source, ObjectType.AD_SET, ad_set, {"status": "PAUSED"})
    unrelated = change_job(source, ObjectType.AD, Ad.objects.get(job=source), {"name": "Other"})

    with pytest.raises(ObjectBusy):
        job_claim(job_id=later.pk)
    # A change of an object the cascade does not touch runs at once.
    assert execute(unrelated).status == JobStatus.SUCCESS
    assert execute(cascade).status == JobStatus.SUCCESS
    assert execute(later).status == JobStatus.SUCCESS
    ad_set.refresh_from_db()
    assert ad_set.status == "PAUSED"


def test_meta_blocking_an_ad_sets_budget_fails_that_change_and_pauses_no_one(caller, graph):
    # Four budget changes made outside mojito (in Ads Manager, say): Meta blocks the fifth.
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)
    for budget in (3100, 3200, 3300, 3400):
        requests.post(
            f"{graph.base_url}/v26.0/{ad_set.platform_id}",
            data={"daily_budget": budget, "access_token": base.TOKEN},
            timeout=5,
        ).raise_for_status()
    job = execute(change_job(source, ObjectType.AD_SET, ad_set, {"daily_budget": 5000}))

    assert job.status == JobStatus.FAILED
    assert job.error["code"] == 17 and "retry the job after that hour" in job.error["message"]
    assert job.error["transient"] is False
    assert not pauses.paused_for(source.ad_account_id)
    ad_set = AdSet.objects.select_related("meta").get(pk=ad_set.pk)
    assert ad_set.meta.daily_budget == 2000


def test_a_failed_change_superseded_by_a_later_one_is_not_retried(caller, graph):
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)
    old = change_job(source, ObjectType.AD_SET, ad_set, {"status": "ACTIVE"})
    CampaignJob.objects.filter(pk=old.pk).update(status=JobStatus.FAILED)
    newer = execute(change_job(source, ObjectType.AD_SET, ad_set, {"status": "PAUSED"}))
    assert newer.status == JobStatus.SUCCESS

    response = caller.client.post(f"/api/v1/jobs/{old.pk}/retry")

    assert response.status_code == 409, response.content
    assert "later change" in response.json()["errors"][0]["detail"]
    assert CampaignJob.objects.get(pk=old.pk).status == JobStatus.FAILED
    # A change nothing superseded is retried as any job.
    lone = change_job(source, ObjectType.AD, Ad.objects.get(job=source), {"name": "Again"})
    CampaignJob.objects.filter(pk=lone.pk).update(status=JobStatus.FAILED)
    assert caller.client.post(f"/api/v1/jobs/{lone.pk}/retry").status_code == 202


def test_a_cascade_meta_applies_in_part_ends_partial_and_keeps_what_was_applied(caller, graph):
    source = live_tree(caller, ad_sets=2)
    campaign = Campaign.objects.get(job=source)
    refused, accepted = AdSet.objects.filter(job=source).order_by("position")
    requests.post(
        f"{graph.base_url}/__sandbox__/faults",
        json={"fault": "permanent", "path_contains": refused.platform_id},
        timeout=5,
    ).raise_for_status()
    children = [(ObjectType.AD_SET, refused), (ObjectType.AD_SET, accepted)]
    job = execute(
        change_job(source, ObjectType.CAMPAIGN, campaign, {"status": "ACTIVE"}, children=children)
    )

    # The campaign took the change; the refused ad set stopped the run (one ad set a batch).
    assert job.status == JobStatus.PARTIAL_SUCCESS, job.error
    campaign.refresh_from_db()
    assert campaign.status == "ACTIVE"
    assert AdSet.objects.get(pk=refused.pk).status == "PAUSED"

    # Retried once Meta takes it, the job resumes: what was applied is not sent again.
    requests.delete(f"{graph.base_url}/__sandbox__/faults", timeout=5).raise_for_status()
    before = len(graph_requests(graph))
    services.job_retry(job=job)
    assert execute(job).status == JobStatus.SUCCESS
    statuses = {row.pk: row.status for row in AdSet.objects.filter(job=source)}
    assert statuses == {refused.pk: "ACTIVE", accepted.pk: "ACTIVE"}
    sent = [r["path"] for r in graph_requests(graph)[before:]]
    assert len(sent) == 2, sent


def test_a_cascade_leaves_alone_a_child_archived_since_it_was_accepted(caller, graph):
    source = live_tree(caller, ad_sets=2)
    campaign = Campaign.objects.get(job=source)
    archived, other = AdSet.objects.filter(job=source).order_by("position")
    children = [(ObjectType.AD_SET, archived), (ObjectType.AD_SET, other)]
    cascade = change_job(
        source, ObjectType.CAMPAIGN, campaign, {"status": "ACTIVE"}, children=children
    )
    AdSet.objects.filter(pk=archived.pk).update(status="ARCHIVED")

    assert execute(cascade).status == JobStatus.SUCCESS
    assert graph_object(graph, archived.platform_id)["fields"]["status"] == "PAUSED"
    assert graph_object(graph, other.platform_id)["fields"]["status"] == "ACTIVE"


def test_a_creative_swap_whose_answer_was_lost_adopts_the_creative_never_makes_two(caller, graph):
    source = live_tree(caller)
    ad = Ad.objects.select_related("creative").get(job=source)
    # The sandbox creates it, then drops the answer (once per name).
    job, creative = swap_job(caller, source, ad, "Creative v2 [sandbox:drop]", name="Renamed")

    assert execute(job).status == JobStatus.PENDING  # the answer was lost: run again
    job = base.claim_and_run(job)

    assert job.status == JobStatus.SUCCESS, job.error
    assert len(objects(graph, "adcreative")) == 2  # the ad's first creative, and this one
    creative.refresh_from_db()
    ad.refresh_from_db()
    assert (ad.creative_id, ad.name) == (creative.pk, "Renamed")
    on_meta = graph_object(graph, ad.platform_id)["fields"]
    assert on_meta["creative"] == {"id": creative.platform_id}


def test_a_change_and_its_status_read_one_request_each_without_batches(caller, graph, settings):
    source = live_tree(caller)
    settings.META_EXECUTION_MODE = "sequential"
    campaign = Campaign.objects.get(job=source)
    before = len(graph_requests(graph))

    job = execute(change_job(source, ObjectType.CAMPAIGN, campaign, {"status": "ACTIVE"}))

    assert job.status == JobStatus.SUCCESS, job.error
    sent = [(r["method"], r["path"].split("/")[-1]) for r in graph_requests(graph)[before:]]
    assert sent == [("POST", campaign.platform_id), ("GET", campaign.platform_id)]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.effective_status) == ("ACTIVE", "ACTIVE")


def test_a_status_read_meta_refuses_leaves_the_applied_change_a_success(caller, graph):
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)
    requests.post(
        f"{graph.base_url}/__sandbox__/faults",
        json={"fault": "permanent", "path_contains": ad_set.platform_id, "method": "GET"},
        timeout=5,
    ).raise_for_status()

    job = execute(change_job(source, ObjectType.AD_SET, ad_set, {"name": "Renamed"}))

    assert job.status == JobStatus.SUCCESS, job.error
    ad_set.refresh_from_db()
    assert (ad_set.name, ad_set.effective_status) == ("Renamed", "")


def test_a_later_change_that_applied_nothing_does_not_block_a_retry(caller, graph):
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)
    old = change_job(source, ObjectType.AD_SET, ad_set, {"daily_budget": 2500})
    later = change_job(source, ObjectType.AD_SET, ad_set, {"name": "Later"})
    CampaignJob.objects.filter(pk__in=[old.pk, later.pk]).update(status=JobStatus.FAILED)

    assert caller.client.post(f"/api/v1/jobs/{old.pk}/retry").status_code == 202
