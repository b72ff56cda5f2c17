"""Database engines and sessions for SQLite (default) and PostgreSQL.

SQLite is tuned for an office PC that can lose power: WAL, synchronous=FULL,
a busy timeout, foreign keys on.  Write transactions start with
``BEGIN IMMEDIATE`` (SQLAlchemy's pysqlite recipe, said from a session event)
so that two writers queue on the lock instead of failing with "database is
locked" half way through; read-only work uses a second engine with plain
deferred BEGIN so readers never wait for writers.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from sqlalchemy import Table, bindparam, create_engine, event, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from . import models as m
from .group_commit import GroupCommitter

T = TypeVar("T")
BUSY_TIMEOUT_MS = 30_000
SQLITE_SYNC = os.environ.get("MOTCUA_SQLITE_SYNC", "FULL").upper()
if SQLITE_SYNC not in ("FULL", "NORMAL", "EXTRA"):
    SQLITE_SYNC = "FULL"


def default_sqlite_url(instance_dir: Path) -> str:
    instance_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(instance_dir / 'motcua.sqlite3').as_posix()}"


def _make_engine(url: str, *, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=pool_size,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
            # The driver's own transaction handling off: sessions say BEGIN
            # themselves (_begin_with below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={SQLITE_SYNC}")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _begin_with(sql: str) -> Callable[..., None]:
    """SQLite: a session's transaction starts with ``sql`` (BEGIN IMMEDIATE
    for writers, so they queue for the lock before reading what they will
    change).  SQLAlchemy's recipe does this in the engine's "begin" event;
    any engine event makes every statement dispatch its execute events, so
    here it is a session event of our two session factories.  Connections
    used outside them (``Database.lookup``) run their single read without a
    transaction."""

    def after_begin(_session: Session, transaction: Any, connection: Any) -> None:
        if not transaction.nested:
            connection.exec_driver_sql(sql)

    return after_begin


class Tx(Session):
    """The session of one write transaction (``Database.write()``), through
    which the engine emits its events.

    An emitted event is held here and inserted by ``Database.write()`` when
    the transaction's work is done, as its last statement; a transaction that
    fails drops it with everything else.  Last, because on PostgreSQL event
    ids must become visible in id order (a stream that resumes "after id N"
    must never skip a slower transaction's smaller id): each office's event
    lock is taken just before the insert and held until the commit.  Taken
    after every row lock of the transaction (counters in id order, then
    tickets), it can never close a deadlock cycle with them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[dict[str, Any]] = []

    def emit(self, office_id: int, type_: str, *, ticket_id: int | None = None,
             counter_id: int | None = None, staff_id: int | None = None,
             payload: dict[str, Any] | None = None,
             created_at: dt.datetime | None = None) -> None:
        """Add one event row to this transaction."""
        self.events.append({
            "office_id": office_id, "type": type_, "ticket_id": ticket_id,
            "counter_id": counter_id, "staff_id": staff_id,
            "created_at": created_at or m.utcnow(), "payload": payload or {}})

    def offices(self) -> set[int]:
        """The offices this transaction emitted events for."""
        return {ev["office_id"] for ev in self.events}

    def insert_events(self) -> None:
        """Store the emitted events (see the class's doc for why last)."""
        if not self.events:
            return
        self.flush()  # the ORM's row changes (and their locks) before the event lock
        conn = self.connection()
        if conn.dialect.name == "postgresql":
            for office_id in sorted(self.offices()):
                conn.execute(_EVENT_LOCK, {"b_key": EVENT_LOCK_BASE + office_id})
        conn.execute(_EVENT_INSERT, self.events)
        if conn.dialect.name == "postgresql":
            # Delivered at commit, to the event readers of every server process.
            for office_id in sorted(self.offices()):
                conn.execute(_EVENT_NOTIFY, {"b_office": str(office_id)})


# PostgreSQL advisory lock keys of the offices' event locks.
EVENT_LOCK_BASE = 7_000_000
_EVENT_LOCK = select(func.pg_advisory_xact_lock(bindparam("b_key")))
_EVENT_INSERT = insert(m.Event.__table__)
#: The PostgreSQL channel the event readers LISTEN on; the payload is the office id.
EVENT_CHANNEL = "motcua_events"
_EVENT_NOTIFY = select(func.pg_notify(EVENT_CHANNEL, bindparam("b_office")))


def lock_rows(conn: Connection, stmt: Any, params: dict[str, Any]) -> None:
    """Run ``stmt`` (a ``SELECT ... FOR UPDATE``) for the row locks it takes
    until commit; nothing on SQLite, whose writers run one at a time."""
    if conn.dialect.name != "sqlite":
        conn.execute(stmt, params)


def insert_if_absent(conn: Connection, table: Table, **values: Any) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(table).values(**values).on_conflict_do_nothing())


class Database:
    """Two session factories: ``write()`` for transactions that change state
    and ``read()`` for queries.  On PostgreSQL both use one engine."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.write_engine = _make_engine(url, pool_size=pool_size)
        self.read_engine = (
            _make_engine(url, pool_size=pool_size) if self.is_sqlite else self.write_engine
        )
        self._write = sessionmaker(self.write_engine, class_=Tx, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        if self.is_sqlite:
            event.listen(self._write, "after_begin", _begin_with("BEGIN IMMEDIATE"))
            event.listen(self._read, "after_begin", _begin_with("BEGIN"))
        self.notifier = Notifier()
        # SQLite has one writer at a time; its busy handler polls with growing
        # sleeps, which under load turns a 10 ms wait into a second.  Writers
        # of this process queue on a mutex instead and hand over at once
        # (another process on the same file still falls back to busy_timeout).
        self._write_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        self._committer = (GroupCommitter(self._write, self._write_lock, self.notifier)
                           if self.is_sqlite else None)

    @contextlib.contextmanager
    def write(self) -> Iterator[Tx]:
        """One transaction: its events stored last and committed with it on
        success, everything rolled back on any error.  The commit wakes the
        event streams of the offices it emitted events for."""
        with self._write_lock:
            with self._write() as tx:
                with tx.begin():
                    yield tx
                    tx.insert_events()
        self.notifier.notify(tx.offices())

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            with session.begin():
                yield session

    @contextlib.contextmanager
    def lookup(self) -> Iterator[Any]:
        """A connection for one read statement (token checks on every request):
        on SQLite it runs without an explicit transaction."""
        with self.read_engine.connect() as conn:
            yield conn

    def batched(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn(tx)`` as part of a group commit (SQLite) or in its own
        transaction (PostgreSQL).  ``fn`` must not need the request context:
        on SQLite it may run on another request's thread."""
        if self._committer is None:
            with self.write() as s:
                return fn(s)
        return self._committer.run(fn)

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


class Notifier:
    """Tells the event readers which offices have new events as soon as a
    transaction with events of those offices commits in this process; the
    readers of other offices sleep on (a province server holds many).

    A reader registers a callback with :meth:`listen`; it is called from the
    committing thread, so it must only hand over (an event loop's
    ``call_soon_threadsafe``).  Events written by another process reach the
    readers through PostgreSQL's NOTIFY (``Tx.insert_events``) or, on SQLite,
    the readers' slow poll."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[set[int]], None]] = []

    def listen(self, callback: Callable[[set[int]], None]) -> None:
        """Call ``callback(offices)`` after every commit with events."""
        with self._lock:
            self._listeners.append(callback)

    def unlisten(self, callback: Callable[[set[int]], None]) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def notify(self, offices: Iterable[int]) -> None:
        """Tell the listeners about ``offices`` (nothing when empty)."""
        offices = set(offices)
        if not offices:
            return
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            callback(offices)
