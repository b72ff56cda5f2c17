"""The hot statements on SQLite's own connection.

Issuing, calling and completing run a handful of small prebuilt Core
statements per ticket (statements.py).  Executing such a statement through
SQLAlchemy (its compiled-cache lookup, parameter construction, execution
context and result object) costs about 15 µs on an office PC, more than
SQLite takes to run it.  :func:`execute` runs them on SQLite with the SQL
SQLAlchemy compiled for them, on the connection and in the transaction of the
caller's session, and converts parameters and results with the bind and
result processors of their own column types: values are stored and read back
exactly as through SQLAlchemy (tests/counter_server/test_direct.py compares
both ways statement by statement).  Errors are SQLAlchemy's (IntegrityError,
OperationalError...), so callers retry and report as before.

On PostgreSQL, and for any statement this cannot plan, it is plain
``conn.execute``.
"""
from __future__ import annotations

import collections
import sqlite3
from typing import Any, Iterator, Sequence

from sqlalchemy import exc
from sqlalchemy.sql.dml import Insert


class Result:
    """The part of SQLAlchemy's ``Result`` the hot paths use."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise (exc.NoResultFound if not self._rows else exc.MultipleResultsFound)(
                "expected one row")
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def all(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _Plan:
    """A statement compiled for SQLite: its SQL, where each positional
    parameter comes from (a key of the caller's parameters or the statement's
    own literal) with its bind processor, and its result columns' processors
    and row type."""

    __slots__ = ("stmt", "sql", "binds", "row", "procs")

    def __init__(self, stmt: Any, dialect: Any, keys: Sequence[str] | None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=keys)
        if compiled.positiontup is None:
            raise ValueError("not positional")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("Python-side defaults: SQLAlchemy computes them")
        self.stmt, self.sql = stmt, compiled.string
        self.binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self.binds.append((bind.key, bind, proc))
        cols = list(getattr(stmt, "exported_columns", ()))
        names = [str(c.key) for c in cols]
        if len(set(names)) != len(names):
            raise ValueError("duplicate result names")
        self.procs = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in cols]
        self.row = _row_type(tuple(names)) if names else None

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for key, bind, proc in self.binds:
            if key in params:
                value = params[key]
            elif bind.required:
                raise exc.InvalidRequestError(f"A value is required for bind parameter {key!r}")
            else:
                value = bind.effective_value
            out.append(proc(value) if proc is not None else value)
        return tuple(out)

    def rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        row, procs = self.row, self.procs
        if row is None:
            return []
        if not any(procs):
            return [row._make(r) for r in raw]
        return [row._make([v if p is None else p(v) for p, v in zip(procs, r)]) for r in raw]


_row_types: dict[tuple[str, ...], type] = {}


def _row_type(names: tuple[str, ...]) -> type:
    """A named tuple with ``_mapping`` (what the engine reads of SQLAlchemy's rows)."""
    cls = _row_types.get(names)
    if cls is None:
        base = collections.namedtuple("Row", names, rename=True)  # type: ignore[misc]
        cls = _row_types[names] = type("Row", (base,), {
            "__slots__": (), "_mapping": property(lambda self: self._asdict())})
    return cls


_plans: dict[tuple[int, tuple[str, ...] | None], _Plan | None] = {}


def _plan(stmt: Any, dialect: Any, params: dict[str, Any]) -> _Plan | None:
    keys = tuple(sorted(params)) if isinstance(stmt, Insert) else None
    key = (id(stmt), keys)
    plan = _plans.get(key)
    if plan is None or plan.stmt is not stmt:
        try:
            plan = _Plan(stmt, dialect, keys)
        except (ValueError, KeyError, AttributeError, exc.SQLAlchemyError):
            plan = None  # SQLAlchemy runs it
        if len(_plans) > 4096:
            _plans.clear()
        _plans[key] = plan
    return plan


def execute(conn: Any, stmt: Any, params: dict[str, Any] | list[dict[str, Any]] | None = None
            ) -> Any:
    """``conn.execute(stmt, params)``, run straight on SQLite's connection
    when ``conn`` is SQLite's (a list of parameter sets: executemany, no rows)."""
    many = isinstance(params, list)
    if conn.dialect.name != "sqlite" or (many and not params):
        return conn.execute(stmt, params)
    plan = _plan(stmt, conn.dialect, params[0] if many else (params or {}))
    if plan is None or (many and plan.row is not None):
        return conn.execute(stmt, params)
    raw = conn.connection.driver_connection
    try:
        if many:
            raw.executemany(plan.sql, [plan.args(p) for p in params])
            return Result([])
        return Result(plan.rows(raw.execute(plan.sql, plan.args(params or {})).fetchall()))
    except sqlite3.Error as err:
        raise exc.DBAPIError.instance(plan.sql, params, err, sqlite3.Error) from err
