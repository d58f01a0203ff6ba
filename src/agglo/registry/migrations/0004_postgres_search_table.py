"""PostgreSQL keeps each organization's tsvector in its own table, like SQLite's FTS5 table.

An expression index over to_tsvector(search_text) made PostgreSQL re-tokenize every candidate row to recheck
prefix matches and again to rank them; a stored tsvector is read instead. SQL written out here on purpose.
"""

from django.db import migrations

PG_UP = [
    "DROP INDEX IF EXISTS registry_org_search_gin",
    "CREATE TABLE IF NOT EXISTS registry_org_tsv ("
    # No foreign key: Django's test flush truncates registry_organization alone. Rows of deleted organizations
    # are removed by search_index.clear()/rebuild(); a stray one matches no organization and is ignored.
    " org_id bigint PRIMARY KEY,"
    " vector tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS registry_org_tsv_gin ON registry_org_tsv USING gin (vector)",
    "INSERT INTO registry_org_tsv (org_id, vector) SELECT id, to_tsvector('simple'::regconfig, search_text) "
    "FROM registry_organization ON CONFLICT (org_id) DO NOTHING",
]
PG_DOWN = [
    "DROP TABLE IF EXISTS registry_org_tsv",
    "CREATE INDEX IF NOT EXISTS registry_org_search_gin ON registry_organization USING gin "
    "((to_tsvector('simple'::regconfig, COALESCE(search_text, ''))))",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_directory_facets")]

    operations = [migrations.RunPython(_run(PG_UP), _run(PG_DOWN))]
