"""Image downloads, webhook deliveries and callback URLs never reach link-local or
cloud-metadata addresses, whatever MEDIA_FETCH_ALLOW_PRIVATE says, and MEDIA_FETCH_ALLOW_LOOPBACK
reaches loopback only.

Real HTTP servers on 127.0.0.1, and a resolver stand-in (tests/network.py) that makes a name
answer 169.254.169.254, or a public address first and the metadata address next (rebinding).
Every non-loopback connect is refused and recorded by a guard, and the refusals must happen
before any connect is tried: nothing leaves the machine.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from unittest import mock

import pytest

from mojito.addresses import AddressPolicy, check_public_http_url
from notifications.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from notifications.tasks import delivery_send
from platforms.meta.media import MediaFetchError, fetch_image
from tests.factories import AdAccountFactory
from tests.images import LoopbackServer, make_png
from tests.network import refuse_remote_connects, resolving
from tests.payloads import META_SUBMIT_URL, api_example
from tests.test_webhooks import Receiver, finish, set_webhook, submit

PRIVATE = AddressPolicy.PRIVATE
PNG = make_png()
PUBLIC_IP = "93.184.216.34"

guard = pytest.fixture(name="guard")(refuse_remote_connects)


class ImageServer(LoopbackServer):
    """Serves a PNG at /a.png and redirects /go to ``redirect_to``; records every path."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.redirect_to = ""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                if self.path == "/go":
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    body = b""
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    body = PNG
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


@pytest.fixture
def images() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.close()


# --- Image downloads ---------------------------------------------------------------------------


def media_error(url: str, **kwargs: Any) -> MediaFetchError:
    with pytest.raises(MediaFetchError) as info:
        fetch_image(url, timeout=2.0, **kwargs)
    return info.value


@pytest.mark.parametrize("policy", list(AddressPolicy))
def test_a_name_resolving_to_the_metadata_address_is_never_fetched(policy, guard) -> None:
    with resolving("cdn.attacker.test", "169.254.169.254"):
        error = media_error("http://cdn.attacker.test/a.png?sig=s3cret", policy=policy)
    assert error.code == "private_address"
    assert "cdn.attacker.test" in error.message and "s3cret" not in error.message
    assert guard == []


@pytest.mark.parametrize("answer", ["169.254.170.2", "fd00:ec2::254", "::ffff:169.254.169.254"])
def test_allow_private_still_refuses_metadata_at_connect_time(answer, guard, settings) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    with resolving("cdn.attacker.test", answer):
        error = media_error("http://cdn.attacker.test/a.png")
    assert error.code == "private_address"
    assert "never allowed" in error.message
    assert guard == []


def test_rebinding_from_public_to_metadata_is_caught_when_connecting(guard, settings) -> None:
    """Accepted while the name answered a public address; the download's own lookup answers
    the metadata address, and the connection (pinned to what was checked) is never made."""
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    url = "http://cdn.rebind.test/a.png"
    with resolving("cdn.rebind.test", PUBLIC_IP, "169.254.169.254") as given:
        check_public_http_url(url)
        error = media_error(url)
    assert given == [PUBLIC_IP, "169.254.169.254"]
    assert error.code == "private_address"
    assert guard == []


def test_a_name_answering_loopback_and_metadata_at_once_is_refused(guard, images) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "both.attacker.test":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
        ]

    with mock.patch("socket.getaddrinfo", side_effect=getaddrinfo):
        error = media_error(f"http://both.attacker.test:{images.port}/a.png", policy=PRIVATE)
    assert error.code == "private_address"
    assert images.paths == [] and guard == []


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "meta"]
)
def test_a_redirect_to_metadata_is_refused_with_private_allowed(target, guard, images) -> None:
    images.redirect_to = "http://metadata.attacker.test/" if target == "meta" else target
    with resolving("metadata.attacker.test", "169.254.169.254"):
        error = media_error(images.url("/go"), policy=PRIVATE)
    assert error.code == "private_address" and "redirected" in error.message
    assert images.paths == ["/go"] and guard == []


def test_allow_private_keeps_loopback_servers_working(images, settings) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    assert fetch_image(images.url("/a.png")).content == PNG
    assert fetch_image(images.url("/a.png", host="localhost")).content == PNG


def test_allow_loopback_fetches_from_loopback_only(images, guard, settings) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE, settings.MEDIA_FETCH_ALLOW_LOOPBACK = False, True
    assert fetch_image(images.url("/a.png")).content == PNG
    assert fetch_image(images.url("/a.png", host="localhost")).content == PNG
    with resolving("intranet.test", "10.0.0.5"):
        error = media_error(f"http://intranet.test:{images.port}/a.png")
    assert error.code == "private_address"
    assert "only public internet addresses and loopback are allowed" in error.message
    images.redirect_to = "http://192.168.1.1/a.png"
    assert media_error(images.url("/go")).code == "private_address"
    assert media_error("http://169.254.169.254/").code == "private_address"
    assert images.paths == ["/a.png", "/a.png", "/go"] and guard == []


# --- Webhooks and callbacks --------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/hook",
        "http://169.254.170.2/v2/credentials",
        "http://[fd00:ec2::254]/hook",
        "http://[::ffff:a9fe:a9fe]/hook",
        "http://100.100.100.200/latest/meta-data/",
        "http://metadata.attacker.test/hook",
    ],
)
def test_webhook_and_callback_urls_to_metadata_are_refused_with_private_allowed(
    caller, settings, guard, url
) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    account = AdAccountFactory(team=caller.team)
    with resolving("metadata.attacker.test", "169.254.169.254"):
        team = caller.client.patch(
            f"/api/v1/teams/{caller.team.pk}", {"webhook_url": url}, format="json"
        )
        job = caller.client.post(
            META_SUBMIT_URL, {**api_example(str(account.pk)), "callback_url": url}, format="json"
        )
    for response, attr in ((team, "webhook_url"), (job, "callback_url")):
        assert response.status_code == 400, response.content
        (error,) = response.json()["errors"]
        assert (error["attr"], error["code"]) == (attr, "private_address")
    assert guard == []


def deliveries_after_rebinding(caller: Any, name: str, port: int) -> list[WebhookDelivery]:
    """The webhook (and a callback) accepted while ``name`` answered a public address, then
    sent when it answers the metadata address."""
    base = f"http://{name}:{port}"
    with resolving(name, PUBLIC_IP, PUBLIC_IP, "169.254.169.254") as given:
        set_webhook(caller, f"{base}/team")
        job = submit(caller, AdAccountFactory(team=caller.team), callback_url=f"{base}/job")
        finish(job)
        deliveries = list(WebhookDelivery.objects.filter(event__job=job))
        for delivery in deliveries:
            delivery_send(str(delivery.pk))
    assert given[:2] == [PUBLIC_IP, PUBLIC_IP]
    assert set(given[2:]) == {"169.254.169.254"}
    return deliveries


@pytest.mark.django_db
@pytest.mark.parametrize("allow_private", [True, False])
def test_a_webhook_and_callback_rebound_to_metadata_are_never_sent(
    caller, receiver, guard, settings, allow_private
) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE = allow_private
    deliveries = deliveries_after_rebinding(caller, "hooks.rebind.test", receiver.port)

    assert len(deliveries) == 2  # the team's webhook and the job's callback
    assert receiver.received == [] and guard == []
    for delivery in deliveries:
        delivery.refresh_from_db()
        # The same rule refuses every retry: the delivery ends at once.
        assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)
        (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
        assert (attempt.succeeded, attempt.status_code) == (False, None)
        assert "Refused, not sent" in attempt.error and "hooks.rebind.test" in attempt.error


@pytest.mark.django_db
def test_allow_loopback_delivers_to_a_loopback_receiver(caller, receiver, settings) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE, settings.MEDIA_FETCH_ALLOW_LOOPBACK = False, True
    set_webhook(caller, receiver.url("/hook", host="localhost"))
    job = submit(caller, AdAccountFactory(team=caller.team))
    finish(job)
    (delivery,) = WebhookDelivery.objects.filter(event__job=job)
    delivery_send(str(delivery.pk))
    assert [r.path for r in receiver.wait_for(1)] == ["/hook"]
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED
