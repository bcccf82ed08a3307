"""The canary hunt: a secret's forms (raw, hex, base64) searched in bytes, base64 runs decoded
(Celery message bodies are base64 JSON), and every key and value of a Redis database.

No Django here: the chaos runs (chaos/) scan a whole stack from outside it, and the
end-to-end harness (tests/e2e/harness.py) scans its own.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_\-]{16,}={0,2}")


def secret_forms(secret: str) -> list[bytes]:
    """The secret as bytes, and as it would look hex- or base64-encoded."""
    raw = secret.encode()
    return [
        raw,
        raw.hex().encode(),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
    ]


def _decoded_runs(data: bytes) -> Iterable[bytes]:
    """Base64 runs in `data`, decoded (Celery message bodies are base64 JSON)."""
    for match in _BASE64_RUN.finditer(data):
        run = match.group(0)
        for decoder in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                yield decoder(run + b"=" * (-len(run) % 4))
            except (binascii.Error, ValueError):
                continue


def find_leaks(secret: str, data: bytes | str, where: str) -> list[str]:
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    forms = secret_forms(secret)
    found = [f"{where}: {form[:12]!r}..." for form in forms if form in data]
    for decoded in _decoded_runs(data):
        if any(form in decoded for form in forms):
            found.append(f"{where}: inside a base64 run")
            break
    return found


def redis_values(client: Any) -> Iterable[tuple[str, bytes]]:
    """Every key of a Redis database with its value(s) and its DUMP, as bytes."""
    for key in client.scan_iter(count=500):
        kind = client.type(key).decode()
        parts: list[bytes] = [key]
        if kind == "string":
            parts.append(client.get(key) or b"")
        elif kind == "list":
            parts += client.lrange(key, 0, -1)
        elif kind == "hash":
            for k, v in client.hgetall(key).items():
                parts += [k, v]
        elif kind == "set":
            parts += list(client.smembers(key))
        elif kind == "zset":
            parts += [m for m, _ in client.zrange(key, 0, -1, withscores=True)]
        dump = client.dump(key)
        if dump:
            parts.append(dump)
        yield key.decode("utf-8", "replace"), b"\n".join(parts)
