"""Sync end to end: a beat of its own that syncs every few seconds, the real worker, the
sandbox. What happens on Meta (a disapproval, the day's figures) shows in the API and the
admin without anyone asking, and an ad's disapproval reaches the team's
webhook, signed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from campaigns.models import CampaignJob, JobKind
from notifications.signing import verify
from tests.e2e.harness import CeleryProcess, CeleryProcesses, Harness
from tests.e2e.test_live import get, live_campaign
from tests.test_webhooks import Receiver

SYNC_INTERVAL = 2  # seconds between two syncs of an account


@pytest.fixture(scope="module")
def worker(celery_procs: CeleryProcesses) -> CeleryProcess:
    """The worker runs the schedule's task, so it reads the interval too."""
    return celery_procs.ensure_worker(
        {"META_EXECUTION_MODE": "batch", "META_SYNC_INTERVAL_SECONDS": str(SYNC_INTERVAL)}
    )


@pytest.fixture
def syncing_beat(celery_procs: CeleryProcesses, tmp_path: Path) -> Iterator[CeleryProcess]:
    """A second beat, next to the session's (which schedules no sync), syncing every account
    every SYNC_INTERVAL seconds while the test runs."""
    beat = celery_procs._spawn(
        "beat",
        ["beat", "-s", str(tmp_path / "sync-beat-schedule"), "-l", "INFO"],
        {"META_SYNC_INTERVAL_SECONDS": str(SYNC_INTERVAL)},
    )
    beat.wait_for_log(r"beat: Starting", timeout=30)
    try:
        yield beat
    finally:
        beat.stop()


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not after {timeout} s")


def syncs_done(e2e: Harness) -> int:
    return CampaignJob.objects.filter(
        kind=JobKind.SYNC, ad_account_id=e2e.account.id, status="SUCCESS"
    ).count()


def test_beat_syncs_a_live_campaign_without_anyone_asking(
    e2e: Harness, syncing_beat: CeleryProcess
) -> None:
    campaign = live_campaign(e2e)
    ad = campaign["ad_sets"][0]["ads"][0]

    wait_until(lambda: syncs_done(e2e) >= 1, 30, "a scheduled sync of the account")

    synced = get(e2e, f"/api/v1/ads/{ad['id']}")
    assert synced["synced_at"] is not None
    assert synced["effective_status"] == "CAMPAIGN_PAUSED"
    # The day's figures arrived with it, per level, as the insights endpoint serves them.
    for level in ("campaign", "ad_set", "ad"):
        rows = get(e2e, f"/api/v1/campaigns/{campaign['id']}/insights?level={level}")["results"]
        assert len(rows) == 1, (level, rows)
        assert rows[0]["level"] == level and isinstance(rows[0]["spend"], int)


def test_a_disapproval_made_on_meta_shows_in_the_api_the_admin_and_the_webhook(
    e2e: Harness, syncing_beat: CeleryProcess, admin_client: Any, settings: Any
) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True  # the receiver is on loopback, as the worker allows
    receiver = Receiver()
    try:
        (team,) = e2e.client.get("/api/v1/teams").json()
        answer = e2e.client.patch(
            f"/api/v1/teams/{team['id']}", {"webhook_url": receiver.url("/team")}, format="json"
        )
        assert answer.status_code == 200, answer.content
        secret = answer.json()["webhook_secret"]
        campaign = live_campaign(e2e)
        ad = campaign["ad_sets"][0]["ads"][0]
        for platform_id in (
            campaign["platform_id"],
            campaign["ad_sets"][0]["platform_id"],
            ad["platform_id"],
        ):
            e2e.graph("POST", platform_id, status="ACTIVE")
        # Meta's review turns the ad down (the sandbox's verdict, as its review would reach it).
        with e2e.sandbox.state.lock:
            review = {"started": 0.0, "until": 0.0, "disapproved": True}
            e2e.sandbox.state.get_object(ad["platform_id"]).extra["review"] = review

        def disapproved() -> dict[str, Any] | None:
            shown = get(e2e, f"/api/v1/ads/{ad['id']}")
            return shown if shown["effective_status"] == "DISAPPROVED" else None

        shown = wait_until(disapproved, 30, "the ad read DISAPPROVED through the API")
        assert shown["review_feedback"]["global"]
        page = admin_client.get(f"/admin/campaigns/ad/{ad['id']}/change/")
        assert page.status_code == 200
        assert b"DISAPPROVED" in page.content

        def announced() -> list[Any]:
            return [got for got in receiver.received if got.json["type"] == "ad.disapproved"]

        (got,) = wait_until(announced, 30, "ad.disapproved at the webhook")
        assert got.json["data"]["id"] == ad["id"]
        assert got.json["data"]["effective_status"] == "DISAPPROVED"
        assert verify(secret, got.body, got.headers["Mojito-Signature"])
    finally:
        receiver.close()
