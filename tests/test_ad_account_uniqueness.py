"""One Meta account per team: two teams may each hold the same platform account (each with its
own token), a team may not hold it twice, and nothing a caller sees tells them that another
team holds it."""

from __future__ import annotations

from typing import Any

import pytest

from adaccounts.models import AdAccount
from adaccounts.services import DUPLICATE_ACCOUNT_MESSAGE
from campaigns.models import CampaignJob
from tests.factories import AdAccountFactory, TeamFactory
from tests.payloads import META_SUBMIT_URL, api_example

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/ad_accounts"


def create(client: Any, **overrides: Any) -> Any:
    body = {
        "platform_account_id": "act_123",
        "name": "Acme",
        "platform_type": "META",
        "credentials": {"access_token": "EAAB-mine"},
        **overrides,
    }
    return client.post(LIST_URL, body, format="json")


def errors_on(response: Any, attr: str) -> list[dict[str, Any]]:
    return [error for error in response.json()["errors"] if error["attr"] == attr]


def test_an_account_another_team_holds_is_created_as_if_nobody_held_it(caller, other_caller):
    theirs = AdAccountFactory(
        team=other_caller.team,
        platform_account_id="act_123",
        credentials={"access_token": "EAAB-theirs"},
    )
    # What the caller gets for an account nobody holds, to compare with.
    fresh = create(caller.client, platform_account_id="act_999")

    response = create(caller.client, platform_account_id="123")

    assert response.status_code == 201, response.content
    assert response.status_code == fresh.status_code
    body = response.json()
    assert set(body) == set(fresh.json())
    assert body["team_id"] == str(caller.team.pk)
    assert body["platform_account_id"] == "act_123"
    assert str(other_caller.team.pk) not in response.content.decode()
    listed = caller.client.get(LIST_URL).json()
    assert {row["id"] for row in listed["results"]} == {body["id"], fresh.json()["id"]}
    # Each row keeps its own team's token.
    assert AdAccount.objects.get(pk=body["id"]).credentials == {"access_token": "EAAB-mine"}
    theirs.refresh_from_db()
    assert theirs.credentials == {"access_token": "EAAB-theirs"}
    assert other_caller.client.get(LIST_URL).json()["count"] == 1


def test_a_second_account_of_the_same_id_in_the_same_team_is_a_400_naming_the_field(caller):
    assert create(caller.client).status_code == 201

    response = create(caller.client, platform_account_id="123", name="Again")

    assert response.status_code == 400
    [error] = errors_on(response, "platform_account_id")
    assert error["code"] == "unique"
    assert error["detail"] == DUPLICATE_ACCOUNT_MESSAGE
    assert "team" in error["detail"]
    assert AdAccount.objects.filter(team=caller.team).count() == 1


def test_changing_an_id_to_one_another_team_holds_is_accepted(caller, other_caller):
    AdAccountFactory(team=other_caller.team, platform_account_id="act_123")
    mine = AdAccountFactory(team=caller.team, platform_account_id="act_456")

    response = caller.client.patch(
        f"{LIST_URL}/{mine.pk}", {"platform_account_id": "act_123"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["platform_account_id"] == "act_123"


def test_moving_an_account_into_a_team_of_mine_that_holds_its_id_is_a_400(caller):
    second_team = TeamFactory(members=[caller.user])
    AdAccountFactory(team=second_team, platform_account_id="act_123")
    mine = AdAccountFactory(team=caller.team, platform_account_id="act_123")

    response = caller.client.patch(
        f"{LIST_URL}/{mine.pk}", {"team_id": str(second_team.pk)}, format="json"
    )

    assert response.status_code == 400
    assert errors_on(response, "platform_account_id")
    mine.refresh_from_db()
    assert mine.team_id == caller.team.pk


def test_moving_an_account_into_another_users_team_says_only_that_the_team_is_unknown(
    caller, other_caller
):
    AdAccountFactory(team=other_caller.team, platform_account_id="act_123")
    mine = AdAccountFactory(team=caller.team, platform_account_id="act_123")

    response = caller.client.patch(
        f"{LIST_URL}/{mine.pk}", {"team_id": str(other_caller.team.pk)}, format="json"
    )

    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == ["team_id"]


def test_a_submission_naming_a_shared_meta_id_uses_the_callers_own_account(caller, other_caller):
    AdAccountFactory(team=other_caller.team, platform_account_id="act_123")
    mine = AdAccountFactory(team=caller.team, platform_account_id="act_123")

    response = caller.client.post(META_SUBMIT_URL, api_example("act_123"), format="json")

    assert response.status_code == 202, response.content
    job = CampaignJob.objects.get(pk=response.json()["id"])
    assert (job.ad_account_id, job.team_id) == (mine.pk, caller.team.pk)


def test_a_meta_id_two_of_my_teams_hold_must_be_named_by_our_id(caller):
    second_team = TeamFactory(members=[caller.user])
    AdAccountFactory(team=caller.team, platform_account_id="act_123")
    other = AdAccountFactory(team=second_team, platform_account_id="act_123")

    ambiguous = caller.client.post(META_SUBMIT_URL, api_example("act_123"), format="json")
    by_uuid = caller.client.post(META_SUBMIT_URL, api_example(str(other.pk)), format="json")

    assert ambiguous.status_code == 400
    [error] = errors_on(ambiguous, "ad_account_id")
    assert error["code"] == "ambiguous"
    assert not CampaignJob.objects.filter(ad_account__platform_account_id="act_123").exclude(
        pk=by_uuid.json().get("id")
    )
    assert by_uuid.status_code == 202, by_uuid.content
    assert CampaignJob.objects.get(pk=by_uuid.json()["id"]).ad_account_id == other.pk
