"""A dead token (Meta code 190): the job fails, the account needs re-authentication, its other
jobs wait untouched, and run once new credentials are verified."""

from __future__ import annotations

from campaigns.models import CampaignJob
from campaigns.services import job_publish
from tests.e2e.harness import Harness, publishing_broken, wait_until


def test_expired_token_fails_the_job_and_parks_the_account_until_reverified(
    e2e: Harness,
) -> None:
    account_url = f"/api/v1/ad_accounts/{e2e.account.id}"
    waiting_body = e2e.body(campaign_name="Waiting campaign")

    # A job already accepted for the account, not yet picked up by any worker.
    with e2e.sweeper_paused():
        with publishing_broken():
            waiting_id = e2e.submit(waiting_body)
        # The token dies on Meta's side; the next job finds out.
        e2e.control("POST", "tokens/expire", token=e2e.account.token)
        failing_id = e2e.submit(e2e.body(campaign_name="Failing campaign"))
        failed = e2e.wait_for_job(failing_id, "FAILED")

    error = failed["error"]
    assert error["code"] == 190
    assert error["subcode"] == 463
    assert error["type"] == "OAuthException"
    assert error["transient"] is False
    assert error["fbtrace_id"]
    assert e2e.account.token not in str(failed)
    assert e2e.account_detail()["status"] == "REQUIRES_REAUTH"

    # The waiting job is not attempted, even when its message is delivered.
    job_publish(job_id=waiting_id)
    assert e2e.procs.worker is not None
    e2e.procs.worker.wait_for_log(rf"Job {waiting_id} not claimable", timeout=10)
    beat = e2e.procs.beat
    sweeps = beat.log().count("Sending due task jobs-sweep")
    wait_until(
        lambda: beat.log().count("Sending due task jobs-sweep") >= sweeps + 2, 10, "two sweeps"
    )
    wait_until(lambda: e2e.redis.queue_length() == 0, 10, "sweeps consumed")
    waiting = e2e.job(waiting_id)
    assert waiting["status"] == "PENDING"
    assert waiting["attempts"] == 0
    assert waiting["started_at"] is None
    assert e2e.named("campaign", "Waiting campaign") == []

    # New submissions for the account are refused until it is usable again.
    refused = e2e.client.post("/api/v1/ads/meta", e2e.body(), format="json")
    assert refused.status_code == 400
    assert [e["attr"] for e in refused.json()["errors"]] == ["ad_account_id"]

    # New credentials, registered on Meta's side, then verified.
    new_token = f"{e2e.account.token}-renewed"
    e2e.control(
        "POST",
        "accounts",
        token=new_token,
        account_id=e2e.account.act_id,
        page_ids=[e2e.account.page_id],
    )
    patched = e2e.client.patch(
        account_url, {"credentials": {"access_token": new_token}}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["status"] == "REQUIRES_REAUTH"  # credentials alone do not revive it
    verified = e2e.client.post(f"{account_url}/verify")
    assert verified.status_code == 200, verified.content
    assert verified.json()["status"] == "ACTIVE"
    assert e2e.account_detail()["status"] == "ACTIVE"

    # The sweeper hands the waiting job to the worker; it runs with the new token.
    done = e2e.wait_for_job(waiting_id, "SUCCESS", timeout=20)
    assert done["attempts"] == 1
    (campaign,) = e2e.named("campaign", "Waiting campaign")
    assert done["platform_campaign_id"] == campaign["id"]
    assert e2e.named("campaign", "Failing campaign") == []
    assert CampaignJob.objects.get(pk=failing_id).status == "FAILED"

    accepted = e2e.client.post("/api/v1/ads/meta", e2e.body(), format="json")
    assert accepted.status_code == 202, accepted.content


def test_token_dying_mid_job_then_retry_after_reauth_resumes(e2e: Harness) -> None:
    account_url = f"/api/v1/ad_accounts/{e2e.account.id}"
    # The first round (campaign, set A, its ad) goes through; set B meets the dead token.
    body = e2e.body([("Set A", [e2e.ad("Ad A")]), ("[sandbox:expired] Set B", [e2e.ad("Ad B")])])
    job_id = e2e.submit(body)
    first = e2e.wait_for_job(job_id, "FAILED")

    assert first["error"]["code"] == 190
    assert first["error"]["step"] == "ad_sets.1"
    (campaign,) = e2e.sandbox_objects("campaign")
    assert first["platform_campaign_id"] == campaign["id"]
    # API.md: "the job whose call gets Meta code 190 ends FAILED with that error", even with
    # objects already on Meta (the tree shows them; a retry resumes from them).
    assert first["status"] == "FAILED"
    assert e2e.account_detail()["status"] == "REQUIRES_REAUTH"

    # A retry while the account needs re-authentication waits.
    retried = e2e.client.post(f"/api/v1/jobs/{job_id}/retry")
    assert retried.status_code == 202
    e2e.procs.worker.wait_for_log(rf"Job {job_id} not claimable", timeout=10)
    assert e2e.job(job_id)["status"] == "PENDING"

    # The token was only refused once (the sandbox's marker): verifying brings it back.
    verified = e2e.client.post(f"{account_url}/verify")
    assert verified.json()["status"] == "ACTIVE"
    job = e2e.wait_for_job(job_id, "SUCCESS", timeout=20)

    assert job["attempts"] == 2
    names = sorted(
        (kind, o["fields"]["name"])
        for kind in ("campaign", "adset", "ad")
        for o in e2e.sandbox_objects(kind)
    )
    assert names == [
        ("ad", "Ad A"),
        ("ad", "Ad B"),
        ("adset", "Set A"),
        ("adset", "[sandbox:expired] Set B"),
        ("campaign", "E2E campaign"),
    ]
    assert job["platform_campaign_id"] == campaign["id"]
