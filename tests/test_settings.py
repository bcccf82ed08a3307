"""Settings refuse configurations that would be unsafe, at startup rather than at 3 a.m."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in env}
    return subprocess.run(
        [sys.executable, "-c", "import mojito.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_test_environment_itself_loads():
    assert load_settings().returncode == 0


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FERNET_KEYS"])
def test_production_without_its_secrets_refuses_to_start(missing):
    result = load_settings(DEBUG="false", **{missing: ""})
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_a_lease_shorter_than_one_meta_call_is_refused():
    # The sweeper would hand a live run's job to another run mid-request: a duplicate on Meta.
    result = load_settings(JOB_LEASE_SECONDS="40", META_REQUEST_TIMEOUT="30")
    assert result.returncode != 0
    assert "JOB_LEASE_SECONDS must exceed" in result.stderr


def test_an_unknown_execution_mode_is_refused():
    result = load_settings(META_EXECUTION_MODE="parallel")
    assert result.returncode != 0
    assert "META_EXECUTION_MODE" in result.stderr
