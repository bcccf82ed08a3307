"""Test stand-ins for the network: a guard that refuses (and records) every connect that is not
to loopback, and a resolver stand-in that makes one name answer what a test says (patched
``socket.getaddrinfo``, the one part of a fetch that cannot be real here).

A test module makes the guard a fixture of its own:
``guard = pytest.fixture(name="guard")(refuse_remote_connects)``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest


def refuse_remote_connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
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
