"""No rating lost: a device's own on-disk queue of ratings not yet stored.

A citizen's press must count even when the network or the server is down.
Every rating is first written to a JSON-lines file in the device's data
folder (temp file + fsync + atomic rename, so a power cut leaves either the
old or the new file, never half of one), then sent by a background thread.
Each item carries a ``client_key``: when a send reached the server but its
answer got lost, the re-send returns the rating already stored instead of
making a second one.

No Kivy here: the queue is tested on its own and used by both rating apps.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

QUEUE_FILE = "rating_queue.jsonl"

#: Server answers that will never change on a re-send: the item is dropped
#: (and reported) instead of blocking the queue forever.
PERMANENT_STATUSES = frozenset({400, 404, 409, 413, 422})


def data_dir(explicit: str | os.PathLike[str] | None, fallback: str | os.PathLike[str]) -> Path:
    """The folder where a device keeps its queue: ``--data-dir``, then
    ``MOTCUA_DATA_DIR``, then the app's own user-data folder."""
    chosen = explicit or os.environ.get("MOTCUA_DATA_DIR") or fallback
    path = Path(chosen)
    path.mkdir(parents=True, exist_ok=True)
    return path


class RatingQueue:
    """Pending ratings, in the order they were made, persisted on every change."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = self._load()

    def _load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        items = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                log.warning("skipping an unreadable line in %s", self.path)
                continue
            if isinstance(item, dict) and item.get("client_key") and "level" in item:
                items.append(item)
        return items

    def _save(self) -> None:
        """Write the whole queue to a temp file, fsync it, then rename over the old one."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in self._items)
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        if os.name != "nt":  # make the rename itself durable (not possible on Windows)
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def add(self, *, level: int, ticket_code: str | None, reasons: list[str] | None = None,
            comment: str = "", client_key: str | None = None, **extra: Any) -> dict[str, Any]:
        """Persist one rating before anything tries to send it."""
        item = {"client_key": client_key or uuid.uuid4().hex, "ticket_code": ticket_code,
                "level": int(level), "reasons": list(reasons or []), "comment": comment or "",
                # the press time travels with the rating: a late send keeps it
                "pressed_at": datetime.now(timezone.utc).isoformat(), **extra}
        with self._lock:
            if not any(it["client_key"] == item["client_key"] for it in self._items):
                self._items.append(item)
                self._save()
        return item

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(it) for it in self._items]

    def remove(self, client_key: str) -> None:
        with self._lock:
            before = len(self._items)
            self._items = [it for it in self._items if it["client_key"] != client_key]
            if len(self._items) != before:
                self._save()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


SendFn = Callable[[dict[str, Any]], dict[str, Any]]


class RatingSender:
    """Drains a :class:`RatingQueue` in a daemon thread, oldest first.

    ``send(item)`` posts one item (normally ``ApiClient.rate``) and raises an
    exception with ``.status`` on failure (``ApiError``).  A failure that a
    retry may cure (server unreachable, 5xx, 429, 401/403 while a token is
    being fixed) stops the round and is retried after ``retry_seconds``.
    ``on_result(item, response, error)`` is called from the worker thread.
    """

    def __init__(self, queue: RatingQueue, send: SendFn, *, retry_seconds: float = 3.0,
                 on_result: Callable[[dict[str, Any], dict[str, Any] | None,
                                      Exception | None], None] | None = None) -> None:
        self.queue, self.send, self.retry_seconds = queue, send, retry_seconds
        self.on_result = on_result
        self.dropped: list[tuple[dict[str, Any], Exception]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, **rating: Any) -> dict[str, Any]:
        """Queue a rating on disk and wake the sender; returns the queued item."""
        item = self.queue.add(**rating)
        self._wake.set()
        return item

    def flush_once(self) -> int:
        """Try to send everything pending; returns how many left the queue."""
        done = 0
        for item in self.queue.pending():
            body = {k: item[k] for k in ("level", "ticket_code", "reasons", "comment",
                                          "client_key", "pressed_at") if k in item}
            try:
                response = self.send(body)
            except Exception as exc:  # noqa: BLE001 - decide by status below
                status = getattr(exc, "status", 0) or 0
                if status in PERMANENT_STATUSES:
                    log.warning("rating %s refused by the server: %s", item["client_key"], exc)
                    self.dropped.append((item, exc))
                    self.queue.remove(item["client_key"])
                    done += 1
                    self._report(item, None, exc)
                    continue
                log.info("rating %s kept for later: %s", item["client_key"], exc)
                self._report(item, None, exc)
                break
            self.queue.remove(item["client_key"])
            done += 1
            self._report(item, response, None)
        return done

    def _report(self, item: dict[str, Any], response: dict[str, Any] | None,
                error: Exception | None) -> None:
        if self.on_result is not None:
            try:
                self.on_result(item, response, error)
            except Exception:  # noqa: BLE001 - a UI callback must not kill the sender
                log.exception("rating result callback failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self.flush_once()
            self._wake.wait(self.retry_seconds if len(self.queue) else 30.0)

    def start(self) -> "RatingSender":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rating-sender", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
