"""The database refuses UPDATE and DELETE of audit events, whoever asks: a raw SQL statement
or another program, not only the ORM (which refuses them itself). Row-level, so a statement
that touches no event (a cascade elsewhere) is never refused. TRUNCATE is left to the table's
owner (a test database's flush uses it)."""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_refuse_change()",
]
# SQLite (bin/run's embedded default): one trigger per statement kind.
SQLITE = [
    f"""
    CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {verb} refused'); END
    """
    for verb in ("UPDATE", "DELETE")
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS audit_events_no_{verb}" for verb in ("update", "delete")
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            # No parameters: the SQL's own % (PL/pgSQL's placeholder) is not one of the driver's.
            schema_editor.execute(sql, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
