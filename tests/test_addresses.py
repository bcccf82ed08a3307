"""mojito.addresses: link-local and cloud-metadata addresses stay out of reach whatever
MEDIA_FETCH_ALLOW_PRIVATE says, and MEDIA_FETCH_ALLOW_LOOPBACK allows loopback and nothing else.

The classifier is tried on a table of addresses in their IPv4 and IPv6 spellings. Then image
downloads, webhook deliveries and callback URLs are tried end to end, with real HTTP servers
on 127.0.0.1 and a resolver stand-in (patched ``socket.getaddrinfo``: the one thing that cannot
be real here) that makes a name answer 169.254.169.254, or a public address first and the
metadata address next (rebinding). Every non-loopback connect is refused and recorded by a
guard, and the refusals must happen before any connect is tried: nothing leaves the machine.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from mojito.addresses import (
    AddressError,
    AddressPolicy,
    address_policy,
    check_public_http_url,
    embedded_ipv4,
    is_allowed_address,
    is_always_forbidden,
)
from notifications.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from notifications.tasks import delivery_send
from platforms.meta.media import MediaFetchError, fetch_image
from tests.factories import AdAccountFactory
from tests.images import LoopbackServer, make_png
from tests.payloads import META_SUBMIT_URL, api_example
from tests.test_webhooks import Receiver, finish, set_webhook, submit

PUBLIC, LOOPBACK, PRIVATE = AddressPolicy.PUBLIC, AddressPolicy.LOOPBACK, AddressPolicy.PRIVATE
PNG = make_png()
PUBLIC_IP = "93.184.216.34"


# --- The classifier ----------------------------------------------------------------------------

# Where the clouds serve instance metadata or platform services, and the neighbours no
# setting may open either.
FORBIDDEN_V4 = [
    "169.254.169.254",  # AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack, ... IMDS
    "169.254.170.2",  # AWS ECS task metadata (task role credentials)
    "169.254.170.23",  # AWS EKS Pod Identity agent
    "169.254.0.23",  # Tencent Cloud
    "169.254.42.42",  # Scaleway
    "169.254.0.1",
    "169.254.255.255",
    "100.100.100.200",  # Alibaba Cloud, inside CGNAT
    "192.0.0.192",  # Oracle Cloud (legacy)
    "168.63.129.16",  # Azure WireServer: routable, yet host-internal
    "0.0.0.0",  # noqa: S104 (an address under test; nothing binds)
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
]
FORBIDDEN_V6 = [
    "fd00:ec2::254",  # AWS IMDS over IPv6
    "FD00:EC2:0::254",
    "fd00:ec2::23",  # AWS EKS Pod Identity over IPv6
    "fd00:ec2::253",  # AWS DNS
    "fd20:ce::254",  # Google Cloud, IPv6-only instances
    "fd00:c1::a9fe:a9fe",  # Oracle Cloud over IPv6
    "fd00:42::42",  # Scaleway over IPv6
    "fd00:a9fe:a9fe::1",  # Akamai / Linode over IPv6
    "fe80::1",
    "fe80::a9fe:a9fe",  # OpenStack
    "fe80::1%eth0",
    "febf:ffff::1",
    "fec0::1",
    "::",
    "ff02::1",
    "64:ff9b:1::a9fe:a9fe",  # local-use NAT64
]


def spellings(v4: str) -> list[str]:
    """``v4`` as written, and every IPv6 form that carries it."""
    n = int(ipaddress.IPv4Address(v4))
    hi, lo = f"{n >> 16:x}", f"{n & 0xFFFF:x}"
    teredo_client = n ^ 0xFFFFFFFF  # Teredo stores the client's address inverted
    return [
        v4,
        f"::ffff:{v4}",  # IPv4-mapped
        f"::ffff:{hi}:{lo}",  # the same, in hex
        f"::{v4}",  # IPv4-compatible
        f"::ffff:0:{v4}",  # IPv4-translated
        f"64:ff9b::{v4}",  # NAT64
        f"64:ff9b::{hi}:{lo}",
        f"2002:{hi}:{lo}::1",  # 6to4
        f"2001:0:{hi}:{lo}::1",  # Teredo server
        f"2001:0:4136:e378:8000:63bf:{teredo_client >> 16:x}:{teredo_client & 0xFFFF:x}",
    ]


FORBIDDEN = sorted({s for v4 in FORBIDDEN_V4 for s in spellings(v4)} | set(FORBIDDEN_V6))


@pytest.mark.parametrize("address", FORBIDDEN)
def test_link_local_and_metadata_addresses_are_refused_under_every_policy(address: str) -> None:
    assert is_always_forbidden(address)
    for policy in AddressPolicy:
        assert not is_allowed_address(address, policy), policy


def test_every_ipv6_spelling_carries_its_ipv4_address() -> None:
    for form in spellings("169.254.169.254")[1:]:
        assert ipaddress.IPv4Address("169.254.169.254") in embedded_ipv4(form), form


# (address, allowed under PUBLIC, LOOPBACK, PRIVATE)
POLICY_TABLE = [
    ("127.0.0.1", False, True, True),
    ("127.255.255.254", False, True, True),
    ("::1", False, True, True),
    ("::ffff:127.0.0.1", False, True, True),  # a socket to 127.0.0.1
    ("::127.0.0.1", False, False, True),  # not loopback: IPv4-compatible
    ("64:ff9b::7f00:1", False, False, True),  # NAT64 leaves the host
    ("2002:7f00:1::1", False, False, True),  # 6to4 too
    ("10.0.0.1", False, False, True),
    ("172.16.0.1", False, False, True),
    ("192.168.1.1", False, False, True),
    ("100.64.0.1", False, False, True),  # CGNAT, but not Alibaba's metadata address
    ("192.0.2.1", False, False, True),  # documentation
    ("198.18.0.1", False, False, True),  # benchmarking
    ("fc00::1", False, False, True),
    ("fd12:3456::1", False, False, True),
    ("fd00:ec3::254", False, False, True),  # next to AWS's range, not in it
    ("::ffff:10.0.0.1", False, False, True),
    ("8.8.8.8", True, True, True),
    ("::ffff:8.8.8.8", True, True, True),
    ("2606:4700:4700::1111", True, True, True),
    (PUBLIC_IP, True, True, True),
]


@pytest.mark.parametrize(("address", "public", "loopback", "private"), POLICY_TABLE)
def test_each_policy_allows_what_it_says(address, public, loopback, private) -> None:
    assert not is_always_forbidden(address)
    allowed = {policy: is_allowed_address(address, policy) for policy in AddressPolicy}
    assert allowed == {PUBLIC: public, LOOPBACK: loopback, PRIVATE: private}


def test_the_policy_comes_from_the_settings_private_winning(settings) -> None:
    settings.MEDIA_FETCH_ALLOW_PRIVATE, settings.MEDIA_FETCH_ALLOW_LOOPBACK = False, False
    assert address_policy() is PUBLIC
    settings.MEDIA_FETCH_ALLOW_LOOPBACK = True
    assert address_policy() is LOOPBACK
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    assert address_policy() is PRIVATE


def test_the_run_commands_default_allows_loopback_only(tmp_path: Path) -> None:
    """bin/run (and bin/manage) default to loopback, not to the whole private network."""
    (tmp_path / "bin").mkdir()
    # A copy, so that no developer's .env beside the real one has a say.
    shutil.copy(Path(__file__).parents[1] / "bin" / "_lib.sh", tmp_path / "bin" / "_lib.sh")
    script = (
        "source bin/_lib.sh; run_defaults; "
        'echo "${MEDIA_FETCH_ALLOW_PRIVATE:-unset} ${MEDIA_FETCH_ALLOW_LOOPBACK:-unset}"'
    )
    done = subprocess.run(  # noqa: S603 (a fixed script)
        ["bash", "-c", script],  # noqa: S607
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["unset", "true"]


# Spellings of 169.254.169.254 in a URL's host, as the resolver reads them.
METADATA_URL_HOSTS = [
    "169.254.169.254",
    "2852039166",  # decimal
    "0xa9fea9fe",  # hex
    "0251.0376.0251.0376",  # octal
    "169.254.43518",  # a.b.c with a 16-bit c
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]",
    "[fd00:ec2::254]",
    "[fe80::a9fe:a9fe%25eth0]",
    "169.254.170.2",
    "100.100.100.200",
]


@pytest.mark.parametrize("host", METADATA_URL_HOSTS)
@pytest.mark.parametrize("policy", list(AddressPolicy))
def test_accept_time_check_refuses_metadata_urls_under_every_policy(host, policy, guard) -> None:
    with pytest.raises(AddressError) as info:
        check_public_http_url(f"http://{host}/latest/meta-data/?token=s3cret", policy=policy)
    assert info.value.code == "private_address"
    assert "s3cret" not in info.value.message
    assert guard == []


# --- The resolver stand-in and the guard -------------------------------------------------------


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every connect to anything but loopback is refused and recorded."""
    refused: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(address[0].split("%", 1)[0])
            if not ip.is_loopback:
                refused.append((address[0], address[1]))
                raise OSError(f"test guard: no connection to {address[0]}:{address[1]}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return refused


@contextmanager
def resolving(name: str, *answers: str) -> Iterator[list[str]]:
    """``name`` resolves to each answer in turn (the last one from then on); other names as
    usual. Yields the answers given out, one per lookup."""
    queue, given = list(answers), []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        given.append(address)
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 80, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 80))]

    with mock.patch("socket.getaddrinfo", side_effect=getaddrinfo):
        yield given


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
