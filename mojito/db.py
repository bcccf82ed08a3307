"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.sql import InsertQuery

# Rows to insert, table by table: [(model, [unsaved instances]), ...].
Rows = Sequence[tuple[type[Model], Sequence[Model]]]


def _insert_sql(model: type[Model], objs: Sequence[Model], using: str) -> tuple[str, list[Any]]:
    """The INSERT `bulk_create(objs)` sends, compiled by Django's own compiler but not sent.

    Django's compiler fills auto_now fields and prepares every value as `bulk_create` does. It
    is asked for no RETURNING: every object already has its primary key (a UUID made in
    Python, or the key of the row it details).
    """
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    [(sql, params)] = query.get_compiler(using=using).as_sql()
    return sql, list(params)


def insert_rows(tables: Rows, using: str = DEFAULT_DB_ALIAS) -> None:
    """INSERT the objects of every table (each object with its primary key already set);
    tables without rows are skipped. Run it in a transaction: elsewhere than on PostgreSQL
    it is one `bulk_create` per table.
    """
    tables = [(model, objs) for model, objs in tables if objs]
    if not tables:
        return
    if connections[using].vendor != "postgresql":
        for model, objs in tables:
            model._default_manager.using(using).bulk_create(objs)
        return
    # One statement instead of one per table: each INSERT costs a round trip, and PostgreSQL
    # parses, plans and commits less. Foreign keys are DEFERRABLE INITIALLY DEFERRED, checked
    # at COMMIT, so the order of the CTEs does not matter to them.
    statements = [_insert_sql(model, objs, using) for model, objs in tables]
    *ctes, (last_sql, _) = statements
    sql = "".join(
        [
            "WITH " if ctes else "",
            ", ".join(f"rows_{index} AS ({cte_sql})" for index, (cte_sql, _) in enumerate(ctes)),
            " " if ctes else "",
            last_sql,
        ]
    )
    params = [param for _, statement_params in statements for param in statement_params]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
    for _, objs in tables:
        for obj in objs:
            # What bulk_create does after its INSERT: the objects now stand for stored rows.
            obj._state.adding = False
            obj._state.db = using
