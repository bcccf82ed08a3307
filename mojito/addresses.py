"""Which addresses a client-given URL may make mojito connect to: the SSRF rules shared by every
outgoing request to such a URL (image downloads, webhooks and callbacks).

A client names the URL, so it may point at the worker's own network (cloud metadata at
169.254.169.254, Redis, PostgreSQL, the admin), or resolve there only on the second DNS lookup
(rebinding). Two checks, both here:

- at accept time, :func:`check_public_http_url`: http(s) only, and the host must resolve to
  public addresses only (an early, clear 400);
- at connect time, :class:`PublicOnlyAdapter`: requests-hardened's ``IPFilterAdapter``
  resolves the host once, refuses private results and *pins* the connection to the address it
  checked (keeping ``Host``, TLS SNI and the certificate's hostname), so the address checked is
  the address connected to; then the stricter :func:`is_public_address` runs on the pinned
  address (the library's rule lets through e.g. ``::127.0.0.1``, ``::ffff:0:7f00:1`` and
  site-local ``fec0::/10``).

``MEDIA_FETCH_ALLOW_PRIVATE`` (tests and the local sandbox only) allows every address
(:func:`allow_private_addresses`): requests-hardened can allow loopback only.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter

__all__ = [
    "ALLOWED_SCHEMES",
    "AddressError",
    "InvalidIPAddress",
    "PublicOnlyAdapter",
    "adapter_for",
    "allow_private_addresses",
    "check_public_http_url",
    "host_label",
    "is_public_address",
    "parse_http_url",
    "private_address_message",
]

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Ranges refused on top of "not globally routable": IPv4-compatible / -translated IPv6 (::/8,
# except IPv4-mapped, whose IPv4 address is judged instead) and deprecated site-local IPv6,
# plus requests-hardened's own extra list (CGNAT, NAT64, 6to4, ...).
_EXTRA_REFUSED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("::/8"),
    ipaddress.ip_network("fec0::/10"),
    *EXTRA_BLOCKED_NET_RANGES,
)


class AddressError(Exception):
    """A URL that may not be used, with a message fit for clients (never the whole URL: query
    strings carry signed tokens). ``code``: ``invalid_url``, ``url_scheme``,
    ``private_address`` or ``connection`` (resolution failed; ``transient``)."""

    def __init__(self, code: str, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = transient


def allow_private_addresses() -> bool:
    """``MEDIA_FETCH_ALLOW_PRIVATE``, read at call time."""
    return bool(getattr(settings, "MEDIA_FETCH_ALLOW_PRIVATE", False))


def host_label(hostname: str | None) -> str:
    if not hostname:
        return "(none)"
    return f"[{hostname}]" if ":" in hostname else hostname


def parse_http_url(url: object, *, what: str = "URL") -> tuple[str, int | None]:
    """Scheme and host checks that need no network. Returns (hostname, port)."""
    if not isinstance(url, str) or not url.strip():
        raise AddressError("invalid_url", f"{what} is empty.")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise AddressError("invalid_url", f"{what} contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        port = parts.port
    except ValueError:
        raise AddressError("invalid_url", f"{what} is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise AddressError(
            "url_scheme",
            f"{what} must use http or https, not {shown}"
            + (f" (host {host_label(hostname)})." if hostname else "."),
        )
    if not hostname:
        raise AddressError("invalid_url", f"{what} has no host.")
    return hostname, port


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> bool:
    """True only for globally routable unicast addresses.

    Refuses loopback, RFC 1918, link-local (incl. 169.254.169.254), CGNAT 100.64/10,
    multicast, reserved, unspecified, documentation and benchmark ranges, their IPv6
    equivalents (::1, fc00::/7, fe80::/10, fec0::/10), NAT64, 6to4, Teredo, and
    IPv4-mapped addresses whose IPv4 address is one of those.
    """
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.strip("[]").split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if ip.is_private or ip.is_loopback or ip.is_link_local:
        return False
    return not any(ip.version == net.version and ip in net for net in _EXTRA_REFUSED)


def private_address_message(host: str, *, what: str = "URL host") -> str:
    return (
        f"{what} {host} resolves to a private, loopback or reserved address; "
        "only public internet addresses are allowed."
    )


def check_public_http_url(
    url: object, *, allow_private: bool | None = None, what: str = "URL"
) -> None:
    """Check that ``url`` is http(s) and that its host resolves only to public addresses
    (unless ``allow_private``, default ``MEDIA_FETCH_ALLOW_PRIVATE``). An accept-time check:
    a later connection must still go through :class:`PublicOnlyAdapter` (the answer of the
    next DNS lookup may differ). Raises :class:`AddressError`."""
    if allow_private is None:
        allow_private = allow_private_addresses()
    hostname, port = parse_http_url(url, what=what)
    if allow_private:
        return
    host = host_label(hostname)
    try:
        infos = socket.getaddrinfo(hostname, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise AddressError(
            "connection", f"{what} host {host} could not be resolved.", transient=True
        ) from None
    addresses = {info[4][0] for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)}
    if not addresses:
        raise AddressError("connection", f"{what} host {host} has no address.", transient=True)
    if not all(is_public_address(address) for address in addresses):
        raise AddressError("private_address", private_address_message(host, what=f"{what} host"))


class PublicOnlyAdapter(IPFilterAdapter):
    """requests-hardened's resolve-check-pin, then the stricter :func:`is_public_address`.
    A refused address raises ``InvalidIPAddress`` from the request."""

    def __init__(self, *, is_https: bool) -> None:
        super().__init__(is_https_proto=is_https, allow_loopback=False)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # type: ignore[override]
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        pinned = ipaddress.ip_address(str(host_params["host"]).strip("[]"))
        if not is_public_address(pinned):
            raise InvalidIPAddress(pinned)
        return host_params, pool_kwargs


def adapter_for(scheme: str, *, allow_private: bool) -> HTTPAdapter:
    """The adapter to mount for ``scheme://``: the public-only one, or (allowed private) a
    plain one."""
    if allow_private:
        return HTTPAdapter()
    return PublicOnlyAdapter(is_https=scheme == "https")
