"""U+0000 anywhere in a request body is a 400 naming the field, with DRF's own code for it,
whichever parser read the body: PostgreSQL stores it in neither text nor JSONB, so letting it
through would be a 500 (DataError) at the first save."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from adaccounts.models import AdAccount
from tests.factories import AdAccountFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/ad_accounts"
CODE = "null_characters_not_allowed"


def account_fields(**overrides: str) -> dict[str, str]:
    return {"name": "Forms", "additional_config": '{"a": "b"}', **overrides}


def assert_refused(response: Any, *attrs: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert {(e["attr"], e["code"]) for e in body["errors"]} == {(a, CODE) for a in attrs}
    account = AdAccount.objects.get()
    assert (account.name, account.additional_config) == ("Unchanged", {})


@pytest.fixture
def api(caller) -> Any:
    caller.client.raise_request_exception = False  # a crash shows as the 500 a client gets
    return caller


@pytest.fixture
def url(api) -> str:
    # A change rather than a create: a form cannot carry the create's credentials object, and
    # it is on a valid change that the NUL reached PostgreSQL (a 500).
    account = AdAccountFactory(team=api.team, name="Unchanged", additional_config={})
    return f"{LIST_URL}/{account.pk}"


@pytest.mark.parametrize("format_", ["multipart", "form"])
def test_a_json_form_field_holding_an_escaped_null_character_is_a_400_naming_it(api, url, format_):
    # A form carries JSON fields as text, which DRF's JSONField decodes: `\\u0000` is a NUL
    # only then (a 500 at the save, once).
    data = account_fields(additional_config='{"a": "x\\u0000y"}')
    if format_ == "form":
        response = api.client.patch(
            url, urlencode(data), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = api.client.patch(url, data, format="multipart")

    assert_refused(response, "additional_config.a")


def test_a_multipart_field_holding_a_null_character_is_a_400_naming_it(api, url):
    data = account_fields(additional_config='{"a": "x\u0000y"}', name="a\u0000b")

    response = api.client.patch(url, data, format="multipart")

    assert_refused(response, "additional_config", "name")


def test_a_form_field_holding_a_null_character_is_a_400_naming_it(api, url):
    body = urlencode(account_fields(additional_config='{"a": "x\u0000y"}'))

    response = api.client.patch(url, body, content_type="application/x-www-form-urlencoded")

    assert_refused(response, "additional_config")


def test_a_repeated_form_field_is_refused_for_any_of_its_values(api, url):
    body = urlencode([*account_fields().items(), ("name", "second\u0000")])

    response = api.client.patch(url, body, content_type="application/x-www-form-urlencoded")

    assert_refused(response, "name")


def test_a_json_body_uses_the_same_code_as_drf_for_a_char_field(api, url):
    # What DRF's CharField answers for a NUL in a string (it checks strings only)...
    body = {
        **account_fields(name="a\u0000b"),
        "additional_config": {"k\u0000": "v", "l": ["\u0000"]},
    }

    response = api.client.patch(url, body, format="json")

    # ...the parser answers for every string, keys and nested values included.
    assert_refused(response, "name", "additional_config.k", "additional_config.l.0")


def test_a_form_without_null_characters_still_changes_the_account(api, url):
    # A backslash in a text field is only text.
    response = api.client.patch(url, account_fields(name="C:\\ads"), format="multipart")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "C:\\ads"
    assert response.json()["additional_config"] == {"a": "b"}
    assert AdAccount.objects.get().additional_config == {"a": "b"}
