"""`/api/v1/campaigns`, `/api/v1/ad_sets`, `/api/v1/ads` as a client sees them: reads of live
objects, changes, archiving, additions and imports accepted as jobs, tenancy and cost
(API.md, "Live objects", "Jobs" and "Authentication and tenancy")."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns import live as live_services
from campaigns import services
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, Creative, JobStatus, ObjectChange
from platforms.base import PlatformType
from tests.broker import BrokerQueue
from tests.factories import (
    AdAccountFactory,
    TokenFactory,
    UserFactory,
    make_caller,
    make_live,
    make_live_campaign,
)
from tests.payloads import ad, ad_set, creative, tree

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns"
MISSING = "00000000-0000-4000-8000-000000000000"
LIVE_FIELDS = {
    "id",
    "platform_id",
    "name",
    "status",
    "effective_status",
    "review_feedback",
    "synced_at",
    "job_id",
    "created_at",
    "updated_at",
}


@pytest.fixture
def account(caller):
    return AdAccountFactory(team=caller.team, credentials={"access_token": "EAAB-live-canary"})


def submit(user: Any, account: Any, *, ad_sets: int = 1, ads: int = 1, name: str = "Spring sale"):
    """A campaign as `POST /api/v1/ads/meta` stores it: PENDING, nothing on Meta yet."""
    submission = services.job_submit(
        user=user,
        platform_type=PlatformType.META,
        data=tree(
            account.platform_account_id,
            ad_sets=ad_sets,
            ads=ads,
            image_url=None,
            campaign_name=name,
        ),
    )
    assert submission is not None
    return Campaign.objects.get(job=submission.job)


def live(user: Any, account: Any, **size: Any) -> Campaign:
    return make_live(submit(user, account, **size))


def first_ad_set(campaign: Campaign) -> AdSet:
    return AdSet.objects.filter(campaign=campaign).order_by("position").first()


def first_ad(campaign: Campaign) -> Ad:
    return Ad.objects.filter(ad_set__campaign=campaign).order_by("ad_set__position", "position")[0]


def url(kind: str, obj: Any, suffix: str = "") -> str:
    return f"/api/v1/{kind}/{getattr(obj, 'pk', obj)}{suffix}"


def assert_error(response: Any, status_code: int, code: str) -> None:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["type"] == "client_error"
    assert [error["code"] for error in body["errors"]] == [code]


def assert_accepted(response: Any, kind: str, object_type: str | None, object_id: Any) -> dict:
    """202 with the job as GET /api/v1/jobs/{id} shows it, and Location pointing there."""
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/jobs/{body['id']}"
    assert body["kind"] == kind
    assert body["status"] == "PENDING"
    assert body["object_type"] == object_type
    assert body["object_id"] == (str(object_id) if object_id else None)
    assert body["campaign"] is None
    assert "EAAB-live-canary" not in response.content.decode()
    return body


# --- Reads --------------------------------------------------------------------------------------


def test_the_list_shows_campaigns_newest_first_paginated_with_their_fields(caller, account):
    older = live(caller.user, account, name="Older")
    pending = submit(caller.user, account, name="Still being created")

    response = caller.client.get(CAMPAIGNS)

    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["next"], page["previous"]) == (2, None, None)
    first, second = page["results"]
    assert (first["id"], second["id"]) == (str(pending.pk), str(older.pk))
    assert set(first) >= LIVE_FIELDS | {"ad_account_id", "platform_type", "objective"}
    assert "ad_sets" not in first
    # A submission not yet on Meta is listed, with no Meta ID.
    assert (first["name"], first["platform_id"], first["status"]) == (
        "Still being created",
        None,
        "PAUSED",
    )
    assert second["platform_id"] == older.platform_id
    assert second["ad_account_id"] == str(account.pk)
    assert second["platform_type"] == "META"
    assert second["job_id"] == str(older.job_id)
    assert second["objective"] == "OUTCOME_TRAFFIC"
    assert second["special_ad_categories"] == []
    assert second["effective_status"] is None
    assert second["synced_at"] is None


def test_the_list_filters_by_account_status_effective_status_and_platform(caller, account):
    other_account = AdAccountFactory(team=caller.team)
    active = live(caller.user, account, name="Active")
    Campaign.objects.filter(pk=active.pk).update(status="ACTIVE", effective_status="ACTIVE")
    paused = live(caller.user, account, name="Paused")
    Campaign.objects.filter(pk=paused.pk).update(effective_status="CAMPAIGN_PAUSED")
    elsewhere = submit(caller.user, other_account, name="Elsewhere")

    def names(**query: str) -> list[str]:
        response = caller.client.get(CAMPAIGNS, query)
        assert response.status_code == 200, response.content
        return sorted(row["name"] for row in response.json()["results"])

    assert names(ad_account_id=str(other_account.pk)) == [elsewhere.name]
    assert names(status="ACTIVE") == ["Active"]
    assert names(status="PAUSED") == ["Elsewhere", "Paused"]
    assert names(effective_status="CAMPAIGN_PAUSED") == ["Paused"]
    assert names(platform_type="META") == ["Active", "Elsewhere", "Paused"]
    assert names(platform_type="GOOGLE_ADS") == []
    assert names(ad_account_id=str(account.pk), status="ACTIVE") == ["Active"]
    assert names(status="", ad_account_id="") == ["Active", "Elsewhere", "Paused"]


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ({"status": "RUNNING"}, "status"),
        ({"platform_type": "meta"}, "platform_type"),
        ({"ad_account_id": "act_123"}, "ad_account_id"),
    ],
)
def test_an_invalid_filter_answers_400_naming_it(caller, account, query, attr):
    response = caller.client.get(CAMPAIGNS, query)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [error["attr"] for error in response.json()["errors"]] == [attr]


def test_the_detail_has_the_tree_with_budgets_schedule_and_creatives(caller, account):
    campaign = live(caller.user, account, ad_sets=2, ads=2)
    AdSet.objects.filter(campaign=campaign, position=1).update(position=7)  # after position 0

    response = caller.client.get(url("campaigns", campaign))

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= LIVE_FIELDS
    assert (body["id"], body["platform_id"]) == (str(campaign.pk), campaign.platform_id)
    assert body["objective"] == "OUTCOME_TRAFFIC"
    assert body["buying_type"] == "AUCTION"
    assert (body["daily_budget"], body["lifetime_budget"], body["spend_cap"]) == (None,) * 3
    assert [s["name"] for s in body["ad_sets"]] == ["Ad set 0", "Ad set 1"]
    first = body["ad_sets"][0]
    stored = first_ad_set(campaign)
    assert set(first) >= LIVE_FIELDS | {"campaign_id", "ads"}
    assert (first["id"], first["platform_id"], first["campaign_id"]) == (
        str(stored.pk),
        stored.platform_id,
        str(campaign.pk),
    )
    assert first["daily_budget"] == 2000
    assert first["lifetime_budget"] is None
    assert (first["billing_event"], first["optimization_goal"]) == ("IMPRESSIONS", "LINK_CLICKS")
    assert first["start_time"] == "2030-01-01T00:00:00Z"
    assert first["end_time"] is None
    assert first["targeting"]["geo_locations"] == {"countries": ["US"]}
    assert [a["name"] for a in first["ads"]] == ["Ad 0.0", "Ad 0.1"]
    ad_row = first["ads"][0]
    stored_ad = Ad.objects.select_related("creative").get(pk=ad_row["id"])
    assert ad_row["platform_id"] == stored_ad.platform_id
    assert (ad_row["ad_set_id"], ad_row["campaign_id"]) == (str(stored.pk), str(campaign.pk))
    assert ad_row["creative"]["id"] == str(stored_ad.creative_id)
    assert ad_row["creative"]["platform_id"] == stored_ad.creative.platform_id
    assert ad_row["creative"]["name"] == "Ad 0.0 creative"
    assert "EAAB-live-canary" not in response.content.decode()


def test_an_ad_set_and_an_ad_answer_on_their_own_paths(caller, account):
    campaign = live(caller.user, account, ad_sets=1, ads=2)
    stored_set, stored_ad = first_ad_set(campaign), first_ad(campaign)

    ad_set_body = caller.client.get(url("ad_sets", stored_set)).json()
    ad_body = caller.client.get(url("ads", stored_ad)).json()

    assert ad_set_body["id"] == str(stored_set.pk)
    assert ad_set_body["ad_account_id"] == str(account.pk)
    assert ad_set_body["platform_type"] == "META"
    assert ad_set_body["daily_budget"] == 2000
    assert [a["name"] for a in ad_set_body["ads"]] == ["Ad 0.0", "Ad 0.1"]
    assert ad_body["id"] == str(stored_ad.pk)
    assert ad_body["platform_id"] == stored_ad.platform_id
    assert (ad_body["ad_set_id"], ad_body["campaign_id"], ad_body["ad_account_id"]) == (
        str(stored_set.pk),
        str(campaign.pk),
        str(account.pk),
    )
    assert ad_body["creative"]["platform_id"] == stored_ad.creative.platform_id


def test_synced_state_and_review_feedback_are_shown(caller, account):
    campaign = live(caller.user, account)
    feedback = {"global": {"Ad text": "Too much text in the image."}}
    now = timezone.now()
    Ad.objects.filter(pk=first_ad(campaign).pk).update(
        effective_status="DISAPPROVED", review_feedback=feedback, synced_at=now
    )

    body = caller.client.get(url("ads", first_ad(campaign))).json()

    assert body["effective_status"] == "DISAPPROVED"
    assert body["review_feedback"] == feedback
    assert body["synced_at"] is not None


@pytest.mark.parametrize("kind", ["campaigns", "ad_sets", "ads"])
def test_an_unknown_or_malformed_id_answers_404(caller, kind):
    assert_error(caller.client.get(url(kind, MISSING)), 404, "not_found")
    assert_error(caller.client.get(url(kind, "not-a-uuid")), 404, "not_found")
    assert_error(caller.client.patch(url(kind, MISSING), {}, format="json"), 404, "not_found")
    assert_error(caller.client.delete(url(kind, MISSING)), 404, "not_found")


def test_trailing_slashes_answer_directly_and_put_is_not_offered(caller, account):
    campaign = live(caller.user, account)

    assert caller.client.get(f"{CAMPAIGNS}/").status_code == 200
    assert caller.client.get(url("campaigns", campaign, "/")).status_code == 200
    assert caller.client.get(url("ad_sets", first_ad_set(campaign), "/")).status_code == 200
    assert caller.client.get(url("ads", first_ad(campaign), "/")).status_code == 200
    for kind, obj in (
        ("campaigns", campaign),
        ("ad_sets", first_ad_set(campaign)),
        ("ads", first_ad(campaign)),
    ):
        assert_error(
            caller.client.put(url(kind, obj), {"name": "x"}, format="json"),
            405,
            "method_not_allowed",
        )
    assert not CampaignJob.objects.exclude(pk=campaign.job_id).exists()


def test_the_live_api_needs_authentication(caller, account):
    campaign = live(caller.user, account)
    anonymous = APIClient()

    for response in (
        anonymous.get(CAMPAIGNS),
        anonymous.get(url("campaigns", campaign)),
        anonymous.patch(url("campaigns", campaign), {"name": "x"}, format="json"),
        anonymous.delete(url("ads", first_ad(campaign))),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Token")


# --- Tenancy ------------------------------------------------------------------------------------


def test_another_teams_objects_answer_404_exactly_like_missing_ones(caller, other_caller, account):
    campaign = live(caller.user, account)
    ad_set_row, ad_row = first_ad_set(campaign), first_ad(campaign)
    missing = other_caller.client.get(url("campaigns", MISSING)).json()
    them = other_caller.client

    answers = [
        them.get(url("campaigns", campaign)),
        them.get(url("ad_sets", ad_set_row)),
        them.get(url("ads", ad_row)),
        them.patch(url("campaigns", campaign), {"status": "ACTIVE"}, format="json"),
        them.patch(url("ad_sets", ad_set_row), {"name": "Theirs"}, format="json"),
        them.patch(url("ads", ad_row), {"status": "ACTIVE"}, format="json"),
        them.delete(url("campaigns", campaign)),
        them.delete(url("ad_sets", ad_set_row)),
        them.delete(url("ads", ad_row)),
        them.post(url("campaigns", campaign, "/ad_sets"), {"ad_sets": []}, format="json"),
        them.post(url("ad_sets", ad_set_row, "/ads"), {"ads": []}, format="json"),
    ]

    for response in answers:
        assert response.status_code == 404
        assert response.json() == missing
    assert them.get(CAMPAIGNS).json()["count"] == 0
    assert them.get(CAMPAIGNS, {"ad_account_id": str(account.pk)}).json()["count"] == 0
    assert CampaignJob.objects.count() == 1


def test_objects_of_a_deleted_account_are_gone_for_everyone(caller, account):
    campaign = live(caller.user, account)
    admin = UserFactory(is_superuser=True, is_staff=True)
    superuser = APIClient()
    superuser.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=admin).key}")
    assert caller.client.delete(f"/api/v1/ad_accounts/{account.pk}").status_code == 204

    for client in (caller.client, superuser):
        assert client.get(CAMPAIGNS).json()["count"] == 0
        assert client.get(url("campaigns", campaign)).status_code == 404
        assert client.get(url("ads", first_ad(campaign))).status_code == 404
        assert client.delete(url("campaigns", campaign)).status_code == 404


def test_a_superuser_sees_every_teams_campaigns(caller, other_caller, account):
    mine = live(caller.user, account)
    theirs = live(other_caller.user, AdAccountFactory(team=other_caller.team))
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=admin).key}")

    page = client.get(CAMPAIGNS).json()

    assert sorted(row["id"] for row in page["results"]) == sorted([str(mine.pk), str(theirs.pk)])
    assert client.get(url("campaigns", theirs)).status_code == 200


# --- Cost ---------------------------------------------------------------------------------------


def count_queries(client: APIClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(queries.captured_queries)


def test_the_list_costs_the_same_queries_whatever_the_number_of_campaigns(caller, account):
    live(caller.user, account)
    count_queries(caller.client, CAMPAIGNS)  # warm-up
    one = count_queries(caller.client, CAMPAIGNS)

    for _ in range(4):
        live(caller.user, account, ad_sets=3, ads=2)
    submit(caller.user, AdAccountFactory(team=caller.team))

    assert count_queries(caller.client, CAMPAIGNS) == one
    # Authentication, the count and the page.
    assert one <= 3


def test_a_detail_costs_the_same_queries_whatever_the_tree_size(caller, account):
    small = live(caller.user, account, ad_sets=1, ads=1)
    large = live(caller.user, account, ad_sets=4, ads=5)
    count_queries(caller.client, url("campaigns", small))  # warm-up

    campaign_queries = count_queries(caller.client, url("campaigns", small))
    assert count_queries(caller.client, url("campaigns", large)) == campaign_queries
    # Authentication, the campaign, its ad sets, their ads.
    assert campaign_queries <= 4
    small_set = count_queries(caller.client, url("ad_sets", first_ad_set(small)))
    assert count_queries(caller.client, url("ad_sets", first_ad_set(large))) == small_set
    assert small_set <= 3
    assert count_queries(caller.client, url("ads", first_ad(large))) <= 2


# --- Changes ------------------------------------------------------------------------------------


def test_a_campaign_change_is_accepted_as_an_update_job_and_leaves_the_row_as_it_was(
    caller, account, broker_queue: BrokerQueue, django_capture_on_commit_callbacks
):
    campaign = live(caller.user, account)

    with django_capture_on_commit_callbacks(execute=True):
        response = caller.client.patch(
            url("campaigns", campaign), {"name": "Summer sale", "status": "ACTIVE"}, format="json"
        )

    job = assert_accepted(response, "UPDATE", "campaign", campaign.pk)
    assert job["ad_account_id"] == str(account.pk)
    assert job["platform_campaign_id"] == campaign.platform_id
    assert broker_queue.job_ids() == [job["id"]]
    assert caller.client.get(f"/api/v1/jobs/{job['id']}").json() == job
    # Meta has not accepted it yet: the campaign reads as before.
    body = caller.client.get(url("campaigns", campaign)).json()
    assert (body["name"], body["status"]) == ("Spring sale", "PAUSED")


def test_an_ad_set_and_an_ad_change_are_update_jobs(caller, account):
    campaign = live(caller.user, account)
    ad_set_row, ad_row = first_ad_set(campaign), first_ad(campaign)

    set_response = caller.client.patch(
        url("ad_sets", ad_set_row), {"daily_budget": 3000}, format="json"
    )
    ad_response = caller.client.patch(url("ads", ad_row), {"status": "ACTIVE"}, format="json")

    assert_accepted(set_response, "UPDATE", "ad_set", ad_set_row.pk)
    assert_accepted(ad_response, "UPDATE", "ad", ad_row.pk)


def test_an_ad_change_of_creative_plans_a_new_creative_and_keeps_the_old_one(caller, account):
    campaign = live(caller.user, account)
    ad_row = first_ad(campaign)

    response = caller.client.patch(
        url("ads", ad_row), {"creative": creative("Autumn creative")}, format="json"
    )

    job = assert_accepted(response, "UPDATE", "ad", ad_row.pk)
    [new] = Creative.objects.filter(job_id=job["id"])
    assert (new.name, new.platform_id) == ("Autumn creative", None)
    # Swapped in only once Meta accepted it.
    body = caller.client.get(url("ads", ad_row)).json()
    assert body["creative"]["id"] == str(ad_row.creative_id)


def test_a_change_of_a_field_that_cannot_change_is_a_400_naming_it(caller, account):
    campaign = live(caller.user, account)

    response = caller.client.patch(
        url("campaigns", campaign), {"objective": "OUTCOME_SALES"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [
        ("objective", "unknown_field")
    ]


def test_a_cascading_status_change_covers_the_campaigns_live_ad_sets_and_ads(caller, account):
    campaign = live(caller.user, account, ad_sets=2, ads=2)

    response = caller.client.patch(
        url("campaigns", campaign, "?cascade=true"), {"status": "ACTIVE"}, format="json"
    )

    job = assert_accepted(response, "UPDATE", "campaign", campaign.pk)
    changed = set(ObjectChange.objects.filter(job_id=job["id"]).values_list("object_id", flat=True))
    expected = {campaign.pk}
    expected |= set(AdSet.objects.filter(campaign=campaign).values_list("pk", flat=True))
    expected |= set(Ad.objects.filter(ad_set__campaign=campaign).values_list("pk", flat=True))
    assert changed == expected


def test_an_invalid_cascade_flag_is_a_400_naming_it(caller, account):
    campaign = live(caller.user, account)

    response = caller.client.patch(
        url("campaigns", campaign, "?cascade=maybe"), {"status": "ACTIVE"}, format="json"
    )

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["cascade"]
    assert CampaignJob.objects.count() == 1


def test_a_bad_change_answers_400_naming_every_bad_field_and_stores_nothing(caller, account):
    campaign = live(caller.user, account)

    response = caller.client.patch(
        url("ad_sets", first_ad_set(campaign)),
        {"name": "", "daily_budget": -5, "bid_amount": "lots"},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    attrs = {error["attr"] for error in response.json()["errors"]}
    assert attrs == {"name", "daily_budget", "bid_amount"}
    assert CampaignJob.objects.count() == 1


def test_a_change_body_that_is_not_json_is_refused(caller, account):
    campaign = live(caller.user, account)

    response = caller.client.patch(
        url("campaigns", campaign), "name=x", content_type="application/x-www-form-urlencoded"
    )

    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("job_status", [JobStatus.PENDING, JobStatus.PROCESSING])
def test_an_object_still_being_created_answers_409(caller, account, job_status):
    campaign = submit(caller.user, account)
    CampaignJob.objects.filter(pk=campaign.job_id).update(status=job_status)

    answers = [
        caller.client.patch(url("campaigns", campaign), {"status": "ACTIVE"}, format="json"),
        caller.client.patch(url("ads", first_ad(campaign)), {"name": "x"}, format="json"),
        caller.client.delete(url("ad_sets", first_ad_set(campaign))),
        caller.client.post(
            url("campaigns", campaign, "/ad_sets"),
            {"ad_sets": [ad_set("More", [ad("More ad")])]},
            format="json",
        ),
    ]

    for response in answers:
        assert_error(response, 409, "conflict")
    assert CampaignJob.objects.count() == 1


def test_an_object_its_failed_job_never_created_answers_409(caller, account):
    campaign = submit(caller.user, account)
    CampaignJob.objects.filter(pk=campaign.job_id).update(status=JobStatus.FAILED)

    assert_error(caller.client.delete(url("campaigns", campaign)), 409, "conflict")


def test_cascade_on_an_ad_set_or_an_ad_is_a_400_not_ignored(caller, account):
    campaign = live(caller.user, account)
    for kind, obj in (("ad_sets", first_ad_set(campaign)), ("ads", first_ad(campaign))):
        response = caller.client.patch(
            url(kind, obj) + "?cascade=true", {"status": "ACTIVE"}, format="json"
        )
        assert response.status_code == 400, response.content
        assert [e["attr"] for e in response.json()["errors"]] == ["cascade"]
    assert not CampaignJob.objects.exclude(pk=campaign.job_id).exists()


def test_importing_into_a_platform_mojito_runs_no_jobs_on_is_a_400(caller):
    account = AdAccountFactory(
        team=caller.team, platform_type="GOOGLE_ADS", platform_account_id="123-456-7890"
    )
    response = caller.client.post(
        f"{CAMPAIGNS}/import",
        {"ad_account_id": str(account.pk), "platform_type": "GOOGLE_ADS", "platform_id": "42"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "platform_type" in [e["attr"] for e in response.json()["errors"]]
    assert not CampaignJob.objects.exists()


@pytest.mark.parametrize("platform_type", ["NOPE", {"not": "a string"}, ["META"]])
def test_importing_on_an_unknown_platform_by_its_account_id_is_a_400(caller, platform_type):
    # A platform's account ID is read with that platform's spec: an unknown platform_type (not
    # a PlatformType choice) has none, and is a 400 naming it whatever the ID looks like.
    response = caller.client.post(
        f"{CAMPAIGNS}/import",
        {"ad_account_id": "act_123", "platform_type": platform_type, "platform_id": "42"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "platform_type" in [e["attr"] for e in response.json()["errors"]]


@pytest.mark.parametrize("status", ["REQUIRES_REAUTH", "INACTIVE", "SUSPENDED"])
def test_objects_of_an_account_that_cannot_run_jobs_answer_409_saying_why(caller, account, status):
    campaign = live(caller.user, account)
    account.status = status
    account.save()
    jobs = CampaignJob.objects.count()

    response = caller.client.patch(url("campaigns", campaign), {"name": "x"}, format="json")

    assert_error(response, 409, "conflict")
    assert status in response.json()["errors"][0]["detail"]
    assert_error(caller.client.delete(url("ads", first_ad(campaign))), 409, "conflict")
    assert CampaignJob.objects.count() == jobs


def test_an_archived_object_is_not_archived_again(caller, account):
    campaign = live(caller.user, account)
    Campaign.objects.filter(pk=campaign.pk).update(status="ARCHIVED")

    assert_error(caller.client.delete(url("campaigns", campaign)), 409, "conflict")


# --- Archiving ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["campaigns", "ad_sets", "ads"])
def test_delete_archives_as_a_job_and_deletes_nothing(caller, account, kind):
    campaign = live(caller.user, account)
    obj = {"campaigns": campaign, "ad_sets": first_ad_set(campaign), "ads": first_ad(campaign)}[
        kind
    ]
    object_type = {"campaigns": "campaign", "ad_sets": "ad_set", "ads": "ad"}[kind]

    response = caller.client.delete(url(kind, obj))

    assert_accepted(response, "ARCHIVE", object_type, obj.pk)
    assert caller.client.get(url(kind, obj)).status_code == 200
    [change] = ObjectChange.objects.filter(job_id=response.json()["id"])
    assert change.values == {"status": "ARCHIVED"}


# --- Additions ----------------------------------------------------------------------------------


def test_ad_sets_added_to_a_live_campaign_are_a_create_job_and_appear_in_it(caller, account):
    campaign = live(caller.user, account)
    body = {"ad_sets": [ad_set("Added set", [ad("Added ad")])]}

    response = caller.client.post(url("campaigns", campaign, "/ad_sets"), body, format="json")

    job = assert_accepted(response, "CREATE", "campaign", campaign.pk)
    tree_body = caller.client.get(url("campaigns", campaign)).json()
    assert [s["name"] for s in tree_body["ad_sets"]] == ["Ad set 0", "Added set"]
    added = tree_body["ad_sets"][1]
    assert (added["platform_id"], added["job_id"]) == (None, job["id"])
    assert [a["name"] for a in added["ads"]] == ["Added ad"]


def test_ads_added_to_a_live_ad_set_are_a_create_job(caller, account):
    campaign = live(caller.user, account)
    ad_set_row = first_ad_set(campaign)

    response = caller.client.post(
        url("ad_sets", ad_set_row, "/ads"), {"ads": [ad("Added ad")]}, format="json"
    )

    job = assert_accepted(response, "CREATE", "ad_set", ad_set_row.pk)
    ads = caller.client.get(url("ad_sets", ad_set_row)).json()["ads"]
    assert [(a["name"], a["job_id"]) for a in ads] == [
        ("Ad 0.0", str(campaign.job_id)),
        ("Added ad", job["id"]),
    ]


def test_bad_additions_answer_400_naming_the_fields(caller, account):
    campaign = live(caller.user, account)
    broken = ad_set("Broken", [ad("Ad")], targeting={"age_min": 18})

    response = caller.client.post(
        url("campaigns", campaign, "/ad_sets"), {"ad_sets": [broken]}, format="json"
    )

    assert response.status_code == 400, response.content
    attrs = [error["attr"] for error in response.json()["errors"]]
    assert "ad_sets.0.targeting.geo_locations" in attrs
    assert CampaignJob.objects.count() == 1


# --- Import -------------------------------------------------------------------------------------


def test_an_import_is_an_import_job_and_a_second_one_of_the_same_campaign_is_409(
    caller, account, broker_queue: BrokerQueue, django_capture_on_commit_callbacks
):
    body = {"ad_account_id": str(account.pk), "platform_id": "120219999999999"}

    with django_capture_on_commit_callbacks(execute=True):
        first = caller.client.post(f"{CAMPAIGNS}/import", body, format="json")
    again = caller.client.post(f"{CAMPAIGNS}/import/", body, format="json")

    job = assert_accepted(first, "IMPORT", "campaign", None)
    assert job["platform_campaign_id"] == "120219999999999"
    assert job["ad_account_id"] == str(account.pk)
    assert broker_queue.job_ids() == [job["id"]]
    assert_error(again, 409, "conflict")
    # Nothing is listed until the import has created the rows.
    assert caller.client.get(CAMPAIGNS).json()["count"] == 0


def test_importing_a_campaign_already_here_is_409(caller, account):
    campaign = live(caller.user, account)
    body = {"ad_account_id": account.platform_account_id, "platform_id": campaign.platform_id}

    assert_error(caller.client.post(f"{CAMPAIGNS}/import", body, format="json"), 409, "conflict")


def test_a_bad_import_names_every_bad_field_and_hides_other_teams_accounts(
    caller, other_caller, account
):
    theirs = AdAccountFactory(team=other_caller.team)

    empty = caller.client.post(f"{CAMPAIGNS}/import", {}, format="json")
    foreign = caller.client.post(
        f"{CAMPAIGNS}/import",
        {"ad_account_id": str(theirs.pk), "platform_id": "1202"},
        format="json",
    )

    assert empty.status_code == 400
    assert {e["attr"] for e in empty.json()["errors"]} == {"ad_account_id", "platform_id"}
    assert foreign.status_code == 400
    assert [e["attr"] for e in foreign.json()["errors"]] == ["ad_account_id"]
    assert not CampaignJob.objects.exists()


# --- The job's shape ----------------------------------------------------------------------------


def test_a_submission_job_names_no_object_and_live_jobs_render_in_the_jobs_list(caller, account):
    campaign = live(caller.user, account)
    change = caller.client.patch(url("ads", first_ad(campaign)), {"name": "x"}, format="json")

    rows = {row["id"]: row for row in caller.client.get("/api/v1/jobs").json()["results"]}
    submission = caller.client.get(f"/api/v1/jobs/{campaign.job_id}").json()

    assert (submission["kind"], submission["object_type"], submission["object_id"]) == (
        "CREATE",
        None,
        None,
    )
    assert submission["campaign"]["id"] == str(campaign.pk)
    update = rows[change.json()["id"]]
    assert (update["kind"], update["object_type"], update["campaign"]) == ("UPDATE", "ad", None)


@pytest.mark.django_db(transaction=True)
def test_changes_of_one_campaign_are_accepted_one_at_a_time():
    """A change accepted while another of the same tree is being stored waits for it: the
    later one's `created_at`, which orders them on the worker, is then surely later, and the
    earlier one is committed before the later can be claimed."""
    caller = make_caller()
    campaign = make_live_campaign(caller)
    ad_set = AdSet.objects.get(campaign=campaign)
    inserted, release = threading.Event(), threading.Event()
    done: dict[str, Any] = {}

    def held_after_insert(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if 'INSERT INTO "campaign_jobs"' in sql:
            inserted.set()
            release.wait(10)
        return result

    def first() -> None:
        try:
            with connection.execute_wrapper(held_after_insert):
                done["first"] = live_services.live_change_submit(
                    user=caller.user, object_type="campaign", obj=campaign, data={"name": "A"}
                )
        finally:
            connection.close()

    def second() -> None:
        try:
            done["second"] = live_services.live_change_submit(
                user=caller.user, object_type="ad_set", obj=ad_set, data={"name": "B"}
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert inserted.wait(10)
    threads.append(threading.Thread(target=second))
    threads[1].start()
    threads[1].join(0.5)
    blocked = threads[1].is_alive()
    release.set()
    for thread in threads:
        thread.join(10)

    assert blocked, "the second change was stored while the first was still uncommitted"
    assert done["first"].created_at < done["second"].created_at
