"""Management commands of API.md: create_api_user and rotate_credentials."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from adaccounts.models import AdAccount, Team
from tests.factories import AdAccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def last_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert lines, "the command printed nothing"
    return lines[-1].strip()


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_create_api_user_prints_a_token_that_authenticates():
    token = last_line(run("create_api_user", "alice", "--team", "Red"))

    response = client_for(token).get("/api/v1/teams")

    assert response.status_code == 200
    red = Team.objects.get(name="Red")
    assert response.json() == [
        {"id": str(red.id), "name": "Red", "webhook_url": None, "has_webhook_secret": False}
    ]
    assert get_user_model().objects.get(username="alice").teams.get() == red


def test_create_api_user_token_can_create_an_ad_account_in_its_team():
    token = last_line(run("create_api_user", "alice", "--team", "Red"))

    response = client_for(token).post(
        "/api/v1/ad_accounts",
        {
            "platform_account_id": "123",
            "name": "From the CLI user",
            "platform_type": "META",
            "credentials": {"access_token": "EAAB-cli"},
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert AdAccount.objects.get().team.name == "Red"


def test_running_it_again_reuses_the_user_and_adds_a_second_team():
    first = last_line(run("create_api_user", "alice", "--team", "Red"))

    second = last_line(run("create_api_user", "alice", "--team", "Blue"))

    assert second == first
    assert get_user_model().objects.filter(username="alice").count() == 1
    teams = client_for(second).get("/api/v1/teams").json()
    assert sorted(t["name"] for t in teams) == ["Blue", "Red"]


def test_running_it_twice_for_the_same_team_changes_nothing():
    first = last_line(run("create_api_user", "alice", "--team", "Red"))

    second = last_line(run("create_api_user", "alice", "--team", "Red"))

    assert second == first
    assert Team.objects.filter(name="Red").count() == 1
    assert len(client_for(second).get("/api/v1/teams").json()) == 1


def test_create_api_user_joins_an_existing_team_with_its_accounts(db):
    team = TeamFactory(name="Existing", members=[UserFactory()])
    account = AdAccountFactory(team=team)

    token = last_line(run("create_api_user", "bob", "--team", "Existing"))

    assert Team.objects.filter(name="Existing").count() == 1
    body = client_for(token).get("/api/v1/ad_accounts").json()
    assert [r["id"] for r in body["results"]] == [str(account.id)]


def test_create_api_user_adopts_an_existing_user():
    user = UserFactory(username="carol")

    token = last_line(run("create_api_user", "carol", "--team", "Green"))

    assert get_user_model().objects.filter(username="carol").count() == 1
    assert user.auth_token.key == token


def test_create_api_user_needs_a_team():
    with pytest.raises(CommandError, match="team"):
        call_command("create_api_user", "dave", stdout=StringIO(), stderr=StringIO())
    assert not get_user_model().objects.filter(username="dave").exists()


def test_rotate_credentials_prints_how_many_accounts_it_rewrote():
    AdAccountFactory.create_batch(2)
    AdAccountFactory().soft_delete()

    output = run("rotate_credentials")

    assert re.search(r"\b3\b", output), output
    assert "factory-token" not in output


def test_rotate_credentials_on_an_empty_table_prints_zero():
    assert re.search(r"\b0\b", run("rotate_credentials"))
