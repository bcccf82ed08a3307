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


@pytest.mark.skipif(
    bool(os.environ.get("META_API_VERSION")), reason="META_API_VERSION is set for this run"
)
def test_the_api_version_defaults_to_the_pinned_sdks_major():
    from importlib.metadata import version

    from django.conf import settings

    from platforms.meta.rules.versions import RULES_API_VERSION

    major = version("facebook-business").split(".")[0]
    configured = settings.META_API_VERSION
    assert configured == f"v{major}.0"
    # Moving the SDK to another major means reviewing Meta's changelog for it first
    # (platforms/meta/README.md, "Moving to the next API version").
    assert configured == RULES_API_VERSION


def test_an_empty_api_version_means_the_default():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(settings.META_API_VERSION)",
        ],
        cwd=ROOT,
        env={**os.environ, "META_API_VERSION": "", "DJANGO_SETTINGS_MODULE": "mojito.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "v26.0"


@pytest.mark.parametrize("value", ["26", "v26", "26.0", "latest"])
def test_an_api_version_that_is_no_version_is_refused(value):
    result = load_settings(META_API_VERSION=value)
    assert result.returncode != 0
    assert "META_API_VERSION must look like v26.0" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [("v24.0", ["meta.E001"]), ("v25.0", []), ("v26.0", []), ("v27.0", ["meta.W001"])],
)
def test_the_api_version_is_one_meta_serves_and_mojito_knows(settings, value, expected):
    from platforms.meta.checks import check_api_version

    settings.META_API_VERSION = value
    assert [message.id for message in check_api_version()] == expected


def test_every_process_logs_the_api_version_it_uses():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "INFO"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    from django.conf import settings

    assert f"Meta Graph API {settings.META_API_VERSION} at " in result.stdout + result.stderr
