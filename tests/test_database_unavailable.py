"""With PostgreSQL down or restarting, the API answers 503 with Retry-After in its error shape,
not a 500: the client should come back shortly.

Nothing stands in for a dead database short of stopping one, and the machine's PostgreSQL is
shared: these tests point Django's connection at a port where nothing listens, for the test's
duration, which is what a stopped server looks like to a client (connection refused).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.factories import AdAccountFactory, UserFactory
from tests.payloads import META_SUBMIT_URL, api_example

# Committed rows: the requests below run on a connection of their own once it is back.
pytestmark = pytest.mark.django_db(transaction=True)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_down(monkeypatch) -> Iterator[None]:
    """Django's connection now reaches a server that is not there, as during a restart."""
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(unused_port()))
    yield
    # Closed while still pointing nowhere; monkeypatch then restores the real server.
    connection.close()


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["type"] == "server_error"
    [error] = body["errors"]
    assert (error["code"], error["attr"]) == ("service_unavailable", None)


@pytest.fixture
def api(caller) -> Any:
    # The answer is what a client sees; the test client would otherwise re-raise the error
    # the answer reports.
    caller.client.raise_request_exception = False
    return caller


def test_a_read_answers_503_when_the_token_cannot_be_looked_up(api, database_down):
    # The token lookup (authentication, before any view code) is the first query to fail.
    assert_unavailable(api.client.get("/api/v1/ad_accounts"))


def test_a_submission_answers_503(api, database_down):
    account_id = "act_123"

    assert_unavailable(api.client.post(META_SUBMIT_URL, api_example(account_id), format="json"))


def test_the_api_answers_again_once_the_database_is_back(api, monkeypatch):
    account = AdAccountFactory(team=api.team)
    real_port = connection.settings_dict["PORT"]
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(unused_port()))
    assert_unavailable(api.client.get(f"/api/v1/ad_accounts/{account.pk}"))

    connection.close()
    monkeypatch.undo()
    assert connection.settings_dict["PORT"] == real_port

    assert api.client.get(f"/api/v1/ad_accounts/{account.pk}").status_code == 200


def test_an_admin_page_answers_503_not_a_500(database_down_after_login):
    response = database_down_after_login.get("/admin/adaccounts/adaccount/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert b"unavailable" in response.content


@pytest.fixture
def database_down_after_login(monkeypatch) -> Iterator[Client]:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(unused_port()))
    yield client
    connection.close()


def test_readiness_says_503_and_liveness_200(database_down):
    client = Client(raise_request_exception=False)

    ready = client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] is False
    assert client.get("/healthz").status_code == 200
