"""On PostgreSQL, refuse UPDATE and DELETE on ledger rows at the database itself, whoever connects.

TRUNCATE is left to the database owner (test databases are emptied that way); row-level edits, the way a
tampering insider or a bug would change history, are refused. On SQLite the chain verification is the guard.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION governance_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'governance_governanceevent is append-only: % refused on ledger row %', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER governance_event_append_only
    BEFORE UPDATE OR DELETE ON governance_governanceevent
    FOR EACH ROW EXECUTE FUNCTION governance_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS governance_event_append_only ON governance_governanceevent;
DROP FUNCTION IF EXISTS governance_event_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_initial_data")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
