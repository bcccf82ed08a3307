"""Webhooks end to end: a job submitted with a `callback_url` runs on the real worker against the
sandbox, and its final state reaches a receiver on loopback (this process), signed, through the
worker's own delivery task, to the team's webhook and to the callback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifications.signing import verify
from tests.e2e.harness import Harness, wait_until
from tests.test_webhooks import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_a_jobs_final_state_reaches_its_callback_and_the_team_webhook_signed(
    e2e: Harness, receiver: Receiver, settings
) -> None:
    # The receiver is on loopback: this process (the API) accepts it as the worker does
    # (MEDIA_FETCH_ALLOW_PRIVATE=true in the e2e worker's settings).
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    (team,) = e2e.client.get("/api/v1/teams").json()
    patched = e2e.client.patch(
        f"/api/v1/teams/{team['id']}", {"webhook_url": receiver.url("/team")}, format="json"
    )
    assert patched.status_code == 200, patched.content
    secret = patched.json()["webhook_secret"]

    job_id = e2e.submit({**e2e.body(), "callback_url": receiver.url("/cb?order=42")})
    job = e2e.wait_for_job(job_id, "SUCCESS")

    received = receiver.wait_for(2, timeout=30)
    assert sorted(got.path for got in received) == ["/cb?order=42", "/team"]
    for got in received:
        assert verify(secret, got.body, got.headers["Mojito-Signature"])
        assert got.json["type"] == "job.succeeded"
        assert got.json["data"]["id"] == job_id
        assert got.json["data"]["status"] == "SUCCESS"
        assert got.json["data"]["campaign"] == job["campaign"]
    assert received[0].json["id"] == received[1].json["id"]  # one event, two targets

    def delivered() -> list[dict]:
        rows = e2e.client.get(f"/api/v1/webhook_deliveries?job_id={job_id}").json()["results"]
        return rows if rows and all(row["status"] == "DELIVERED" for row in rows) else []

    rows = wait_until(delivered, timeout=10, message="deliveries marked DELIVERED")
    assert sorted(row["target"] for row in rows) == ["callback", "webhook"]
    assert all([a["status_code"] for a in row["attempts"]] == [200] for row in rows)
