"""The chaos runs' short variants (chaos/): each a subprocess that starts a stack of its own
(PostgreSQL, Redis, gunicorn, workers, beat, the Meta sandbox) on free loopback ports."""

from __future__ import annotations

from pathlib import Path

import pytest

CHAOS_DIR = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "chaos: short fault-injection runs of chaos/ (a whole private stack each; -m chaos)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if CHAOS_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.chaos)
