"""``python manage.py run_meta_sandbox`` starts, seeds and answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management.base import CommandError

from platforms.meta.management.commands.run_meta_sandbox import parse_token_spec

from .conftest import VERSION

ROOT = Path(__file__).resolve().parents[2]


def test_token_spec() -> None:
    assert parse_token_spec("tok:act_1,act_2") == ("tok", ["act_1", "act_2"])
    assert parse_token_spec("a:b:act_3") == ("a:b", ["act_3"])
    for bad in ("tok", "tok:", ":act_1", "tok:acct_x"):
        with pytest.raises(CommandError):
            parse_token_spec(bad)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_command_serves_the_demo_account_and_extra_tokens() -> None:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "manage.py",
            "run_meta_sandbox",
            "--port",
            str(port),
            "--seed-demo",
            "--token",
            "cmd-token:act_5,act_6",
            "--latency-ms",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{base}/__sandbox__/health", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("the sandbox command did not start") from None
                time.sleep(0.1)
        demo = requests.get(
            f"{base}/{VERSION}/act_100000000000001",
            params={
                "fields": "name,account_status,currency,timezone_name",
                "access_token": "sandbox-demo-token",
            },
            timeout=5,
        )
        assert demo.json() == {
            "name": "Sandbox Demo Account",
            "account_status": 1,
            "currency": "USD",
            "timezone_name": "America/Los_Angeles",
            "id": "act_100000000000001",
        }
        extra = requests.get(
            f"{base}/{VERSION}/act_6", params={"access_token": "cmd-token"}, timeout=5
        )
        assert extra.json() == {"id": "act_6"}
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert "listening on" in output
    assert "cmd-token" not in output  # tokens other than the public demo one are not printed
