"""The validator of `POST /api/v1/ads/meta`, as properties (hypothesis) rather than examples:

- what it accepts, Meta accepts: a submission built around API.md's example (objectives and the
  goals that fit them, campaign or ad set budgets, bids, schedules, ages, genders, places, the
  Advantage+ audience flag, every creative format but video, up to three ad sets of up to two
  ads) answers 202, and its job, run by the engine through the real SDK over HTTP to the Meta
  sandbox, ends SUCCESS with every object on the sandbox;
- what it refuses is a 400 naming the field: one mutation of a valid submission (a required
  field left out, a wrong JSON type, a budget out of range, an unknown enum value, a bad or
  inverted date, too many ad sets, ads or cards) answers 400, every error under the mutated
  path, and nothing is stored.

The sandbox stands in for Meta (its rules cite Meta's pages, platforms/meta/sandbox/README.md);
where the two disagreed, Meta's documentation decided (docs/RELIABILITY.md). Examples are
derandomized, so CI runs the same cases every time. The strategies that draw the bodies are in
tests/payload_strategies.py.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests

from campaigns.engine.claims import job_claim
from campaigns.engine.runner import execute_job
from campaigns.models import CampaignJob, JobStatus
from platforms.meta.adapter import MetaAdapter
from platforms.meta.sandbox.server import SandboxServer
from tests.factories import AdAccountFactory
from tests.images import PngServer, make_png
from tests.payload_strategies import (
    BAD_DATES,
    BAD_ENUMS,
    IMAGE_HASH,
    INSTAGRAM_POST,
    INSTAGRAM_USER,
    OUT_OF_RANGE,
    PAGE,
    PAGE_POST,
    REQUIRED,
    TYPED,
    mutated_submissions,
    node_and_key,
    submissions,
)
from tests.payloads import META_SUBMIT_URL, api_example

pytestmark = pytest.mark.django_db

TOKEN = "properties-token"
ACCOUNT = "act_300000000000001"

# A longer look, at random (CI's runs are derandomized): PAYLOAD_PROPERTY_EXAMPLES=300 pytest ...
EXPLORE = int(os.environ.get("PAYLOAD_PROPERTY_EXAMPLES") or 0)
SETTINGS = hypothesis.settings(
    deadline=None,
    derandomize=True,  # the same cases on every run: CI does not flake
    database=None,
    # The database, the sandbox and the caller are the test's; each example resets the sandbox.
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.data_too_large,
    ],
)


# --- The far end: the sandbox and an image host ---------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    server = PngServer()
    yield server.url()
    server.close()


def _reset(sandbox: SandboxServer) -> None:
    """A fresh sandbox holding only the account, its Page and an uploaded image."""
    base = sandbox.base_url
    requests.post(f"{base}/__sandbox__/reset", timeout=5).raise_for_status()
    requests.post(
        f"{base}/__sandbox__/accounts",
        json={"token": TOKEN, "account_id": ACCOUNT, "page_ids": [PAGE]},
        timeout=5,
    ).raise_for_status()


def _upload_image(sandbox: SandboxServer) -> str:
    response = requests.post(
        f"{sandbox.base_url}/v26.0/{ACCOUNT}/adimages",
        data={"access_token": TOKEN, "bytes": base64.b64encode(make_png(9, 9))},
        timeout=5,
    )
    response.raise_for_status()
    return next(iter(response.json()["images"].values()))["hash"]


def _objects(sandbox: SandboxServer, kind: str) -> list[dict[str, Any]]:
    response = requests.get(f"{sandbox.base_url}/__sandbox__/objects?type={kind}", timeout=5)
    response.raise_for_status()
    return [o for o in response.json()["data"] if not o.get("deleted")]


@pytest.fixture
def graph(sandbox: SandboxServer, settings) -> SandboxServer:
    settings.META_GRAPH_URL = sandbox.base_url
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    settings.META_EXECUTION_MODE = "batch"
    return sandbox


@pytest.fixture
def account(caller):
    return AdAccountFactory(
        team=caller.team, platform_account_id=ACCOUNT, credentials={"access_token": TOKEN}
    )


def _with_ids(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """`body` with the sandbox's ids where a strategy drew a placeholder."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return ids.get(node, node) if isinstance(node, str) else node

    return walk(body)


def _made_on_the_sandbox(sandbox: SandboxServer) -> dict[str, str]:
    """An uploaded image, a Page post and an Instagram post of the account's, by placeholder."""
    base = sandbox.base_url
    post = requests.post(
        f"{base}/__sandbox__/posts", json={"page_id": PAGE, "message": "Our post"}, timeout=5
    )
    media = requests.post(
        f"{base}/__sandbox__/instagram_media",
        json={"instagram_user_id": INSTAGRAM_USER, "caption": "Our reel"},
        timeout=5,
    )
    post.raise_for_status()
    media.raise_for_status()
    return {
        IMAGE_HASH: _upload_image(sandbox),
        PAGE_POST: post.json()["id"],
        INSTAGRAM_POST: media.json()["id"],
    }


# --- What it accepts, Meta accepts ----------------------------------------------------------------


def _run(job_id: str) -> CampaignJob:
    """Claim the job and run it as a worker would: the engine, the Meta adapter, the SDK."""
    job = job_claim(job_id=job_id)
    assert job is not None
    execute_job(job, MetaAdapter())
    job.refresh_from_db()
    return job


def test_what_the_validator_accepts_meta_accepts(caller, account, graph, image_server):
    @hypothesis.given(body=submissions(image_server))
    @hypothesis.settings(SETTINGS, max_examples=EXPLORE or 60, derandomize=not EXPLORE)
    def accepted_everywhere(body: dict[str, Any]) -> None:
        _reset(graph)
        body = _with_ids(body, _made_on_the_sandbox(graph))
        body["ad_account_id"] = str(account.pk)

        response = caller.client.post(META_SUBMIT_URL, body, format="json")

        assert response.status_code == 202, response.content
        job = _run(response.json()["id"])
        assert job.status == JobStatus.SUCCESS, (json.dumps(job.error), json.dumps(body))
        ad_sets, ads = body["ad_sets"], [ad for s in body["ad_sets"] for ad in s["ads"]]
        assert len(_objects(graph, "campaign")) == 1
        assert len(_objects(graph, "adset")) == len(ad_sets)
        assert len(_objects(graph, "ad")) == len(ads)

    accepted_everywhere()


# --- What it refuses is a 400 naming the field ----------------------------------------------------


def _under(attr: str, path: str) -> bool:
    return attr == path or attr.startswith(f"{path}.")


def test_what_the_validator_refuses_is_a_400_naming_the_field(caller, account):
    @hypothesis.given(case=mutated_submissions())
    @hypothesis.settings(SETTINGS, max_examples=100)
    def named(case: tuple[dict[str, Any], str]) -> None:
        body, path = case
        if isinstance(body.get("ad_account_id"), str):
            body["ad_account_id"] = str(account.pk)
        jobs = CampaignJob.objects.count()

        response = caller.client.post(META_SUBMIT_URL, body, format="json")

        assert response.status_code == 400, (path, response.content)
        errors = response.json()["errors"]
        assert errors, path
        assert all(_under(error["attr"], path) for error in errors), (path, errors)
        assert CampaignJob.objects.count() == jobs

    named()


def test_the_mutations_name_fields_the_validator_knows() -> None:
    # A mutation of a field the example does not have would test nothing: every path exists.
    body = api_example()
    body["ad_sets"][0]["ads"][0]["creative"]["creative_features"] = {}
    for path in [*REQUIRED, *TYPED, *OUT_OF_RANGE, *BAD_ENUMS, *BAD_DATES]:
        node, key = node_and_key(body, path)
        present = key < len(node) if isinstance(node, list) else key in node
        assert present or path.endswith(("targeting_automation", "genders")), path


# --- What the property found ----------------------------------------------------------------------


def _found(objective: str, **ad_set: Any) -> dict[str, Any]:
    body = api_example()
    body["campaign"]["objective"] = objective
    body["ad_sets"][0].update(ad_set)
    return body


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        # Meta's ODAX table: a traffic campaign's Messenger and WhatsApp ad sets optimize for
        # link clicks, impressions or reach; conversations are engagement's, leads' or sales'.
        pytest.param(
            _found("OUTCOME_TRAFFIC", optimization_goal="CONVERSATIONS"),
            "ad_sets.0.optimization_goal",
            id="conversations under traffic",
        ),
        pytest.param(
            _found("OUTCOME_LEADS", optimization_goal="VALUE"),
            "ad_sets.0.optimization_goal",
            id="value under leads",
        ),
        # An engagement ad set optimizing for website conversions counts a pixel's events.
        pytest.param(
            _found("OUTCOME_ENGAGEMENT", optimization_goal="OFFSITE_CONVERSIONS"),
            "ad_sets.0.promoted_object",
            id="conversions under engagement without a pixel",
        ),
        # "daily_budget ... allowed only for ad sets with a duration (difference between
        # end_time and start_time) longer than 24 hours" (Ad Set reference).
        pytest.param(
            _found("OUTCOME_TRAFFIC", end_time="2030-01-02T00:00:00Z"),
            "ad_sets.0.daily_budget",
            id="daily budget over 24 hours",
        ),
    ],
)
def test_what_meta_refuses_and_the_validator_took_is_refused_naming_it(
    caller, account, body: dict[str, Any], attr: str
):
    body["ad_account_id"] = str(account.pk)

    response = caller.client.post(META_SUBMIT_URL, body, format="json")

    assert response.status_code == 400, response.content
    assert [error["attr"] for error in response.json()["errors"]] == [attr]
    assert not CampaignJob.objects.exists()


def test_a_daily_budget_over_more_than_24_hours_is_taken(caller, account):
    body = _found("OUTCOME_TRAFFIC", end_time="2030-01-02T00:00:01Z")
    body["ad_account_id"] = str(account.pk)

    response = caller.client.post(f"{META_SUBMIT_URL}?validate_only=true", body, format="json")

    assert response.status_code == 200, response.content
