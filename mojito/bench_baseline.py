"""Bench-only baseline endpoint: the cheapest authenticated DRF write the stack can serve.

`POST /bench/baseline` authenticates like the real API (DRF token, IsAuthenticated), parses
the JSON body with the API's parser and stores the raw body with one INSERT. bench/submit.py
compares `POST /api/v1/ads/meta` against it, served by the same gunicorn in the same run.

It is mounted only when the environment has `MOJITO_BENCH_BASELINE=1` (bench/submit.py sets
it for its own gunicorn); otherwise `urlpatterns` is empty and nothing is reachable. Its table
is not a model and has no migration: it is created with raw SQL at first use, in whatever
database the process points at (bench/submit.py uses a throw-away one). PostgreSQL only.
"""

from __future__ import annotations

import os
import threading

from django.db import connection, transaction
from django.urls import re_path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mojito.parsers import SafeJSONParser

ENABLED = os.environ.get("MOJITO_BENCH_BASELINE") == "1"

_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_baseline "
    "(id bigserial PRIMARY KEY, body jsonb, created_at timestamptz DEFAULT now())"
)
# Any constant: serialises concurrent CREATE TABLE IF NOT EXISTS across processes, which
# PostgreSQL does not do by itself (two creators can collide on the catalog's unique index).
_LOCK_KEY = 0x6D6F6A69746F
_table_ready = False
_table_lock = threading.Lock()


def _ensure_table() -> None:
    global _table_ready
    if _table_ready:
        return
    with _table_lock:
        if _table_ready:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            cursor.execute(_CREATE_TABLE)
        _table_ready = True


class BaselineView(APIView):
    """Authenticate, parse JSON, one INSERT of the raw body, answer 201 {"id": ...}."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [SafeJSONParser]

    @extend_schema(exclude=True)  # bench-only: never part of the published API
    def post(self, request: Request) -> Response:
        raw = request.body  # read first: Django keeps it, DRF then parses from the copy
        request.data  # noqa: B018 - parse like the real API (400 on bad JSON)
        _ensure_table()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_baseline (body) VALUES (%s::jsonb) RETURNING id",
                [raw.decode()],
            )
            (row_id,) = cursor.fetchone()
        return Response({"id": row_id}, status=status.HTTP_201_CREATED)


urlpatterns = (
    [re_path(r"^bench/baseline/?$", BaselineView.as_view(), name="bench-baseline")]
    if ENABLED
    else []
)
