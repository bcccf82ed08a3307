"""A team never sees, changes or learns of another team's ad accounts: they answer 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from adaccounts.models import AdAccount
from tests.factories import AdAccountFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/ad_accounts"


def detail_url(account_id: Any) -> str:
    return f"{LIST_URL}/{account_id}"


def snapshot(account: AdAccount) -> dict[str, Any]:
    row = AdAccount.objects.get(pk=account.pk)
    return {
        "team_id": row.team_id,
        "name": row.name,
        "platform_account_id": row.platform_account_id,
        "status": row.status,
        "credentials": row.credentials,
        "additional_config": row.additional_config,
        "owner_user_id": row.owner_user_id,
        "deleted_at": row.deleted_at,
        "updated_at": row.updated_at,
    }


@pytest.fixture
def their_account(caller) -> AdAccount:
    """An account of `caller`'s team, which `other_caller` must not reach."""
    return AdAccountFactory(
        team=caller.team,
        name="Caller's account",
        platform_account_id="act_31337",
        credentials={"access_token": "EAAB-first-team-token"},
        additional_config={"owner": "first team"},
    )


def full_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "platform_account_id": "act_31337",
        "name": "Hijacked",
        "platform_type": "META",
        "status": "SUSPENDED",
        "credentials": {"access_token": "EAAB-attacker-token"},
    }
    body.update(overrides)
    return body


def test_a_second_team_lists_nothing_of_the_first(their_account, other_caller):
    response = other_caller.client.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 0
    assert body["results"] == []


def test_a_second_team_does_not_see_the_first_through_filters(their_account, other_caller):
    for query in ({"platform_type": "META"}, {"status": "ACTIVE"}):
        assert other_caller.client.get(LIST_URL, query).json()["count"] == 0


def test_each_team_lists_only_its_own_accounts(caller, other_caller, their_account):
    own = AdAccountFactory(team=other_caller.team)

    assert [r["id"] for r in other_caller.client.get(LIST_URL).json()["results"]] == [str(own.id)]
    assert [r["id"] for r in caller.client.get(LIST_URL).json()["results"]] == [
        str(their_account.id)
    ]


def test_a_second_team_gets_404_on_detail(their_account, other_caller):
    response = other_caller.client.get(detail_url(their_account.id))

    assert response.status_code == 404
    assert b"31337" not in response.content
    assert b"Caller's account" not in response.content


def test_a_second_team_gets_404_on_put_and_nothing_changes(their_account, other_caller):
    before = snapshot(their_account)

    response = other_caller.client.put(detail_url(their_account.id), full_body(), format="json")

    assert response.status_code == 404
    assert snapshot(their_account) == before


def test_a_second_team_gets_404_on_put_even_with_an_invalid_body(their_account, other_caller):
    before = snapshot(their_account)

    response = other_caller.client.put(
        detail_url(their_account.id), {"status": "NOPE"}, format="json"
    )

    assert response.status_code == 404
    assert snapshot(their_account) == before


def test_a_second_team_gets_404_on_patch_and_nothing_changes(their_account, other_caller):
    before = snapshot(their_account)

    for body in (
        {"name": "Hijacked"},
        {"credentials": {"access_token": "EAAB-attacker-token"}},
        {"team_id": str(other_caller.team.id)},
    ):
        response = other_caller.client.patch(detail_url(their_account.id), body, format="json")
        assert response.status_code == 404, body
    assert snapshot(their_account) == before


def test_a_second_team_gets_404_on_delete_and_the_account_stays(
    their_account, caller, other_caller
):
    before = snapshot(their_account)

    response = other_caller.client.delete(detail_url(their_account.id))

    assert response.status_code == 404
    assert snapshot(their_account) == before
    assert caller.client.get(detail_url(their_account.id)).status_code == 200


def test_the_owner_cannot_move_an_account_into_a_team_they_are_not_in(
    their_account, caller, other_caller
):
    before = snapshot(their_account)

    response = caller.client.patch(
        detail_url(their_account.id), {"team_id": str(other_caller.team.id)}, format="json"
    )

    assert response.status_code == 400
    assert "team_id" in {e["attr"] for e in response.json()["errors"]}
    assert snapshot(their_account) == before


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_teams_account_answers_exactly_like_a_missing_one(
    their_account, other_caller, method
):
    call = getattr(other_caller.client, method)
    body = full_body() if method == "put" else {"name": "x"}

    foreign = call(detail_url(their_account.id), body, format="json")
    missing = call(detail_url(uuid.uuid4()), body, format="json")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert foreign.headers.get("Content-Type") == missing.headers.get("Content-Type")
    assert set(foreign.json()) == {"type", "errors"}


def test_a_deleted_account_answers_like_a_missing_one(caller, their_account):
    assert caller.client.delete(detail_url(their_account.id)).status_code == 204

    deleted = caller.client.get(detail_url(their_account.id))
    missing = caller.client.get(detail_url(uuid.uuid4()))

    assert deleted.status_code == missing.status_code == 404
    assert deleted.json() == missing.json()


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "act_123"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_a_non_uuid_id_answers_404(caller, their_account, method, bad_id):
    response = getattr(caller.client, method)(detail_url(bad_id), {"name": "x"}, format="json")

    assert response.status_code == 404
    assert response.json() == caller.client.get(detail_url(uuid.uuid4())).json()
    assert AdAccount.objects.get(pk=their_account.pk).name == "Caller's account"


def test_a_second_team_cannot_create_into_the_first_teams_team(caller, other_caller):
    response = other_caller.client.post(
        LIST_URL, full_body(team_id=str(caller.team.id)), format="json"
    )

    assert response.status_code == 400
    assert "team_id" in {e["attr"] for e in response.json()["errors"]}
    assert AdAccount.objects.filter(team=caller.team).count() == 0
