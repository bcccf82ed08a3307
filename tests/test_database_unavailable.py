"""With PostgreSQL down or restarting, the API answers 503 with Retry-After in its error shape,
not a 500: the client should come back shortly. Only then: a statement or lock timeout, a full
disk, a missing table are faults of this service, and stay 500s.

Nothing stands in for a dead database short of stopping one, and the machine's PostgreSQL is
shared: these tests point Django's connection at a port where nothing listens, for the test's
duration, which is what a stopped server looks like to a client (connection refused).
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError, connection, transaction
from django.test import Client
from psycopg import errors as pg_errors

from adaccounts.views import AdAccountViewSet
from mojito.errors import database_unreachable
from tests.factories import AdAccountFactory, UserFactory
from tests.payloads import META_SUBMIT_URL, api_example
from tests.postgres import plain_connection

# Committed rows: the requests below run on a connection of their own once it is back.
pytestmark = pytest.mark.django_db(transaction=True)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def take_the_database_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's connection now reaches a server that is not there, as during a restart."""
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(unused_port()))


@pytest.fixture
def database_down(monkeypatch) -> Iterator[None]:
    take_the_database_down(monkeypatch)
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


def test_an_admin_login_whose_session_cannot_be_saved_answers_503_not_a_500(monkeypatch):
    # The login view writes the new session itself; the session middleware saves it again on
    # the way out, after every view and outside any view's error handling.
    admin = UserFactory(username="ops", is_staff=True, is_superuser=True)
    admin.set_password("correct-horse-battery")
    admin.save()
    client = Client(raise_request_exception=False)
    save = SessionStore.save

    def save_once_the_database_is_gone(self: SessionStore, must_create: bool = False) -> None:
        if not must_create:  # the middleware's save, on the response path
            take_the_database_down(monkeypatch)
        save(self, must_create=must_create)

    monkeypatch.setattr(SessionStore, "save", save_once_the_database_is_gone)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "ops", "password": "correct-horse-battery"}
    )

    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) >= 1
    assert b"unavailable" in response.content
    connection.close()


def test_a_server_that_ends_the_connection_answers_503(api):
    # A restart (or failover) ends every session with 57P01 admin_shutdown.
    url = f"/api/v1/ad_accounts/{AdAccountFactory(team=api.team).pk}"
    connection.ensure_connection()
    with plain_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])

    response = api.client.get(url)

    # Closed here: the test client leaves out Django's close_old_connections, which drops a
    # broken connection between a server's requests.
    connection.close()
    assert_unavailable(response)


def test_a_statement_timeout_is_a_500_not_a_503(api, monkeypatch):
    """A statement cancelled for running too long (mojito sets statement_timeout on every
    session, tests/test_timeouts.py) is a slow query of ours: trying again shortly would end
    the same way, so the client is not told to."""

    def slow_queryset(self: Any) -> Any:
        # SET LOCAL: the session's own timeout is back once the transaction ends.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '50ms'")
            cursor.execute("SELECT pg_sleep(2)")
        raise AssertionError("the statement was not cancelled")

    monkeypatch.setattr(AdAccountViewSet, "get_queryset", slow_queryset)

    response = api.client.get("/api/v1/ad_accounts")

    assert response.status_code == 500, response.content
    assert "Retry-After" not in response
    assert response.json()["type"] == "server_error"


@pytest.mark.parametrize(
    ("cause", "unreachable"),
    [
        # Connection exceptions (class 08), the server shutting down or starting up, no slots.
        (pg_errors.ConnectionFailure(), True),
        (pg_errors.SqlclientUnableToEstablishSqlconnection(), True),
        (pg_errors.AdminShutdown(), True),
        (pg_errors.CrashShutdown(), True),
        (pg_errors.CannotConnectNow(), True),
        (pg_errors.TooManyConnections(), True),
        # libpq's own failures carry no SQLSTATE: refused, lost mid-query, timed out.
        (psycopg.OperationalError("connection refused"), True),
        (pg_errors.ConnectionTimeout("connection timeout expired"), True),
        # The server answered: a fault of this request or this service.
        (pg_errors.QueryCanceled("canceling statement due to statement timeout"), False),
        (pg_errors.LockNotAvailable("canceling statement due to lock timeout"), False),
        (pg_errors.DiskFull("could not extend file"), False),
        (pg_errors.UndefinedTable("relation does not exist"), False),
        (pg_errors.SerializationFailure("could not serialize access"), False),
        (sqlite3.OperationalError("no such table: ad_accounts"), False),
        (sqlite3.OperationalError("database or disk is full"), False),
        (None, False),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, bool) else str(value),
)
def test_only_an_unreachable_database_counts_as_unavailable(cause, unreachable):
    error = OperationalError(str(cause))
    error.__cause__ = cause

    assert database_unreachable(error) is unreachable


def test_a_closed_connection_counts_as_unavailable():
    assert database_unreachable(InterfaceError("connection already closed"))
