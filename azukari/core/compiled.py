"""Queries on the call path, compiled to SQL once and run many times with new values.

Django turns a queryset into SQL on every evaluation. For the screen pop that compiling costs
several times the indexed lookups themselves: a dozen small queries per call. A
`CompiledQuery` keeps the ORM as the only source of the SQL (so the visibility door, the
schema and the database's dialect all still apply) and compiles it once per shape: the values
change between runs, the SQL text does not.

The builder must depend on its arguments only (no `timezone.now()` inside): whatever else it
reads is frozen into the SQL at the first run.

Values reach the SQL only through `exact` and `in` lookups, checked when the query is compiled:
those are the lookups whose parameter is the value itself, so binding a new value is what
Django would do (an `iexact` or `contains` parameter is the value escaped for LIKE, which a
bound value would skip). Each value is prepared by its field, as Django prepares it; a value
outside the column's integer range, which Django answers as "no match" by rewriting the WHERE
clause, runs the plain queryset instead. The database is the router's choice for reads.

`sqlite_index` names the index SQLite must read the table through (`INDEXED BY`): without
statistics its planner picks among indexes that match as many equality terms by their order,
and the visibility door's `client_id IN (...)` can make it walk every open case of a client
instead of the few of one customer. PostgreSQL weighs its statistics and gets no hint.
"""

import copy
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Field, QuerySet
from django.db.models.lookups import Lookup
from django.db.models.sql.query import Query
from django.db.models.sql.where import WhereNode

T = TypeVar("T")
BINDABLE_LOOKUPS = frozenset({"exact", "in"})
_INT_MARK = -7_340_000_000_000
_STR_MARK = "\x1fcompiled-value-{}\x1f"


@dataclass(frozen=True)
class _IdsViewer:
    """Stands in for a viewer while compiling: its clients are placeholders."""

    ids: tuple[int, ...]

    def visible_client_ids(self) -> frozenset[int]:
        return frozenset(self.ids)


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet
    compiler: Any
    sql: str
    params: tuple
    slots: tuple[tuple[int, int], ...]  # (position in params, position in the flat values)
    fields: tuple[Field, ...]  # the field each flat value is compared with
    # Whether each flat value must match for any row to: an exact lookup reached through
    # AND only, so a value no column can hold means no rows at all.
    required: tuple[bool, ...]
    # For an integer column, the range of values it can hold (an int needs no other
    # preparation); None for others, whose values the field prepares.
    bounds: tuple[tuple[int | None, int | None] | None, ...]
    # How each column's value is read back: they depend on the fields and the database's
    # settings, not on a connection's state, so one set serves every thread.
    converters: dict


class CompiledQuery(Generic[T]):
    """`CompiledQuery(lambda client_id, number: Customer.objects.filter(...))(3, "+81...")`.

    Arguments are ints, strings, collections of ints (for `__in`; one compiled shape per
    length) or a viewer (passed on to `visible_to`). An empty collection, or a viewer that sees
    no client, matches nothing. The result is a list of what the queryset yields.
    """

    def __init__(self, build: Callable[..., QuerySet], *, sqlite_index: str = "") -> None:
        self.build = build
        self.sqlite_index = sqlite_index
        self._shapes: dict[tuple, _Compiled] = {}
        self._model: type | None = None

    def __call__(self, *args: Any) -> list[T]:
        values, shape = _flatten(args)
        if shape is None:
            return []
        alias = router.db_for_read(self._model) if self._model else DEFAULT_DB_ALIAS
        key = (alias, connections[alias].vendor, shape)
        compiled = self._shapes.get(key)
        if compiled is None:
            compiled = self._shapes[key] = self._compile(args, alias)
        connection = connections[alias]
        prepared = values
        for i, value in enumerate(values):
            bounds = compiled.bounds[i]
            if bounds is None or type(value) is not int:
                if prepared is values:
                    prepared = list(values)
                value = prepared[i] = compiled.fields[i].get_db_prep_value(
                    value, connection, prepared=False
                )
                if type(value) is not int or bounds is None:
                    continue
            low, high = bounds
            if (low is not None and value < low) or (high is not None and value > high):
                # No row holds it: nothing matches when it had to; otherwise the plain
                # queryset answers, without the ids no driver can even send.
                if compiled.required[i]:
                    return []
                return list(self.build(*_without_out_of_range(args)).using(alias))
        bound = list(compiled.params)
        for position, index in compiled.slots:
            bound[position] = prepared[index]
        run = copy.copy(compiled.compiler)
        run.connection = connection
        sql, params = compiled.sql, tuple(bound)
        run.as_sql = lambda *_args, **_kwargs: (sql, params)
        run.get_converters = lambda _expressions: compiled.converters
        queryset = compiled.queryset._chain()
        queryset.query.get_compiler = lambda *_args, **_kwargs: run
        return list(queryset)

    def first(self, *args: Any) -> T | None:
        """The first result, or None (the builder slices to one row itself if it wants to)."""
        return next(iter(self(*args)), None)

    def _compile(self, args: tuple, alias: str) -> _Compiled:
        counter = itertools.count()
        marks: list[Any] = []

        def mark(value: Any) -> Any:
            n = next(counter)
            token: Any = _INT_MARK - n if isinstance(value, int) else _STR_MARK.format(n)
            marks.append(token)
            return token

        def placeholder(arg: Any) -> Any:
            if _is_viewer(arg):
                return _IdsViewer(tuple(mark(0) for _ in arg.visible_client_ids()))
            if isinstance(arg, int | str):
                return mark(arg)
            return [mark(0) for _ in arg]

        queryset = self.build(*[placeholder(arg) for arg in args])
        if self._model is None:
            self._model = queryset.model
            alias = router.db_for_read(queryset.model)
        queryset = queryset.using(alias)
        fields, required = _bound_fields(self.build, queryset.query.where, marks)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        connection = connections[alias]
        if self.sqlite_index and connection.vendor == "sqlite":
            sql = _indexed_by(sql, queryset.model._meta.db_table, self.sqlite_index, connection)
        slots = tuple(
            (position, marks.index(param))
            for position, param in enumerate(params)
            if type(param) in (int, str) and param in marks
        )
        missing = set(range(len(marks))) - {index for _, index in slots}
        if missing or any(str(m) in sql for m in marks):
            raise ValueError(f"{self.build!r}: every value must reach the SQL as a parameter")
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        bounds = tuple(_integer_range(field, connection) for field in fields)
        return _Compiled(
            queryset, compiler, sql, tuple(params), slots, fields, required, bounds, converters
        )


def _bound_fields(
    build: Callable, where: WhereNode, marks: list[Any]
) -> tuple[tuple[Field, ...], tuple[bool, ...]]:
    """The field each placeholder is compared with, and whether it must match for any row to;
    refuses a placeholder in any lookup but `exact` and `in`, whose parameters would not be the
    bare value."""
    fields: dict[int, Field] = {}
    required: dict[int, bool] = {}

    def visit(node: Any, conjunctive: bool) -> None:
        if isinstance(node, WhereNode):
            inner = conjunctive and node.connector == "AND" and not node.negated
            for child in node.children:
                visit(child, inner)
            return
        if isinstance(node, Query):  # a subquery: `pk__in=<queryset>`
            visit(node.where, conjunctive)
            return
        if not isinstance(node, Lookup):
            return
        if isinstance(node.rhs, Query):
            visit(node.rhs, conjunctive and node.lookup_name == "in")
            return
        rhs = node.rhs if isinstance(node.rhs, list | tuple | set) else [node.rhs]
        found = [marks.index(v) for v in rhs if type(v) in (int, str) and v in marks]
        if not found:
            return
        if node.lookup_name not in BINDABLE_LOOKUPS:
            raise ValueError(
                f"{build!r}: a value can only be bound through exact or in lookups, "
                f"not {node.lookup_name}"
            )
        field = node.lhs.output_field
        for index in found:
            fields[index] = field
            required[index] = conjunctive and node.lookup_name == "exact"

    visit(where, True)
    missing = set(range(len(marks))) - set(fields)
    if missing:
        raise ValueError(
            f"{build!r}: every value must reach the SQL as a parameter of an exact or in lookup"
        )
    order = range(len(marks))
    return tuple(fields[i] for i in order), tuple(required[i] for i in order)


def _indexed_by(sql: str, table: str, index: str, connection: Any) -> str:
    """The SQL reading its own table through `index` (the first FROM is the table's)."""
    quote = connection.ops.quote_name
    source = f"FROM {quote(table)}"
    if source not in sql:
        raise ValueError(f"{table}: no plain FROM to give the index {index} to")
    return sql.replace(source, f"{source} INDEXED BY {quote(index)}", 1)


def _without_out_of_range(args: tuple) -> list[Any]:
    """Lists of ids without those beyond 64 bits, which the drivers cannot even send."""
    return [
        arg
        if _is_viewer(arg) or isinstance(arg, int | str)
        else [v for v in arg if not isinstance(v, int) or -(2**63) <= v < 2**63]
        for arg in args
    ]


def _integer_range(field: Field, connection: Any) -> tuple[int | None, int | None] | None:
    """The values an integer column can hold, or None for another kind of column."""
    while field.is_relation:  # a foreign key holds its target's values
        field = field.target_field
    try:
        return connection.ops.integer_field_range(field.get_internal_type())
    except KeyError:  # not an integer column: the field prepares its values
        return None


def _is_viewer(arg: Any) -> bool:
    return hasattr(arg, "visible_client_ids")


def _flatten(args: Iterable[Any]) -> tuple[list[Any], tuple | None]:
    """The values in parameter order, and the shape (None when nothing can match)."""
    values: list[Any] = []
    shape: list[Any] = []
    for arg in args:
        if _is_viewer(arg):
            items: list[Any] = sorted(arg.visible_client_ids())
        elif isinstance(arg, int | str):
            values.append(arg)
            shape.append(type(arg).__name__)
            continue
        else:
            items = sorted(arg)
        if not items:
            return values, None
        values.extend(items)
        shape.append(len(items))
    return values, tuple(shape)
