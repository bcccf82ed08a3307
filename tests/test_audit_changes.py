"""Changes made by a job are audited when Meta accepted them, with the user who asked for
them (API.md "Audit trail"): the worker's side, through the engine and the Meta adapter
against the sandbox (tests/e2e/test_audit.py drives the same through the API and a worker).

The event is written with the change's checkpoint, in one statement on PostgreSQL and one
transaction elsewhere, only while the run holds the job."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import audit_new
from campaigns.engine.checkpoints import job_update_rows
from campaigns.models import AdSet, Campaign, JobKind, JobStatus, ObjectChange, ObjectType
from tests import test_meta_changes as changes
from tests.factories import CampaignJobFactory
from tests.test_meta_changes import change_job, execute, live_tree

sandbox = changes.sandbox
graph = changes.graph
image_server = changes.image_server
images = changes.images

pytestmark = pytest.mark.django_db


def test_an_accepted_change_is_recorded_with_the_user_and_before_and_after(caller, graph, sql_path):
    source = live_tree(caller)
    ad_set = AdSet.objects.select_related("meta").get(job=source)
    job = change_job(source, ObjectType.AD_SET, ad_set, {"daily_budget": 3100, "name": "Renamed"})
    # Asked for by the caller, as the API stores it.
    type(job).objects.filter(pk=job.pk).update(created_by=caller.user)

    with CaptureQueriesContext(connection) as queries:
        job = execute(job)

    assert job.status == JobStatus.SUCCESS, job.error
    event = AuditEvent.objects.get(object_id=ad_set.pk)
    assert (event.action, event.object_type, event.actor, event.user_id) == (
        "ad_set.updated",
        "ad_set",
        f"user:{caller.user.username}",
        caller.user.pk,
    )
    assert (event.ad_account_id, event.team_id) == (source.ad_account_id, source.team_id)
    assert event.changes == {
        "daily_budget": {"before": ad_set.meta.daily_budget, "after": 3100},
        "name": {"before": ad_set.name, "after": "Renamed"},
    }
    applied_at = ObjectChange.objects.get(job=job).applied_at
    assert applied_at is not None and abs((event.at - applied_at).total_seconds()) < 1
    finished = AuditEvent.objects.get(object_id=job.pk, action="job.finished")
    assert (finished.actor, finished.changes) == (
        "system",
        {"status": {"before": "PROCESSING", "after": "SUCCESS"}},
    )
    if sql_path == "postgresql":
        # The change's event costs no statement of its own: it goes in with the checkpoint.
        writes = [q["sql"] for q in queries.captured_queries if "audit_events" in q["sql"]]
        assert len(writes) == 2, writes
        assert "applied_at" in writes[0] and writes[1].startswith('INSERT INTO "audit_events"')


def test_a_change_without_a_user_is_recorded_as_the_system(caller, graph):
    source = live_tree(caller)
    campaign = Campaign.objects.get(job=source)

    job = execute(change_job(source, ObjectType.CAMPAIGN, campaign, {"name": "By the system"}))

    assert job.status == JobStatus.SUCCESS, job.error
    event = AuditEvent.objects.get(object_id=campaign.pk, action="campaign.updated")
    assert event.actor == "system" and event.user_id is None


def test_a_change_meta_refuses_records_no_update(caller, graph):
    # Meta refuses an ad set budget under a campaign that has its own budget.
    source = live_tree(caller, daily_budget=10000, bid_strategy="LOWEST_COST_WITHOUT_CAP")
    ad_set = AdSet.objects.get(job=source)

    job = execute(change_job(source, ObjectType.AD_SET, ad_set, {"daily_budget": 5000}))

    assert job.status == JobStatus.FAILED
    assert not AuditEvent.objects.filter(object_id=ad_set.pk).exists()
    finished = AuditEvent.objects.get(object_id=job.pk, action="job.finished")
    assert finished.changes["status"]["after"] == "FAILED"


def test_an_archive_is_recorded_as_archived(caller, graph):
    source = live_tree(caller)
    ad_set = AdSet.objects.get(job=source)

    job = execute(
        change_job(source, ObjectType.AD_SET, ad_set, {"status": "ARCHIVED"}, kind=JobKind.ARCHIVE)
    )

    assert job.status == JobStatus.SUCCESS, job.error
    event = AuditEvent.objects.get(object_id=ad_set.pk)
    assert event.action == "ad_set.archived"
    assert event.changes == {"status": {"before": "PAUSED", "after": "ARCHIVED"}}


def test_a_cascade_records_one_event_per_object_it_changed(caller, graph):
    source = live_tree(caller, ad_sets=2, ads=1)
    campaign = Campaign.objects.get(job=source)
    children = [(ObjectType.AD_SET, s) for s in AdSet.objects.filter(job=source)]

    job = execute(
        change_job(source, ObjectType.CAMPAIGN, campaign, {"status": "ACTIVE"}, children=children)
    )

    assert job.status == JobStatus.SUCCESS, job.error
    recorded = AuditEvent.objects.exclude(object_type="job").values_list("action", "object_id")
    assert sorted(recorded, key=str) == sorted(
        [("campaign.updated", campaign.pk), *(("ad_set.updated", s.pk) for _, s in children)],
        key=str,
    )


def test_a_run_that_lost_its_job_inserts_no_event(caller, sql_path):
    job = CampaignJobFactory(status=JobStatus.PROCESSING, claimed_by="run-1")
    event = audit_new(
        actor=None, action="ad_set.updated", object_type="ad_set", object_id=job.pk, changes={}
    )
    lost = type(job).objects.get(pk=job.pk)
    lost.claimed_by = "run-0"  # the sweeper gave the job to another run meanwhile

    assert job_update_rows(lost, {}, [event]) is False
    assert not AuditEvent.objects.filter(pk=event.pk).exists()
    assert job_update_rows(job, {}, [event]) is True
    assert AuditEvent.objects.filter(pk=event.pk).exists()
