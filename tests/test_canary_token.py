"""A canary access token driven through every ad account path never shows up in plaintext.

API.md: credentials "never appear in any response, log line, error message, admin page or
queue message" and are encrypted at rest. Everything is watched at DEBUG, SQL included.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from adaccounts.models import AdAccount

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/ad_accounts"


def new_canary() -> str:
    return "EAAB-CANARY-" + uuid.uuid4().hex


def forms(secret: str) -> list[str]:
    """The secret as text and as it would look hex- or base64-encoded (bytea, JSON in bytes)."""
    raw = secret.encode()
    return [
        secret,
        raw.hex(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    ]


@dataclass
class LeakWatch:
    caplog: Any
    queries: CaptureQueriesContext
    canaries: list[str] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def canary(self) -> str:
        value = new_canary()
        self.canaries.append(value)
        return value

    def seen(self, response: Any) -> Any:
        self.responses.append(response)
        return response

    def leaks_in(self, text: str) -> list[str]:
        return [form for secret in self.canaries for form in forms(secret) if form in text]

    def assert_no_leak(self, capfd: Any) -> None:
        assert self.canaries, "the test planted no canary"
        for response in self.responses:
            where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}"
            assert not self.leaks_in(response.content.decode("utf-8", "replace")), where
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            assert not self.leaks_in(headers), where

        records = self.caplog.records
        assert any(r.name == "django.db.backends" for r in records), "SQL was not logged"
        for record in records:
            texts = [record.getMessage(), repr(record.args), repr(record.__dict__)]
            if record.exc_info:
                texts.append(logging.Formatter().formatException(record.exc_info))
            for text in texts:
                assert not self.leaks_in(text), f"{record.name}: {record.getMessage()[:200]}"

        sql = [q["sql"] for q in self.queries.captured_queries]
        assert any('INSERT INTO "ad_accounts"' in q for q in sql), "SQL was not captured"
        for statement in sql:
            assert not self.leaks_in(statement), statement[:200]

        for output in self.outputs:
            assert not self.leaks_in(output), output

        captured = capfd.readouterr()
        assert not self.leaks_in(captured.out)
        assert not self.leaks_in(captured.err)

        assert_not_in_database(self)


def assert_not_in_database(watch: LeakWatch) -> None:
    """A pg_dump-like scan: every row of every table, cast to text (bytea shows as hex)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM ad_accounts t")
        account_rows = [row[0] for row in cursor.fetchall()]
        assert account_rows, "no ad_accounts row to scan"
        for text in account_rows:
            assert not watch.leaks_in(text), text[:200]

        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} t")  # noqa: S608
            for (text,) in cursor.fetchall():
                assert not watch.leaks_in(text), f"{table}: {text[:200]}"


@pytest.fixture
def watch(caplog) -> Iterator[LeakWatch]:
    caplog.set_level(logging.DEBUG)
    # `django` is configured at INFO; SQL statements are logged by its child at DEBUG.
    caplog.set_level(logging.DEBUG, logger="django")
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True  # log every statement with its params, DEBUG or not
    try:
        with CaptureQueriesContext(connection) as queries:
            yield LeakWatch(caplog=caplog, queries=queries)
    finally:
        connection.force_debug_cursor = previous


def account_body(token: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "platform_account_id": "act_424242",
        "name": "Canary account",
        "platform_type": "META",
        "credentials": {"access_token": token},
    }
    body.update(overrides)
    return body


def test_a_canary_token_never_leaks_through_the_ad_account_lifecycle(
    watch, caller, other_caller, capfd
):
    client = caller.client
    first = watch.canary()
    app_secret = watch.canary()

    created = watch.seen(client.post(LIST_URL, account_body(first), format="json"))
    assert created.status_code == 201, created.content
    url = f"{LIST_URL}/{created.json()['id']}"

    assert watch.seen(client.get(LIST_URL)).status_code == 200
    assert watch.seen(client.get(LIST_URL + "/", {"status": "ACTIVE"})).status_code == 200
    assert watch.seen(client.get(url)).status_code == 200

    put = watch.seen(
        client.put(
            url,
            account_body(
                first,
                name="Renamed",
                status="ACTIVE",
                credentials={"access_token": first, "app_secret": app_secret},
            ),
            format="json",
        )
    )
    assert put.status_code == 200, put.content

    second = watch.canary()
    patched = watch.seen(
        client.patch(url, {"credentials": {"access_token": second}}, format="json")
    )
    assert patched.status_code == 200, patched.content
    assert AdAccount.objects.get().credentials == {"access_token": second}

    assert watch.seen(client.get(url)).status_code == 200
    # The browsable API renders forms from the object: they must not carry the token either.
    for path in (url, LIST_URL):
        html = watch.seen(client.get(path, HTTP_ACCEPT="text/html"))
        assert html.status_code == 200
        assert html["Content-Type"].startswith("text/html")

    out = StringIO()
    call_command("rotate_credentials", stdout=out)
    watch.outputs.append(out.getvalue())

    assert watch.seen(client.delete(url)).status_code == 204
    assert watch.seen(client.get(url)).status_code == 404

    watch.assert_no_leak(capfd)


def test_a_canary_token_never_leaks_through_error_responses(watch, caller, other_caller, capfd):
    client = caller.client
    existing = watch.canary()
    assert (
        watch.seen(client.post(LIST_URL, account_body(existing), format="json")).status_code == 201
    )
    url = f"{LIST_URL}/{AdAccount.objects.get().id}"

    bad_requests = [
        # a valid token beside a bad field
        account_body(watch.canary(), platform_account_id="not-an-act-id"),
        # several bad fields, the token among them
        account_body(watch.canary(), name="n" * 300, status="NOPE", additional_config=[1]),
        # a duplicate account
        account_body(watch.canary()),
        # a team the caller is not in
        account_body(
            watch.canary(), platform_account_id="act_1", team_id=str(other_caller.team.id)
        ),
        # the token where the object should be
        account_body(watch.canary(), credentials=watch.canaries[-1]),
        account_body(watch.canary(), credentials=[watch.canaries[-1]]),
        # the token where a credential name is unknown, or too long to accept
        account_body(
            watch.canary(),
            credentials={"access_token": "EAAB-x", "refresh_token": watch.canaries[-1]},
        ),
        account_body("x", credentials={"access_token": watch.canary() + "x" * 2000}),
        account_body(
            watch.canary(), credentials={"access_token": watch.canaries[-1], "app_secret": 5}
        ),
        # an unknown top-level field carrying the token
        account_body(watch.canary(), access_token=watch.canaries[-1]),
    ]
    for body in bad_requests:
        response = watch.seen(client.post(LIST_URL, body, format="json"))
        assert response.status_code == 400, (body, response.content)

    malformed = '{"credentials": {"access_token": "' + watch.canary() + '"}, "name": '
    response = watch.seen(client.post(LIST_URL, malformed, content_type="application/json"))
    assert response.status_code == 400

    response = watch.seen(
        client.patch(
            url,
            {"credentials": {"access_token": watch.canary()}, "status": "NOPE"},
            format="json",
        )
    )
    assert response.status_code == 400
    response = watch.seen(
        client.put(url, {"credentials": {"access_token": watch.canary()}}, format="json")
    )
    assert response.status_code == 400

    # Out of reach: another team, no token at all.
    response = watch.seen(
        other_caller.client.patch(
            url, {"credentials": {"access_token": watch.canary()}}, format="json"
        )
    )
    assert response.status_code == 404
    response = watch.seen(APIClient().post(LIST_URL, account_body(watch.canary()), format="json"))
    assert response.status_code == 401

    # Nothing but the first account was stored, and it kept its credentials.
    assert AdAccount.objects.count() == 1
    assert AdAccount.objects.get().credentials == {"access_token": existing}

    watch.assert_no_leak(capfd)


def test_the_leak_watch_would_notice_a_leak(watch, caller, capfd):
    # Guard against a vacuous watch: a canary put where the scan looks must be found.
    canary = watch.canary()
    logging.getLogger("tests.canary").debug("oops %s", canary)

    with pytest.raises(AssertionError):
        watch.seen(caller.client.get(LIST_URL))
        AdAccount.objects.create(
            team=caller.team, platform_type="META", platform_account_id="act_9", name="x"
        )
        watch.assert_no_leak(capfd)
