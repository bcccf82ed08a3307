"""POST /api/v1/ad_accounts/{id}/verify asks Meta (the sandbox) about the account."""

from __future__ import annotations

from tests.e2e.conftest import create_ad_account, new_meta_account
from tests.e2e.harness import Harness, MetaAccount


def test_verify_returns_what_meta_knows_about_the_account(e2e: Harness) -> None:
    account = new_meta_account(
        e2e.sandbox,
        name="Verified Sandbox Account",
        currency="EUR",
        timezone_name="Europe/Berlin",
        timezone_offset_hours_utc=1.0,
    )
    account_id = create_ad_account(e2e.client, account, "Ours")

    response = e2e.client.post(f"/api/v1/ad_accounts/{account_id}/verify")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["verified"] is True
    assert data["status"] == "ACTIVE"
    assert data["name"] == "Verified Sandbox Account"
    assert data["account_status"] == 1
    assert data["currency"] == "EUR"
    assert data["timezone_name"] == "Europe/Berlin"
    assert data["error"] is None
    reads = [r for r in e2e.sandbox_requests() if r["path"].endswith(f"/{account.act_id}")]
    assert len(reads) == 1 and reads[0]["method"] == "GET"


def test_verify_with_a_token_meta_does_not_know_requires_reauth(e2e: Harness) -> None:
    # An account Meta has, used with a token Meta never issued.
    known = new_meta_account(e2e.sandbox)
    unknown = MetaAccount(token="not-a-token-meta-issued", act_id=known.act_id, page_id="1")
    account_id = create_ad_account(e2e.client, unknown, "Unknown token")

    response = e2e.client.post(f"/api/v1/ad_accounts/{account_id}/verify")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["verified"] is False
    assert data["status"] == "REQUIRES_REAUTH"
    assert data["error"]["code"] == 190
    assert data["error"]["transient"] is False
    assert unknown.token not in response.content.decode()
    detail = e2e.client.get(f"/api/v1/ad_accounts/{account_id}")
    assert detail.json()["status"] == "REQUIRES_REAUTH"
    # Its jobs are refused until new credentials are verified.
    refused = e2e.client.post(
        "/api/v1/ads/meta", {**e2e.body(), "ad_account_id": account_id}, format="json"
    )
    assert refused.status_code == 400
    assert [e["attr"] for e in refused.json()["errors"]] == ["ad_account_id"]


def test_verify_when_meta_does_not_answer_changes_nothing(e2e: Harness) -> None:
    e2e.control("POST", "faults", fault="transient", path_contains=f"/{e2e.account.act_id}")
    # A 5xx is reported as a server error (got_request_exception); answer it as HTTP would.
    e2e.client.raise_request_exception = False
    response = e2e.client.post(f"/api/v1/ad_accounts/{e2e.account.id}/verify")
    assert response.status_code == 502, response.content
    assert e2e.account.token not in response.content.decode()
    assert e2e.account_detail()["status"] == "ACTIVE"
