"""The audit trail end to end: a change of a live ad set made through the API and applied by a
real worker on the sandbox shows in `GET /api/v1/audit_events?object_id=`, with the user who
asked for it, once Meta accepted it; a change Meta refused shows nothing of the ad set."""

from __future__ import annotations

from typing import Any

from campaigns.models import CampaignJob
from tests.e2e.harness import Harness
from tests.e2e.test_live import accepted, get, live_campaign


def audit_events(e2e: Harness, **query: str) -> list[dict[str, Any]]:
    found = get(e2e, "/api/v1/audit_events?" + "&".join(f"{k}={v}" for k, v in query.items()))
    return found["results"]


def test_an_accepted_budget_change_is_recorded_with_the_user_before_and_after(e2e: Harness):
    campaign = live_campaign(e2e)
    ad_set = campaign["ad_sets"][0]
    budget = ad_set["daily_budget"]

    job_id = accepted(
        e2e.client.patch(
            f"/api/v1/ad_sets/{ad_set['id']}", {"daily_budget": budget + 1100}, format="json"
        ),
        "UPDATE",
    )
    e2e.wait_for_job(job_id, "SUCCESS")

    username = CampaignJob.objects.get(pk=job_id).created_by.username
    (event,) = audit_events(e2e, object_id=ad_set["id"])
    assert (event["action"], event["object_type"], event["actor"]) == (
        "ad_set.updated",
        "ad_set",
        f"user:{username}",
    )
    assert event["changes"] == {"daily_budget": {"before": budget, "after": budget + 1100}}
    assert event["ad_account_id"] == e2e.account.id
    assert get(e2e, f"/api/v1/audit_events/{event['id']}") == event
    # The job's own trail: accepted by the user, finished by the worker.
    trail = {e["action"]: e["actor"] for e in audit_events(e2e, object_id=job_id)}
    assert trail == {"job.created": f"user:{username}", "job.finished": "system"}


def test_a_change_meta_refuses_records_no_update_of_the_object(e2e: Harness):
    campaign = live_campaign(e2e)
    ad_set = campaign["ad_sets"][0]
    e2e.control("POST", "faults", fault="permanent", path_contains=ad_set["platform_id"])

    job_id = accepted(
        e2e.client.patch(f"/api/v1/ad_sets/{ad_set['id']}", {"daily_budget": 4000}, format="json"),
        "UPDATE",
    )
    e2e.wait_for_job(job_id, "FAILED")

    assert audit_events(e2e, object_id=ad_set["id"]) == []
    (finished,) = [e for e in audit_events(e2e, object_id=job_id) if e["action"] == "job.finished"]
    assert finished["changes"]["status"]["after"] == "FAILED"
