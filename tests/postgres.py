"""A plain psycopg connection to the test database, outside Django's connection handling: for
a test that needs a second session (to hold a lock, or to end the first session's backend)."""

from __future__ import annotations

import psycopg
from django.db import connection


def plain_connection() -> psycopg.Connection:
    """An autocommit connection of this process to the database Django's is on."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
        host=s.get("HOST") or "127.0.0.1",
        port=s.get("PORT") or 5432,
        autocommit=True,
    )
