"""A canary token (and app secret) driven through every credentials path never reaches the
audit trail: not a row of `audit_events` (in any encoding), not an answer of
`/api/v1/audit_events`, not an admin page of the trail."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from adaccounts.services import ad_account_credentials_rotate
from audit.models import AuditEvent
from tests.test_canary_token import forms, new_canary

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/ad_accounts"


def test_no_credential_reaches_an_audit_row_or_answer(caller, admin_client: Client):
    canaries = [new_canary() for _ in range(5)]
    created = caller.client.post(
        ACCOUNTS,
        {
            "platform_account_id": "act_31337",
            "name": "Canary",
            "platform_type": "META",
            "credentials": {"access_token": canaries[0], "app_secret": canaries[1]},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    account_id = created.json()["id"]
    for body in (
        {"credentials": {"access_token": canaries[2]}},
        {"credentials": {"access_token": canaries[3], "app_secret": canaries[4]}, "name": "C2"},
    ):
        response = caller.client.patch(f"{ACCOUNTS}/{account_id}", body, format="json")
        assert response.status_code == 200, response.content
    admin_client.post(
        f"/admin/adaccounts/adaccount/{account_id}/change/",
        {
            "platform_account_id": "act_31337",
            "name": "C3",
            "team": str(caller.team.pk),
            "owner_user": "",
            "status": "ACTIVE",
            "additional_config": "{}",
            "initial-additional_config": "{}",
            "access_token": canaries[0],  # back to the first one, through the admin
            "app_secret": "",
            "_save": "Save",
        },
    )
    ad_account_credentials_rotate()
    assert caller.client.delete(f"{ACCOUNTS}/{account_id}").status_code == 204

    event_ids = list(AuditEvent.objects.values_list("pk", flat=True))
    # created, three updates (two API, one admin), a rotation, a delete.
    assert len(event_ids) == 6
    assert AuditEvent.objects.filter(changes__has_key="credentials").count() == 5
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_events::text FROM audit_events")
        rows = [row for (row,) in cursor.fetchall()]
    answers = [caller.client.get("/api/v1/audit_events").content.decode()]
    answers += [
        caller.client.get(f"/api/v1/audit_events/{pk}").content.decode() for pk in event_ids
    ]
    pages = [admin_client.get("/admin/audit/auditevent/").content.decode()]
    pages += [
        admin_client.get(f"/admin/audit/auditevent/{pk}/change/").content.decode()
        for pk in event_ids
    ]
    pages.append(
        admin_client.get(f"/admin/adaccounts/adaccount/{account_id}/change/").content.decode()
    )
    assert "<changed>" in answers[0] or "\\u003Cchanged\\u003E" in answers[0]
    for text in [*rows, *answers, *pages]:
        for canary in canaries:
            for encoded in forms(canary):
                assert encoded not in text
            # Nor a part of one (a prefix or suffix shown "for recognition").
            assert canary[-12:] not in text and canary[12:24] not in text
