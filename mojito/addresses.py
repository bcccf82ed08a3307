"""Which addresses a client-given URL may make mojito connect to: the SSRF rules shared by every
outgoing request to such a URL (image downloads, webhooks and callbacks).

A client names the URL, so it may point at the worker's own network (cloud metadata at
169.254.169.254, Redis, PostgreSQL, the admin), or resolve there only on the second DNS lookup
(rebinding). Two checks:

- at accept time, :func:`check_public_http_url`: http(s) only, and the host must resolve to
  allowed addresses only (an early, clear 400);
- at connect time, ``mojito.pinning.PinnedAddressAdapter``: resolves the host once, refuses
  the answer unless every address is allowed, and *pins* the connection to the address it
  checked, so the address checked is the address connected to.

Three policies (:class:`AddressPolicy`), from the settings:

- ``PUBLIC`` (the default): globally routable unicast only (:func:`is_public_address`).
- ``LOOPBACK`` (``MEDIA_FETCH_ALLOW_LOOPBACK``; what ``bin/run`` sets, as its demo image is
  served by mojito itself on 127.0.0.1): public, plus 127.0.0.0/8 and ::1 (and ::ffff:127.x).
- ``PRIVATE`` (``MEDIA_FETCH_ALLOW_PRIVATE``; tests and sandboxes): any address, except...

...the always-forbidden ones (:func:`is_always_forbidden`), which no setting lets through:
link-local (169.254.0.0/16, fe80::/10), where every big cloud serves its instance metadata and
credentials, the clouds' metadata and platform addresses outside link-local, "this host" /
unspecified, multicast and broadcast, and any IPv6 spelling that carries one of those IPv4
addresses (IPv4-mapped, -compatible, -translated, NAT64, 6to4, Teredo).
"""

from __future__ import annotations

import enum
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress

__all__ = [
    "ALLOWED_SCHEMES",
    "ALWAYS_FORBIDDEN",
    "AddressError",
    "AddressPolicy",
    "InvalidIPAddress",
    "RefusedAddress",
    "address_policy",
    "allow_private_addresses",
    "check_public_http_url",
    "embedded_ipv4",
    "host_label",
    "is_allowed_address",
    "is_always_forbidden",
    "is_public_address",
    "parse_http_url",
    "private_address_message",
    "resolve_addresses",
]

ALLOWED_SCHEMES = frozenset({"http", "https"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*prefixes: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(prefix) for prefix in prefixes)


# Ranges refused on top of "not globally routable": IPv4-compatible / -translated IPv6 (::/8,
# except IPv4-mapped, whose IPv4 address is judged instead) and deprecated site-local IPv6,
# plus requests-hardened's own extra list (CGNAT, NAT64, 6to4, ...).
_EXTRA_REFUSED: tuple[IPNetwork, ...] = (*_nets("::/8", "fec0::/10"), *EXTRA_BLOCKED_NET_RANGES)

# Never reachable, whatever the settings say. Metadata services hand out the machine's cloud
# credentials to any local process that asks; nothing a test, a sandbox or a demo needs lives
# there. Sources: each cloud's instance-metadata documentation.
ALWAYS_FORBIDDEN: tuple[IPNetwork, ...] = _nets(
    # Link-local: AWS IMDS 169.254.169.254 (also GCP, Azure, Oracle, DigitalOcean, Hetzner,
    # OpenStack, IBM), AWS ECS task metadata 169.254.170.2 and EKS Pod Identity 169.254.170.23,
    # Tencent 169.254.0.23, Scaleway 169.254.42.42, AWS DNS/NTP 169.254.169.253/.123.
    "169.254.0.0/16",
    "fe80::/10",  # IPv6 link-local (OpenStack's fe80::a9fe:a9fe among them)
    "100.100.100.200/32",  # Alibaba Cloud metadata (inside CGNAT 100.64.0.0/10)
    "192.0.0.0/24",  # IETF protocol assignments; Oracle Cloud's legacy metadata 192.0.0.192
    "168.63.129.16/32",  # Azure WireServer / platform DNS: a routable address, host-internal
    "fd00:ec2::/32",  # AWS IPv6: IMDS fd00:ec2::254, Pod Identity ::23, DNS ::253, NTP ::123
    "fd20:ce::254/128",  # Google Cloud metadata on IPv6-only instances
    "fd00:c1::a9fe:a9fe/128",  # Oracle Cloud IMDS on IPv6
    "fd00:42::42/128",  # Scaleway metadata on IPv6
    "fd00:a9fe:a9fe::1/128",  # Akamai / Linode metadata on IPv6
    # "This host" and the unspecified address (a connect to 0.0.0.0 reaches the local host on
    # Linux), multicast, reserved 240/4 with broadcast, deprecated site-local IPv6, and
    # local-use NAT64 (its embedded IPv4 sits at a place the prefix length decides).
    "0.0.0.0/8",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "ff00::/8",
    "fec0::/10",
    "64:ff9b:1::/48",
)

_LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
_LOOPBACK_V6 = ipaddress.IPv6Address("::1")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressPolicy(enum.Enum):
    """Which addresses may be connected to, from the narrowest to the widest."""

    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"


class AddressError(Exception):
    """A URL that may not be used, with a message fit for clients (never the whole URL: query
    strings carry signed tokens). ``code``: ``invalid_url``, ``url_scheme``,
    ``private_address`` or ``connection`` (resolution failed; ``transient``)."""

    def __init__(self, code: str, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = transient


class RefusedAddress(InvalidIPAddress):
    """Raised from a request whose host resolved to an address the policy refuses. An
    ``InvalidIPAddress``, so that code catching requests-hardened's refusal catches it too."""

    def __init__(self, ip: IPAddress, policy: AddressPolicy) -> None:
        super().__init__(str(ip))
        self.ip = ip
        self.policy = policy
        self.always_forbidden = is_always_forbidden(ip)

    def message(self, host: str, *, what: str = "URL host") -> str:
        return private_address_message(
            host, what=what, policy=self.policy, always_forbidden=self.always_forbidden
        )


def address_policy(allow_private: bool | None = None) -> AddressPolicy:
    """The policy in force: ``allow_private`` when given (True: ``PRIVATE``, False:
    ``PUBLIC``), else ``MEDIA_FETCH_ALLOW_PRIVATE``, then ``MEDIA_FETCH_ALLOW_LOOPBACK``,
    read at call time."""
    if allow_private is not None:
        return AddressPolicy.PRIVATE if allow_private else AddressPolicy.PUBLIC
    if getattr(settings, "MEDIA_FETCH_ALLOW_PRIVATE", False):
        return AddressPolicy.PRIVATE
    if getattr(settings, "MEDIA_FETCH_ALLOW_LOOPBACK", False):
        return AddressPolicy.LOOPBACK
    return AddressPolicy.PUBLIC


def allow_private_addresses() -> bool:
    """``MEDIA_FETCH_ALLOW_PRIVATE``, read at call time."""
    return address_policy() is AddressPolicy.PRIVATE


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


# --- The classifier --------------------------------------------------------------------------


def _address(ip: IPAddress | str) -> IPAddress:
    if isinstance(ip, str):
        # A zone index (fe80::1%eth0) is dropped: the address alone decides.
        return ipaddress.ip_address(ip.strip("[]").split("%", 1)[0])
    return ip


def embedded_ipv4(ip: IPAddress | str) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, where a stack or a gateway may turn it into
    a connection to that IPv4 address: IPv4-mapped (``::ffff:a.b.c.d``), -compatible
    (``::a.b.c.d``), -translated (``::ffff:0:a.b.c.d``), NAT64 (``64:ff9b::a.b.c.d``),
    6to4 (``2002:AABB:CCDD::``) and Teredo (server and client)."""
    ip = _address(ip)
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    # ::1 is in ::/96 but is IPv6 loopback, not the IPv4-compatible form of 0.0.0.1.
    compatible = ip in _IPV4_COMPATIBLE and ip != _LOOPBACK_V6
    if compatible or ip in _IPV4_TRANSLATED or ip in _NAT64:
        found.append(low32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def _in_any(ip: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


def is_always_forbidden(ip: IPAddress | str) -> bool:
    """True for the addresses no setting allows (:data:`ALWAYS_FORBIDDEN`), in any of the
    IPv6 spellings that carry such an IPv4 address."""
    ip = _address(ip)
    return _in_any(ip, ALWAYS_FORBIDDEN) or any(
        _in_any(v4, ALWAYS_FORBIDDEN) for v4 in embedded_ipv4(ip)
    )


def is_public_address(ip: IPAddress | str) -> bool:
    """True only for globally routable unicast addresses.

    Refuses loopback, RFC 1918, link-local (incl. 169.254.169.254), CGNAT 100.64/10,
    multicast, reserved, unspecified, documentation and benchmark ranges, their IPv6
    equivalents (::1, fc00::/7, fe80::/10, fec0::/10), NAT64, 6to4, Teredo, IPv4-mapped
    addresses whose IPv4 address is one of those, and the always-forbidden addresses that are
    routable (Azure's 168.63.129.16).
    """
    ip = _address(ip)
    if is_always_forbidden(ip):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if ip.is_private or ip.is_loopback or ip.is_link_local:
        return False
    return not _in_any(ip, _EXTRA_REFUSED)


def _is_loopback(ip: IPAddress) -> bool:
    # ::ffff:127.0.0.1 is a socket to 127.0.0.1; NAT64 or 6to4 spellings of 127/8 are not
    # loopback (they leave the host) and are not let through by the loopback policy.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return ip in _LOOPBACK_V4
    return ip == _LOOPBACK_V6


def is_allowed_address(ip: IPAddress | str, policy: AddressPolicy) -> bool:
    """Whether ``policy`` lets a connection go to ``ip``."""
    ip = _address(ip)
    if is_always_forbidden(ip):
        return False
    if policy is AddressPolicy.PRIVATE:
        return True
    if policy is AddressPolicy.LOOPBACK and _is_loopback(ip):
        return True
    return is_public_address(ip)


def private_address_message(
    host: str,
    *,
    what: str = "URL host",
    policy: AddressPolicy = AddressPolicy.PUBLIC,
    always_forbidden: bool = False,
) -> str:
    if always_forbidden and policy is not AddressPolicy.PUBLIC:
        return (
            f"{what} {host} resolves to a link-local, cloud-metadata or reserved address; "
            "such private addresses are never allowed."
        )
    if policy is AddressPolicy.LOOPBACK:
        return (
            f"{what} {host} resolves to a private or reserved address; "
            "only public internet addresses and loopback are allowed."
        )
    return (
        f"{what} {host} resolves to a private, loopback or reserved address; "
        "only public internet addresses are allowed."
    )


# --- Accept time -----------------------------------------------------------------------------


def resolve_addresses(
    hostname: str, port: int, *, family: int = socket.AF_UNSPEC
) -> list[IPAddress]:
    """Every IPv4 and IPv6 address ``hostname`` resolves to (``socket.getaddrinfo``)."""
    infos = socket.getaddrinfo(hostname, port, family=family, type=socket.SOCK_STREAM)
    return [
        _address(str(info[4][0])) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)
    ]


def check_public_http_url(
    url: object,
    *,
    allow_private: bool | None = None,
    what: str = "URL",
    policy: AddressPolicy | None = None,
) -> None:
    """Check that ``url`` is http(s) and that its host resolves only to addresses the policy
    allows (default: :func:`address_policy`, from the settings). An accept-time check: a
    later connection must still go through ``mojito.pinning`` (the answer of the
    next DNS lookup may differ). Raises :class:`AddressError`.

    Under the public policy a host that does not resolve is refused (transient); under a
    wider one it is let through, as the connect-time check refuses what it resolves to then
    (tests and sandboxes name hosts that resolve nowhere and never get sent to)."""
    if policy is None:
        policy = address_policy(allow_private)
    hostname, port = parse_http_url(url, what=what)
    host = host_label(hostname)
    try:
        # An address literal is judged as written: its zone index (fe80::1%eth0) would make
        # the resolver fail on a host without that interface, and a wider policy lets an
        # unresolvable host through.
        addresses = [_address(hostname)]
    except ValueError:
        addresses = []
    try:
        addresses = addresses or resolve_addresses(hostname, port or 443)
    except (OSError, UnicodeError, ValueError):
        if policy is not AddressPolicy.PUBLIC:
            return
        raise AddressError(
            "connection", f"{what} host {host} could not be resolved.", transient=True
        ) from None
    if not addresses:
        if policy is not AddressPolicy.PUBLIC:
            return
        raise AddressError("connection", f"{what} host {host} has no address.", transient=True)
    for address in addresses:
        if not is_allowed_address(address, policy):
            raise AddressError(
                "private_address",
                RefusedAddress(address, policy).message(host, what=f"{what} host"),
            )
