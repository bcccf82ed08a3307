"""Connect-time half of the address rules (``mojito.addresses``): resolve, check, pin.

:class:`PinnedAddressAdapter` resolves a request's host once, when the connection pool is
chosen, refuses the answer unless the policy allows every address in it, and *pins* the
connection to the address it checked, keeping the ``Host`` header, TLS SNI and the
certificate's hostname of the URL (as requests-hardened's ``IPFilterAdapter`` does). So the
address checked is the address connected to: a name that answers a public address to the
accept-time check and a metadata address now (DNS rebinding) gets nowhere. Every policy pins,
the widest (``MEDIA_FETCH_ALLOW_PRIVATE``) included, so that the always-forbidden addresses
stay out of reach whatever the settings.
"""

from __future__ import annotations

import socket

from requests import ConnectionError as RequestsConnectionError
from requests import ConnectTimeout
from requests.adapters import HTTPAdapter
from requests.exceptions import InvalidURL
from requests.structures import CaseInsensitiveDict
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.util.connection import allowed_gai_family

from mojito.addresses import (
    AddressPolicy,
    IPAddress,
    RefusedAddress,
    address_policy,
    is_allowed_address,
    resolve_addresses,
)

__all__ = ["PinnedAddressAdapter", "PublicOnlyAdapter", "adapter_for", "resolve_pinned"]


def resolve_pinned(hostname: str, port: int, policy: AddressPolicy) -> IPAddress:
    """Resolve ``hostname`` once and return the address to connect to, or raise
    :class:`RefusedAddress` if any answer is not allowed (a name whose answers mix allowed
    and refused addresses is refused whichever one would be pinned)."""
    hostname = hostname.strip("[]")
    try:
        addresses = resolve_addresses(hostname, port, family=allowed_gai_family())
    except socket.gaierror as exc:
        raise RequestsConnectionError("Failed to resolve domain") from exc
    except TimeoutError as exc:
        raise ConnectTimeout("Failed to connect to host") from exc
    if not addresses:
        raise RequestsConnectionError("Failed to resolve domain")
    for address in addresses:
        if not is_allowed_address(address, policy):
            raise RefusedAddress(address, policy)
    # An IPv4 answer first: a server on "localhost" listens on 127.0.0.1 more often than on
    # ::1, and the pinned connection gets one address only (no fallback to the next answer).
    return next((a for a in addresses if a.version == 4), addresses[0])


class PinnedAddressAdapter(IPFilterAdapter):
    """Resolve, check under ``policy``, pin: requests-hardened's ``IPFilterAdapter`` with
    mojito's classifier instead of the library's filter (which can allow loopback only, and
    lets through e.g. ``::127.0.0.1``, ``::ffff:0:7f00:1`` and ``fec0::/10``). Subclassed
    for the rest of the library's adapter (it refuses the deprecated ``get_connection``,
    which would skip the check). A refused address raises :class:`RefusedAddress` (an
    ``InvalidIPAddress``) from the request."""

    def __init__(self, *, is_https: bool, policy: AddressPolicy = AddressPolicy.PUBLIC) -> None:
        super().__init__(is_https_proto=is_https, allow_loopback=False)
        self.policy = policy

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # type: ignore[override]
        # HTTPAdapter's, not IPFilterAdapter's: the library's filter would run first and
        # refuse every private address, whatever the policy.
        host_params, pool_kwargs = HTTPAdapter.build_connection_pool_key_attributes(
            self, request, verify, cert
        )
        # A copy: the headers may be shared with later requests.
        request.headers = CaseInsensitiveDict(request.headers or {})
        hostname = str(host_params["host"] or "").strip("[]")
        if not hostname:
            raise InvalidURL("Invalid URL: missing hostname")
        port = host_params["port"]
        host_header = f"[{hostname}]" if ":" in hostname else hostname
        if port is not None:
            host_header += f":{port}"
        request.headers["Host"] = host_header
        if self._is_https_proto:
            # The certificate and SNI name the URL's host, not the pinned address.
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        default_port = 443 if self._is_https_proto else 80
        pinned = resolve_pinned(hostname, port or default_port, self.policy)
        host_params["host"] = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        return host_params, pool_kwargs


class PublicOnlyAdapter(PinnedAddressAdapter):
    """The public policy's adapter."""

    def __init__(self, *, is_https: bool) -> None:
        super().__init__(is_https=is_https, policy=AddressPolicy.PUBLIC)


def adapter_for(
    scheme: str, *, allow_private: bool | None = None, policy: AddressPolicy | None = None
) -> HTTPAdapter:
    """The adapter to mount for ``scheme://`` under ``policy`` (default: the settings'). Every
    policy pins, so that the always-forbidden addresses stay out of reach through rebinding."""
    if policy is None:
        policy = address_policy(allow_private)
    return PinnedAddressAdapter(is_https=scheme == "https", policy=policy)
