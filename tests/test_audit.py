"""The audit trail (API.md "Audit trail"): every change to an ad account or a job made through
the API, the admin or a command is an event, with who made it and the fields' before and
after; a credential only as changed; events are append-only; `GET /api/v1/audit_events`
shows a team its own events, filtered by account, object and time."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.pagination import PageNumberPagination

from adaccounts.models import AdAccount, AdAccountStatus, Team
from adaccounts.services import ad_account_credentials_rotate, ad_account_require_reauth
from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_new, audit_write
from campaigns.models import CampaignJob, JobStatus
from tests.factories import AdAccountFactory, UserFactory, make_live_campaign
from tests.payloads import META_SUBMIT_URL, api_example

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit_events"
ACCOUNTS = "/api/v1/ad_accounts"
EVENT_FIELDS = {"id", "at", "actor", "action", "object_type", "object_id", "changes"}


def events(client: Any, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    return body["results"]


def only(found: list[dict[str, Any]], action: str) -> dict[str, Any]:
    (event,) = [e for e in found if e["action"] == action]
    return event


def create_account(caller: Any, **fields: Any) -> dict:
    body = {
        "platform_account_id": "act_4242",
        "name": "Audited",
        "platform_type": "META",
        "credentials": {"access_token": "EAAB-audit-token"},
        **fields,
    }
    response = caller.client.post(ACCOUNTS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def actor(user: Any) -> str:
    return f"user:{user.username}"


# --- ad accounts through the API --------------------------------------------------------------


def test_creating_an_account_records_the_user_and_every_field(caller):
    account = create_account(caller, additional_config={"dsa_payor": "Acme"})

    event = only(events(caller.client, f"object_id={account['id']}"), "ad_account.created")

    assert set(event) >= EVENT_FIELDS
    assert (event["actor"], event["object_type"], event["object_id"]) == (
        actor(caller.user),
        "ad_account",
        account["id"],
    )
    assert event["ad_account_id"] == account["id"]
    assert event["changes"] == {
        "platform_type": {"before": None, "after": "META"},
        "platform_account_id": {"before": None, "after": "act_4242"},
        "name": {"before": None, "after": "Audited"},
        "team_id": {"before": None, "after": str(caller.team.pk)},
        "status": {"before": None, "after": "ACTIVE"},
        "additional_config": {"before": None, "after": {"dsa_payor": "Acme"}},
        "credentials": {"before": None, "after": "<set>"},
    }


def test_an_update_records_only_the_fields_that_changed_before_and_after(caller):
    account = create_account(caller)

    response = caller.client.patch(
        f"{ACCOUNTS}/{account['id']}",
        {"name": "Renamed", "status": "ACTIVE", "additional_config": {"dsa_payor": "Acme"}},
        format="json",
    )

    assert response.status_code == 200, response.content
    event = only(events(caller.client, f"object_id={account['id']}"), "ad_account.updated")
    assert event["actor"] == actor(caller.user)
    # status was sent but kept its value: not a change.
    assert event["changes"] == {
        "name": {"before": "Audited", "after": "Renamed"},
        "additional_config": {"before": {}, "after": {"dsa_payor": "Acme"}},
    }


def test_an_update_that_changes_nothing_records_nothing(caller):
    account = create_account(caller)

    caller.client.patch(f"{ACCOUNTS}/{account['id']}", {"name": "Audited"}, format="json")

    assert [e["action"] for e in events(caller.client)] == ["ad_account.created"]


def test_new_credentials_are_recorded_as_changed_never_by_value(caller):
    account = create_account(caller)

    caller.client.patch(
        f"{ACCOUNTS}/{account['id']}",
        {"credentials": {"access_token": "EAAB-second-token"}},
        format="json",
    )

    event = only(events(caller.client), "ad_account.updated")
    assert event["changes"] == {"credentials": {"before": "<set>", "after": "<changed>"}}


def test_a_delete_is_recorded_as_a_soft_delete_and_still_listed(caller):
    account = create_account(caller)

    assert caller.client.delete(f"{ACCOUNTS}/{account['id']}").status_code == 204

    event = only(events(caller.client, f"ad_account_id={account['id']}"), "ad_account.deleted")
    assert event["actor"] == actor(caller.user)
    assert event["changes"]["deleted_at"]["before"] is None
    assert event["changes"]["deleted_at"]["after"]
    # A second delete of the same account changes nothing, so it records nothing.
    assert caller.client.delete(f"{ACCOUNTS}/{account['id']}").status_code == 404
    assert len([e for e in events(caller.client) if e["action"] == "ad_account.deleted"]) == 1


def test_a_refused_create_records_nothing(caller):
    create_account(caller)
    response = caller.client.post(
        ACCOUNTS,
        {
            "platform_account_id": "act_4242",
            "name": "Duplicate",
            "platform_type": "META",
            "credentials": {"access_token": "EAAB-x"},
        },
        format="json",
    )

    assert response.status_code == 400
    assert AuditEvent.objects.filter(action="ad_account.created").count() == 1


def test_a_dead_token_answer_is_recorded_as_the_system_changing_the_status(caller):
    account = AdAccountFactory(team=caller.team)

    assert ad_account_require_reauth(account_id=account.pk, credentials_version=1)

    event = only(events(caller.client, f"object_id={account.pk}"), "ad_account.status_changed")
    assert event["actor"] == "system"
    assert event["changes"] == {"status": {"before": "ACTIVE", "after": "REQUIRES_REAUTH"}}


def test_a_key_rotation_is_recorded_without_the_credentials(caller):
    account = AdAccountFactory(team=caller.team, credentials={"access_token": "EAAB-rotated"})

    ad_account_credentials_rotate()

    event = only(
        events(caller.client, f"object_id={account.pk}"), "ad_account.credentials_reencrypted"
    )
    assert event["actor"] == "system"
    assert event["changes"] == {"credentials": {"before": "<set>", "after": "<re-encrypted>"}}


# --- the admin ------------------------------------------------------------------------------


def test_an_admin_change_is_recorded_with_the_staff_user(admin_client: Client, admin_user):
    account = AdAccountFactory(name="Before", credentials={"access_token": "EAAB-admin-canary"})
    form = {
        "platform_account_id": account.platform_account_id,
        "name": "After",
        "team": str(account.team_id),
        "owner_user": "",
        "status": AdAccountStatus.INACTIVE,
        "additional_config": "{}",
        "initial-additional_config": "{}",
        "access_token": "",
        "app_secret": "",
        "_save": "Save",
    }

    response = admin_client.post(f"/admin/adaccounts/adaccount/{account.pk}/change/", form)

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="ad_account.updated")
    assert (event.actor, event.user_id) == (f"user:{admin_user.username}", admin_user.pk)
    assert event.changes == {
        "name": {"before": "Before", "after": "After"},
        "status": {"before": "ACTIVE", "after": "INACTIVE"},
    }
    # The account's page lists it under its recent changes.
    page = admin_client.get(f"/admin/adaccounts/adaccount/{account.pk}/change/").content.decode()
    assert "ad_account.updated" in page and f"user:{admin_user.username}" in page
    assert "EAAB-admin-canary" not in page


def test_an_admin_delete_is_recorded_with_the_staff_user(admin_client: Client, admin_user):
    account = AdAccountFactory()

    admin_client.post(f"/admin/adaccounts/adaccount/{account.pk}/delete/", {"post": "yes"})

    event = AuditEvent.objects.get(action="ad_account.deleted")
    assert (event.actor, event.object_id) == (f"user:{admin_user.username}", account.pk)


def test_the_audit_admin_is_read_only_and_filters_and_searches(admin_client: Client, caller):
    account = create_account(caller)
    other = AdAccountFactory()
    audit_write(
        [
            audit_new(
                actor=None,
                action="ad_account.status_changed",
                object_type="ad_account",
                object_id=other.pk,
                changes={},
            )
        ]
    )
    changelist = "/admin/audit/auditevent/"
    event = AuditEvent.objects.get(object_id=account["id"])

    listed = admin_client.get(changelist)
    found = admin_client.get(f"{changelist}?q={account['id']}")
    by_action = admin_client.get(f"{changelist}?action=ad_account.status_changed")
    page = admin_client.get(f"{changelist}{event.pk}/change/")

    assert listed.status_code == 200 and len(listed.context["cl"].result_list) == 2
    assert [e.pk for e in found.context["cl"].result_list] == [event.pk]
    assert [e.object_id for e in by_action.context["cl"].result_list] == [other.pk]
    assert admin_client.get(f"{changelist}?q=not-an-id").context["cl"].result_count == 0
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.get(f"{changelist}add/").status_code == 403
    assert admin_client.post(f"{changelist}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- jobs -----------------------------------------------------------------------------------


@pytest.fixture
def account(caller) -> AdAccount:
    return AdAccountFactory(team=caller.team, credentials={"access_token": "EAAB-jobs"})


def submit(caller: Any, account: AdAccount) -> str:
    response = caller.client.post(META_SUBMIT_URL, api_example(str(account.pk)), format="json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def test_a_submission_records_the_job_with_its_kind_and_status_not_its_payload(caller, account):
    job_id = submit(caller, account)

    event = only(events(caller.client, f"object_id={job_id}"), "job.created")

    assert (event["actor"], event["object_type"], event["ad_account_id"]) == (
        actor(caller.user),
        "job",
        str(account.pk),
    )
    assert event["changes"] == {
        "kind": {"before": None, "after": "CREATE"},
        "status": {"before": None, "after": "PENDING"},
    }


def test_cancel_and_retry_through_the_api_are_recorded_with_the_user(caller, account):
    cancelled = submit(caller, account)
    failed = submit(caller, account)
    CampaignJob.objects.filter(pk=failed).update(status=JobStatus.FAILED)

    assert caller.client.post(f"/api/v1/jobs/{cancelled}/cancel").status_code == 200
    assert caller.client.post(f"/api/v1/jobs/{failed}/retry").status_code == 202
    # Refused transitions change nothing and record nothing.
    assert caller.client.post(f"/api/v1/jobs/{cancelled}/cancel").status_code == 409

    cancel = only(events(caller.client, f"object_id={cancelled}"), "job.cancelled")
    retry = only(events(caller.client, f"object_id={failed}"), "job.retried")
    assert cancel["actor"] == retry["actor"] == actor(caller.user)
    assert cancel["changes"] == {"status": {"before": "PENDING", "after": "CANCELLED"}}
    assert retry["changes"] == {"status": {"before": "FAILED", "after": "PENDING"}}


def test_admin_job_actions_are_recorded_with_the_staff_user(
    admin_client, admin_user, caller, account
):
    pending = submit(caller, account)
    partial = submit(caller, account)
    CampaignJob.objects.filter(pk=partial).update(status=JobStatus.PARTIAL_SUCCESS)

    for action, job_id in (("cancel_jobs", pending), ("retry_jobs", partial)):
        admin_client.post(
            "/admin/campaigns/campaignjob/",
            {"action": action, "_selected_action": [job_id], "index": 0},
        )

    recorded = {
        e.action: (e.actor, e.changes["status"])
        for e in AuditEvent.objects.filter(action__in=["job.cancelled", "job.retried"])
    }
    assert recorded == {
        "job.cancelled": (
            f"user:{admin_user.username}",
            {"before": "PENDING", "after": "CANCELLED"},
        ),
        "job.retried": (
            f"user:{admin_user.username}",
            {"before": "PARTIAL_SUCCESS", "after": "PENDING"},
        ),
    }


def test_the_retry_jobs_command_is_recorded_as_the_system(caller, account):
    job_id = submit(caller, account)
    CampaignJob.objects.filter(pk=job_id).update(status=JobStatus.FAILED)

    call_command("retry_jobs", job_id, stdout=StringIO())

    event = only(events(caller.client, f"object_id={job_id}"), "job.retried")
    assert event["actor"] == "system"


def test_a_change_of_a_live_object_records_the_job_and_the_object_it_works_on(caller):
    campaign = make_live_campaign(caller)
    ad_set = campaign.ad_sets.first()

    response = caller.client.patch(
        f"/api/v1/ad_sets/{ad_set.pk}", {"daily_budget": 3100}, format="json"
    )

    assert response.status_code == 202, response.content
    event = only(events(caller.client, f"object_id={response.json()['id']}"), "job.created")
    assert event["actor"] == actor(caller.user)
    assert event["changes"] == {
        "kind": {"before": None, "after": "UPDATE"},
        "status": {"before": None, "after": "PENDING"},
        "object_type": {"before": None, "after": "ad_set"},
        "object_id": {"before": None, "after": str(ad_set.pk)},
    }
    # Nothing is recorded of the ad set itself until Meta accepted the change.
    assert events(caller.client, f"object_id={ad_set.pk}") == []


def test_an_admin_pause_of_a_live_campaign_records_its_job_with_the_staff_user(
    admin_client, admin_user, caller
):
    campaign = make_live_campaign(caller)

    admin_client.post(
        "/admin/campaigns/campaign/",
        {"action": "pause_objects", "_selected_action": [str(campaign.pk)], "index": 0},
    )

    job = CampaignJob.objects.get(object_id=campaign.pk)
    event = AuditEvent.objects.get(object_id=job.pk)
    assert (event.action, event.actor) == ("job.created", f"user:{admin_user.username}")


# --- append-only ----------------------------------------------------------------------------


@pytest.fixture
def event(caller) -> AuditEvent:
    create_account(caller)
    return AuditEvent.objects.get()


def test_the_orm_refuses_to_change_or_delete_an_event(event):
    event.action = "ad_account.forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="ad_account.forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["action"])

    assert AuditEvent.objects.get(pk=event.pk).action == "ad_account.created"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET action = 'ad_account.forged'",
        "UPDATE audit_events SET changes = '{}'::jsonb",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(event, sql):
    assert connection.vendor == "postgresql"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert AuditEvent.objects.get(pk=event.pk).action == "ad_account.created"


def test_deleting_a_user_or_a_team_keeps_their_events(caller):
    account = create_account(caller)
    user_id, username = caller.user.pk, caller.user.username
    AdAccount.objects.filter(pk=account["id"]).delete()  # a hard delete, as from a shell
    team = Team.objects.get(pk=caller.team.pk)

    get_user_model().objects.filter(pk=user_id).delete()
    team.delete()

    event = AuditEvent.objects.get(object_id=account["id"])
    assert (event.actor, event.user_id, event.team_id) == (
        f"user:{username}",
        user_id,
        caller.team.pk,
    )


# --- GET /api/v1/audit_events: tenancy and filters ------------------------------------------


def test_others_events_are_invisible_and_answer_404(caller, other_caller):
    mine = create_account(caller)
    theirs = create_account(other_caller, platform_account_id="act_777")
    their_event = AuditEvent.objects.get(object_id=theirs["id"])

    assert [e["object_id"] for e in events(caller.client)] == [mine["id"]]
    assert events(caller.client, f"ad_account_id={theirs['id']}") == []
    assert caller.client.get(f"{URL}/{their_event.pk}").status_code == 404
    detail = other_caller.client.get(f"{URL}/{their_event.pk}")
    assert detail.status_code == 200 and detail.json()["object_id"] == theirs["id"]


def test_a_superuser_sees_every_teams_events(caller, other_caller):
    create_account(caller)
    create_account(other_caller, platform_account_id="act_777")
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = type(caller.client)()
    client.force_authenticate(admin)

    assert len(events(client)) == 2


def test_a_member_of_two_teams_sees_both(caller, other_caller):
    create_account(caller)
    create_account(other_caller, platform_account_id="act_777")
    other_caller.team.members.add(caller.user)

    assert len(events(caller.client)) == 2


def test_the_list_is_newest_first_and_paginated(caller, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 3)
    account = create_account(caller)
    for n in range(3):
        caller.client.patch(f"{ACCOUNTS}/{account['id']}", {"name": f"Name {n}"}, format="json")

    first = caller.client.get(URL).json()
    second = caller.client.get(first["next"]).json()
    names = [e["changes"]["name"]["after"] for e in first["results"] + second["results"]]
    assert names == ["Name 2", "Name 1", "Name 0", "Audited"]
    assert first["count"] == 4 and second["next"] is None


def test_events_are_filtered_by_object_account_and_time(caller):
    first = create_account(caller)
    second = create_account(caller, platform_account_id="act_999")
    old = AuditEvent.objects.get(object_id=first["id"])
    # An event of last week (written as such: events are never changed).
    week_ago = timezone.now() - timedelta(days=7)
    backdated = audit_new(
        actor=None,
        action="ad_account.status_changed",
        object_type="ad_account",
        object_id=first["id"],
        ad_account_id=first["id"],
        team_id=caller.team.pk,
        changes={},
    )
    backdated.at = week_ago
    audit_write([backdated])

    assert {e["id"] for e in events(caller.client, f"object_id={first['id']}")} == {
        str(old.pk),
        str(backdated.pk),
    }
    assert [e["object_id"] for e in events(caller.client, f"ad_account_id={second['id']}")] == [
        second["id"]
    ]
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    recent = {e["id"] for e in events(caller.client, f"since={yesterday}")}
    assert str(backdated.pk) not in recent and len(recent) == 2
    exact = (week_ago - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S%z")
    assert len(events(caller.client, f"since={exact}")) == 3  # "+0000" sent unescaped
    later = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert events(caller.client, f"since={later}") == []
    assert len(events(caller.client, "since=&object_id=&ad_account_id=")) == 3


@pytest.mark.parametrize(
    ("query", "attrs"),
    [
        ("since=yesterday", {"since"}),
        ("since=2026-13-01", {"since"}),
        ("object_id=42", {"object_id"}),
        (
            "since=2026-02-30T10:00:00Z&ad_account_id=nope&object_id=x",
            {"since", "ad_account_id", "object_id"},
        ),
    ],
)
def test_a_bad_filter_is_a_400_naming_each(caller, query, attrs):
    response = caller.client.get(f"{URL}?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert {error["attr"] for error in body["errors"]} == attrs


def test_the_endpoint_needs_authentication_and_takes_no_writes(caller):
    create_account(caller)
    event = AuditEvent.objects.get()
    anonymous = type(caller.client)()

    assert anonymous.get(URL).status_code == 401
    assert caller.client.post(URL, {}, format="json").status_code == 405
    assert caller.client.delete(f"{URL}/{event.pk}").status_code == 405
    assert caller.client.patch(f"{URL}/{event.pk}", {}, format="json").status_code == 405
    assert caller.client.get(f"{URL}/").status_code == 200
    assert caller.client.get(f"{URL}/{event.pk}/").status_code == 200
