"""Caps on what one request may ask: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 on every
endpoint (JSON, never a 500 or Django's page), and ?page_size= is served up to
API_MAX_PAGE_SIZE, a bad one a 400 naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from adaccounts.models import AdAccount
from tests.factories import AdAccountFactory

pytestmark = pytest.mark.django_db

LIMIT = 2000
LIST_URL = "/api/v1/ad_accounts"


def assert_too_large(response: Any) -> None:
    assert response.status_code == 413, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["type"] == "client_error"
    [error] = body["errors"]
    assert (error["code"], error["attr"]) == ("payload_too_large", None)
    assert str(LIMIT) in error["detail"]


def big_body() -> dict[str, Any]:
    return {
        "platform_account_id": "act_77",
        "name": "Big",
        "platform_type": "META",
        "credentials": {"access_token": "EAAB-big"},
        "additional_config": {"note": "x" * LIMIT},
    }


@pytest.fixture
def limit(settings) -> int:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    return LIMIT


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", LIST_URL),
        ("patch", "{account}"),
        ("put", "{account}"),
        ("patch", "/api/v1/teams/{team}"),
        ("post", "/api/v1/campaigns/import"),
        ("post", "/api/v1/ads/meta"),
        ("post", "/api/v1/no/such/route"),
    ],
)
def test_an_oversized_json_body_is_a_413_everywhere(caller, limit, method, path):
    account = AdAccountFactory(team=caller.team, name="Unchanged")
    url = path.format(account=f"{LIST_URL}/{account.pk}", team=caller.team.pk)

    response = getattr(caller.client, method)(url, big_body(), format="json")

    assert_too_large(response)
    account.refresh_from_db()
    assert account.name == "Unchanged"
    assert AdAccount.objects.count() == 1


@pytest.mark.parametrize("format_", ["multipart", None])
def test_an_oversized_form_body_is_a_413_not_a_500(caller, limit, format_):
    # Django's multipart parser raises on the size itself, which DRF's views turned into a 500.
    data = {"name": "x" * LIMIT, "platform_type": "META", "platform_account_id": "act_1"}
    if format_ is None:
        response = caller.client.post(
            LIST_URL,
            data="&".join(f"{k}={v}" for k, v in data.items()),
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = caller.client.post(LIST_URL, data, format=format_)

    assert_too_large(response)
    assert not AdAccount.objects.exists()


def test_a_body_of_exactly_the_limit_is_accepted(caller, settings):
    body = big_body()
    body["additional_config"] = {"note": "x" * 100}
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(json.dumps(body))

    response = caller.client.post(LIST_URL, json.dumps(body), content_type="application/json")

    assert response.status_code == 201, response.content


def test_an_oversized_body_is_refused_before_authentication(limit):
    response = APIClient().post(LIST_URL, big_body(), format="json")

    assert_too_large(response)


# --- page_size -------------------------------------------------------------------------------


@pytest.fixture
def five_accounts(caller, settings) -> list[AdAccount]:
    settings.API_MAX_PAGE_SIZE = 3
    return [AdAccountFactory(team=caller.team) for _ in range(5)]


def test_page_size_sets_the_page_length(caller, five_accounts):
    body = caller.client.get(f"{LIST_URL}?page_size=2").json()

    assert (body["count"], len(body["results"])) == (5, 2)
    assert "page_size=2" in body["next"]


def test_a_page_size_over_the_cap_is_served_at_the_cap(caller, five_accounts):
    first = caller.client.get(f"{LIST_URL}?page_size=1000")
    second = caller.client.get(first.json()["next"])

    assert first.status_code == 200
    assert (first.json()["count"], len(first.json()["results"])) == (5, 3)
    assert len(second.json()["results"]) == 2
    seen = {row["id"] for row in first.json()["results"] + second.json()["results"]}
    assert seen == {str(account.pk) for account in five_accounts}


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "", "2.5"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400_naming_it(
    caller, five_accounts, page_size
):
    response = caller.client.get(f"{LIST_URL}?page_size={page_size}")

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == ["page_size"]


# --- the document ----------------------------------------------------------------------------


@pytest.fixture
def document(caller) -> dict[str, Any]:
    return caller.client.get("/api/schema/?format=json").json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_with_a_body_documents_the_413(document):
    with_body = [op for op in operations(document) if op[1] in ("post", "put", "patch")]

    assert with_body
    for path, method, operation in with_body:
        assert "413" in operation["responses"], (method, path)


def test_lists_document_page_size_from_1_without_a_maximum(document, settings):
    listed = document["paths"]["/api/v1/ad_accounts/"]["get"]

    [page_size] = [p for p in listed["parameters"] if p["name"] == "page_size"]
    assert page_size["schema"]["minimum"] == 1
    assert "maximum" not in page_size["schema"]
    assert str(settings.API_MAX_PAGE_SIZE) in page_size["description"]
    assert "400" in listed["responses"]
