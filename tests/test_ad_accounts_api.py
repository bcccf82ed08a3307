"""The ad account API as API.md describes it: shapes, validation, updates, soft delete, auth."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.pagination import PageNumberPagination
from rest_framework.test import APIClient

from adaccounts.models import AdAccount, Team
from tests.factories import AdAccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/ad_accounts"

RESPONSE_FIELDS = {
    "id",
    "platform_account_id",
    "name",
    "platform_type",
    "has_credentials",
    "status",
    "team_id",
    "owner_user_id",
    "additional_config",
    "created_at",
    "updated_at",
}


def detail_url(account_id: Any) -> str:
    return f"{LIST_URL}/{account_id}"


def meta_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "platform_account_id": "act_1234567890",
        "name": "Acme US",
        "platform_type": "META",
        "credentials": {"access_token": "EAAB-test-token"},
    }
    body.update(overrides)
    return body


def error_attrs(response: Any) -> set[str | None]:
    """The `attr`s of an API.md error body, after checking the body has that shape."""
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["type"] == "validation_error", body
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"attr", "code", "detail"}, error
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["detail"], str) and error["detail"]
    return {error["attr"] for error in body["errors"]}


def error_codes(response: Any, attr: str) -> set[str]:
    return {e["code"] for e in response.json()["errors"] if e["attr"] == attr}


def create(client: APIClient, **overrides: Any) -> Any:
    return client.post(LIST_URL, meta_body(**overrides), format="json")


# --- create ----------------------------------------------------------------------------------


def test_it_creates_an_account_and_returns_every_documented_field(caller):
    response = create(
        caller.client,
        platform_account_id="act_555",
        name="Acme EU",
        credentials={"access_token": "EAAB-secret-create", "app_secret": "shh-app-secret"},
        status="INACTIVE",
        team_id=str(caller.team.id),
        owner_user_id=caller.user.id,
        additional_config={"timezone": "Europe/Paris", "nested": {"a": [1, 2]}},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= RESPONSE_FIELDS
    assert "credentials" not in body
    assert b"EAAB-secret-create" not in response.content
    assert b"shh-app-secret" not in response.content
    account = AdAccount.objects.get()
    assert body["id"] == str(account.id)
    uuid.UUID(body["id"])
    assert body["platform_account_id"] == "act_555"
    assert body["name"] == "Acme EU"
    assert body["platform_type"] == "META"
    assert body["has_credentials"] is True
    assert body["status"] == "INACTIVE"
    assert body["team_id"] == str(caller.team.id)
    assert body["owner_user_id"] == caller.user.id
    assert body["additional_config"] == {"timezone": "Europe/Paris", "nested": {"a": [1, 2]}}
    assert body["created_at"] and body["updated_at"]
    assert account.credentials == {
        "access_token": "EAAB-secret-create",
        "app_secret": "shh-app-secret",
    }


def test_it_defaults_status_to_active_owner_to_null_and_config_to_an_empty_object(caller):
    response = create(caller.client)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "ACTIVE"
    assert body["owner_user_id"] is None
    assert body["additional_config"] == {}
    assert body["has_credentials"] is True


def test_it_normalises_bare_digits_to_act_prefix(caller):
    response = create(caller.client, platform_account_id="987654321")

    assert response.status_code == 201, response.content
    assert response.json()["platform_account_id"] == "act_987654321"
    assert AdAccount.objects.get().platform_account_id == "act_987654321"


def test_it_uses_the_callers_only_team_when_team_id_is_omitted(caller):
    response = create(caller.client)

    assert response.status_code == 201, response.content
    assert response.json()["team_id"] == str(caller.team.id)
    assert AdAccount.objects.get().team == caller.team


def test_it_requires_team_id_when_the_caller_has_two_teams(caller):
    TeamFactory(members=[caller.user])

    response = create(caller.client)

    assert response.status_code == 400
    assert "team_id" in error_attrs(response)
    assert AdAccount.objects.count() == 0


def test_it_accepts_either_team_when_the_caller_names_it(caller):
    second = TeamFactory(members=[caller.user])

    response = create(caller.client, team_id=str(second.id))

    assert response.status_code == 201, response.content
    assert response.json()["team_id"] == str(second.id)


def test_it_refuses_a_team_the_caller_is_not_in(caller, other_caller):
    response = create(caller.client, team_id=str(other_caller.team.id))

    assert response.status_code == 400
    assert "team_id" in error_attrs(response)
    assert AdAccount.objects.count() == 0


def test_it_refuses_a_team_that_does_not_exist(caller):
    response = create(caller.client, team_id=str(uuid.uuid4()))

    assert response.status_code == 400
    assert "team_id" in error_attrs(response)
    assert AdAccount.objects.count() == 0


# --- list and detail -------------------------------------------------------------------------


def test_it_lists_accounts_paginated(caller):
    AdAccountFactory.create_batch(3, team=caller.team)

    response = caller.client.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert body["next"] is None
    assert body["previous"] is None
    assert len(body["results"]) == 3
    for item in body["results"]:
        assert set(item) >= RESPONSE_FIELDS
        assert "credentials" not in item
        assert item["has_credentials"] is True
    assert b"factory-token" not in response.content


def test_it_pages_through_a_long_list(caller, monkeypatch):
    AdAccountFactory.create_batch(3, team=caller.team)
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)

    page1 = caller.client.get(LIST_URL).json()
    page2 = caller.client.get(page1["next"]).json()

    assert page1["count"] == page2["count"] == 3
    assert len(page1["results"]) == 2
    assert page1["previous"] is None
    assert page1["next"]
    assert len(page2["results"]) == 1
    assert page2["next"] is None
    assert page2["previous"]
    ids = {r["id"] for r in page1["results"]} | {r["id"] for r in page2["results"]}
    assert ids == {str(a.id) for a in AdAccount.objects.all()}


def test_it_filters_the_list_by_platform_type(caller):
    meta = AdAccountFactory(team=caller.team, platform_type="META")
    google = AdAccountFactory(
        team=caller.team,
        platform_type="GOOGLE_ADS",
        platform_account_id="123-456-7890",
        credentials={"developer_token": "x"},
    )

    meta_ids = [
        r["id"] for r in caller.client.get(LIST_URL, {"platform_type": "META"}).json()["results"]
    ]
    google_ids = [
        r["id"]
        for r in caller.client.get(LIST_URL, {"platform_type": "GOOGLE_ADS"}).json()["results"]
    ]
    tiktok = caller.client.get(LIST_URL, {"platform_type": "TIKTOK_ADS"}).json()

    assert meta_ids == [str(meta.id)]
    assert google_ids == [str(google.id)]
    assert tiktok["count"] == 0


def test_it_filters_the_list_by_status(caller):
    active = AdAccountFactory(team=caller.team, status="ACTIVE")
    reauth = AdAccountFactory(team=caller.team, status="REQUIRES_REAUTH")
    AdAccountFactory(team=caller.team, status="SUSPENDED")

    body = caller.client.get(LIST_URL, {"status": "REQUIRES_REAUTH"}).json()
    assert [r["id"] for r in body["results"]] == [str(reauth.id)]
    body = caller.client.get(LIST_URL, {"status": "ACTIVE", "platform_type": "META"}).json()
    assert [r["id"] for r in body["results"]] == [str(active.id)]
    assert caller.client.get(LIST_URL, {"status": "INACTIVE"}).json()["count"] == 0


@pytest.mark.parametrize("query", [{"status": "BOGUS"}, {"platform_type": "FACEBOOK"}])
def test_it_rejects_an_invalid_filter_value(caller, query):
    AdAccountFactory(team=caller.team)

    response = caller.client.get(LIST_URL, query)

    assert response.status_code == 400
    assert set(query) <= error_attrs(response)


def test_it_returns_one_account(caller):
    account = AdAccountFactory(team=caller.team, additional_config={"k": "v"})

    response = caller.client.get(detail_url(account.id))

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= RESPONSE_FIELDS
    assert "credentials" not in body
    assert body["id"] == str(account.id)
    assert body["platform_account_id"] == account.platform_account_id
    assert body["name"] == account.name
    assert body["team_id"] == str(caller.team.id)
    assert body["additional_config"] == {"k": "v"}
    assert body["has_credentials"] is True
    assert b"factory-token" not in response.content


def test_it_reports_has_credentials_false_for_an_account_without_any(caller):
    account = AdAccountFactory(team=caller.team, credentials={})

    assert caller.client.get(detail_url(account.id)).json()["has_credentials"] is False


# --- PUT / PATCH -----------------------------------------------------------------------------


def test_put_replaces_the_account_and_keeps_credentials_when_omitted(caller):
    account = AdAccountFactory(
        team=caller.team,
        platform_account_id="act_111",
        credentials={"access_token": "EAAB-keep-me", "app_secret": "keep-secret"},
    )

    response = caller.client.put(
        detail_url(account.id),
        {
            "platform_account_id": "222",
            "name": "Renamed",
            "platform_type": "META",
            "status": "SUSPENDED",
            "additional_config": {"x": 1},
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["platform_account_id"] == "act_222"
    assert body["name"] == "Renamed"
    assert body["status"] == "SUSPENDED"
    assert body["additional_config"] == {"x": 1}
    assert body["has_credentials"] is True
    assert "credentials" not in body
    account.refresh_from_db()
    assert account.name == "Renamed"
    assert account.platform_account_id == "act_222"
    assert account.status == "SUSPENDED"
    assert account.credentials == {"access_token": "EAAB-keep-me", "app_secret": "keep-secret"}


def test_put_requires_the_full_representation(caller):
    account = AdAccountFactory(team=caller.team, name="Before")

    response = caller.client.put(detail_url(account.id), {"name": "After"}, format="json")

    assert response.status_code == 400
    assert {"platform_account_id", "platform_type"} <= error_attrs(response)
    account.refresh_from_db()
    assert account.name == "Before"


def test_put_with_credentials_replaces_them(caller):
    account = AdAccountFactory(
        team=caller.team, credentials={"access_token": "old", "app_secret": "old-secret"}
    )

    response = caller.client.put(
        detail_url(account.id),
        {
            "platform_account_id": account.platform_account_id,
            "name": account.name,
            "platform_type": "META",
            "status": "ACTIVE",
            "credentials": {"access_token": "EAAB-new-by-put"},
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.credentials == {"access_token": "EAAB-new-by-put"}


def test_patch_changes_only_the_given_fields(caller):
    account = AdAccountFactory(
        team=caller.team,
        name="Before",
        status="INACTIVE",
        additional_config={"keep": True},
        credentials={"access_token": "EAAB-patch-keep"},
    )
    platform_account_id = account.platform_account_id

    response = caller.client.patch(detail_url(account.id), {"name": "After"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "After"
    assert body["status"] == "INACTIVE"
    assert body["platform_account_id"] == platform_account_id
    assert body["additional_config"] == {"keep": True}
    assert body["team_id"] == str(caller.team.id)
    account.refresh_from_db()
    assert account.name == "After"
    assert account.status == "INACTIVE"
    assert account.credentials == {"access_token": "EAAB-patch-keep"}


def test_patch_with_new_credentials_replaces_them(caller):
    account = AdAccountFactory(
        team=caller.team, credentials={"access_token": "EAAB-old", "app_secret": "old-secret"}
    )

    response = caller.client.patch(
        detail_url(account.id),
        {"credentials": {"access_token": "EAAB-rotated"}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["has_credentials"] is True
    assert b"EAAB-rotated" not in response.content
    account.refresh_from_db()
    assert account.credentials == {"access_token": "EAAB-rotated"}


def test_patch_validates_credentials_for_the_accounts_platform(caller):
    account = AdAccountFactory(team=caller.team, credentials={"access_token": "EAAB-stays"})

    response = caller.client.patch(
        detail_url(account.id), {"credentials": {"app_secret": "x"}}, format="json"
    )

    assert response.status_code == 400
    assert "credentials.access_token" in error_attrs(response)
    account.refresh_from_db()
    assert account.credentials == {"access_token": "EAAB-stays"}


def test_patch_refuses_a_duplicate_platform_account_id(caller):
    AdAccountFactory(team=caller.team, platform_account_id="act_42")
    account = AdAccountFactory(team=caller.team, platform_account_id="act_43")

    response = caller.client.patch(
        detail_url(account.id), {"platform_account_id": "42"}, format="json"
    )

    assert response.status_code == 400
    assert "platform_account_id" in error_attrs(response)
    account.refresh_from_db()
    assert account.platform_account_id == "act_43"


# --- DELETE ----------------------------------------------------------------------------------


def test_delete_is_a_soft_delete_that_hides_the_account(caller):
    account = AdAccountFactory(team=caller.team, platform_account_id="act_777")

    response = caller.client.delete(detail_url(account.id))

    assert response.status_code == 204
    assert response.content == b""
    row = AdAccount.objects.get(pk=account.pk)
    assert row.deleted_at is not None
    assert caller.client.get(detail_url(account.id)).status_code == 404
    assert caller.client.get(LIST_URL).json()["count"] == 0
    assert (
        caller.client.patch(detail_url(account.id), {"name": "x"}, format="json").status_code == 404
    )
    assert caller.client.delete(detail_url(account.id)).status_code == 404


def test_a_deleted_accounts_platform_id_can_be_created_again(caller):
    account = AdAccountFactory(team=caller.team, platform_account_id="act_777")
    assert caller.client.delete(detail_url(account.id)).status_code == 204

    response = create(caller.client, platform_account_id="777")

    assert response.status_code == 201, response.content
    assert response.json()["id"] != str(account.id)
    assert AdAccount.objects.filter(platform_account_id="act_777").count() == 2
    assert AdAccount.objects.live().filter(platform_account_id="act_777").count() == 1


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "attr"),
    [
        ({"platform_account_id": "act_12ab"}, "platform_account_id"),
        ({"platform_account_id": "acct_123"}, "platform_account_id"),
        ({"platform_account_id": ""}, "platform_account_id"),
        ({"platform_type": "FACEBOOK"}, "platform_type"),
        ({"status": "DELETED"}, "status"),
        ({"credentials": {}}, "credentials.access_token"),
        ({"credentials": {"app_secret": "only-a-secret"}}, "credentials.access_token"),
        ({"credentials": {"access_token": ""}}, "credentials.access_token"),
        ({"name": "n" * 256}, "name"),
        ({"name": ""}, "name"),
        ({"additional_config": ["not", "an", "object"]}, "additional_config"),
        ({"additional_config": "text"}, "additional_config"),
        ({"surprise": 1}, "surprise"),
        ({"team_id": "not-a-uuid"}, "team_id"),
    ],
)
def test_it_rejects_a_bad_field_and_stores_nothing(caller, overrides, attr):
    response = create(caller.client, **overrides)

    assert response.status_code == 400, response.content
    assert attr in error_attrs(response)
    assert AdAccount.objects.count() == 0


@pytest.mark.parametrize("missing", ["platform_account_id", "name", "platform_type", "credentials"])
def test_it_rejects_a_missing_required_field(caller, missing):
    body = meta_body()
    del body[missing]

    response = caller.client.post(LIST_URL, body, format="json")

    assert response.status_code == 400
    assert missing in error_attrs(response)
    assert error_codes(response, missing) == {"required"}
    assert AdAccount.objects.count() == 0


def test_it_accepts_a_name_of_exactly_255_characters(caller):
    response = create(caller.client, name="n" * 255)

    assert response.status_code == 201, response.content
    assert AdAccount.objects.get().name == "n" * 255


def test_it_lists_every_bad_field_in_one_response(caller):
    response = create(
        caller.client,
        platform_account_id="not-a-meta-id",
        name="n" * 300,
        status="NOPE",
        credentials={"app_secret": "s"},
        additional_config=[1],
        team_id=str(uuid.uuid4()),
        extra_field=True,
    )

    assert response.status_code == 400
    assert error_attrs(response) >= {
        "platform_account_id",
        "name",
        "status",
        "credentials.access_token",
        "additional_config",
        "team_id",
        "extra_field",
    }
    assert AdAccount.objects.count() == 0


def test_it_rejects_malformed_json_with_the_error_shape(caller):
    response = caller.client.post(LIST_URL, data='{"name": "x",', content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["type"] in {"validation_error", "client_error"}
    assert body["errors"]
    assert all(set(e) == {"attr", "code", "detail"} for e in body["errors"])
    assert AdAccount.objects.count() == 0


def test_it_rejects_a_json_array_body(caller):
    response = caller.client.post(
        LIST_URL, data=json.dumps([meta_body()]), content_type="application/json"
    )

    assert response.status_code == 400
    error_attrs(response)
    assert AdAccount.objects.count() == 0


def test_it_rejects_a_duplicate_platform_account_id(caller):
    assert create(caller.client, platform_account_id="act_123").status_code == 201

    response = create(caller.client, platform_account_id="act_123", name="Again")

    assert response.status_code == 400
    assert "platform_account_id" in error_attrs(response)
    assert AdAccount.objects.count() == 1


def test_it_rejects_a_duplicate_written_without_the_act_prefix(caller):
    assert create(caller.client, platform_account_id="act_123").status_code == 201

    response = create(caller.client, platform_account_id="123", name="Again")

    assert response.status_code == 400
    assert "platform_account_id" in error_attrs(response)
    assert AdAccount.objects.count() == 1


def test_the_same_platform_id_may_exist_on_two_platforms(caller):
    assert create(caller.client, platform_account_id="act_123").status_code == 201

    response = create(
        caller.client,
        platform_type="TIKTOK_ADS",
        platform_account_id="act_123",
        credentials={"access_token": "tt-token"},
    )

    assert response.status_code == 201, response.content
    assert AdAccount.objects.count() == 2


# --- paths and authentication ----------------------------------------------------------------


def test_both_path_forms_answer_directly_without_redirect(caller):
    account = AdAccountFactory(team=caller.team)

    for url in (LIST_URL, LIST_URL + "/"):
        response = caller.client.get(url)
        assert response.status_code == 200, url
        assert "Location" not in response.headers
    for url in (detail_url(account.id), detail_url(account.id) + "/"):
        response = caller.client.get(url)
        assert response.status_code == 200, url
        assert response.json()["id"] == str(account.id)
        response = caller.client.patch(url, {"name": "via " + url}, format="json")
        assert response.status_code == 200, url
    for url in ("/api/v1/teams", "/api/v1/teams/"):
        assert caller.client.get(url).status_code == 200, url

    created = [
        caller.client.post(url, meta_body(platform_account_id=pid), format="json")
        for url, pid in ((LIST_URL, "act_1"), (LIST_URL + "/", "act_2"))
    ]
    assert [r.status_code for r in created] == [201, 201]


def test_delete_answers_on_the_trailing_slash_form(caller):
    account = AdAccountFactory(team=caller.team)

    response = caller.client.delete(detail_url(account.id) + "/")

    assert response.status_code == 204
    assert AdAccount.objects.get(pk=account.pk).deleted_at is not None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", LIST_URL),
        ("post", LIST_URL),
        ("get", LIST_URL + "/00000000-0000-0000-0000-000000000000"),
        ("get", "/api/v1/teams"),
    ],
)
def test_it_answers_401_with_www_authenticate_without_a_token(db, method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_it_answers_401_for_an_unknown_token(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(LIST_URL)

    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_it_lists_only_the_callers_teams(caller, other_caller):
    response = caller.client.get("/api/v1/teams")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": str(caller.team.id),
            "name": caller.team.name,
            "webhook_url": None,
            "has_webhook_secret": False,
        }
    ]


def test_it_lists_every_team_the_caller_belongs_to(caller, other_caller):
    second = TeamFactory(name="zz-second", members=[caller.user])

    teams = caller.client.get("/api/v1/teams").json()

    assert {t["id"] for t in teams} == {str(caller.team.id), str(second.id)}
    assert str(other_caller.team.id) not in {t["id"] for t in teams}


def test_a_superuser_sees_every_teams_accounts(caller, other_caller):
    mine = AdAccountFactory(team=caller.team)
    theirs = AdAccountFactory(team=other_caller.team)
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")

    listed = client.get(LIST_URL).json()

    assert {r["id"] for r in listed["results"]} == {str(mine.id), str(theirs.id)}
    assert client.get(detail_url(theirs.id)).status_code == 200
    # A regular member still sees only their own team's account.
    assert [r["id"] for r in caller.client.get(LIST_URL).json()["results"]] == [str(mine.id)]


def superuser_caller(*teams: Team) -> tuple[Any, APIClient]:
    admin = UserFactory(is_superuser=True, is_staff=True)
    for team in teams:
        team.members.add(admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")
    return admin, client


def test_a_superuser_in_exactly_one_team_may_omit_team_id(caller, other_caller):
    own_team = TeamFactory()
    _, client = superuser_caller(own_team)

    response = create(client)

    assert response.status_code == 201, response.content
    assert response.json()["team_id"] == str(own_team.id)


def test_a_superuser_may_name_any_team(caller):
    _, client = superuser_caller()

    response = create(client, team_id=str(caller.team.id))

    assert response.status_code == 201, response.content
    assert response.json()["team_id"] == str(caller.team.id)


def test_a_user_in_no_team_must_name_one_and_cannot(db):
    user = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    team = TeamFactory()

    assert "team_id" in error_attrs(create(client))
    assert "team_id" in error_attrs(create(client, team_id=str(team.id)))
    assert client.get("/api/v1/teams").json() == []
    assert AdAccount.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"surprise": 1}, "surprise"),
        ({"status": "DELETED"}, "status"),
        ({"name": "n" * 256}, "name"),
        ({"additional_config": [1]}, "additional_config"),
        ({"platform_account_id": "act_x1"}, "platform_account_id"),
        ({"platform_type": "GOOGLE_ADS"}, "platform_type"),
        ({"credentials": "EAAB-not-an-object"}, "credentials"),
    ],
)
def test_patch_rejects_bad_input_and_changes_nothing(caller, body, attr):
    account = AdAccountFactory(
        team=caller.team, name="Before", credentials={"access_token": "EAAB-unchanged"}
    )
    before = AdAccount.objects.filter(pk=account.pk).values().get()

    response = caller.client.patch(detail_url(account.id), body, format="json")

    assert response.status_code == 400, response.content
    attrs = error_attrs(response)
    assert any(a == attr or str(a).startswith(attr + ".") for a in attrs), attrs
    assert AdAccount.objects.filter(pk=account.pk).values().get() == before


def test_a_duplicate_held_by_another_team_is_refused_in_the_same_words_naming_no_one(caller):
    # One Meta account per mojito, and the refusal must not tell the caller who holds it.
    other_team = TeamFactory(name="Rival agency")
    theirs = AdAccountFactory(
        team=other_team, platform_account_id="act_555", name="Rival's secret account"
    )
    assert create(caller.client, platform_account_id="act_777").status_code == 201

    against_other = create(caller.client, platform_account_id="act_555", name="Mine")
    against_own = create(caller.client, platform_account_id="act_777", name="Mine")

    assert against_other.status_code == against_own.status_code == 400
    assert against_other.json() == against_own.json()
    body = against_other.content.decode()
    for revealing in (other_team.name, str(other_team.pk), str(theirs.pk), theirs.name):
        assert revealing not in body
    assert "platform_account_id" in error_attrs(against_other)
    assert caller.client.get(f"{LIST_URL}/{theirs.pk}").status_code == 404
    assert AdAccount.objects.filter(platform_account_id="act_555").get() == theirs


def test_moving_an_account_onto_another_teams_id_is_refused_in_the_same_words(caller):
    AdAccountFactory(team=TeamFactory(name="Rival agency"), platform_account_id="act_555")
    mine = create(caller.client, platform_account_id="act_777").json()

    response = caller.client.patch(
        f"{LIST_URL}/{mine['id']}", {"platform_account_id": "act_555"}, format="json"
    )

    assert response.status_code == 400
    assert "Rival agency" not in response.content.decode()
    assert "platform_account_id" in error_attrs(response)
    assert AdAccount.objects.get(pk=mine["id"]).platform_account_id == "act_777"
