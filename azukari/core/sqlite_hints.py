"""Telling SQLite's planner which index serves a newest-first page.

Without statistics, and even with them, SQLite prefers an index that matches more equality
filters (client and state) and then sorts every match, when walking an index already in the
page's order would stop after a page of rows. PostgreSQL weighs the LIMIT and needs no hint.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet


def hinted_sql(queryset: QuerySet, *, index: str) -> tuple[str, tuple]:
    """The SQL and parameters of a queryset, reading its table through `index` on SQLite
    (INDEXED BY); unchanged elsewhere, or when it is not a plain read of the table."""
    sql, params = queryset.query.sql_with_params()
    table = f"FROM {connection.ops.quote_name(queryset.model._meta.db_table)}"
    if connection.vendor != "sqlite" or table not in sql:
        return sql, params
    return sql.replace(table, f"{table} INDEXED BY {connection.ops.quote_name(index)}", 1), params


def ids_in_index_order(queryset: QuerySet, *, index: str, limit: int) -> list[int]:
    """The primary keys of the first `limit` rows of an ordered queryset, read through
    `index` on SQLite (INDEXED BY) and through the planner's choice elsewhere."""
    page = queryset.values_list("pk", flat=True)[:limit]
    if connection.vendor != "sqlite":
        return list(page)
    try:
        sql, params = hinted_sql(page, index=index)
    except EmptyResultSet:  # e.g. a viewer who sees no client
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
