"""Telling SQLite's planner which index serves a newest-first page.

Without statistics, and even with them, SQLite prefers an index that matches more equality
filters (client and state) and then sorts every match, when walking an index already in the
page's order would stop after a page of rows. PostgreSQL weighs the LIMIT and needs no hint.
"""

from django.db import connection
from django.db.models import QuerySet


def ids_in_index_order(queryset: QuerySet, *, index: str, limit: int) -> list[int]:
    """The primary keys of the first `limit` rows of an ordered queryset, read through
    `index` on SQLite (INDEXED BY) and through the planner's choice elsewhere."""
    page = queryset.values_list("pk", flat=True)[:limit]
    if connection.vendor != "sqlite":
        return list(page)
    sql, params = page.query.sql_with_params()
    table = f"FROM {connection.ops.quote_name(queryset.model._meta.db_table)}"
    if table not in sql:  # not a plain read of the table: leave it to the planner
        return list(page)
    hinted = sql.replace(table, f"{table} INDEXED BY {connection.ops.quote_name(index)}", 1)
    with connection.cursor() as cursor:
        cursor.execute(hinted, params)
        return [row[0] for row in cursor.fetchall()]
