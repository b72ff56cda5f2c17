"""A cache of rendered announcement WAVs, in memory and optionally on disk.

The server's web display asks for the same few sentences again and again
(every browser in the lobby, every recall), and rendering costs a subprocess
or a clip stitch; so each WAV is rendered once per (settings, text).
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .settings import VoiceSettings

__all__ = ["WavCache"]

log = logging.getLogger(__name__)


class WavCache:
    """LRU of WAV bytes keyed by (settings, text), with an optional disk copy.

    ``directory`` keeps WAVs across restarts (one ``<sha256>.wav`` each,
    written atomically, the oldest pruned beyond ``max_files``).  Thread-safe.
    """

    def __init__(self, max_items: int = 64, directory: Path | str | None = None,
                 max_files: int = 2000) -> None:
        self.max_items = max_items
        self.max_files = max_files
        self.directory = Path(directory) if directory is not None else None
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    @staticmethod
    def key(settings: "VoiceSettings", text: str, salt: str = "") -> str:
        """The cache key; ``salt`` carries engine state such as the clips' fingerprint."""
        blob = "\0".join((settings.digest(), text, salt))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path | None:
        return self.directory / f"{key}.wav" if self.directory is not None else None

    def get(self, settings: "VoiceSettings", text: str, salt: str = "") -> bytes | None:
        key = self.key(settings, text, salt)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        path = self._path(key)
        if path is not None:
            try:
                data = path.read_bytes()
            except OSError:
                return None
            self._remember(key, data)
            return data
        return None

    def put(self, settings: "VoiceSettings", text: str, wav: bytes, salt: str = "") -> None:
        key = self.key(settings, text, salt)
        self._remember(key, wav)
        path = self._path(key)
        if path is not None:
            try:
                self._write(path, wav)
            except OSError as exc:  # a full or read-only disk must not stop announcements
                log.warning("cannot write voice cache file %s: %s", path, exc)

    def get_or_render(self, settings: "VoiceSettings", text: str, render: Callable[[], bytes],
                      salt: str = "") -> bytes:
        """The cached WAV, rendering it once even when many threads ask at once."""
        found = self.get(settings, text, salt)
        if found is not None:
            return found
        key = self.key(settings, text, salt)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            found = self.get(settings, text, salt)
            if found is None:
                found = render()
                self.put(settings, text, found, salt)
        with self._lock:
            self._key_locks.pop(key, None)
        return found

    def clear(self) -> None:
        """Forget everything (memory and disk), e.g. after the clips changed."""
        with self._lock:
            self._items.clear()
        if self.directory is not None and self.directory.is_dir():
            for path in self.directory.glob("*.wav"):
                path.unlink(missing_ok=True)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _remember(self, key: str, data: bytes) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        """Delete the oldest files beyond ``max_files`` (another process may race us)."""
        try:
            files = [(p.stat().st_mtime, p) for p in folder.glob("*.wav")]
            if len(files) > self.max_files:
                files.sort()
                for _mtime, old in files[: len(files) - self.max_files]:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("voice cache pruning skipped: %s", exc)
