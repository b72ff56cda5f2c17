"""Database engines and sessions for SQLite (default) and PostgreSQL.

SQLite is tuned for an office PC that can lose power: WAL, synchronous=FULL,
a busy timeout, foreign keys on.  Write transactions start with
``BEGIN IMMEDIATE`` (SQLAlchemy's documented pysqlite recipe) so that two
writers queue on the lock instead of failing with "database is locked" half
way through; read-only work uses a second engine with plain deferred BEGIN so
readers never wait for writers.
"""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 30_000
SQLITE_SYNC = os.environ.get("MOTCUA_SQLITE_SYNC", "FULL").upper()
if SQLITE_SYNC not in ("FULL", "NORMAL", "EXTRA"):
    SQLITE_SYNC = "FULL"


def default_sqlite_url(instance_dir: Path) -> str:
    instance_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(instance_dir / 'motcua.sqlite3').as_posix()}"


def _make_engine(url: str, *, immediate: bool, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=pool_size,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
            # Let SQLAlchemy's "begin" event issue BEGIN itself.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={SQLITE_SYNC}")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - trivial
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    """Two session factories: ``write()`` for transactions that change state
    and ``read()`` for queries.  On PostgreSQL both use one engine."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.write_engine = _make_engine(url, immediate=True, pool_size=pool_size)
        self.read_engine = (
            _make_engine(url, immediate=False, pool_size=pool_size)
            if self.is_sqlite
            else self.write_engine
        )
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self.notifier = Notifier()
        # SQLite has one writer at a time; its busy handler polls with growing
        # sleeps, which under load turns a 10 ms wait into a second.  Writers
        # of this process queue on a mutex instead and hand over at once
        # (another process on the same file still falls back to busy_timeout).
        self._write_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._write_lock:
            with self._write() as session:
                with session.begin():
                    yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


class Notifier:
    """Wakes event-stream readers in this process as soon as events commit.

    Streams also poll the event table every second, so events written by
    another process (a second server on the same PostgreSQL) still arrive."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._seq = 0

    def notify(self) -> None:
        with self._cond:
            self._seq += 1
            self._cond.notify_all()

    @property
    def seq(self) -> int:
        return self._seq

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            if self._seq == seen:
                self._cond.wait(timeout)
            return self._seq
