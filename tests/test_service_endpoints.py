"""Probes and API documentation: /healthz, /readyz, /api/schema/, /api/docs/."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from mojito.celery import app as celery_app
from tests.broker import UNREACHABLE_BROKER, broker_write_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_broker(monkeypatch) -> Iterator[Callable[[], None]]:
    """Point the Celery app at a port where nothing listens; yields a function that undoes it."""
    # The app read its settings at import. broker_write_url() overrides the setting producers
    # and /readyz connect through (see tests/broker.py); override every level around it too:
    # the CELERY_BROKER_WRITE_URL and CELERY_BROKER_URL environment variables (pytest-env sets
    # the latter) and `broker_url`.
    previous_broker_url = celery_app.conf.get("broker_url")
    with ExitStack() as undo:

        def restore() -> None:
            monkeypatch.undo()
            celery_app.conf["broker_url"] = previous_broker_url
            undo.close()  # broker_write_url back, and fresh pools

        for name in ("CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL"):
            monkeypatch.setenv(name, UNREACHABLE_BROKER)
        celery_app.conf["broker_url"] = UNREACHABLE_BROKER
        undo.enter_context(broker_write_url(UNREACHABLE_BROKER))
        assert celery_app.conf.broker_write_url == UNREACHABLE_BROKER
        try:
            yield restore
        finally:
            restore()


def get_schema(client: APIClient) -> dict[str, Any]:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_healthz_answers_200_without_authentication():
    client = APIClient()

    for path in ("/healthz", "/healthz/"):
        response = client.get(path)
        assert response.status_code == 200, path


def test_readyz_answers_200_when_database_and_broker_answer():
    for path in ("/readyz", "/readyz/"):
        response = APIClient().get(path)
        assert response.status_code == 200, (path, response.content)


def test_readyz_answers_503_while_the_broker_is_unreachable(unreachable_broker):
    response = APIClient().get("/readyz")

    assert response.status_code == 503, response.content

    unreachable_broker()  # the broker is back
    assert APIClient().get("/readyz").status_code == 200


def test_schema_is_a_valid_openapi_3_document(caller):
    schema = get_schema(caller.client)

    assert str(schema["openapi"]).startswith("3.")
    validate_schema(schema)


def test_schema_generation_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.json"

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(target),
        stdout=StringIO(),
        stderr=StringIO(),
    )

    assert json.loads(target.read_text())["openapi"].startswith("3.")


def test_schema_describes_the_ad_account_endpoints(caller):
    paths = {path.rstrip("/"): ops for path, ops in get_schema(caller.client)["paths"].items()}

    assert {"get", "post"} <= set(paths["/api/v1/ad_accounts"])
    detail = next(p for p in paths if p.startswith("/api/v1/ad_accounts/{"))
    assert {"get", "put", "patch", "delete"} <= set(paths[detail])
    assert "get" in paths["/api/v1/teams"]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def test_schema_marks_credentials_write_only_in_requests_and_absent_from_responses(caller):
    schema = get_schema(caller.client)
    paths = {path.rstrip("/"): ops for path, ops in schema["paths"].items()}
    detail = next(p for p in paths if p.startswith("/api/v1/ad_accounts/{"))

    for path, method in (
        ("/api/v1/ad_accounts", "post"),
        (detail, "put"),
        (detail, "patch"),
    ):
        operation = paths[path][method]
        request = _resolve(
            schema, operation["requestBody"]["content"]["application/json"]["schema"]
        )
        assert request["properties"]["credentials"].get("writeOnly") is True, (path, method)

        ok = "201" if method == "post" else "200"
        response = _resolve(
            schema, operation["responses"][ok]["content"]["application/json"]["schema"]
        )
        assert "credentials" not in response["properties"], (path, method)
        assert "has_credentials" in response["properties"]


def test_docs_answer_200_with_html(caller):
    for path in ("/api/docs/", "/api/docs"):
        response = caller.client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html")
        assert b"swagger" in response.content.lower()
