"""platforms.meta.media: SSRF-safe image download, over real HTTP to a server on 127.0.0.1.

Nothing here may reach another machine: an autouse guard wraps ``socket.socket.connect`` and
refuses (and records) every non-loopback address, and every test that expects a refusal also
asserts that no connection was even attempted, i.e. that the check ran before connecting.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from unittest import mock
from urllib.parse import unquote, urlsplit

import pytest
import urllib3.response

from platforms.meta import media
from platforms.meta.media import (
    MediaFetchError,
    check_public_http_url,
    detect_image_type,
    fetch_image,
    is_public_address,
)
from tests.fakes import FakeRedirectAdapter
from tests.images import LoopbackServer, make_jpeg, make_png

FAST = 2.0  # seconds: a generous total for fetches that should succeed or fail at once


# --- Test images -----------------------------------------------------------------------------


GIF_1X1 = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WEBP_HEAD = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11"
BMP_HEAD = b"BM" + struct.pack("<IHHI", 58, 0, 0, 54) + struct.pack("<I", 40) + b"\x00" * 36
TIFF_LE = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 8
TIFF_BE = b"MM\x00*\x00\x00\x00\x08" + b"\x00" * 8
PNG = make_png()
JPEG = make_jpeg(b"mojito test")


# --- The local server ------------------------------------------------------------------------


class LocalServer(LoopbackServer):
    """ThreadingHTTPServer on 127.0.0.1; handlers write raw HTTP so that tests control it all."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_stop = self.stop

            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(unquote(urlsplit(self.path).path))
                self.close_connection = True
                try:
                    if route is None:
                        respond(self, 404, b"not found", content_type="text/plain")
                    else:
                        route(self)
                except OSError:
                    pass  # the client hung up: expected for refusals mid-body

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)

    def close(self) -> None:
        self.stop.set()
        super().close()


def respond(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    *,
    content_type: str = "image/png",
    headers: dict[str, str] | None = None,
    content_length: bool = True,
) -> None:
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", "Connection: close"]
    if content_length:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    handler.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    handler.wfile.flush()


def stream_forever(handler: BaseHTTPRequestHandler, first: bytes, *, chunked: bool) -> None:
    """Send ``first`` then filler until the client hangs up (at most 16 MiB, 3 s)."""
    filler = b"\x00" * 65536
    end = time.monotonic() + 3
    sent = 0
    for piece in [first] + [filler] * 256:
        if time.monotonic() > end or handler.server_stop.is_set():  # type: ignore[attr-defined]
            break
        data = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
        handler.wfile.write(data)
        sent += len(piece)


def trickle(handler: BaseHTTPRequestHandler, head: bytes, drip: bytes) -> None:
    """Send ``head`` then one byte of ``drip`` every 50 ms for at most 3 s."""
    handler.wfile.write(head)
    handler.wfile.flush()
    end = time.monotonic() + 3
    for byte in drip * 100:
        if time.monotonic() > end or handler.server_stop.is_set():  # type: ignore[attr-defined]
            return
        time.sleep(0.05)
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()


@pytest.fixture(scope="module")
def local_server():
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def server(local_server: LocalServer):
    local_server.routes.clear()
    local_server.requests.clear()
    return local_server


class ConnectGuard:
    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []
        self.blocked: list[tuple[str, int]] = []
        self.expect_blocked = False


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@pytest.fixture(autouse=True)
def connect_guard(monkeypatch):
    """Record every outgoing connect; refuse any that is not to loopback."""
    guard = ConnectGuard()
    real_connect = socket.socket.connect

    def guarded_connect(sock: socket.socket, address):  # type: ignore[no-untyped-def]
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host, port = address[0], address[1]
            guard.attempts.append((host, port))
            if not _is_loopback(host):
                guard.blocked.append((host, port))
                raise OSError(f"test guard: refused to connect to {host}:{port}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(
        socket.socket,
        "connect_ex",
        lambda sock, address: pytest.fail(f"unexpected connect_ex to {address}"),
    )
    yield guard
    if not guard.expect_blocked:
        assert guard.blocked == [], "a non-loopback connection was attempted"


def fetch_error(url: str, **kwargs) -> MediaFetchError:
    kwargs.setdefault("timeout", FAST)
    with pytest.raises(MediaFetchError) as info:
        fetch_image(url, **kwargs)
    return info.value


def fake_dns(answers: dict[str, list[str]]):
    """Patch socket.getaddrinfo for the given names only; each call pops the next answer."""
    real = socket.getaddrinfo
    calls: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, *args, **kwargs)
        calls.append(name)
        queue = answers[name]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (
            (address, port or 80, 0, 0) if family == socket.AF_INET6 else (address, port or 80)
        )
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    patcher = mock.patch("socket.getaddrinfo", side_effect=getaddrinfo)
    patcher.calls = calls  # type: ignore[attr-defined]
    return patcher


# --- Success ---------------------------------------------------------------------------------


def test_fetches_png_from_allowed_private_server(server, connect_guard):
    server.routes["/photos/summer sale.png"] = lambda h: respond(
        h, 200, PNG, content_type="application/octet-stream"
    )
    media_ = fetch_image(
        server.url("/photos/summer%20sale.png?sig=abc"), allow_private=True, timeout=FAST
    )
    assert media_.content == PNG
    assert media_.content_type == "image/png"
    assert media_.filename == "summer_sale.png"
    assert media_.size == len(PNG)
    assert media_.md5 == hashlib.md5(PNG).hexdigest()  # noqa: S324 (Meta's image hash)
    assert media_.sha256 == hashlib.sha256(PNG).hexdigest()
    assert repr(media_).startswith("FetchedMedia(content_type='image/png'")  # no bytes dumped
    assert connect_guard.attempts == [("127.0.0.1", server.port)]


def test_fetches_jpeg_whatever_the_content_type_and_names_it_from_the_bytes(server):
    server.routes["/download"] = lambda h: respond(h, 200, JPEG, content_type="text/plain")
    got = fetch_image(server.url("/download"), allow_private=True, timeout=FAST)
    assert (got.content, got.content_type, got.filename) == (JPEG, "image/jpeg", "download.jpg")


def test_body_without_content_length_is_read_to_the_end(server):
    server.routes["/x.gif"] = lambda h: respond(h, 200, GIF_1X1, content_length=False)
    got = fetch_image(server.url("/x.gif"), allow_private=True, timeout=FAST)
    assert (got.content, got.filename) == (GIF_1X1, "x.gif")


def test_wrong_extension_in_url_is_replaced_by_the_detected_one(server):
    server.routes["/img.jpg"] = lambda h: respond(h, 200, PNG)
    got = fetch_image(server.url("/img.jpg"), allow_private=True, timeout=FAST)
    assert got.filename == "img.png"


def test_settings_are_read_at_call_time(server, settings):
    server.routes["/a.png"] = lambda h: respond(h, 200, PNG)
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    settings.MEDIA_FETCH_TIMEOUT = FAST
    assert fetch_image(server.url("/a.png")).content == PNG
    settings.MEDIA_FETCH_MAX_IMAGE_BYTES = 10
    assert fetch_error(server.url("/a.png")).code == "too_large"
    settings.MEDIA_FETCH_ALLOW_PRIVATE = False
    assert fetch_error(server.url("/a.png")).code == "private_address"


# --- Address refusals (before any connection) ------------------------------------------------


PRIVATE_HOSTS = [
    "127.0.0.1",
    "localhost",
    "169.254.169.254",
    "10.0.0.1",
    "192.168.1.1",
    "172.16.0.1",
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104 (a URL under test, nothing binds)
    "224.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::127.0.0.1]",
    "[fec0::1]",
    "[64:ff9b::a9fe:a9fe]",
    "[fe80::1]",
    "[fc00::1]",
    "[::]",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "127.1",
    "017700000001",
]


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_private_and_loopback_addresses_are_refused_before_connecting(server, connect_guard, host):
    server.routes["/img.png"] = lambda h: respond(h, 200, PNG)
    url = f"http://{host}:{server.port}/img.png?token=s3cret"
    error = fetch_error(url, allow_private=False)
    assert error.code == "private_address", error
    assert "s3cret" not in str(error) and "img.png" not in str(error)
    assert connect_guard.attempts == []
    assert server.requests == []


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1:{port}/a.png", "https://10.0.0.1/a.png", "https://[::1]/a.png"]
)
def test_https_urls_get_the_same_address_check(server, connect_guard, url):
    error = fetch_error(url.format(port=server.port), allow_private=False)
    assert error.code == "private_address"
    assert connect_guard.attempts == [] and server.requests == []


def test_hostname_resolving_to_loopback_is_refused(server, connect_guard):
    server.routes["/img.png"] = lambda h: respond(h, 200, PNG)
    with fake_dns({"images.example.com": ["127.0.0.1"]}):
        error = fetch_error(f"http://images.example.com:{server.port}/img.png")
    assert error.code == "private_address"
    assert "images.example.com" in str(error)
    assert connect_guard.attempts == [] and server.requests == []


def test_dns_rebinding_cannot_slip_between_check_and_connect(connect_guard):
    """The address checked is the address connected to: resolved once, then pinned.

    The name first answers a public address (so a check-then-fetch design would pass it) and
    loopback afterwards. The fetch must connect to the public address it checked (the guard
    stops that connect, so nothing leaves the machine), never to loopback.
    """
    connect_guard.expect_blocked = True
    with fake_dns({"rebind.example.com": ["93.184.216.34", "127.0.0.1"]}) as patched:
        check_public_http_url("http://rebind.example.com/img.png")  # first answer: public
        error = fetch_error("http://rebind.example.com/img.png", allow_private=False)
    assert error.code == "private_address"  # second answer, at connect time: loopback
    assert connect_guard.attempts == []
    assert patched.call_count == 2

    connect_guard.blocked.clear()
    with fake_dns({"pinned.example.com": ["93.184.216.34", "127.0.0.1"]}):
        error = fetch_error("http://pinned.example.com/img.png", allow_private=False)
    assert error.code == "connection"  # the guard refused the (public) connect
    assert connect_guard.attempts == [("93.184.216.34", 80)]


# --- Redirects -------------------------------------------------------------------------------


@pytest.fixture
def public_redirector(monkeypatch):
    """http://cdn.example.test/... answers a redirect to the given target."""
    adapters: list[FakeRedirectAdapter] = []

    def install(target: str) -> list[FakeRedirectAdapter]:
        real_new_session = media._new_session

        def new_session(**kwargs):  # type: ignore[no-untyped-def]
            session, connections = real_new_session(**kwargs)
            adapter = FakeRedirectAdapter(target)
            adapters.append(adapter)
            session.mount("http://cdn.example.test/", adapter)
            return session, connections

        monkeypatch.setattr(media, "_new_session", new_session)
        return adapters

    return install


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/img.png",
        "http://localhost:{port}/img.png",
        "http://[::ffff:127.0.0.1]:{port}/img.png",
        "http://2130706433:{port}/img.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/internal",
    ],
)
def test_redirect_to_private_address_is_refused(server, connect_guard, public_redirector, target):
    server.routes["/img.png"] = lambda h: respond(h, 200, PNG)
    adapters = public_redirector(target.format(port=server.port))
    error = fetch_error("http://cdn.example.test/img.png?sig=s3cret", allow_private=False)
    assert error.code == "private_address", error
    assert "redirected" in str(error) and "s3cret" not in str(error)
    assert adapters[0].sent == ["http://cdn.example.test/img.png?sig=s3cret"]
    assert connect_guard.attempts == [] and server.requests == []


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/img.png", "gopher://127.0.0.1:70/_x"]
)
def test_redirect_to_another_scheme_is_refused(server, connect_guard, target):
    server.routes["/go"] = lambda h: respond(h, 302, b"", headers={"Location": target})
    error = fetch_error(server.url("/go"), allow_private=True)
    assert error.code == "url_scheme"
    assert server.requests == ["/go"]
    assert connect_guard.attempts == [("127.0.0.1", server.port)]


def test_redirect_scheme_is_checked_on_the_public_path_too(connect_guard, public_redirector):
    public_redirector("file:///etc/passwd")
    assert fetch_error("http://cdn.example.test/a.png").code == "url_scheme"
    assert connect_guard.attempts == []


def add_hops(server: LocalServer, count: int) -> str:
    """/hops/N redirects (relative Location, mixed codes) to /hops/N-1; /hops/0 is the image."""
    codes = [301, 302, 303, 307, 308]
    for n in range(count + 1):
        if n == 0:
            server.routes["/hops/0"] = lambda h: respond(h, 200, PNG)
        else:
            server.routes[f"/hops/{n}"] = lambda h, n=n: respond(
                h, codes[n % 5], b"", headers={"Location": f"/hops/{n - 1}"}
            )
    return server.url(f"/hops/{count}")


def test_five_redirects_are_followed(server):
    got = fetch_image(add_hops(server, 5), allow_private=True, timeout=FAST)
    assert got.content == PNG and got.filename == "5.png"
    assert server.requests == [f"/hops/{n}" for n in range(5, -1, -1)]


def test_more_than_five_redirects_are_refused(server):
    error = fetch_error(add_hops(server, 6), allow_private=True)
    assert error.code == "too_many_redirects"
    assert len(server.requests) == 6  # the sixth redirect is not followed


def test_redirect_without_location_is_an_http_status_error(server):
    server.routes["/r"] = lambda h: respond(h, 302, b"")
    assert fetch_error(server.url("/r"), allow_private=True).code == "http_status"


# --- Size, time, content, status, scheme -----------------------------------------------------


@pytest.fixture
def bytes_read(monkeypatch):
    """Bytes urllib3 read from the socket for response bodies."""
    total = [0]
    real = urllib3.response.HTTPResponse._raw_read

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        data = real(self, *args, **kwargs)
        total[0] += len(data or b"")
        return data

    monkeypatch.setattr(urllib3.response.HTTPResponse, "_raw_read", counting)
    return total


MAX = 100_000


def test_declared_oversize_is_refused_before_reading_the_body(server, bytes_read):
    server.routes["/big"] = lambda h: respond(h, 200, PNG + b"\x00" * MAX)
    error = fetch_error(server.url("/big"), allow_private=True, max_bytes=MAX)
    assert error.code == "too_large" and str(MAX) in str(error)
    assert bytes_read[0] == 0


def test_oversize_without_content_length_stops_after_the_cap(server, bytes_read):
    server.routes["/stream"] = lambda h: (
        h.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"),
        stream_forever(h, PNG, chunked=False),
    )
    started = time.monotonic()
    error = fetch_error(server.url("/stream"), allow_private=True, max_bytes=MAX)
    assert error.code == "too_large"
    assert bytes_read[0] <= MAX + media.CHUNK_SIZE
    assert time.monotonic() - started < 1


def test_lying_content_length_does_not_lift_the_cap(server, bytes_read):
    """Content-Length says 100 bytes, the (chunked) body goes on for megabytes."""
    server.routes["/lie"] = lambda h: (
        h.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        ),
        stream_forever(h, PNG, chunked=True),
    )
    error = fetch_error(server.url("/lie"), allow_private=True, max_bytes=MAX)
    assert error.code == "too_large"
    assert bytes_read[0] <= MAX + media.CHUNK_SIZE + 64  # + chunk-size lines


def test_body_shorter_than_its_content_length_is_a_connection_error(server):
    server.routes["/short"] = lambda h: h.wfile.write(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n" + PNG
    )
    error = fetch_error(server.url("/short"), allow_private=True)
    assert error.code == "connection" and error.transient


def test_server_that_never_answers_times_out(server):
    server.routes["/hang"] = lambda h: server.stop.wait(3)
    started = time.monotonic()
    error = fetch_error(server.url("/hang"), allow_private=True, timeout=0.4)
    assert error.code == "timeout" and error.transient
    assert time.monotonic() - started < 1.2


@pytest.mark.parametrize(
    ("head", "drip"),
    [
        (b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a"),  # headers, one byte every 50 ms
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + PNG, b"\x00"),  # body
    ],
    ids=["headers", "body"],
)
def test_trickling_server_is_cut_at_the_total_deadline(server, head, drip):
    """Each byte comes well within the read timeout: only the total deadline stops it."""
    server.routes["/drip"] = lambda h: trickle(h, head, drip)
    started = time.monotonic()
    error = fetch_error(server.url("/drip"), allow_private=True, timeout=0.4)
    assert error.code == "timeout"
    assert time.monotonic() - started < 1.2


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Not found</body></html>",
        b"",
        b"BMW is a car, not a bitmap",
        b"%PDF-1.7\n",
        b"\x1f\x8b\x08\x00 gzip",
    ],
)
def test_non_image_bytes_are_refused_whatever_the_content_type(server, body):
    server.routes["/fake.png"] = lambda h: respond(h, 200, body, content_type="image/png")
    error = fetch_error(server.url("/fake.png"), allow_private=True)
    assert error.code == "not_an_image"


@pytest.mark.parametrize(("status", "transient"), [(404, False), (403, False), (500, True)])
def test_http_error_status_is_refused(server, status, transient):
    server.routes["/s"] = lambda h: respond(h, status, PNG)
    error = fetch_error(server.url("/s?X-Amz-Signature=s3cret"), allow_private=True)
    assert (error.code, error.transient) == ("http_status", transient)
    assert str(status) in str(error) and "127.0.0.1" in str(error)
    assert "s3cret" not in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/img.png",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/_GET",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "//example.com/img.png",
        "img.png",
    ],
)
def test_non_http_schemes_are_refused(connect_guard, url):
    error = fetch_error(url, allow_private=True)
    assert error.code == "url_scheme"
    assert connect_guard.attempts == []


@pytest.mark.parametrize("url", ["", "http:///img.png", "http://exa mple.com/", "http://h:99999/"])
def test_malformed_urls_are_refused(connect_guard, url):
    assert fetch_error(url, allow_private=True).code == "invalid_url"
    assert connect_guard.attempts == []


def test_connection_refused_is_a_transient_connection_error(connect_guard):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = fetch_error(f"http://127.0.0.1:{port}/a.png", allow_private=True)
    assert (error.code, error.transient) == ("connection", True)


# --- check_public_http_url, is_public_address, detect_image_type ------------------------------


def test_check_public_http_url(connect_guard):
    with fake_dns({"video.example.com": ["93.184.216.34"], "intra.example.com": ["10.0.0.8"]}):
        check_public_http_url("https://video.example.com/v.mp4?token=x")
        with pytest.raises(MediaFetchError) as info:
            check_public_http_url("https://intra.example.com/v.mp4?token=s3cret")
    assert info.value.code == "private_address" and "s3cret" not in str(info.value)
    for url in ["http://127.0.0.1/v.mp4", "http://[::1]/v.mp4", "http://0x7f000001/v.mp4"]:
        with pytest.raises(MediaFetchError) as info:
            check_public_http_url(url, allow_private=False)
        assert info.value.code == "private_address"
    with pytest.raises(MediaFetchError) as info:
        check_public_http_url("ftp://video.example.com/v.mp4")
    assert info.value.code == "url_scheme"
    check_public_http_url("http://127.0.0.1/v.mp4", allow_private=True)
    assert connect_guard.attempts == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("::ffff:93.184.216.34", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("255.255.255.255", False),
        ("224.0.0.251", False),
        ("240.0.0.1", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("::1", False),
        ("::", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::127.0.0.1", False),  # IPv4-compatible: requests-hardened alone lets it through
        ("::ffff:0:7f00:1", False),  # IPv4-translated: likewise
        ("fec0::1", False),  # site-local: likewise
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2001:db8::1", False),
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, ("image/png", "png")),
        (JPEG, ("image/jpeg", "jpg")),
        (GIF_1X1, ("image/gif", "gif")),
        (b"GIF87a" + GIF_1X1[6:], ("image/gif", "gif")),
        (WEBP_HEAD, ("image/webp", "webp")),
        (BMP_HEAD, ("image/bmp", "bmp")),
        (TIFF_LE, ("image/tiff", "tiff")),
        (TIFF_BE, ("image/tiff", "tiff")),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"BM" + b"\x00" * 30, None),
        (b"\x89PNG", None),
        (b"", None),
    ],
)
def test_detect_image_type(data, expected):
    assert detect_image_type(data) == expected


def test_error_is_an_exception_with_code_and_message():
    error = MediaFetchError("timeout", "Image host x did not deliver the image in time.")
    assert str(error) == error.message and error.code == "timeout" and not error.transient
