"""Download creative images from client-given URLs without becoming an SSRF proxy.

The worker downloads ``image_url`` (and a video's ``thumbnail_url``) itself and uploads the
bytes to Meta's ``adimages``. The URL comes from a client, so every download is treated as
hostile: it may point at the worker's own network (cloud metadata at 169.254.169.254, Redis,
PostgreSQL, the admin), redirect there, resolve there only on the second DNS lookup
(rebinding), never end, or be a 10 GB file.

What requests-hardened (Saleor) gives, and what this module adds
------------------------------------------------------------------
(The address rules themselves live in ``mojito.addresses``, shared with webhook deliveries.)

``requests_hardened.ip_filter_adapter.IPFilterAdapter`` resolves the host once, when the
connection pool is chosen, refuses private / loopback / link-local / CGNAT / NAT64 / 6to4 /
multicast results, and *pins* the connection to the address it checked (keeping the ``Host``
header, TLS SNI and certificate hostname of the URL). So the address that was checked is the
address that is connected to: DNS rebinding cannot slip between check and connect, and the
numeric spellings of 127.0.0.1 (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``)
are refused because the check runs on what the resolver made of them. Its ``HTTPSession``
adds ``never_redirect``, a default timeout and a fixed User-Agent.

What it lacks, and is added here:

- **Stricter address rule, and policies.** Its rule is ``is_private or is_multicast or
  <extra ranges>``, which on CPython lets through e.g. IPv4-compatible ``::127.0.0.1``,
  IPv4-translated ``::ffff:0:7f00:1`` and site-local ``fec0::/10``, and it can allow
  loopback only. ``mojito.pinning.PinnedAddressAdapter`` resolves, checks and pins the
  same way under mojito's classifier and policies: public only by default, loopback too with
  ``MEDIA_FETCH_ALLOW_LOOPBACK`` (``bin/run``), any private address with
  ``MEDIA_FETCH_ALLOW_PRIVATE`` (tests, sandboxes), and never link-local or cloud-metadata
  addresses, whichever (so that even the widest mode pins: rebinding cannot reach them).
- **Redirects with re-checks.** ``never_redirect`` refuses all of them; images often sit
  behind one or two. They are followed here by hand, at most :data:`MAX_REDIRECTS`, each hop
  checked for scheme (http/https only) and, through the adapter, for its address.
- **A total time cap.** ``requests`` timeouts bound each socket operation, so a server that
  trickles one byte a second never trips them. A watchdog shuts the connection's socket down
  when the fetch's deadline passes (DNS resolution is not covered: ``getaddrinfo`` has no
  timeout; the TLS handshake is bounded by the connect timeout).
- **A size cap that trusts no header**, streaming with a count; a Content-Length above the
  cap is refused before the body is read.
- **A content check**: the bytes must start like an image format Meta takes, whatever the
  ``Content-Type`` says.
- **Environment-free sessions**: ``trust_env`` is off (no ``HTTP_PROXY`` that would route
  around the filter, no ``.netrc`` credentials), cookies are never stored.
- **Errors fit for clients**: :class:`MediaFetchError` carries a ``code`` and a message that
  names the problem and the URL's host, never the full URL (query strings carry signed
  tokens), and is raised ``from None`` so no library exception that quotes the URL rides
  along in a traceback.

Meta facts (Ads Guide, image ads): JPG or PNG recommended, at most 30 MB per image; Meta's
upload also takes GIF, BMP, TIFF and WebP, so those pass here too. ``adimages`` wants a file
name with an extension (``FetchedMedia.filename``); the ``hash`` it returns is, as observed
in practice but not stated in Meta's reference, the MD5 of the bytes (``FetchedMedia.md5``).

Video URLs are not downloaded: the worker passes them to Meta as ``file_url`` and Meta fetches
them from its own network. :func:`check_public_http_url` checks such a URL's scheme and that
its host resolves to public addresses, as a courtesy (an early, clear error).

Settings (read at call time, with defaults): ``MEDIA_FETCH_ALLOW_PRIVATE`` (False),
``MEDIA_FETCH_ALLOW_LOOPBACK`` (False), ``MEDIA_FETCH_MAX_IMAGE_BYTES`` (30 MiB),
``MEDIA_FETCH_TIMEOUT`` (20 s in total per image, redirects included),
``MEDIA_FETCH_CONNECT_TIMEOUT`` (5 s per connection).
"""

from __future__ import annotations

import hashlib
import http.client
import http.cookiejar
import re
import socket
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3.exceptions
from django.conf import settings
from requests_hardened import Config, HTTPSession
from urllib3 import PoolManager

from mojito.addresses import (
    ALLOWED_SCHEMES,
    AddressError,
    AddressPolicy,
    InvalidIPAddress,
    RefusedAddress,
    address_policy,
    is_public_address,
    parse_http_url,
    private_address_message,
)
from mojito.addresses import check_public_http_url as _check_public_http_url
from mojito.addresses import host_label as _host_label
from mojito.pinning import PinnedAddressAdapter

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_IMAGE_BYTES",
    "DEFAULT_TIMEOUT",
    "MAX_REDIRECTS",
    "FetchedMedia",
    "MediaFetchError",
    "check_public_http_url",
    "detect_image_type",
    "fetch_image",
    "is_public_address",
]

DEFAULT_MAX_IMAGE_BYTES = 30 * 1024 * 1024  # Meta: at most 30 MB per image.
DEFAULT_TIMEOUT = 20.0
DEFAULT_CONNECT_TIMEOUT = 5.0
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
OK_STATUSES = frozenset({200, 203})
USER_AGENT = "mojito-media-fetch/1.0"
CHUNK_SIZE = 64 * 1024
FILENAME_MAX_LENGTH = 100  # Meta's AdImage.name


class MediaFetchError(Exception):
    """A client-caused failure with a clear, user-facing message (never containing secrets).

    ``code`` is one of ``invalid_url``, ``url_scheme``, ``private_address``, ``too_large``,
    ``timeout``, ``http_status``, ``not_an_image``, ``too_many_redirects``, ``connection``.
    ``transient`` is True where trying again later may succeed (timeouts, connection
    failures, HTTP 408/429/5xx); the worker decides whether to retry.
    """

    code: str
    transient: bool

    def __init__(self, code: str, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = transient

    def __repr__(self) -> str:
        return f"MediaFetchError(code={self.code!r}, message={self.message!r})"


@dataclass(frozen=True)
class FetchedMedia:
    content: bytes
    content_type: str  # from the bytes, not from the server's header
    filename: str  # with the extension of content_type (adimages wants one)
    md5: str  # hex; what Meta's adimages returns as the image hash
    sha256: str  # hex

    def __repr__(self) -> str:  # never dump megabytes into a log line
        return (
            f"FetchedMedia(content_type={self.content_type!r}, filename={self.filename!r}, "
            f"size={len(self.content)}, md5={self.md5!r})"
        )

    @property
    def size(self) -> int:
        return len(self.content)


# --- URL and address rules -------------------------------------------------------------------


def _parse_http_url(url: object, *, what: str = "Image URL") -> tuple[str, int | None]:
    """Scheme and host checks that need no network. Returns (hostname, port)."""
    try:
        return parse_http_url(url, what=what)
    except AddressError as exc:
        raise MediaFetchError(exc.code, exc.message, transient=exc.transient) from None


def _private_address_error(host: str, *, what: str = "Image URL host") -> MediaFetchError:
    return MediaFetchError("private_address", private_address_message(host, what=what))


def check_public_http_url(
    url: str, *, allow_private: bool | None = None, policy: AddressPolicy | None = None
) -> None:
    """Check that ``url`` is http(s) and that its host resolves only to public addresses.

    Meant for URLs handed to Meta to fetch (``video_url`` as ``file_url``): Meta fetches them
    from its own network, so this is a courtesy that turns an unusable URL into a clear error
    early. Downloads done by mojito itself go through :func:`fetch_image`, which re-checks at
    connect time. Raises :class:`MediaFetchError`.
    """
    try:
        _check_public_http_url(url, allow_private=allow_private, policy=policy, what="URL")
    except AddressError as exc:
        raise MediaFetchError(exc.code, exc.message, transient=exc.transient) from None


# --- Image formats ---------------------------------------------------------------------------

_BMP_DIB_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def detect_image_type(data: bytes) -> tuple[str, str] | None:
    """(MIME type, file extension) from the first bytes, or None when not an image Meta takes."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif", "gif"
    if len(data) >= 16 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff", "tiff"
    # "BM" alone would match any text starting with those letters: check the DIB header size.
    if (
        len(data) >= 18
        and data[:2] == b"BM"
        and int.from_bytes(data[14:18], "little") in _BMP_DIB_HEADER_SIZES
    ):
        return "image/bmp", "bmp"
    return None


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _filename_for(url: str, extension: str) -> str:
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    stem = last.rsplit(".", 1)[0] if "." in last else last
    stem = _SAFE_NAME.sub("_", stem).strip("._-") or "image"
    stem = stem[: FILENAME_MAX_LENGTH - len(extension) - 1]
    return f"{stem}.{extension}"


# --- Transport -------------------------------------------------------------------------------


class _Connections:
    """The connections one fetch opened, so that its watchdog can cut them at the deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: list[Any] = []
        self.expired = False

    def add(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            expired = self.expired
        if expired:
            self._cut(conn)

    def abort_all(self) -> None:
        with self._lock:
            self.expired = True
            conns = list(self._conns)
        for conn in conns:
            self._cut(conn)

    @staticmethod
    def _cut(conn: Any) -> None:
        sock = getattr(conn, "sock", None)
        if sock is not None:
            # socket.socket.shutdown, not SSLSocket.shutdown: wakes a recv blocked in another
            # thread without touching the TLS object that thread is using.
            with suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _TrackingPoolManager(PoolManager):
    def __init__(self, connections: _Connections, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tracked = connections

    def _new_pool(self, scheme: str, host: str, port: int, request_context: Any = None) -> Any:
        pool = super()._new_pool(scheme, host, port, request_context)
        new_conn = pool._new_conn
        tracked = self._tracked

        def _tracked_new_conn() -> Any:
            conn = new_conn()
            tracked.add(conn)
            return conn

        pool._new_conn = _tracked_new_conn
        return pool


class _TrackingMixin:
    """Builds the adapter's pool manager so that every connection is known to the watchdog."""

    _connections: _Connections

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        # Same as HTTPAdapter.init_poolmanager, with the tracking pool manager.
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _TrackingPoolManager(
            self._connections, num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
        )


class _PinnedAdapter(_TrackingMixin, PinnedAddressAdapter):
    """Resolve, check under the policy, pin (``mojito.addresses``), with every connection
    known to the watchdog."""

    def __init__(self, connections: _Connections, *, is_https: bool, policy: AddressPolicy) -> None:
        self._connections = connections
        super().__init__(is_https=is_https, policy=policy)


def _new_session(*, policy: AddressPolicy) -> tuple[requests.Session, _Connections]:
    connections = _Connections()
    session = HTTPSession(
        Config(
            ip_filter_enable=False,  # the adapters below filter, under mojito's policy
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,  # followed by hand, each hop checked
            default_timeout=(DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT),
            user_agent_override=USER_AGENT,
        )
    )
    session.trust_env = False
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    for scheme in ALLOWED_SCHEMES:
        adapter = _PinnedAdapter(connections, is_https=scheme == "https", policy=policy)
        session.mount(f"{scheme}://", adapter)
    return session, connections


@contextmanager
def _translated_errors(host: str, connections: _Connections, *, redirected: bool = False):
    """Turn transport exceptions into MediaFetchError, without their text (it quotes URLs)."""
    try:
        yield
    except MediaFetchError:
        raise
    except InvalidIPAddress as exc:
        what = "Image URL redirected to host" if redirected else "Image URL host"
        if isinstance(exc, RefusedAddress):
            raise MediaFetchError("private_address", exc.message(host, what=what)) from None
        raise _private_address_error(host, what=what) from None
    except Exception as exc:
        if connections.expired:
            raise _timeout_error(host) from None
        if isinstance(
            exc,
            requests.Timeout | urllib3.exceptions.TimeoutError | socket.timeout,
        ):
            raise _timeout_error(host) from None
        if isinstance(exc, requests.exceptions.InvalidURL | urllib3.exceptions.LocationValueError):
            raise MediaFetchError("invalid_url", f"Image URL host {host} is not valid.") from None
        if isinstance(exc, requests.exceptions.SSLError):
            raise MediaFetchError(
                "connection", f"TLS handshake with image host {host} failed.", transient=True
            ) from None
        if isinstance(exc, requests.ConnectionError) and isinstance(exc.__cause__, socket.gaierror):
            raise MediaFetchError(
                "connection", f"Image URL host {host} could not be resolved.", transient=True
            ) from None
        if isinstance(
            exc,
            requests.RequestException
            | urllib3.exceptions.HTTPError
            | http.client.HTTPException
            | OSError,
        ):
            raise MediaFetchError(
                "connection",
                f"Connection to image host {host} failed or was cut before the image was complete.",
                transient=True,
            ) from None
        raise


def _timeout_error(host: str) -> MediaFetchError:
    return MediaFetchError(
        "timeout", f"Image host {host} did not deliver the image in time.", transient=True
    )


def _setting(name: str, default: Any) -> Any:
    value = getattr(settings, name, None)
    return default if value is None else value


def fetch_image(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    allow_private: bool | None = None,
    policy: AddressPolicy | None = None,
) -> FetchedMedia:
    """Download an image for ``adimages``, refusing anything a client should not make us fetch.

    ``max_bytes`` defaults to ``settings.MEDIA_FETCH_MAX_IMAGE_BYTES`` (30 MiB), ``timeout``
    (seconds for the whole fetch, redirects included) to ``settings.MEDIA_FETCH_TIMEOUT``
    (20); ``policy`` (or ``allow_private``: True is ``PRIVATE``, False ``PUBLIC``) to the
    settings' (``mojito.addresses.address_policy``). Each
    connection also gets ``settings.MEDIA_FETCH_CONNECT_TIMEOUT`` (5) to be established.
    Raises :class:`MediaFetchError`.
    """
    if max_bytes is None:
        max_bytes = int(_setting("MEDIA_FETCH_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES))
    if timeout is None:
        timeout = float(_setting("MEDIA_FETCH_TIMEOUT", DEFAULT_TIMEOUT))
    if policy is None:
        policy = address_policy(allow_private)
    connect_timeout = float(_setting("MEDIA_FETCH_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT))

    hostname, _ = _parse_http_url(url)
    host = _host_label(hostname)
    deadline = time.monotonic() + timeout
    session, connections = _new_session(policy=policy)
    watchdog = threading.Timer(timeout, connections.abort_all)
    watchdog.daemon = True
    watchdog.start()
    try:
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _timeout_error(host)
            with _translated_errors(host, connections, redirected=hop > 0):
                response = session.get(
                    current,
                    stream=True,
                    allow_redirects=False,
                    timeout=(min(connect_timeout, remaining), remaining),
                    headers={"Accept": "image/*", "Accept-Encoding": "identity"},
                )
            try:
                location = response.headers.get("Location")
                if response.status_code in REDIRECT_STATUSES and location:
                    if hop == MAX_REDIRECTS:
                        raise MediaFetchError(
                            "too_many_redirects",
                            f"Image URL (host {_host_label(hostname)}) redirected more than "
                            f"{MAX_REDIRECTS} times.",
                        )
                    current = urljoin(current, location)
                    next_hostname, _ = _parse_http_url(
                        current, what=f"Redirect from image host {host}"
                    )
                    host = _host_label(next_hostname)
                    continue
                with _translated_errors(host, connections):
                    content = _read_body(response, host, max_bytes, connections)
            finally:
                response.close()
            return _media_from(content, url, host)
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        watchdog.cancel()
        session.close()


def _read_body(
    response: requests.Response, host: str, max_bytes: int, connections: _Connections
) -> bytes:
    if connections.expired:
        raise _timeout_error(host)
    status = response.status_code
    if status not in OK_STATUSES:
        raise MediaFetchError(
            "http_status",
            f"Image host {host} answered HTTP {status} instead of the image.",
            transient=status in (408, 425, 429) or status >= 500,
        )
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large_error(host, max_bytes)
    chunks: list[bytes] = []
    received = 0
    for chunk in response.raw.stream(CHUNK_SIZE, decode_content=True):
        if connections.expired:
            raise _timeout_error(host)
        received += len(chunk)
        if received > max_bytes:
            raise _too_large_error(host, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large_error(host: str, max_bytes: int) -> MediaFetchError:
    return MediaFetchError(
        "too_large", f"Image from host {host} is larger than the limit of {max_bytes} bytes."
    )


def _media_from(content: bytes, url: str, host: str) -> FetchedMedia:
    detected = detect_image_type(content)
    if detected is None:
        raise MediaFetchError(
            "not_an_image",
            f"Content from image host {host} is not a JPEG, PNG, GIF, WebP, BMP or TIFF image.",
        )
    content_type, extension = detected
    return FetchedMedia(
        content=content,
        content_type=content_type,
        filename=_filename_for(url, extension),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
    )
