"""A canary access token, driven through a transient error, a dropped connection, a
permanent error, a retry, changes of live objects (one refused), an import and a dead token,
appears nowhere mojito keeps or says anything: worker and beat logs, stored jobs (and every
other table), Redis (broker and cache), API responses.

The sandbox's own request log is Meta's side and is not checked (it redacts tokens anyway).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid

import pytest
import redis
from django.db import connection

from tests.e2e.conftest import create_ad_account, new_meta_account
from tests.e2e.harness import Harness, find_leaks, redis_values, wait_until


def test_the_scanner_finds_a_planted_canary() -> None:
    canary = "EAAB" + uuid.uuid4().hex
    envelope = json.dumps({"body": base64.b64encode(json.dumps([canary]).encode()).decode()})
    assert find_leaks(canary, f"x {canary} y", "plain")
    assert find_leaks(canary, envelope, "base64 body")
    assert find_leaks(canary, canary.encode().hex(), "hex")
    assert not find_leaks(canary, "EAAB" + uuid.uuid4().hex, "another")


@pytest.fixture
def test_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_canary_token_is_never_stored_logged_queued_or_answered(
    e2e: Harness, test_logs: pytest.LogCaptureFixture
) -> None:
    canary = "EAAB" + uuid.uuid4().hex
    account = new_meta_account(e2e.sandbox, token=canary)
    e2e.account = account
    create_ad_account(e2e.client, account, "Canary account")
    client = e2e.client

    # Transient error, then success.
    transient = e2e.submit(e2e.body(campaign_name="[sandbox:transient] Canary 1"))
    assert e2e.wait_for_job(transient, "SUCCESS")["attempts"] == 2
    # Dropped connection after a create, then adoption.
    dropped = e2e.submit(e2e.body([("[sandbox:drop] Canary set", [e2e.ad("Canary ad 2")])]))
    assert e2e.wait_for_job(dropped, "SUCCESS")["attempts"] == 2
    # Permanent error, then a retry.
    refused = e2e.ad("[sandbox:permanent] Canary ad 3")
    refused["creative"]["name"] = "Canary creative 3"
    permanent = e2e.submit(e2e.body([("Canary set 3", [refused])]))
    assert e2e.wait_for_job(permanent, "PARTIAL_SUCCESS")["error"]["code"] == 100
    assert client.post(f"/api/v1/jobs/{permanent}/retry").status_code == 202
    e2e.wait_for_job(permanent, "SUCCESS")
    # Live objects: two changes (a creative swap among them), one Meta refuses, an archive,
    # an import; every answer read.
    campaign = client.get(f"/api/v1/campaigns/{e2e.job(transient)['campaign']['id']}").json()
    ad_set, ad = campaign["ad_sets"][0], campaign["ad_sets"][0]["ads"][0]
    changes = [
        (f"/api/v1/ad_sets/{ad_set['id']}", {"daily_budget": 2600, "name": "Canary set 1b"}),
        (f"/api/v1/ads/{ad['id']}", {"creative": e2e.creative("Canary creative 1b")}),
    ]
    live = [client.patch(path, body, format="json").json()["id"] for path, body in changes]
    live.append(client.delete(f"/api/v1/ads/{ad['id']}").json()["id"])
    for job_id in live:
        e2e.wait_for_job(job_id, "SUCCESS")
    e2e.control("POST", "faults", fault="permanent", path_contains=campaign["platform_id"])
    refused_change = client.patch(
        f"/api/v1/campaigns/{campaign['id']}", {"name": "Never"}, format="json"
    ).json()["id"]
    assert e2e.wait_for_job(refused_change, "FAILED")["error"]["code"]
    elsewhere = e2e.graph(
        "POST",
        f"{account.act_id}/campaigns",
        name="Canary campaign made elsewhere",
        objective="OUTCOME_TRAFFIC",
        status="PAUSED",
        special_ad_categories=[],
        is_adset_budget_sharing_enabled=False,
    )["id"]
    imported = client.post(
        "/api/v1/campaigns/import",
        {"ad_account_id": account.id, "platform_id": elsewhere},
        format="json",
    ).json()["id"]
    e2e.wait_for_job(imported, "SUCCESS")
    live += [refused_change, imported]
    client.get("/api/v1/campaigns")
    client.get(f"/api/v1/campaigns/{campaign['id']}")
    client.get(f"/api/v1/ad_sets/{ad_set['id']}")
    client.get(f"/api/v1/ads/{ad['id']}")

    # Verified, then dead.
    assert client.post(f"/api/v1/ad_accounts/{account.id}/verify").json()["status"] == "ACTIVE"
    e2e.control("POST", "tokens/expire", token=canary)
    dead = e2e.submit(e2e.body(campaign_name="Canary 4"))
    assert e2e.wait_for_job(dead, "FAILED")["error"]["code"] == 190
    verify = client.post(f"/api/v1/ad_accounts/{account.id}/verify")
    assert verify.json()["status"] == "REQUIRES_REAUTH"

    # Everything a user can read.
    for job_id in (transient, dropped, permanent, dead, *live):
        client.get(f"/api/v1/jobs/{job_id}")
    client.get("/api/v1/jobs")
    client.get(f"/api/v1/jobs?ad_account_id={account.id}")
    client.get(f"/api/v1/ad_accounts/{account.id}")
    client.get("/api/v1/ad_accounts")
    # The jobs are finished; their tasks may still be logging their last lines.
    wait_until(lambda: not e2e.worker_tasks_in_flight(), 10, "the worker's tasks finished")

    leaks: list[str] = []
    for response in client.responses:
        where = f"API {response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}"
        leaks += find_leaks(canary, response.content, where)
        leaks += find_leaks(canary, str(response.headers), f"{where} headers")

    for path in e2e.procs.log_paths():
        leaks += find_leaks(canary, path.read_bytes(), f"log {path.name}")
    for record in test_logs.records:
        leaks += find_leaks(canary, record.getMessage() + repr(record.args), "test process log")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        assert "campaign_jobs" in tables
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            for (row,) in cursor.fetchall():
                leaks += find_leaks(canary, row, f"table {table}")
        cursor.execute("SELECT count(*) FROM campaign_jobs WHERE ad_account_id = %s", [account.id])
        assert cursor.fetchone()[0] == 4 + len(live)

    server = e2e.redis.server
    for db in sorted({0, 1, e2e.redis.broker_db, e2e.redis.cache_db}):
        client_ = redis.Redis.from_url(f"{server}/{db}")
        for key, value in redis_values(client_):
            leaks += find_leaks(canary, value, f"redis db {db} key {key}")

    assert leaks == []
