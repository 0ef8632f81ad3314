"""Building secondary indexes once, after a bulk load, instead of row by row during it.

Inserting millions of rows into tables whose indexes are keyed at random (customer, handler,
state) spends most of its time updating those indexes; building an index from the finished
table is a sort. Only for a database nobody else uses meanwhile: queries run slowly, and
uniqueness is checked at the end instead of on each row.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, models

SQLITE_BULK_PRAGMAS = ("PRAGMA synchronous = OFF", "PRAGMA cache_size = -262144")


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of each index that no constraint owns."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) ORDER BY name",
                tables,
            )
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = ANY(%s) AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint) ORDER BY indexname",
                [tables],
            )
        return list(cursor.fetchall())


@contextmanager
def indexes_deferred(model_list: Iterable[type[models.Model]]) -> Iterator[None]:
    """Drops the models' secondary indexes for the block and builds them again after it,
    also when the block fails, so the schema is never left without them."""
    tables = [m._meta.db_table for m in model_list]
    indexes = _secondary_indexes(tables)
    q = connection.ops.quote_name
    # SQLite refuses to change durability inside a transaction (as in the tests).
    tune = connection.vendor == "sqlite" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        if tune:
            for pragma in SQLITE_BULK_PRAGMAS:
                cursor.execute(pragma)
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {q(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # checks deferred foreign keys first
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for _name, sql in indexes:
                cursor.execute(sql)
            if tune:
                cursor.execute("PRAGMA synchronous = NORMAL")
            elif connection.vendor == "postgresql" and not connection.in_atomic_block:
                # As autovacuum leaves a live database: statistics, and the visibility map
                # that lets a count read an index alone.
                cursor.execute("VACUUM (ANALYZE)")
            elif connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
