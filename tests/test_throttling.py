"""Request limits on the API: per token, and per address without one, counted in Redis so that
every web worker sees the same count; 429 with Retry-After in the API's error shape."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.test import APIClient

from mojito.throttling import UserRateThrottle
from tests.factories import AdAccountFactory, CampaignJobFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/ad_accounts"
# A day's window: a test never straddles two windows (a minute's could, and would flake).
THREE_A_DAY = "3/day"


def unused_port() -> int:
    """A port nothing listens on (it was free a moment ago): connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_throttled(response: Any) -> int:
    """The documented 429: the API's error body and a Retry-After in whole seconds."""
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["type"] == "client_error"
    [error] = body["errors"]
    assert (error["code"], error["attr"]) == ("throttled", None)
    assert "throttled" in error["detail"].lower()
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 24 * 3600
    return retry_after


def test_a_token_past_its_rate_gets_429_with_retry_after(caller, settings):
    settings.API_THROTTLE_RATE = THREE_A_DAY

    answers = [caller.client.get(LIST_URL).status_code for _ in range(3)]
    throttled = caller.client.get(LIST_URL)

    assert answers == [200, 200, 200]
    assert_throttled(throttled)
    # Every method counts, writes included, and nothing is written past the limit.
    refused = caller.client.post(LIST_URL, {"name": "x"}, format="json")
    assert refused.status_code == 429


def test_another_token_keeps_its_own_budget(caller, other_caller, settings):
    settings.API_THROTTLE_RATE = THREE_A_DAY
    for _ in range(4):
        caller.client.get(LIST_URL)

    assert caller.client.get(LIST_URL).status_code == 429
    assert other_caller.client.get(LIST_URL).status_code == 200


def test_an_empty_rate_means_no_limit(caller, settings):
    settings.API_THROTTLE_RATE = ""

    assert {caller.client.get(LIST_URL).status_code for _ in range(5)} == {200}


def test_the_count_holds_across_web_workers(caller, settings, fresh_request_counts):
    """Another process (a second gunicorn worker) spends the caller's budget: this one
    refuses the next request, because both count in the same Redis."""
    settings.API_THROTTLE_RATE = THREE_A_DAY
    spend = (
        "import django; django.setup()\n"
        "from types import SimpleNamespace\n"
        "from mojito.throttling import UserRateThrottle\n"
        # This test's counters (tests/conftest.py), as the other worker's would be the same.
        f"UserRateThrottle.cache_format = {fresh_request_counts!r}\n"
        f"user = SimpleNamespace(pk={caller.user.pk}, is_authenticated=True)\n"
        "request = SimpleNamespace(user=user)\n"
        "print([UserRateThrottle().allow_request(request, None) for _ in range(3)])\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mojito.settings", "API_THROTTLE_RATE": "3/day"}

    other_worker = subprocess.run(  # noqa: S603 - this interpreter, code of this test
        [sys.executable, "-c", spend], env=env, capture_output=True, text=True, timeout=60
    )

    assert other_worker.stdout.strip() == "[True, True, True]", other_worker.stderr
    assert_throttled(caller.client.get(LIST_URL))


def test_concurrent_requests_are_each_counted_once(caller, settings):
    """Twenty requests of one user at once, at 5 allowed: exactly 5 pass (a read-then-write
    count would let more through)."""
    settings.API_THROTTLE_RATE = "5/day"
    request = SimpleNamespace(user=caller.user)
    start = threading.Barrier(20)
    allowed: list[bool] = []

    def worker() -> None:
        throttle = UserRateThrottle()
        start.wait()
        allowed.append(throttle.allow_request(request, None))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(allowed) == [False] * 15 + [True] * 5


def test_requests_without_a_token_are_limited_per_address(settings):
    settings.API_THROTTLE_ANON_RATE = "2/day"
    client = APIClient()

    answers = [client.get(LIST_URL).status_code for _ in range(2)]

    assert answers == [401, 401]
    assert_throttled(client.get(LIST_URL))
    # Guessing tokens counts the same.
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_throttled(client.get(LIST_URL))
    # A header the client writes itself does not make it another address.
    assert_throttled(client.get(LIST_URL, HTTP_X_FORWARDED_FOR="203.0.113.9"))
    # Another address has its own budget.
    assert APIClient().get(LIST_URL, REMOTE_ADDR="198.51.100.7").status_code == 401


def test_a_throttled_address_does_not_throttle_the_tokens_behind_it(caller, settings):
    settings.API_THROTTLE_ANON_RATE = "1/day"
    anonymous = APIClient()
    anonymous.get(LIST_URL)
    assert anonymous.get(LIST_URL).status_code == 429

    assert caller.client.get(LIST_URL).status_code == 200


def test_health_probes_are_never_throttled(settings):
    settings.API_THROTTLE_ANON_RATE = "1/day"
    client = APIClient()
    client.get(LIST_URL)
    assert client.get(LIST_URL).status_code == 429

    assert {client.get("/healthz").status_code for _ in range(5)} == {200}
    assert 429 not in {client.get("/readyz").status_code for _ in range(3)}


def test_the_api_answers_uncounted_while_the_cache_is_down(caller, settings):
    settings.API_THROTTLE_RATE = "1/day"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_port()}/0",
        }
    }

    assert [caller.client.get(LIST_URL).status_code for _ in range(3)] == [200, 200, 200]


def test_the_embedded_file_cache_counts_too(caller, settings, tmp_path):
    """bin/run's default cache (no Redis): a file cache its web workers share."""
    settings.API_THROTTLE_RATE = "2/day"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }

    answers = [caller.client.get(LIST_URL).status_code for _ in range(3)]

    assert answers == [200, 200, 429]


def test_the_default_rates_let_a_client_poll_its_job_in_a_burst(caller):
    """What a client does after a submission: poll the job, as fast as it can. The shipped
    defaults (which the suite runs with: no rate is set for it) never refuse that."""
    job = CampaignJobFactory(ad_account=AdAccountFactory(team=caller.team))
    url = f"/api/v1/jobs/{job.pk}"
    anonymous = APIClient()

    # The rates in force are the shipped ones: nothing in the suite's environment sets them.
    overridden = {"API_THROTTLE_RATE", "API_THROTTLE_ANON_RATE"} & set(os.environ)
    assert not overridden, f"the suite runs the shipped rates: unset {overridden}"

    polls = [caller.client.get(url).status_code for _ in range(300)]
    # A client whose token went wrong, polling as fast, gets the 401 that says so, not a 429
    # (the anonymous default was 600/min once: the 601st answer was a 429).
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    wrong_token = [anonymous.get(url).status_code for _ in range(650)]

    assert set(polls) == {200}
    assert set(wrong_token) == {401}


def test_every_operation_documents_429_with_retry_after(caller):
    document = caller.client.get("/api/schema/?format=json").json()

    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert operations
    for path, method, operation in operations:
        throttled = operation["responses"].get("429")
        assert throttled, (method, path)
        assert "Retry-After" in throttled["headers"], (method, path)
