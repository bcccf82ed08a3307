"""The API of webhooks: a team's webhook_url and secret, `callback_url` on submissions and
live-object requests (the address rules at accept time), `/webhook_deliveries` and its
tenancy, and the admin pages (never the secret)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from django.core.management import call_command
from django.test import Client, override_settings

from adaccounts.models import Team
from campaigns.models import Ad, AdSet, CampaignJob, JobStatus
from notifications.delivery import delivery_send
from notifications.models import WebhookDelivery
from tests.factories import AdAccountFactory, make_live_campaign
from tests.payloads import META_SUBMIT_URL, api_example
from tests.test_webhooks import Receiver, finish

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://hooks.example.com/mojito"


def team_url(team: Any, suffix: str = "") -> str:
    return f"/api/v1/teams/{team.pk}{suffix}"


def error_attrs(response: Any) -> set[str]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    return {error["attr"] for error in body["errors"]}


@pytest.fixture
def private_allowed(settings) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True


# --- Teams: webhook_url and the secret -----------------------------------------------------------


def test_the_patch_that_first_sets_a_webhook_url_shows_the_secret_once(caller, private_allowed):
    first = caller.client.patch(team_url(caller.team), {"webhook_url": PUBLIC_URL}, format="json")
    assert first.status_code == 200, first.content
    body = first.json()
    secret = body.pop("webhook_secret")
    assert secret.startswith("whsec_") and len(secret) > 40
    assert body == {
        "id": str(caller.team.pk),
        "name": caller.team.name,
        "webhook_url": PUBLIC_URL,
        "has_webhook_secret": True,
    }
    caller.team.refresh_from_db()
    assert caller.team.webhook_secret == secret

    again = caller.client.patch(
        team_url(caller.team), {"webhook_url": PUBLIC_URL + "/v2"}, format="json"
    )
    assert again.status_code == 200
    assert "webhook_secret" not in again.json()
    assert caller.client.get(team_url(caller.team)).json() == {
        "id": str(caller.team.pk),
        "name": caller.team.name,
        "webhook_url": PUBLIC_URL + "/v2",
        "has_webhook_secret": True,
    }
    listed = caller.client.get("/api/v1/teams").json()
    assert [team["webhook_url"] for team in listed] == [PUBLIC_URL + "/v2"]
    assert secret not in str(listed)


@pytest.mark.parametrize("cleared", [None, ""])
def test_a_webhook_url_is_cleared_with_null_or_empty(caller, private_allowed, cleared):
    caller.client.patch(team_url(caller.team), {"webhook_url": PUBLIC_URL}, format="json")
    response = caller.client.patch(team_url(caller.team), {"webhook_url": cleared}, format="json")
    assert response.status_code == 200
    assert response.json()["webhook_url"] is None
    assert response.json()["has_webhook_secret"] is True  # kept for the next webhook_url
    assert Team.objects.get(pk=caller.team.pk).webhook_url == ""


def test_a_new_secret_replaces_the_old_one_and_is_shown_once(caller, private_allowed):
    old = caller.client.patch(
        team_url(caller.team), {"webhook_url": PUBLIC_URL}, format="json"
    ).json()["webhook_secret"]
    response = caller.client.post(team_url(caller.team, "/webhook_secret"))
    assert response.status_code == 200
    (new,) = response.json().values()
    assert new != old and list(response.json()) == ["webhook_secret"]
    assert Team.objects.get(pk=caller.team.pk).webhook_secret == new
    assert new not in str(caller.client.get(team_url(caller.team)).json())


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:8000/hook", "private_address"),
        ("http://localhost/hook", "private_address"),
        ("http://169.254.169.254/latest/meta-data/", "private_address"),
        ("http://[::1]/hook", "private_address"),
        ("ftp://hooks.example.com/x", "url_scheme"),
        ("not a url", "invalid_url"),
        (["https://a.example"], "invalid"),
    ],
)
def test_a_webhook_url_follows_the_address_rules_of_media(caller, settings, url, code):
    settings.MEDIA_FETCH_ALLOW_PRIVATE = False
    response = caller.client.patch(team_url(caller.team), {"webhook_url": url}, format="json")
    assert error_attrs(response) == {"webhook_url"}
    assert response.json()["errors"][0]["code"] == code
    assert Team.objects.get(pk=caller.team.pk).webhook_url == ""


def test_a_patch_names_unknown_fields(caller, private_allowed):
    response = caller.client.patch(
        team_url(caller.team), {"webhook_url": PUBLIC_URL, "webhook_secret": "mine"}, format="json"
    )
    assert error_attrs(response) == {"webhook_secret"}


def test_another_teams_webhook_answers_404_and_staff_may_set_any(
    caller, other_caller, private_allowed
):
    theirs = other_caller.team
    body = {"webhook_url": PUBLIC_URL}
    assert caller.client.patch(team_url(theirs), body, format="json").status_code == 404
    assert caller.client.post(team_url(theirs, "/webhook_secret")).status_code == 404
    assert caller.client.get(team_url(theirs)).status_code == 404
    assert Team.objects.get(pk=theirs.pk).webhook_url == ""

    caller.user.is_staff = True
    caller.user.save()
    response = caller.client.patch(team_url(theirs), body, format="json")
    assert response.status_code == 200
    assert Team.objects.get(pk=theirs.pk).webhook_url == PUBLIC_URL
    # Staff see only their own teams listed, as before.
    assert [t["id"] for t in caller.client.get("/api/v1/teams").json()] == [str(caller.team.pk)]


def test_teams_need_authentication(caller):
    response = Client().patch(team_url(caller.team), {}, content_type="application/json")
    assert response.status_code == 401


# --- callback_url at accept time -----------------------------------------------------------------


def test_a_private_callback_url_is_refused_at_submission_naming_it(caller, settings):
    settings.MEDIA_FETCH_ALLOW_PRIVATE = False
    account = AdAccountFactory(team=caller.team)
    body = {**api_example(str(account.pk)), "callback_url": "http://10.0.0.5/cb"}
    response = caller.client.post(META_SUBMIT_URL, body, format="json")
    assert error_attrs(response) == {"callback_url"}
    assert "private" in response.json()["errors"][0]["detail"]

    # Named with every other bad field.
    body["campaign"]["objective"] = "NOPE"
    response = caller.client.post(META_SUBMIT_URL, body, format="json")
    assert error_attrs(response) == {"callback_url", "campaign.objective"}
    response = caller.client.post(f"{META_SUBMIT_URL}?validate_only=true", body, format="json")
    assert error_attrs(response) == {"callback_url", "campaign.objective"}
    assert not CampaignJob.objects.exists()


def test_a_callback_url_is_part_of_the_idempotent_body(caller, private_allowed):
    account = AdAccountFactory(team=caller.team)
    body = {**api_example(str(account.pk)), "callback_url": PUBLIC_URL}
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = caller.client.post(META_SUBMIT_URL, body, format="json", **headers)
    assert first.status_code == 202
    assert CampaignJob.objects.get(pk=first.json()["id"]).callback_url == PUBLIC_URL
    replay = caller.client.post(META_SUBMIT_URL, body, format="json", **headers)
    assert (replay.status_code, replay.json()["id"]) == (202, first.json()["id"])
    other = {**body, "callback_url": PUBLIC_URL + "/other"}
    assert caller.client.post(META_SUBMIT_URL, other, format="json", **headers).status_code == 422


@pytest.fixture
def live_campaign(caller) -> Any:
    return make_live_campaign(caller)


def test_live_object_requests_take_a_callback_url(caller, live_campaign, private_allowed):
    ad_set = AdSet.objects.get(campaign=live_campaign)
    ad = Ad.objects.get(ad_set=ad_set)
    campaign_url = f"/api/v1/campaigns/{live_campaign.pk}"
    requests = [
        ("patch", campaign_url, {"name": "Renamed", "callback_url": PUBLIC_URL + "/1"}),
        ("patch", f"/api/v1/ad_sets/{ad_set.pk}", {"name": "S", "callback_url": PUBLIC_URL + "/2"}),
        ("delete", f"/api/v1/ads/{ad.pk}?callback_url={PUBLIC_URL}/3", None),
    ]
    for method, path, body in requests:
        response = getattr(caller.client, method)(path, body, format="json")
        assert response.status_code == 202, response.content
        job = CampaignJob.objects.get(pk=response.json()["id"])
        assert job.callback_url.startswith(PUBLIC_URL)
        assert "callback_url" not in str(job.payload)
        # One job at a time per tree: the next request needs this one done.
        CampaignJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCESS)


def test_live_object_requests_refuse_a_private_callback_url_naming_it(
    caller, live_campaign, settings
):
    settings.MEDIA_FETCH_ALLOW_PRIVATE = False
    bad = "http://192.168.1.1/cb"
    campaign_url = f"/api/v1/campaigns/{live_campaign.pk}"
    patch = caller.client.patch(campaign_url, {"name": "", "callback_url": bad}, format="json")
    assert error_attrs(patch) == {"name", "callback_url"}
    delete = caller.client.delete(f"{campaign_url}?callback_url={bad}")
    assert error_attrs(delete) == {"callback_url"}
    added = caller.client.post(
        f"{campaign_url}/ad_sets", {"ad_sets": [], "callback_url": bad}, format="json"
    )
    assert "callback_url" in error_attrs(added)
    imported = caller.client.post(
        "/api/v1/campaigns/import",
        {
            "ad_account_id": str(live_campaign.ad_account_id),
            "platform_id": "99",
            "callback_url": bad,
        },
        format="json",
    )
    assert error_attrs(imported) == {"callback_url"}
    assert CampaignJob.objects.exclude(pk=live_campaign.job_id).count() == 0


# --- /webhook_deliveries -------------------------------------------------------------------------


def _delivered_job(caller: Any, receiver: Receiver, status: str = JobStatus.SUCCESS) -> Any:
    job = CampaignJob.objects.get(
        pk=caller.client.post(
            META_SUBMIT_URL,
            {
                **api_example(str(AdAccountFactory(team=caller.team).pk)),
                "callback_url": receiver.url("/cb"),
            },
            format="json",
        ).json()["id"]
    )
    finish(job, status)
    for delivery in WebhookDelivery.objects.filter(event__job=job):
        delivery_send(delivery_id=delivery.pk)
    return job


@pytest.fixture
def receiver():
    server = Receiver(statuses=(500,))
    yield server
    server.close()


def test_deliveries_are_listed_with_their_attempts_and_filtered(caller, receiver, private_allowed):
    failed_once = _delivered_job(caller, receiver)  # the receiver's first answer is 500
    delivered = _delivered_job(caller, receiver, JobStatus.FAILED)

    response = caller.client.get("/api/v1/webhook_deliveries")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2 and page["next"] is None
    newest, oldest = page["results"]
    assert (newest["job_id"], newest["type"], newest["status"]) == (
        str(delivered.pk),
        "job.failed",
        "DELIVERED",
    )
    assert (oldest["job_id"], oldest["status"], oldest["attempt_count"]) == (
        str(failed_once.pk),
        "PENDING",
        1,
    )
    (attempt,) = oldest["attempts"]
    assert (attempt["number"], attempt["succeeded"], attempt["status_code"]) == (1, False, 500)
    assert attempt["error"] == "HTTP 500 from host 127.0.0.1."
    assert oldest["target"] == "callback" and oldest["url"] == receiver.url("/cb")

    def ids(query: str) -> list[str]:
        answer = caller.client.get(f"/api/v1/webhook_deliveries?{query}")
        assert answer.status_code == 200, answer.content
        return [row["job_id"] for row in answer.json()["results"]]

    assert ids("type=job.succeeded") == [str(failed_once.pk)]
    assert ids("status=DELIVERED") == [str(delivered.pk)]
    assert ids(f"job_id={failed_once.pk}") == [str(failed_once.pk)]
    assert ids("target=webhook") == []
    assert caller.client.get("/api/v1/webhook_deliveries?status=NOPE").status_code == 400

    detail = caller.client.get(f"/api/v1/webhook_deliveries/{oldest['id']}").json()
    assert detail["event"]["type"] == "job.succeeded"
    assert detail["event"]["id"] == oldest["event_id"]
    assert detail["event"]["data"]["id"] == str(failed_once.pk)
    assert detail["attempts"] == oldest["attempts"]


def test_others_deliveries_answer_404_and_superusers_see_all(
    caller, other_caller, receiver, private_allowed, django_user_model
):
    mine = _delivered_job(caller, receiver)
    (delivery,) = WebhookDelivery.objects.filter(event__job=mine)

    assert other_caller.client.get("/api/v1/webhook_deliveries").json()["count"] == 0
    other = other_caller.client.get(f"/api/v1/webhook_deliveries/{delivery.pk}")
    assert other.status_code == 404
    missing = caller.client.get("/api/v1/webhook_deliveries/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert Client().get("/api/v1/webhook_deliveries").status_code == 401

    other_caller.user.is_superuser = True
    other_caller.user.save()
    assert other_caller.client.get("/api/v1/webhook_deliveries").json()["count"] == 1


# --- Admin: never the secret ----------------------------------------------------------------


def test_admin_pages_show_the_webhook_and_never_the_secret(
    caller, receiver, private_allowed, admin_client: Client
):
    canary = "whsec_canary-" + "c4n4ry" * 6
    job = _delivered_job(caller, receiver)
    Team.objects.filter(pk=caller.team.pk).update(
        webhook_secret=canary, webhook_url="https://hooks.example.com/in"
    )
    (delivery,) = WebhookDelivery.objects.filter(event__job=job)

    pages = [
        "/admin/adaccounts/team/",
        f"/admin/adaccounts/team/{caller.team.pk}/change/",
        "/admin/notifications/webhookdelivery/",
        f"/admin/notifications/webhookdelivery/{delivery.pk}/change/",
        "/admin/notifications/webhookdelivery/?status__exact=PENDING",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert canary not in html, page
        assert "c4n4ry" not in html, page
    team_page = admin_client.get(f"/admin/adaccounts/team/{caller.team.pk}/change/")
    assert "https://hooks.example.com/in" in team_page.content.decode()
    assert "Has webhook secret" in team_page.content.decode()
    delivery_page = admin_client.get(f"/admin/notifications/webhookdelivery/{delivery.pk}/change/")
    assert "HTTP 500 from host 127.0.0.1." in delivery_page.content.decode()


def test_the_admin_sends_a_delivery_again_now(
    caller, receiver, private_allowed, admin_client: Client, django_capture_on_commit_callbacks
):
    job = _delivered_job(caller, receiver)
    (delivery,) = WebhookDelivery.objects.filter(event__job=job)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="FAILED", next_attempt_at=None)

    with django_capture_on_commit_callbacks() as after_commit:
        response = admin_client.post(
            "/admin/notifications/webhookdelivery/",
            {"action": "send_now", "_selected_action": [str(delivery.pk)]},
        )
    assert response.status_code == 302
    assert len(after_commit) == 1
    delivery_send(delivery_id=delivery.pk)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "DELIVERED"
    assert len(receiver.received) == 2


# --- Key rotation --------------------------------------------------------------------------------


@contextmanager
def secret_keys(*keys: str) -> Iterator[None]:
    """FERNET_KEYS set to `keys` (newest first) for the team's secret field, which caches them."""
    field = Team._meta.get_field("webhook_secret").__dict__

    def forget() -> None:
        for name in ("keys", "fernet_keys", "fernet"):
            field.pop(name, None)

    forget()
    try:
        with override_settings(FERNET_KEYS=list(keys)):
            forget()
            yield
    finally:
        forget()


def test_rotate_credentials_reencrypts_webhook_secrets_under_the_newest_key(caller):
    with secret_keys("A"):
        Team.objects.filter(pk=caller.team.pk).update(webhook_secret="whsec_rotate-me")
    with secret_keys("B", "A"):
        out = StringIO()
        call_command("rotate_credentials", stdout=out)
        assert "webhook secrets of 1 teams" in out.getvalue()
        assert "whsec_rotate-me" not in out.getvalue()
    with secret_keys("B"):
        assert Team.objects.get(pk=caller.team.pk).webhook_secret == "whsec_rotate-me"
    with secret_keys("A"), pytest.raises(InvalidToken):
        Team.objects.get(pk=caller.team.pk)
