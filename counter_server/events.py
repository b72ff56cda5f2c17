"""Server-Sent Events: one reader per process and office, fanned out on an event loop.

The event table is the stream: a reader (:class:`Feed`) per office and
process reads the rows after the newest it has seen, once per wake-up, and
hands the batch to every open stream of that office (:class:`Batch`,
appended to each :class:`Subscriber`'s pending list, which wakes the stream
through a future).  It wakes when this process commits events of that office (the
database's :class:`~counter_server.db.Notifier`), on PostgreSQL when any
process does (LISTEN on ``db.EVENT_CHANNEL``, :class:`PgListener`).  On
SQLite another process on the same file (the command line) sends no signal:
every ``poll`` seconds one ``PRAGMA data_version`` on a held connection
(:class:`FileWatch`) tells whether any other connection committed since, and
only then are the readers woken.  A stream that resumes from an older id
reads the rows between its id and the reader's position itself, once, then
follows the reader.  Nothing here polls per stream or per office.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Text, bindparam, cast, func, select

from . import models as m
from .db import EVENT_CHANNEL, Database
from .engine import iso
from .event_types import ends_access, visible_to

log = logging.getLogger("motcua.events")

BATCH = 500
#: Seconds before a reader tries again after the database failed.
RETRY_SECONDS = 1.0
#: A stream this far behind (a client that stopped reading) is closed; the
#: client reconnects with Last-Event-ID and reads the rest from the table.
MAX_BACKLOG = 200
_EVENT = m.Event.__table__
# Built once; the payload comes back as the JSON text it is stored as and goes
# out as is.
_NEW_EVENTS = (select(_EVENT.c.id, _EVENT.c.type, _EVENT.c.ticket_id, _EVENT.c.counter_id,
                      _EVENT.c.staff_id, _EVENT.c.created_at,
                      cast(_EVENT.c.payload, Text).label("payload_json"))
               .where(_EVENT.c.office_id == bindparam("b_office"),
                      _EVENT.c.id > bindparam("b_after"))
               .order_by(_EVENT.c.id).limit(BATCH))
_NEWEST = select(func.max(_EVENT.c.id)).where(_EVENT.c.office_id == bindparam("b_office"))


@dataclass(frozen=True)
class Item:
    """One event as the streams need it: formatted once for all of them."""
    id: int
    type: str
    ticket_id: int | None
    service_id: int | None
    text: str
    #: It may end someone's access: the streams check their credentials again.
    access: bool = False


def format_event(ev: Any) -> str:
    """One SSE message: ``data`` holds the event's columns and its payload."""
    head = json.dumps({"id": ev.id, "type": ev.type, "ticket_id": ev.ticket_id,
                       "counter_id": ev.counter_id, "staff_id": ev.staff_id,
                       "created_at": iso(ev.created_at)}, ensure_ascii=False,
                      separators=(",", ":"))
    data = f'{head[:-1]},"payload":{ev.payload_json or "{}"}}}'
    return f"id: {ev.id}\nevent: {ev.type}\ndata: {data}\n\n"


def _item(ev: Any) -> Item:
    service_id = None
    if ev.type.startswith("ticket."):
        try:
            service_id = (json.loads(ev.payload_json or "{}").get("ticket") or {}).get("service_id")
        except (ValueError, AttributeError):
            service_id = None
    return Item(ev.id, ev.type, ev.ticket_id, service_id, format_event(ev), ends_access(ev.type))


def read_after(db: Database, office_id: int, after: int) -> list[Item]:
    """Up to BATCH events of the office after id ``after``, in id order."""
    with db.lookup() as conn:
        rows = conn.execute(_NEW_EVENTS, {"b_office": office_id, "b_after": after}).all()
    return [_item(ev) for ev in rows]


def newest_id(db: Database, office_id: int) -> int:
    with db.lookup() as conn:
        return conn.execute(_NEWEST, {"b_office": office_id}).scalar() or 0


class Batch:
    """New events of one office, read once and handed to every stream of it."""
    __slots__ = ("items", "first", "last", "access", "_bodies")

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.first, self.last = items[0].id, items[-1].id
        #: One of them may end someone's access (checked once per batch).
        self.access = any(i.access for i in items)
        self._bodies: dict[str, bytes] = {}

    def body(self, role: str) -> bytes:
        """What a stream opened with ``role`` is sent of it, filtered and
        encoded once per role."""
        out = self._bodies.get(role)
        if out is None:
            out = self._bodies[role] = "".join(
                i.text for i in self.items if visible_to(role, i.type)).encode("utf-8")
        return out


class Subscriber:
    """One open stream: the batches its office's reader handed it since it
    last looked, and a future it waits on while there are none."""
    __slots__ = ("office_id", "pending", "closed", "idle", "ping", "_waiter", "_loop")

    def __init__(self, office_id: int) -> None:
        self.office_id = office_id
        self.pending: list[Batch] = []
        self.closed = False
        #: Nothing sent since the last keep-alive tick.
        self.idle = False
        #: A keep-alive comment is due.
        self.ping = False
        self._waiter: asyncio.Future | None = None
        self._loop = asyncio.get_running_loop()

    def put(self, batch: Batch) -> None:
        if self.closed:
            return
        if len(self.pending) >= MAX_BACKLOG:
            self.close()
            return
        self.pending.append(batch)
        self._wake()

    def keepalive(self) -> None:
        """Ask for a keep-alive comment."""
        self.ping = True
        self._wake()

    def close(self) -> None:
        """End the stream (the principal lost access, or it fell behind)."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> list[Batch] | None:
        """The batches handed over since the last call (empty: a keep-alive
        is due); None once the stream is closed."""
        while not (self.pending or self.closed or self.ping):
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.closed:
            return None
        self.ping = False
        batches, self.pending = self.pending, []
        return batches


class Feed:
    """The reader of one office in this process."""

    def __init__(self, hub: "Hub", office_id: int) -> None:
        self.hub, self.office_id = hub, office_id
        self.subscribers: list[Subscriber] = []
        self.last_id = 0
        self.ready = asyncio.Event()
        self.wake = asyncio.Event()
        self.stopped = False
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        db = self.hub.db
        self.last_id = await asyncio.to_thread(newest_id, db, self.office_id)
        self.ready.set()
        while not self.stopped:
            await self.wake.wait()
            self.wake.clear()
            try:
                while True:
                    items = await asyncio.to_thread(read_after, db, self.office_id, self.last_id)
                    if not items:
                        break
                    batch = Batch(items)
                    self.last_id = batch.last
                    if batch.access and self.hub.on_access is not None:
                        self.hub.on_access(self.office_id)
                    for sub in self.subscribers:
                        sub.put(batch)
                    if len(items) < BATCH:
                        break
            except Exception:  # noqa: BLE001 - the database is away: retry on the next wake
                log.exception("reading the events of office %s", self.office_id)
                await asyncio.sleep(RETRY_SECONDS)
                self.wake.set()


class Hub:
    """The readers of this process (one per office with open streams)."""

    def __init__(self, db: Database, poll: float,
                 on_access: Callable[[int], None] | None = None) -> None:
        self.db, self.poll = db, poll
        #: Called with the office once per batch holding an event that may
        #: end someone's access.
        self.on_access = on_access
        self.loop = asyncio.get_running_loop()
        self.feeds: dict[int, Feed] = {}
        self._listener: PgListener | None = None
        self._file: FileWatch | None = None
        db.notifier.listen(self._notified)
        if db.is_sqlite:
            self._file = FileWatch(self)
        else:
            self._listener = PgListener(db)

    def _notified(self, offices: set[int]) -> None:
        """From any thread: wake the readers of ``offices``."""
        try:
            self.loop.call_soon_threadsafe(self._wake, offices)
        except RuntimeError:  # the loop has closed (shutting down)
            pass

    def _wake(self, offices: Any) -> None:
        for office in offices:
            feed = self.feeds.get(office)
            if feed is not None:
                feed.wake.set()

    async def subscribe(self, office_id: int) -> tuple[Subscriber, int]:
        """A new stream of the office, and the id up to which its reader has
        read: every later event reaches the subscriber."""
        feed = self.feeds.get(office_id)
        if feed is None or feed.task.done():
            feed = self.feeds[office_id] = Feed(self, office_id)
        await feed.ready.wait()
        sub = Subscriber(office_id)
        feed.subscribers.append(sub)
        return sub, feed.last_id

    def unsubscribe(self, sub: Subscriber) -> None:
        feed = self.feeds.get(sub.office_id)
        if feed is not None:
            try:
                feed.subscribers.remove(sub)
            except ValueError:
                pass
            if not feed.subscribers:  # its reader stops; the next stream starts another
                feed.stopped = True
                feed.wake.set()
                del self.feeds[sub.office_id]

    def subscribers(self) -> list[Subscriber]:
        return [sub for feed in self.feeds.values() for sub in feed.subscribers]

    def close(self) -> None:
        self.db.notifier.unlisten(self._notified)
        if self._listener is not None:
            self._listener.stop()
        if self._file is not None:
            self._file.stop()


class FileWatch:
    """SQLite: whether another connection to the file committed, every
    ``hub.poll`` seconds while a reader runs; if so every reader reads.

    ``PRAGMA data_version`` changes, on the connection that asks, after any
    other connection's commit (this process's own too: then the readers
    already woke on the commit signal and find nothing new, one query per
    office and poll at most).  It reads the file's header, no table."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._conn: Any = None
        self.task = hub.loop.create_task(self._run())

    def _version(self) -> int:
        if self._conn is None:
            self._conn = self.hub.db.read_engine.raw_connection()
        cur = self._conn.cursor()
        try:
            cur.execute("PRAGMA data_version")
            return int(cur.fetchone()[0])
        finally:
            cur.close()

    async def _run(self) -> None:
        seen = None
        while True:
            await asyncio.sleep(self.hub.poll)
            if not self.hub.feeds:
                continue
            try:
                version = await asyncio.to_thread(self._version)
            except Exception:  # noqa: BLE001 - the file is away: next round, a new connection
                log.exception("checking the database file for other processes' writes")
                self._drop()
                continue
            if version != seen:  # (the first round too: a write since a reader started)
                seen = version
                self.hub._wake(list(self.hub.feeds))

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def stop(self) -> None:
        self.task.cancel()
        self._drop()


class PgListener:
    """PostgreSQL: a thread holding one connection that LISTENs for the
    events any server process commits and passes them to the notifier."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="motcua-listen", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psycopg

        url = self.db.write_engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {EVENT_CHANNEL}")
                    # A reconnect may have missed notifications: wake every reader.
                    self.db.notifier.notify(self._all_offices())
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0, stop_after=1):
                            if note.payload.isdigit():
                                self.db.notifier.notify({int(note.payload)})
            except Exception:  # noqa: BLE001 - the database is away: try again
                log.warning("LISTEN connection lost; reconnecting", exc_info=True)
                self._stop.wait(1.0)

    def _all_offices(self) -> set[int]:
        with self.db.lookup() as conn:
            return set(conn.execute(select(m.Office.id)).scalars())

    def stop(self) -> None:
        self._stop.set()
