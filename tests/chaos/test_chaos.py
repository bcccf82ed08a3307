"""Each chaos script's short variant passes: tens of jobs under its fault, every promise kept
(every accepted job final, nothing twice on the sandbox, nothing unrecorded, nothing for a
refused or cancelled job, no team's token on another's account, the canary nowhere).

The scripts check and print their own figures; a failure here shows what they printed.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = [
    "worker_kill",
    "sandbox_faults",
    "worker_pause",
    "postgres_restart",
    "redis_outage",
    "token_death",
]


def _missing_servers() -> list[str]:
    missing = []
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") and not shutil.which("initdb"):
        missing.append("initdb")
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    return missing


@pytest.mark.parametrize("script", SCRIPTS)
def test_short_chaos_run_keeps_every_promise(script: str) -> None:
    if missing := _missing_servers():
        pytest.skip(f"needs the PostgreSQL and Redis server binaries: {missing} not found")
    result = subprocess.run(  # noqa: S603 (this repository's own script)
        [sys.executable, "-m", f"chaos.{script}", "--short", "--seed", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + "\n" + result.stderr[-5000:]
    assert result.returncode == 0, output
    assert "== OK" in result.stdout, output


def test_the_checks_catch_a_planted_duplicate_orphan_cross_team_call_and_leak() -> None:
    if missing := _missing_servers():
        pytest.skip(f"needs the PostgreSQL and Redis server binaries: {missing} not found")
    result = subprocess.run(
        [sys.executable, "-m", "chaos.worker_kill", "--short", "--jobs", "8", "--sabotage"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + "\n" + result.stderr[-5000:]
    assert result.returncode == 1, output
    for kind in ("duplicates", "orphans", "cross_team", "leaks"):
        assert f"VIOLATION {kind}:" in result.stdout, output
    assert "log planted.log" in result.stdout, output
