"""Full-text index of organizations: an FTS5 table on SQLite, a GIN expression index on PostgreSQL.

The SQL is written out here (not imported) so this migration keeps meaning the same thing later.
"""

from django.db import migrations

SQLITE_UP = ["CREATE VIRTUAL TABLE IF NOT EXISTS registry_org_fts USING fts5(tokens, tokenize='unicode61')"]
SQLITE_DOWN = ["DROP TABLE IF EXISTS registry_org_fts"]
PG_UP = [
    "CREATE INDEX IF NOT EXISTS registry_org_search_gin ON registry_organization USING gin "
    "((to_tsvector('simple'::regconfig, COALESCE(search_text, ''))))"
]
PG_DOWN = ["DROP INDEX IF EXISTS registry_org_search_gin"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        )
    ]
