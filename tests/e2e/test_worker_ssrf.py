"""Client-given media URLs that point into our own network are refused: the job fails with a
clear media error naming the private address, and nothing is sent to Meta.

A worker of its own runs here with MEDIA_FETCH_ALLOW_PRIVATE=false (the production default).
Two cases cannot go through it without risking a request off loopback: a link-local address
(a buggy fetcher would really try 169.254.169.254) and a redirect to loopback (it needs a public
host first). Those run the job engine in this process, with every non-loopback connect refused
and the public host stood in for by a requests adapter, while the sweeper is paused and the
job unpublished so that the worker cannot take it.
"""

from __future__ import annotations

import ipaddress
import socket
from unittest import mock

import pytest

from campaigns.engine.worker import job_execute
from platforms.meta import media
from tests.e2e.harness import Harness, publishing_broken
from tests.fakes import FakeRedirectAdapter


@pytest.fixture(scope="module")
def worker(celery_procs):
    return celery_procs.ensure_worker(
        {"META_EXECUTION_MODE": "batch", "MEDIA_FETCH_ALLOW_PRIVATE": "false"}
    )


def assert_refused_for_private_address(e2e: Harness, job: dict, host: str) -> None:
    error = job["error"]
    assert job["status"] == "FAILED"
    assert error["step"] == "media"
    assert error["transient"] is False
    assert error["type"] == "MediaFetchError"
    assert "private" in error["message"] and host in error["message"], error["message"]
    assert job["attempts"] == 1
    assert job["platform_campaign_id"] is None
    for kind in ("campaign", "adset", "adcreative", "ad", "adimage", "advideo"):
        assert e2e.sandbox_objects(kind) == [], kind
    assert e2e.sandbox_requests() == []  # not a single call to Meta
    assert e2e.images.requests == []  # and nothing fetched


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_image_url_on_loopback_is_refused(e2e: Harness, host: str) -> None:
    body = e2e.body([("Set", [e2e.ad("Ad", image_url=e2e.images.url("/a.png", host=host))])])
    job = e2e.wait_for_job(e2e.submit(body), "FAILED")
    assert_refused_for_private_address(e2e, job, host)


def test_video_url_on_loopback_is_not_handed_to_meta(e2e: Harness) -> None:
    ad = e2e.ad("Ad", video_url=e2e.images.url("/video.mp4"), thumbnail_hash="0" * 32)
    job = e2e.wait_for_job(e2e.submit(e2e.body([("Set", [ad])])), "FAILED")
    assert_refused_for_private_address(e2e, job, "127.0.0.1")


def test_decimal_ip_spelling_of_loopback_is_refused_at_submission(e2e: Harness) -> None:
    body = e2e.body([("Set", [e2e.ad("Ad", image_url="http://2130706433/a.png")])])
    response = e2e.client.post("/api/v1/ads/meta", body, format="json")
    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["ad_sets.0.ads.0.creative.image_url"]
    assert e2e.sandbox_requests() == []


# --- in this process ----------------------------------------------------------------------------


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every connect of this process that is not to loopback is refused (and recorded)."""
    refused: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address):  # type: ignore[no-untyped-def]
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(address[0].split("%", 1)[0])
            if not ip.is_loopback:
                refused.append((address[0], address[1]))
                raise OSError(f"e2e guard: no connection to {address[0]}:{address[1]}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return refused


def run_here(e2e: Harness, body: dict) -> dict:
    """Submit without publishing, with the sweeper paused, and execute in this process."""
    with e2e.sweeper_paused():
        with publishing_broken():
            job_id = e2e.submit(body)
        job_execute(job_id=job_id)
        return e2e.job(job_id)


@pytest.fixture
def refuse_private(settings) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE = False


def test_link_local_metadata_address_is_refused(
    e2e: Harness, refuse_private: None, loopback_only: list
) -> None:
    url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    job = run_here(e2e, e2e.body([("Set", [e2e.ad("Ad", image_url=url)])]))
    assert_refused_for_private_address(e2e, job, "169.254.169.254")
    assert loopback_only == []  # refused before any connection was tried


def test_redirect_to_loopback_is_refused(
    e2e: Harness, refuse_private: None, loopback_only: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = FakeRedirectAdapter(e2e.images.url("/a.png"))
    real_new_session = media._new_session

    def new_session(**kwargs):  # type: ignore[no-untyped-def]
        session, connections = real_new_session(**kwargs)
        session.mount("http://cdn.example.test/", public)
        return session, connections

    monkeypatch.setattr(media, "_new_session", new_session)
    url = "http://cdn.example.test/sale.png?sig=s3cret"
    job = run_here(e2e, e2e.body([("Set", [e2e.ad("Ad", image_url=url)])]))

    assert public.sent == [url]
    assert_refused_for_private_address(e2e, job, "127.0.0.1")
    assert "redirect" in job["error"]["message"]
    assert "s3cret" not in str(job)
    assert loopback_only == []


# --- with private addresses allowed (as the e2e worker and the sandbox run) -------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://169.254.170.2/v2/credentials/",
        "http://[fd00:ec2::254]/latest/api/token",
        "http://metadata.attacker.test/computeMetadata/v1/",
    ],
)
def test_metadata_addresses_are_refused_even_with_private_addresses_allowed(
    e2e: Harness, settings, loopback_only: list, url: str
) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The resolver stand-in: this one name answers the metadata address.
        if host == "metadata.attacker.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port or 80))]
        return real(host, port, *args, **kwargs)

    with mock.patch("socket.getaddrinfo", side_effect=getaddrinfo):
        job = run_here(e2e, e2e.body([("Set", [e2e.ad("Ad", image_url=url)])]))
    host = url.split("/")[2]
    assert_refused_for_private_address(e2e, job, host)
    assert "never allowed" in job["error"]["message"]
    assert loopback_only == []  # refused before any connection was tried
