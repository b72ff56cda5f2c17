"""The office server as an ASGI application: the event streams on the event
loop, everything else the Flask app in a thread pool (:class:`WsgiBridge`).

``GET /api/v1/events`` and ``GET /api/v1/tickets/{code}/events`` are opened
by the Flask app's own views (``api/live.py``: authentication, roles, input,
errors), run in a thread; once a view admits the stream it is served here
without a thread: it follows its office's reader (``events.py``).

The credentials of the open office streams are checked again the same way
(once per distinct credential, in a thread) when an event that may end
someone's access reaches the office's streams (``event_types.ends_access``:
an admin action, a counter's officer changing, ``session.ended``), and all
of them every ``SSE_RECHECK_SECONDS`` (for what no event announces: a token
or session that expired, a direct database edit).  The streams of
credentials that no longer pass (a revoked device, a signed-out, reset,
deactivated or displaced user) end.

The HTTP server (uvicorn on httptools, ``serve()``) refuses on its own what it
cannot pass on (a malformed request, a header with NUL, a head over
:data:`MAX_HEAD`); those answers and a body announced over :data:`MAX_BODY`
are sent in the API's JSON shape.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from a2wsgi.wsgi import build_environ
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import i18n
from .api.live import STREAM_KEY
from .errors import HTTP_CODES, OTHER
from .event_types import visible_to
from .events import Batch, Hub, Item, Subscriber, read_after
from .limits import WEB_MAX_BODY

log = logging.getLogger("motcua.asgi")

#: Bodies the app answers itself go up to WEB_MAX_BODY; a body announced
#: above this is refused before it is read.
MAX_BODY = 2 * WEB_MAX_BODY
#: A request line and headers longer than this are refused (400).
MAX_HEAD = 64 * 1024
EVENTS_PATH = "/api/v1/events"
TICKET_EVENTS = re.compile(r"/api/v1/tickets/([^/]+)/events")
#: Statuses after which a ticket's stream ends (no_show can be reactivated).
TICKET_FINAL = ("done", "cancelled")
_APPS: "weakref.WeakSet[MotcuaAsgi]" = weakref.WeakSet()


def error_body(status: int) -> bytes:
    code, text = HTTP_CODES.get(status, OTHER)
    return json.dumps({"error": {"code": code, "message": i18n._(text)}},
                      ensure_ascii=False).encode("utf-8")


class JsonErrorHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol on httptools (llhttp): its own 400 (a
    request the parser refuses) in the API's JSON shape, and a request head
    over :data:`MAX_HEAD` refused the same way before more of it is kept
    (llhttp itself has no limit: it would buffer a header without end).

    httptools rather than h11: an event sent to many open streams costs about
    2.3 times less on the event loop (bench/README, "Server protocol")."""

    _head_bytes = 0
    _in_head = False

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self.send_400_response("request head too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        body = error_body(400)
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
                             b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
                             % (len(body), body))
        self.transport.close()


def call_wsgi(app: Callable, environ: dict) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run the WSGI ``app`` for one request (in the calling thread)."""
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
        got["status"], got["headers"] = int(status.split()[0]), headers
        return lambda _data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return got["status"], got["headers"], body


def sse(event: str, event_id: int, data: bytes) -> bytes:
    lines = b"".join(b"data: " + line + b"\n" for line in data.strip().split(b"\n"))
    return f"id: {event_id}\nevent: {event}\n".encode() + lines + b"\n"


class WsgiBridge:
    """The Flask ``app`` for plain requests: the body is read on the loop (up
    to :data:`MAX_BODY`), the app runs in one of ``threads`` threads and its
    whole answer is sent from the loop: one hand-over to the thread and one
    back (a2wsgi's ``WSGIMiddleware`` hands each message over on its own,
    the body's, the status's and every chunk's, waking the loop and the
    thread each time; docs/deployment.md has the figures).  The app's
    answers are built in memory anyway (JSON, pages, reports of a few MB);
    the streams are the loop's own (:class:`MotcuaAsgi`)."""

    def __init__(self, app: Callable, threads: int = 16) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="WSGI")

    async def run(self, environ: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        """``call_wsgi(app, environ)`` in one of the threads."""
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, call_wsgi, self.app, environ)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        """One HTTP request (served alone, as the benchmark's ceiling is, it
        needs uvicorn's ``lifespan="off"``)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:  # a chunked body that never said its length
                await _refuse_too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        status, headers, body = await self.run(build_environ(scope, io.BytesIO(b"".join(chunks))))
        await _respond(send, status, headers, body)


async def _refuse_too_large(send: Callable) -> None:
    body = error_body(413)
    await _respond(send, 413, [("Content-Type", "application/json"),
                               ("Content-Length", str(len(body))), ("Connection", "close")], body)


async def _respond(send: Callable, status: int, headers: list[tuple[str, str]], body: bytes,
                   more: bool = False) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                            for k, v in headers]})
    await send({"type": "http.response.body", "body": body, "more_body": more})


class MotcuaAsgi:
    """The server's ASGI application around the Flask ``app``."""

    def __init__(self, app: Any, threads: int = 16) -> None:
        self.flask = app
        self.wsgi = WsgiBridge(app, threads)
        self.db = app.extensions["motcua_db"]
        self.keepalive = float(app.config["SSE_KEEPALIVE_SECONDS"])
        self.poll = float(app.config["SSE_POLL_SECONDS"])
        self.recheck = float(app.config["SSE_RECHECK_SECONDS"])
        self.hub: Hub | None = None
        #: credential (Authorization, Cookie) -> its open office streams
        self.open: dict[tuple[bytes, bytes], set[Subscriber]] = {}
        #: credential -> (the request that opened its first stream, its office)
        self._scopes: dict[tuple[bytes, bytes], tuple[dict, int]] = {}
        #: offices whose streams' credentials are to be checked again
        self._due: set[int] = set()
        self._due_set: asyncio.Event | None = None
        self._tasks: set[asyncio.Task] = set()
        _APPS.add(self)

    # ---------------------------------------------------------------- entry
    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            await send({"type": "websocket.close", "code": 1000})
            return
        length = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if length.isdigit() and int(length) > MAX_BODY:
            await _refuse_too_large(send)
            return
        path = scope["path"]
        if scope["method"] == "GET" and (path == EVENTS_PATH or TICKET_EVENTS.fullmatch(path)):
            await self._stream(scope, receive, send)
            return
        await self.wsgi(scope, receive, send)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._hub()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close_streams()
                if self.hub is not None:
                    self.hub.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _hub(self) -> Hub:
        if self.hub is None:
            self.hub = Hub(self.db, self.poll, on_access=self.check_soon)
            self._due_set = asyncio.Event()
            self._spawn(self._recheck_loop())
            self._spawn(self._keepalive_loop())
        return self.hub

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close_streams(self) -> None:
        """End every open stream (the server is stopping)."""
        if self.hub is not None:
            for sub in self.hub.subscribers():
                sub.close()

    # ---------------------------------------------------------------- streams
    def _environ(self, scope: dict, path: str | None = None) -> dict:
        if path is not None:
            scope = {**scope, "path": path, "query_string": b""}
        return build_environ(scope, io.BytesIO(b""))  # type: ignore[arg-type]

    async def _stream(self, scope: dict, receive: Callable, send: Callable) -> None:
        environ = self._environ(scope)
        admitted: dict[str, Any] = {}
        environ[STREAM_KEY] = admitted
        status, headers, head = await self.wsgi.run(environ)
        if status != 200 or not admitted:
            await _respond(send, status, headers, head)
            return
        hub = self._hub()
        sub, position = await hub.subscribe(admitted["office_id"])
        watcher = asyncio.get_running_loop().create_task(self._watch(receive, sub))
        key = (_header(scope, b"authorization"), _header(scope, b"cookie"))
        try:
            await _respond(send, 200, [(k, v) for k, v in headers
                                       if k.lower() != "content-length"], head, more=True)
            if admitted["kind"] == "office":
                self.open.setdefault(key, set()).add(sub)
                self._scopes.setdefault(key, (scope, admitted["office_id"]))
                await self._office_stream(send, sub, admitted, position)
            else:
                await self._ticket_stream(scope, send, sub, admitted, position)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            hub.unsubscribe(sub)
            subs = self.open.get(key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.open[key]
                    self._scopes.pop(key, None)

    @staticmethod
    async def _watch(receive: Callable, sub: Subscriber) -> None:
        """End the stream when the client goes away."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                sub.close()
                return

    async def _next(self, sub: Subscriber, send: Callable) -> list[Batch] | None:
        """The next batches for ``sub``; the keep-alive comments the tick asks for
        while there are none."""
        while True:
            batches = await sub.wait()
            if batches is None or batches:
                return batches
            await send({"type": "http.response.body", "body": b": keep-alive\n\n",
                        "more_body": True})

    async def _keepalive_loop(self) -> None:
        """One tick for every stream of the process: every ``self.keepalive``
        seconds each stream that sent nothing since the previous tick sends a
        keep-alive comment (so no stream is silent for two periods)."""
        assert self.hub is not None
        while True:
            await asyncio.sleep(self.keepalive)
            for sub in self.hub.subscribers():
                if sub.idle:
                    sub.keepalive()
                sub.idle = True

    async def _office_stream(self, send: Callable, sub: Subscriber, admitted: dict,
                             position: int) -> None:
        role, last = admitted["role"], admitted["start"]
        office = admitted["office_id"]
        while last < position:  # resuming from before the reader: read the gap, once
            batch = [i for i in await asyncio.to_thread(read_after, self.db, office, last)
                     if i.id <= position]
            if not batch:
                break
            if any(i.access and i.id > last for i in batch):
                self.check_soon(office)
            last = await self._send(send, sub, _body(batch, role, last), max(last, batch[-1].id))
        while not sub.closed:
            batches = await self._next(sub, send)
            if batches is None:
                return
            body = b"".join(b.body(role) if b.first > last else _body(b.items, role, last)
                            for b in batches)
            last = await self._send(send, sub, body, max(last, batches[-1].last))

    @staticmethod
    async def _send(send: Callable, sub: Subscriber, body: bytes, last: int) -> int:
        if body:
            sub.idle = False
            await send({"type": "http.response.body", "body": body, "more_body": True})
        return last

    async def _ticket_stream(self, scope: dict, send: Callable, sub: Subscriber,
                             admitted: dict, position: int) -> None:
        status_path = scope["path"][: -len("/events")]
        ticket_id, service_id = admitted["ticket_id"], admitted["service_id"]
        sent = b""
        waiting = True
        batch: list[Item] = []
        while True:
            if not batch or any(_concerns(i, ticket_id, service_id, waiting) for i in batch):
                if batch:
                    position = max(position, batch[-1].id)
                code, _h, body = await self.wsgi.run(self._environ(scope, status_path))
                if code != 200:
                    return
                if body != sent:
                    sent = body
                    sub.idle = False
                    await send({"type": "http.response.body", "more_body": True,
                                "body": sse("ticket.status", position, body)})
                status = json.loads(body)
                service_id = status.get("service_id", service_id)
                waiting = status.get("status") == "waiting"
                if status.get("status") in TICKET_FINAL:
                    return
            batches = await self._next(sub, send)
            if batches is None:
                return
            batch = [i for b in batches for i in b.items]

    # ---------------------------------------------------------------- recheck
    def check_soon(self, office: int) -> None:
        """Have the credentials of the office's open streams checked again."""
        self._due.add(office)
        if self._due_set is not None:
            self._due_set.set()

    async def _recheck_loop(self) -> None:
        """Check the credentials of the offices asked for as soon as asked,
        and of every open stream every ``self.recheck`` seconds."""
        assert self._due_set is not None
        loop = asyncio.get_running_loop()
        every_at = loop.time() + self.recheck
        while True:
            try:
                await asyncio.wait_for(self._due_set.wait(), max(0.0, every_at - loop.time()))
            except asyncio.TimeoutError:
                pass
            self._due_set.clear()
            offices: set[int] | None = self._due
            self._due = set()
            if loop.time() >= every_at:
                offices, every_at = None, loop.time() + self.recheck
            keys = [(key, scope) for key, (scope, office) in self._scopes.items()
                    if offices is None or office in offices]
            if not keys:
                continue
            try:
                refused = await asyncio.to_thread(self._refused, keys)
            except Exception:  # noqa: BLE001 - the database is away: next round
                log.exception("rechecking the streams' credentials")
                continue
            for key in refused:
                for sub in list(self.open.get(key, ())):
                    sub.close()

    def _refused(self, keys: list[tuple[tuple[bytes, bytes], dict]]) -> list[tuple[bytes, bytes]]:
        """The credentials whose stream the app no longer admits (in a thread)."""
        out = []
        for key, scope in keys:
            again = self._environ(scope)
            again.pop("HTTP_LAST_EVENT_ID", None)
            status, _headers, body = call_wsgi(self.flask, again)
            if status != 200:
                log.info("stream credentials refused (%s): %s", status, body[:200])
                out.append(key)
        return out


def _body(items: list[Item], role: str, last: int) -> bytes:
    """What a stream of ``role`` that has sent up to id ``last`` is sent of ``items``."""
    return "".join(i.text for i in items
                   if i.id > last and visible_to(role, i.type)).encode("utf-8")


def _header(scope: dict, name: bytes) -> bytes:
    return next((v for k, v in scope["headers"] if k == name), b"")


def _concerns(item: Item, ticket_id: int, service_id: int | None, waiting: bool) -> bool:
    """Whether an event may change what a ticket's holder sees: its own, a
    counter's (the service's open counters); while it waits, another ticket
    of its service leaving the queue or completing (the count ahead, the
    pace).  A ticket issued after it never goes ahead of it."""
    if item.type == "counter.updated" or item.ticket_id == ticket_id:
        return True
    return (waiting and item.service_id == service_id and item.type.startswith("ticket.")
            and item.type != "ticket.issued")


def close_all_streams() -> None:
    """End the open streams of every app of this process (the server stops)."""
    for app in list(_APPS):
        app.close_streams()
