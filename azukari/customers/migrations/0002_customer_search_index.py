"""The customer search index: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL.

Both index `customers_customer.search_text` and are kept in step by the database itself, so
bulk imports and raw updates are covered. On SQLite the FTS5 table is an external-content
table over the customers table, filled once here and then by triggers.
"""

from django.db import migrations

from azukari.core.migration_ops import RunSQLFor

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE customers_customer_fts USING fts5("
    "search_text, content='customers_customer', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER customers_customer_fts_insert AFTER INSERT ON customers_customer BEGIN "
    "INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); "
    "END",
    "CREATE TRIGGER customers_customer_fts_delete AFTER DELETE ON customers_customer BEGIN "
    "INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER customers_customer_fts_update AFTER UPDATE OF search_text "
    "ON customers_customer BEGIN "
    "INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); "
    "END",
    "INSERT INTO customers_customer_fts(customers_customer_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS customers_customer_fts_update",
    "DROP TRIGGER IF EXISTS customers_customer_fts_delete",
    "DROP TRIGGER IF EXISTS customers_customer_fts_insert",
    "DROP TABLE IF EXISTS customers_customer_fts",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_search_trgm "
    "ON customers_customer USING gin (search_text gin_trgm_ops)",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS customer_search_trgm"]


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        RunSQLFor("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
        RunSQLFor("postgresql", POSTGRES_FORWARD, POSTGRES_BACKWARD),
    ]
