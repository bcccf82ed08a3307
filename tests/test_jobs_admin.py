"""The Django admin that ops staff use to follow jobs, read what went wrong, retry or cancel."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from campaigns import services
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, JobStatus
from platforms.base import PlatformType
from tests.broker import BrokerQueue
from tests.factories import AdAccountFactory, CampaignJobFactory, TeamFactory, UserFactory
from tests.payloads import IMAGE_URL, tree

pytestmark = pytest.mark.django_db

JOBS_URL = "/admin/campaigns/campaignjob/"
CAMPAIGNS_URL = "/admin/campaigns/campaign/"
TOKEN_CANARY = "EAAB-admin-canary-token-0c7d"
META_ERROR = {
    "message": "Invalid parameter",
    "code": 100,
    "subcode": 1487390,
    "type": "OAuthException",
    "fbtrace_id": "AbCdEf123",
    "user_title": "Ad set budget too low",
    "user_message": "Raise the budget to at least 1.00 USD.",
    "transient": False,
    "step": "ad_set:0",
}


def job_url(job: Any) -> str:
    return f"{JOBS_URL}{job.pk}/change/"


@pytest.fixture
def staff(admin_client: Client) -> Client:
    """An ops staff member logged into the admin."""
    return admin_client


@pytest.fixture
def account():
    return AdAccountFactory(credentials={"access_token": TOKEN_CANARY})


def submitted(
    account: Any,
    *,
    status: str = JobStatus.PENDING,
    campaign_name: str = "Spring sale",
    **size: int,
) -> CampaignJob:
    """A job with its plan, as the API stores it (every real job has one), in `status`."""
    user = UserFactory()
    account.team.members.add(user)
    submission = services.job_submit(
        user=user,
        platform_type=PlatformType.META,
        data=tree(account.platform_account_id, campaign_name=campaign_name, **size),
    )
    assert submission is not None
    CampaignJob.objects.filter(pk=submission.job.pk).update(status=status)
    submission.job.refresh_from_db()
    return submission.job


def listed(response: Any) -> set[str]:
    """Ids of the jobs on a changelist page."""
    assert response.status_code == 200
    return {str(job.pk) for job in response.context["cl"].result_list}


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(staff: Client, action: str, *jobs: CampaignJob) -> Any:
    return staff.post(
        JOBS_URL,
        {"action": action, "_selected_action": [str(job.pk) for job in jobs], "index": 0},
    )


# --- Changelist ---------------------------------------------------------------------------------


def test_staff_see_every_job_on_the_changelist(staff, account):
    job = submitted(account)
    other = submitted(AdAccountFactory(), status=JobStatus.FAILED)

    response = staff.get(JOBS_URL)

    assert listed(response) == {str(job.pk), str(other.pk)}
    content = response.content.decode()
    assert "Spring sale" in content
    assert TOKEN_CANARY not in content


def test_the_changelist_filters_by_status(staff, account):
    pending = submitted(account)
    failed = submitted(account, status=JobStatus.FAILED)

    assert listed(staff.get(JOBS_URL, {"status__exact": "FAILED"})) == {str(failed.pk)}
    assert listed(staff.get(JOBS_URL, {"status__exact": "PENDING"})) == {str(pending.pk)}


def test_the_changelist_filters_by_account(staff, account):
    mine = submitted(account)
    submitted(AdAccountFactory())

    assert listed(staff.get(JOBS_URL, {"ad_account__id__exact": str(account.pk)})) == {str(mine.pk)}


def test_the_changelist_filters_by_platform(staff, account):
    meta = submitted(account)
    google_account = AdAccountFactory(
        platform_type=PlatformType.GOOGLE_ADS, platform_account_id="5550001"
    )
    # No Google planner yet: a stored job of that platform, with its campaign row.
    google = CampaignJobFactory(ad_account=google_account)
    Campaign.objects.create(job=google, ad_account=google_account, name="Google campaign")

    assert listed(staff.get(JOBS_URL, {"platform_type__exact": "META"})) == {str(meta.pk)}
    assert listed(staff.get(JOBS_URL, {"platform_type__exact": "GOOGLE_ADS"})) == {str(google.pk)}


def test_the_changelist_searches_by_job_id(staff, account):
    wanted = submitted(account)
    submitted(account)

    assert listed(staff.get(JOBS_URL, {"q": str(wanted.pk)})) == {str(wanted.pk)}


def test_the_changelist_searches_by_campaign_name(staff, account):
    spring = submitted(account, campaign_name="Spring sale 2030")
    submitted(account, campaign_name="Winter clearance")

    assert listed(staff.get(JOBS_URL, {"q": "spring sale"})) == {str(spring.pk)}
    assert listed(staff.get(JOBS_URL, {"q": "nothing like this"})) == set()


# --- Job page -----------------------------------------------------------------------------------


def test_the_job_page_shows_the_payload_the_error_and_the_tree_with_platform_ids(staff, account):
    job = submitted(account, ad_sets=2, ads=2)
    campaign = Campaign.objects.get(job=job)
    Campaign.objects.filter(pk=campaign.pk).update(platform_id="120210000000001")
    first_set = AdSet.objects.get(campaign=campaign, position=0)
    AdSet.objects.filter(pk=first_set.pk).update(platform_id="120210000000002")
    first_ad = Ad.objects.get(ad_set=first_set, position=0)
    Ad.objects.filter(pk=first_ad.pk).update(platform_id="120210000000003")
    first_ad.creative.platform_id = "120210000000004"
    first_ad.creative.save()
    CampaignJob.objects.filter(pk=job.pk).update(
        status=JobStatus.PARTIAL_SUCCESS, error=META_ERROR, platform_campaign_id="120210000000001"
    )

    response = staff.get(job_url(job))

    assert response.status_code == 200
    content = response.content.decode()
    # The payload, indented for reading.
    assert "<pre" in content
    assert "&quot;objective&quot;: &quot;OUTCOME_TRAFFIC&quot;" in content
    assert "&quot;name&quot;: &quot;Ad set 1&quot;" in content
    # Meta's error.
    assert "&quot;user_title&quot;: &quot;Ad set budget too low&quot;" in content
    assert "&quot;fbtrace_id&quot;: &quot;AbCdEf123&quot;" in content
    # The tree: what exists on Meta has its ID, the rest says so.
    for platform_id in ("120210000000001", "120210000000002", "120210000000003"):
        assert f"<code>{platform_id}</code>" in content
    assert "<code>120210000000004</code>" in content
    assert "Ad set 1 — <code>not created</code>" in content
    assert "Ad 1.1 — <code>not created</code>" in content
    assert f"{CAMPAIGNS_URL}{campaign.pk}/change/" in content
    # The media it uploads.
    assert IMAGE_URL in content
    assert TOKEN_CANARY not in content


def test_the_job_page_of_a_job_without_error_renders(staff, account):
    job = submitted(account)

    response = staff.get(job_url(job))

    assert response.status_code == 200
    assert "Spring sale" in response.content.decode()


# --- Actions ------------------------------------------------------------------------------------


def test_the_retry_action_returns_failed_jobs_to_pending_and_publishes_them(
    staff, account, broker_queue: BrokerQueue, django_capture_on_commit_callbacks
):
    failed = submitted(account, status=JobStatus.FAILED)
    partial = submitted(account, status=JobStatus.PARTIAL_SUCCESS)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff, "retry_jobs", failed, partial)

    assert response.status_code == 302
    failed.refresh_from_db()
    partial.refresh_from_db()
    assert (failed.status, partial.status) == (JobStatus.PENDING, JobStatus.PENDING)
    assert sorted(broker_queue.job_ids()) == sorted([str(failed.pk), str(partial.pk)])
    assert messages_of(response) == ["2 job(s) queued for retry."]


def test_the_retry_action_refuses_jobs_that_did_not_fail_with_a_message(
    staff, account, broker_queue: BrokerQueue, django_capture_on_commit_callbacks
):
    failed = submitted(account, status=JobStatus.FAILED)
    pending = submitted(account)
    succeeded = submitted(account, status=JobStatus.SUCCESS)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff, "retry_jobs", failed, pending, succeeded)

    for job, status in ((failed, "PENDING"), (pending, "PENDING"), (succeeded, "SUCCESS")):
        job.refresh_from_db()
        assert job.status == status
    assert broker_queue.job_ids() == [str(failed.pk)]
    done, refused = messages_of(response)
    assert done == "1 job(s) queued for retry."
    assert refused.startswith("2 job(s) skipped (only FAILED or PARTIAL_SUCCESS jobs)")
    assert str(pending.pk) in refused and str(succeeded.pk) in refused


def test_the_cancel_action_cancels_pending_jobs_and_refuses_others_with_a_message(staff, account):
    pending = submitted(account)
    processing = submitted(account, status=JobStatus.PROCESSING)

    response = run_action(staff, "cancel_jobs", pending, processing)

    pending.refresh_from_db()
    processing.refresh_from_db()
    assert pending.status == JobStatus.CANCELLED
    assert pending.finished_at is not None
    assert processing.status == JobStatus.PROCESSING
    done, refused = messages_of(response)
    assert done == "1 job(s) cancelled."
    assert refused == f"1 job(s) skipped (only PENDING jobs): {processing.pk}"


def test_staff_without_change_permission_cannot_run_actions(account):
    viewer = UserFactory(is_staff=True)
    viewer.save()  # the factory leaves the hashed password unsaved; the session checks it
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaignjob"))
    client = Client()
    client.force_login(viewer)
    pending = submitted(account)

    assert client.get(JOBS_URL).status_code == 200
    run_action(client, "cancel_jobs", pending)

    pending.refresh_from_db()
    assert pending.status == JobStatus.PENDING


# --- Campaign pages -----------------------------------------------------------------------------


def test_the_campaign_pages_render_with_their_ad_sets_and_ads(staff):
    account = AdAccountFactory(team=TeamFactory())
    job = submitted(account, ad_sets=2, ads=3)
    campaign = Campaign.objects.get(job=job)
    second_set = AdSet.objects.get(campaign=campaign, position=1)
    AdSet.objects.filter(pk=second_set.pk).update(platform_id="120210000000009")

    changelist = staff.get(CAMPAIGNS_URL)
    page = staff.get(f"{CAMPAIGNS_URL}{campaign.pk}/change/")
    ad_set_page = staff.get(f"/admin/campaigns/adset/{second_set.pk}/change/")

    assert changelist.status_code == 200
    assert "Spring sale" in changelist.content.decode()
    assert page.status_code == 200
    content = page.content.decode()
    assert "Ad set 0" in content and "Ad set 1" in content
    assert "120210000000009" in content
    assert job_url(job) in content
    assert ad_set_page.status_code == 200
    ad_set_content = ad_set_page.content.decode()
    assert all(f"Ad 1.{j}" in ad_set_content for j in range(3))
