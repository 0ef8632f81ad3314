"""Queries on the call path, compiled to SQL once and run many times with new values.

Django turns a queryset into SQL on every evaluation. For the screen pop that compiling costs
several times the indexed lookups themselves: a dozen small queries per call. A
`CompiledQuery` keeps the ORM as the only source of the SQL (so the visibility door, the
schema and the database's dialect all still apply) and compiles it once per shape: the values
change between runs, the SQL text does not.

The builder must depend on its arguments only (no `timezone.now()` inside): whatever else it
reads is frozen into the SQL at the first run.
"""

import copy
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import QuerySet

T = TypeVar("T")
ALIAS = "default"
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
    # How each column's value is read back: they depend on the fields and the database's
    # settings, not on a connection's state, so one set serves every thread.
    converters: dict


class CompiledQuery(Generic[T]):
    """`CompiledQuery(lambda client_id, number: Customer.objects.filter(...))(3, "+81...")`.

    Arguments are ints, strings, collections of ints (for `__in`; one compiled shape per
    length) or a viewer (passed on to `visible_to`). An empty collection, or a viewer that sees
    no client, matches nothing. The result is a list of what the queryset yields.
    """

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self.build = build
        self._shapes: dict[tuple, _Compiled] = {}

    def __call__(self, *args: Any) -> list[T]:
        values, shape = _flatten(args)
        if shape is None:
            return []
        key = (connections[ALIAS].vendor, shape)
        compiled = self._shapes.get(key)
        if compiled is None:
            compiled = self._shapes[key] = self._compile(args)
        bound = list(compiled.params)
        for position, index in compiled.slots:
            bound[position] = values[index]
        run = copy.copy(compiled.compiler)
        run.connection = connections[ALIAS]
        sql, params = compiled.sql, tuple(bound)
        run.as_sql = lambda *_args, **_kwargs: (sql, params)
        run.get_converters = lambda _expressions: compiled.converters
        queryset = compiled.queryset._chain()
        queryset.query.get_compiler = lambda *_args, **_kwargs: run
        return list(queryset)

    def first(self, *args: Any) -> T | None:
        """The first result, or None (the builder slices to one row itself if it wants to)."""
        return next(iter(self(*args)), None)

    def _compile(self, args: tuple) -> _Compiled:
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

        queryset = self.build(*[placeholder(arg) for arg in args]).using(ALIAS)
        compiler = queryset.query.get_compiler(using=ALIAS)
        sql, params = compiler.as_sql()
        slots = tuple(
            (position, marks.index(param))
            for position, param in enumerate(params)
            if type(param) in (int, str) and param in marks
        )
        missing = set(range(len(marks))) - {index for _, index in slots}
        if missing or any(str(m) in sql for m in marks):
            raise ValueError(f"{self.build!r}: every value must reach the SQL as a parameter")
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        return _Compiled(queryset, compiler, sql, tuple(params), slots, converters)


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
