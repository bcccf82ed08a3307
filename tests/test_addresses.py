"""mojito.addresses: link-local and cloud-metadata addresses stay out of reach whatever
MEDIA_FETCH_ALLOW_PRIVATE says, and MEDIA_FETCH_ALLOW_LOOPBACK allows loopback and nothing else.

The classifier is tried on a table of addresses in their IPv4 and IPv6 spellings, and the
accept-time check on URLs that spell the metadata address. Downloads, webhooks and callbacks
(connect time, rebinding): tests/test_address_fetches.py.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

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
from tests.network import refuse_remote_connects

PUBLIC, LOOPBACK, PRIVATE = AddressPolicy.PUBLIC, AddressPolicy.LOOPBACK, AddressPolicy.PRIVATE

guard = pytest.fixture(name="guard")(refuse_remote_connects)


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
    ("93.184.216.34", True, True, True),
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
