"""`/api/v1/jobs` as a client sees it: list, detail with the tree, cancel, retry, tenancy
(API.md, "Jobs" and "Authentication and tenancy")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns import services
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, JobStatus
from platforms.base import PlatformType
from tests.broker import BrokerQueue
from tests.factories import AdAccountFactory, CampaignJobFactory, TokenFactory, UserFactory
from tests.payloads import tree

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/jobs"
MISSING_JOB = "00000000-0000-4000-8000-000000000000"
META_ERROR = {
    "message": "Invalid parameter",
    "code": 100,
    "subcode": 1487390,
    "type": "OAuthException",
    "fbtrace_id": "AbCdEf123",
    "user_title": "Ad set budget too low",
    "user_message": "Raise the budget to at least 1.00 USD.",
    "transient": False,
    "step": "ad_set:1",
}
JOB_FIELDS = {
    "id",
    "status",
    "platform_type",
    "ad_account_id",
    "attempts",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "platform_campaign_id",
    "campaign",
    "error",
}


def detail_url(job: Any) -> str:
    return f"{LIST_URL}/{getattr(job, 'pk', job)}"


@pytest.fixture
def account(caller):
    return AdAccountFactory(team=caller.team)


def submit(user: Any, account: Any, *, ad_sets: int = 1, ads: int = 1) -> CampaignJob:
    """A job with a real plan, as `POST /api/v1/ads/meta` stores it."""
    submission = services.job_submit(
        user=user,
        platform_type=PlatformType.META,
        data=tree(account.platform_account_id, ad_sets=ad_sets, ads=ads, image_url=None),
    )
    assert submission is not None
    return submission.job


def set_status(job: CampaignJob, status: str) -> CampaignJob:
    now = timezone.now()
    finished = now if status in {"SUCCESS", "FAILED", "PARTIAL_SUCCESS", "CANCELLED"} else None
    CampaignJob.objects.filter(pk=job.pk).update(status=status, finished_at=finished)
    job.refresh_from_db()
    return job


def assert_api_error(response: Any, status_code: int, code: str) -> None:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["type"] == "client_error"
    [error] = body["errors"]
    assert set(error) == {"attr", "code", "detail"}
    assert error["code"] == code
    assert error["detail"]


# --- List ---------------------------------------------------------------------------------------


def test_the_list_is_paginated_newest_first(caller, account):
    jobs = [CampaignJobFactory(ad_account=account) for _ in range(51)]
    start = timezone.now() - timedelta(days=1)
    for minutes, job in enumerate(jobs):
        CampaignJob.objects.filter(pk=job.pk).update(created_at=start + timedelta(minutes=minutes))
    newest_first = [str(job.pk) for job in reversed(jobs)]

    first = caller.client.get(LIST_URL)

    assert first.status_code == 200
    page = first.json()
    assert set(page) >= {"count", "next", "previous", "results"}
    assert page["count"] == 51
    assert page["previous"] is None
    assert [row["id"] for row in page["results"]] == newest_first[:50]
    second = caller.client.get(page["next"])
    assert second.status_code == 200
    assert [row["id"] for row in second.json()["results"]] == newest_first[50:]
    assert second.json()["next"] is None


def test_list_rows_carry_the_job_fields_and_the_campaign_name(caller, account):
    job = submit(caller.user, account)

    [row] = caller.client.get(LIST_URL).json()["results"]

    assert row["id"] == str(job.pk)
    assert row["status"] == "PENDING"
    assert row["ad_account_id"] == str(account.pk)
    assert row["platform_type"] == "META"
    assert row["campaign"]["name"] == "Spring sale"


def test_the_list_filters_by_status(caller, account):
    pending = CampaignJobFactory(ad_account=account)
    failed = CampaignJobFactory(ad_account=account, status=JobStatus.FAILED)
    CampaignJobFactory(ad_account=account, status=JobStatus.SUCCESS)

    failed_page = caller.client.get(LIST_URL, {"status": "FAILED"}).json()
    pending_page = caller.client.get(LIST_URL, {"status": "PENDING"}).json()

    assert [row["id"] for row in failed_page["results"]] == [str(failed.pk)]
    assert [row["id"] for row in pending_page["results"]] == [str(pending.pk)]
    assert caller.client.get(LIST_URL, {"status": "CANCELLED"}).json()["count"] == 0


def test_the_list_filters_by_ad_account_id(caller, account):
    second_account = AdAccountFactory(team=caller.team)
    mine = CampaignJobFactory(ad_account=account)
    CampaignJobFactory(ad_account=second_account)
    failed = CampaignJobFactory(ad_account=account, status=JobStatus.FAILED)

    page = caller.client.get(LIST_URL, {"ad_account_id": str(account.pk)}).json()
    both = caller.client.get(LIST_URL, {"ad_account_id": str(account.pk), "status": "FAILED"})

    assert sorted(row["id"] for row in page["results"]) == sorted([str(mine.pk), str(failed.pk)])
    assert [row["id"] for row in both.json()["results"]] == [str(failed.pk)]


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ({"status": "DONE"}, "status"),
        ({"status": "pending"}, "status"),
        ({"ad_account_id": "act_123"}, "ad_account_id"),
        ({"ad_account_id": "not-a-uuid"}, "ad_account_id"),
    ],
)
def test_an_invalid_filter_value_answers_400_naming_it(caller, account, query, attr):
    CampaignJobFactory(ad_account=account)

    response = caller.client.get(LIST_URL, query)

    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert [error["attr"] for error in response.json()["errors"]] == [attr]


# --- Detail -------------------------------------------------------------------------------------


def test_the_detail_has_every_api_md_field_and_the_tree_in_position_order(caller, account):
    job = submit(caller.user, account, ad_sets=3, ads=3)
    campaign = Campaign.objects.get(job=job)
    # Reorder behind creation order: the API must follow `position`, not insertion.
    first, _, last = AdSet.objects.filter(campaign=campaign).order_by("position")
    AdSet.objects.filter(pk=first.pk).update(position=99)
    AdSet.objects.filter(pk=last.pk).update(position=0)
    AdSet.objects.filter(pk=first.pk).update(position=2)
    ads = list(Ad.objects.filter(ad_set=last).order_by("position"))
    Ad.objects.filter(pk=ads[0].pk).update(position=99)
    Ad.objects.filter(pk=ads[2].pk).update(position=0)
    Ad.objects.filter(pk=ads[0].pk).update(position=2)
    # A job that got part of the way, with Meta's error.
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(platform_id="120210000000001")
    AdSet.objects.filter(pk=last.pk).update(platform_id="120210000000002")
    Ad.objects.filter(pk=ads[2].pk).update(platform_id="120210000000003")
    ads[2].creative.platform_id = "120210000000004"
    ads[2].creative.save()
    CampaignJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PARTIAL_SUCCESS,
        attempts=2,
        started_at=now - timedelta(minutes=1),
        finished_at=now,
        platform_campaign_id="120210000000001",
        error=META_ERROR,
    )

    response = caller.client.get(detail_url(job))

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= JOB_FIELDS
    assert body["id"] == str(job.pk)
    assert body["status"] == "PARTIAL_SUCCESS"
    assert body["platform_type"] == "META"
    assert body["ad_account_id"] == str(account.pk)
    assert body["attempts"] == 2
    assert body["started_at"] and body["finished_at"] and body["created_at"] and body["updated_at"]
    assert body["platform_campaign_id"] == "120210000000001"
    assert body["error"] == META_ERROR
    assert (body["campaign"]["name"], body["campaign"]["platform_id"]) == (
        "Spring sale",
        "120210000000001",
    )
    ad_sets = body["campaign"]["ad_sets"]
    assert [s["name"] for s in ad_sets] == ["Ad set 2", "Ad set 1", "Ad set 0"]
    assert [s["platform_id"] for s in ad_sets] == ["120210000000002", None, None]
    assert [a["name"] for a in ad_sets[0]["ads"]] == ["Ad 2.2", "Ad 2.1", "Ad 2.0"]
    assert [a["platform_id"] for a in ad_sets[0]["ads"]] == ["120210000000003", None, None]
    assert [a["creative"]["platform_id"] for a in ad_sets[0]["ads"]] == [
        "120210000000004",
        None,
        None,
    ]
    assert [a["name"] for a in ad_sets[1]["ads"]] == ["Ad 1.0", "Ad 1.1", "Ad 1.2"]


def test_an_unknown_or_malformed_job_id_answers_404(caller):
    assert_api_error(caller.client.get(detail_url(MISSING_JOB)), 404, "not_found")
    assert_api_error(caller.client.get(detail_url("not-a-uuid")), 404, "not_found")


def test_the_jobs_api_needs_authentication(caller, account):
    job = CampaignJobFactory(ad_account=account)
    anonymous = APIClient()

    for response in (
        anonymous.get(LIST_URL),
        anonymous.get(detail_url(job)),
        anonymous.post(f"{detail_url(job)}/cancel"),
        anonymous.post(f"{detail_url(job)}/retry"),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Token")
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING


# --- Tenancy ------------------------------------------------------------------------------------


def test_another_teams_job_answers_404_exactly_like_a_missing_one(caller, other_caller, account):
    pending = CampaignJobFactory(ad_account=account)
    failed = CampaignJobFactory(ad_account=account, status=JobStatus.FAILED)
    missing = other_caller.client.get(detail_url(MISSING_JOB)).json()

    answers = [
        other_caller.client.get(detail_url(pending)),
        other_caller.client.post(f"{detail_url(pending)}/cancel"),
        other_caller.client.post(f"{detail_url(failed)}/retry"),
    ]

    for response in answers:
        assert response.status_code == 404
        assert response.json() == missing
    pending.refresh_from_db()
    failed.refresh_from_db()
    assert (pending.status, failed.status) == (JobStatus.PENDING, JobStatus.FAILED)


def test_another_teams_jobs_are_absent_from_the_list_and_its_filters(caller, other_caller, account):
    CampaignJobFactory(ad_account=account)
    theirs = CampaignJobFactory(ad_account=AdAccountFactory(team=other_caller.team))

    page = caller.client.get(LIST_URL).json()
    filtered = caller.client.get(LIST_URL, {"ad_account_id": str(theirs.ad_account_id)}).json()
    their_page = other_caller.client.get(LIST_URL).json()

    assert str(theirs.pk) not in [row["id"] for row in page["results"]]
    assert page["count"] == 1
    assert filtered["count"] == 0
    assert [row["id"] for row in their_page["results"]] == [str(theirs.pk)]


def test_a_superuser_sees_and_acts_on_every_teams_jobs(caller, other_caller, account):
    mine = CampaignJobFactory(ad_account=account)
    theirs = CampaignJobFactory(ad_account=AdAccountFactory(team=other_caller.team))
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=admin).key}")

    page = client.get(LIST_URL).json()

    assert sorted(row["id"] for row in page["results"]) == sorted([str(mine.pk), str(theirs.pk)])
    assert client.get(detail_url(theirs)).status_code == 200
    assert client.post(f"{detail_url(theirs)}/cancel").status_code == 200


# --- Cancel -------------------------------------------------------------------------------------


def test_cancel_moves_a_pending_job_to_cancelled(caller, account):
    job = submit(caller.user, account)

    response = caller.client.post(f"{detail_url(job)}/cancel")

    assert response.status_code == 200
    assert response.json()["id"] == str(job.pk)
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["finished_at"]
    assert response.json()["campaign"]["name"] == "Spring sale"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert caller.client.get(detail_url(job)).json()["status"] == "CANCELLED"


@pytest.mark.parametrize("status", [s for s in JobStatus if s != JobStatus.PENDING])
def test_cancel_answers_409_for_a_job_that_is_not_pending(caller, account, status):
    job = CampaignJobFactory(ad_account=account, status=status)

    response = caller.client.post(f"{detail_url(job)}/cancel")

    assert_api_error(response, 409, "conflict")
    job.refresh_from_db()
    assert job.status == status


# --- Retry --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.PARTIAL_SUCCESS])
def test_retry_answers_202_publishes_the_job_and_keeps_the_platform_ids(
    caller, account, broker_queue: BrokerQueue, django_capture_on_commit_callbacks, status
):
    job = set_status(submit(caller.user, account, ad_sets=2, ads=1), status)
    campaign = Campaign.objects.get(job=job)
    Campaign.objects.filter(pk=campaign.pk).update(platform_id="120210000000001")
    done_set = AdSet.objects.get(campaign=campaign, position=0)
    AdSet.objects.filter(pk=done_set.pk).update(platform_id="120210000000002")

    with django_capture_on_commit_callbacks(execute=True):
        response = caller.client.post(f"{detail_url(job)}/retry")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["id"], body["status"]) == (str(job.pk), "PENDING")
    assert body["finished_at"] is None
    assert body["campaign"]["platform_id"] == "120210000000001"
    assert [s["platform_id"] for s in body["campaign"]["ad_sets"]] == ["120210000000002", None]
    assert broker_queue.job_ids() == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert Campaign.objects.get(pk=campaign.pk).platform_id == "120210000000001"
    assert AdSet.objects.get(pk=done_set.pk).platform_id == "120210000000002"


@pytest.mark.parametrize(
    "status",
    [JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.SUCCESS, JobStatus.CANCELLED],
)
def test_retry_answers_409_for_a_job_that_did_not_fail(
    caller, account, broker_queue: BrokerQueue, django_capture_on_commit_callbacks, status
):
    job = CampaignJobFactory(ad_account=account, status=status)

    with django_capture_on_commit_callbacks(execute=True):
        response = caller.client.post(f"{detail_url(job)}/retry")

    assert_api_error(response, 409, "conflict")
    job.refresh_from_db()
    assert job.status == status
    assert broker_queue.job_ids() == []


# --- Paths and cost -----------------------------------------------------------------------------


def test_trailing_slash_variants_answer_directly(caller, account):
    pending = CampaignJobFactory(ad_account=account)
    failed = CampaignJobFactory(ad_account=account, status=JobStatus.FAILED)

    listed = caller.client.get(f"{LIST_URL}/")
    detail = caller.client.get(f"{detail_url(pending)}/")
    cancelled = caller.client.post(f"{detail_url(pending)}/cancel/")
    retried = caller.client.post(f"{detail_url(failed)}/retry/")

    assert listed.status_code == 200 and listed.json()["count"] == 2
    assert detail.status_code == 200 and detail.json()["id"] == str(pending.pk)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert retried.status_code == 202 and retried.json()["status"] == "PENDING"


def count_queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_detail_costs_the_same_queries_whatever_the_tree_size(caller, account):
    small = submit(caller.user, account, ad_sets=1, ads=1)
    large = submit(caller.user, account, ad_sets=5, ads=10)
    count_queries(caller.client, detail_url(small))  # warm-up

    assert count_queries(caller.client, detail_url(large)) == count_queries(
        caller.client, detail_url(small)
    )


def test_the_list_costs_the_same_queries_whatever_the_number_of_jobs_and_trees(
    caller, account, other_caller
):
    other_account = AdAccountFactory(team=other_caller.team)
    submit(caller.user, account)
    count_queries(caller.client, LIST_URL)  # warm-up
    one_job = count_queries(caller.client, LIST_URL)

    for _ in range(4):
        submit(caller.user, account, ad_sets=3, ads=4)
    submit(caller.user, AdAccountFactory(team=caller.team), ad_sets=2, ads=2)
    submit(other_caller.user, other_account)

    assert count_queries(caller.client, LIST_URL) == one_job


def test_lookup_runs_past_the_cap_are_not_shown_as_attempts(caller, account, settings):
    # Runs past JOB_MAX_ATTEMPTS only look up a create whose answer was lost (they send
    # nothing): the job shows at most its cap more than it had at its last retry.
    settings.JOB_MAX_ATTEMPTS = 5
    fresh = submit(caller.user, account)
    retried = submit(caller.user, account)
    CampaignJob.objects.filter(pk=fresh.pk).update(attempts=7, attempts_at_retry=0)
    CampaignJob.objects.filter(pk=retried.pk).update(attempts=12, attempts_at_retry=5)

    assert caller.client.get(detail_url(fresh)).json()["attempts"] == 5
    assert caller.client.get(detail_url(retried)).json()["attempts"] == 10
    listed = {row["id"]: row["attempts"] for row in caller.client.get(LIST_URL).json()["results"]}
    assert listed == {str(fresh.pk): 5, str(retried.pk): 10}
