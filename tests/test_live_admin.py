"""The admin pages of live campaigns, ad sets and ads: their platform state, and the pause,
resume and archive actions, which accept jobs as the API does."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from campaigns.models import Ad, AdSet, Campaign, CampaignJob, JobKind, ObjectChange
from tests.factories import AdAccountFactory, UserFactory
from tests.test_live_api import first_ad, first_ad_set, live, submit

pytestmark = pytest.mark.django_db

TOKEN_CANARY = "EAAB-live-admin-canary-77b1"
CHANGELISTS = {
    "campaign": "/admin/campaigns/campaign/",
    "ad_set": "/admin/campaigns/adset/",
    "ad": "/admin/campaigns/ad/",
}


@pytest.fixture
def account():
    return AdAccountFactory(credentials={"access_token": TOKEN_CANARY})


@pytest.fixture
def owner(account):
    user = UserFactory()
    account.team.members.add(user)
    return user


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(client: Client, object_type: str, action: str, *objs: Any) -> Any:
    return client.post(
        CHANGELISTS[object_type],
        {"action": action, "_selected_action": [str(obj.pk) for obj in objs], "index": 0},
    )


def jobs_on(obj: Any) -> list[CampaignJob]:
    return list(CampaignJob.objects.filter(object_id=obj.pk).order_by("created_at"))


def staff_of(team: Any, *codenames: str) -> Client:
    """A staff member (not a superuser) of `team` with the given permissions."""
    user = UserFactory(is_staff=True)
    user.save()  # the factory leaves the hashed password unsaved; the session checks it
    team.members.add(user)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


# --- Pages --------------------------------------------------------------------------------------


def test_the_changelists_show_status_effective_status_and_meta_ids(admin_client, owner, account):
    campaign = live(owner, account)
    Campaign.objects.filter(pk=campaign.pk).update(effective_status="CAMPAIGN_PAUSED")
    ad = first_ad(campaign)
    Ad.objects.filter(pk=ad.pk).update(effective_status="DISAPPROVED")
    ad.refresh_from_db()
    pending = submit(owner, account, name="Not on Meta yet")

    pages = {kind: admin_client.get(path) for kind, path in CHANGELISTS.items()}

    for response in pages.values():
        assert response.status_code == 200
        assert TOKEN_CANARY not in response.content.decode()
    campaigns = pages["campaign"].content.decode()
    assert campaign.platform_id in campaigns
    assert "CAMPAIGN_PAUSED" in campaigns
    assert "Not on Meta yet" in campaigns and "not created" in campaigns
    assert str(pending.pk) in campaigns
    assert first_ad_set(campaign).platform_id in pages["ad_set"].content.decode()
    ads = pages["ad"].content.decode()
    assert ad.platform_id in ads
    assert ad.creative.platform_id in ads
    assert "DISAPPROVED" in ads


def test_the_object_pages_render_read_only_without_credentials(admin_client, owner, account):
    campaign = live(owner, account)
    pages = [
        admin_client.get(f"{CHANGELISTS['campaign']}{campaign.pk}/change/"),
        admin_client.get(f"{CHANGELISTS['ad_set']}{first_ad_set(campaign).pk}/change/"),
        admin_client.get(f"{CHANGELISTS['ad']}{first_ad(campaign).pk}/change/"),
    ]

    for response in pages:
        assert response.status_code == 200
        content = response.content.decode()
        assert TOKEN_CANARY not in content
        assert campaign.platform_id in content or first_ad(campaign).platform_id in content
        assert 'name="_save"' not in content
    assert first_ad(campaign).creative.platform_id in pages[2].content.decode()


# --- Actions ------------------------------------------------------------------------------------


def test_pause_accepts_an_update_job_per_object_and_reports_each(admin_client, owner, account):
    first = live(owner, account, name="First")
    second = live(owner, account, name="Second")

    response = run_action(admin_client, "campaign", "pause_objects", first, second)

    assert response.status_code == 302
    reported = messages_of(response)
    for campaign in (first, second):
        [job] = jobs_on(campaign)
        assert job.kind == JobKind.UPDATE
        [change] = ObjectChange.objects.filter(job=job)
        assert change.values == {"status": "PAUSED"}
        assert any(str(job.pk) in text and campaign.name in text for text in reported)
    # The rows take the status only when Meta accepted it.
    assert set(Campaign.objects.values_list("status", flat=True)) == {"PAUSED"}


def test_resume_sets_ad_sets_active_through_a_job(admin_client, owner, account):
    campaign = live(owner, account)
    ad_set = first_ad_set(campaign)

    response = run_action(admin_client, "ad_set", "resume_objects", ad_set)

    [job] = jobs_on(ad_set)
    assert job.kind == JobKind.UPDATE
    assert ObjectChange.objects.get(job=job).values == {"status": "ACTIVE"}
    assert messages_of(response) == [
        f"Ad set “{ad_set.name}” ({ad_set.pk}): active change accepted, job {job.pk} (UPDATE)."
    ]


def test_archive_accepts_an_archive_job_and_deletes_nothing(admin_client, owner, account):
    campaign = live(owner, account)
    ad = first_ad(campaign)

    response = run_action(admin_client, "ad", "archive_objects", ad)

    [job] = jobs_on(ad)
    assert job.kind == JobKind.ARCHIVE
    assert ObjectChange.objects.get(job=job).values == {"status": "ARCHIVED"}
    assert str(job.pk) in messages_of(response)[0]
    assert Ad.objects.filter(pk=ad.pk).exists()


def test_an_action_reports_objects_that_cannot_take_it_and_goes_on(admin_client, owner, account):
    ready = live(owner, account, name="Ready")
    pending = submit(owner, account, name="Pending")
    archived = live(owner, account, name="Archived")
    Campaign.objects.filter(pk=archived.pk).update(status="ARCHIVED")

    response = run_action(admin_client, "campaign", "resume_objects", ready, pending, archived)

    reported = messages_of(response)
    assert len(reported) == 3
    [job] = jobs_on(ready)
    assert any(str(job.pk) in text for text in reported)
    [not_ready] = [text for text in reported if "Pending" in text]
    assert "not active change accepted" in not_ready and "has not finished" in not_ready
    [refused] = [text for text in reported if "Archived" in text]
    assert refused.startswith(f"Campaign “Archived” ({archived.pk}): not active change accepted: ")
    assert "status: " in refused and "archived" in refused
    assert jobs_on(pending) == [] and jobs_on(archived) == []


# --- Who sees what ------------------------------------------------------------------------------


def test_staff_see_and_act_on_their_teams_objects_only(owner, account):
    mine = live(owner, account, name="Mine")
    other_account = AdAccountFactory(name="Their account")
    other_owner = UserFactory()
    other_account.team.members.add(other_owner)
    theirs = live(other_owner, other_account, name="Theirs")
    client = staff_of(
        account.team, "view_campaign", "change_campaign", "view_adset", "view_ad", "change_ad"
    )

    changelist = client.get(CHANGELISTS["campaign"])
    ads = client.get(CHANGELISTS["ad"])
    run_action(client, "campaign", "pause_objects", mine, theirs)

    assert changelist.status_code == 200
    assert {c.pk for c in changelist.context["cl"].result_list} == {mine.pk}
    assert "Their account" not in changelist.content.decode()
    assert {a.pk for a in ads.context["cl"].result_list} == {first_ad(mine).pk}
    assert client.get(f"{CHANGELISTS['campaign']}{theirs.pk}/change/").status_code == 302
    assert len(jobs_on(mine)) == 1
    assert jobs_on(theirs) == []


def test_staff_without_change_permission_cannot_run_actions(owner, account):
    campaign = live(owner, account)
    client = staff_of(account.team, "view_campaign")

    assert client.get(CHANGELISTS["campaign"]).status_code == 200
    run_action(client, "campaign", "archive_objects", campaign)

    assert jobs_on(campaign) == []


def test_objects_of_a_deleted_account_are_not_acted_on(admin_client, owner, account):
    campaign = live(owner, account)
    account.deleted_at = campaign.created_at
    account.save()

    response = run_action(admin_client, "campaign", "pause_objects", campaign)

    assert jobs_on(campaign) == []
    assert "ad account was deleted" in messages_of(response)[0]
    assert AdSet.objects.filter(campaign=campaign).exists()
