"""Backups of the embedded SQLite database: taken with SQLite's online backup
API (safe while the server writes), verified by reading them back, rotated,
scheduled daily while the server runs, and restored.

A backup is one self-contained file (rollback journal, no ``-wal`` beside it)
named ``motcua-YYYYMMDD-HHMMSS[-reason].sqlite3`` in the backup folder, so it
can be copied to a USB stick as it is.  Only files with that name are ever
rotated away; anything else in the folder is left alone.

Settings come from environment variables (one place, read by the server,
the CLI and the admin pages alike):

``MOTCUA_BACKUP_DIR``        folder (default: ``<instance>/backups``, created when missing;
                             a folder given here is never created: a missing USB drive or
                             network share must show up as a problem, not fill the PC's disk)
``MOTCUA_BACKUP_TIME``       local office time of the daily backup, ``HH:MM`` (default 12:30,
                             the lunch break, when the PC is on); ``off`` turns it off
``MOTCUA_BACKUP_KEEP_DAYS``  days backups are kept (default 14; the newest is always kept)

PostgreSQL databases are backed up with ``pg_dump`` instead (docs/operations.md).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

log = logging.getLogger("motcua.backup")

NAME = re.compile(r"^motcua-(\d{8})-(\d{6})(?:-([a-z][a-z-]*))?\.sqlite3$")
COUNTED = ("office", "ticket", "rating", "event")  # tables read back to verify a backup
MIN_FREE_BYTES = 200 * 1024 * 1024
STATUS_FILE = "backup-status.json"
DEFAULT_TZ = "Asia/Ho_Chi_Minh"


class BackupError(Exception):
    """A backup or restore that could not be done; ``message`` is an English
    msgid with ``params``, shown translated (CLI line, admin page, log)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message, self.params = message, params

    def text(self) -> str:
        from .i18n import _

        return _(self.message).format(**self.params)


@dataclass(frozen=True)
class BackupSettings:
    folder: Path
    configured: bool  # the folder was given by the administrator (never created by us)
    at: dt.time | None  # None: no automatic backups
    keep_days: int
    status_file: Path

    @classmethod
    def from_env(cls, instance: Path, env: dict[str, str] | None = None) -> "BackupSettings":
        env = os.environ if env is None else env
        given = env.get("MOTCUA_BACKUP_DIR", "").strip()
        at_text = env.get("MOTCUA_BACKUP_TIME", "12:30").strip().lower()
        at = None
        if at_text not in ("off", "none", "0", ""):
            try:
                at = dt.time.fromisoformat(at_text)
            except ValueError:
                raise BackupError("MOTCUA_BACKUP_TIME must look like 12:30 or be off "
                                  "(got “{value}”).", value=at_text) from None
        try:
            keep = int(env.get("MOTCUA_BACKUP_KEEP_DAYS", "14"))
        except ValueError:
            keep = -1
        if keep < 1:
            raise BackupError("MOTCUA_BACKUP_KEEP_DAYS must be a whole number of days, at least 1.")
        return cls(folder=Path(given) if given else Path(instance) / "backups",
                   configured=bool(given), at=at, keep_days=keep,
                   status_file=Path(instance) / STATUS_FILE)


def backup_name(when: dt.datetime, reason: str = "") -> str:
    return f"motcua-{when:%Y%m%d-%H%M%S}{'-' + reason if reason else ''}.sqlite3"


def backups(folder: Path) -> list[tuple[dt.datetime, str, Path]]:
    """Backups in ``folder`` as (time in their name, reason, path), oldest first."""
    out = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = NAME.match(path.name)
            if match:
                when = dt.datetime.strptime(match[1] + match[2], "%Y%m%d%H%M%S")
                out.append((when, match[3] or "", path))
    return sorted(out)


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError("{file} does not exist.", file=path)
    return sqlite3.connect(str(path), timeout=30)


def read_counts(path: Path) -> dict[str, int]:
    """Check ``path`` is a sound motcua database; its row counts per table.

    ``PRAGMA integrity_check`` reads every page; the counts read every table a
    restore needs.  A file that is not a database, is damaged or lacks the
    tables is refused with a BackupError."""
    con = _connect(path)
    try:
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise BackupError("{file} is damaged: {detail}", file=path, detail=result)
            return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in COUNTED}
        except sqlite3.DatabaseError as exc:
            raise BackupError("{file} is not a motcua database ({detail}).", file=path,
                              detail=exc) from None
    finally:
        con.close()


def backup_file(source: Path, dest: Path) -> dict[str, int]:
    """Copy the live database ``source`` to the new file ``dest`` and verify it.

    Written to ``dest.part`` first and renamed once it reads back with at
    least the rows the database had when the backup started (history is never
    deleted), so a half-written file never looks like a backup."""
    if not source.is_file():
        raise BackupError("Database file {file} not found.", file=source)
    if not dest.parent.is_dir():
        raise BackupError("The backup folder {folder} does not exist.", folder=dest.parent)
    if dest.exists():
        raise BackupError("{file} already exists.", file=dest)
    before = read_counts(source)
    part = dest.with_name(dest.name + ".part")
    src, out = _connect(source), None
    try:
        out = sqlite3.connect(str(part))
        src.backup(out)
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        out.close()
        out = None
        after = read_counts(part)
        short = [t for t in COUNTED if after[t] < before[t]]
        if short:
            raise BackupError("The backup {file} is missing rows of {tables}.", file=dest,
                              tables=", ".join(short))
        os.replace(part, dest)
        return after
    except OSError as exc:
        raise BackupError("Could not write {file}: {detail}", file=dest,
                          detail=exc.strerror or exc) from None
    finally:
        if out is not None:
            out.close()
        src.close()
        part.unlink(missing_ok=True)


def rotate(folder: Path, keep_days: int, today: dt.date) -> list[Path]:
    """Delete backups named older than ``keep_days`` before ``today``; the
    newest backup is kept whatever its age."""
    found = backups(folder)
    first_kept = today - dt.timedelta(days=keep_days - 1)
    removed = []
    for when, _reason, path in found[:-1]:
        if when.date() < first_kept:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def take_backup(db_path: Path, settings: BackupSettings, now: dt.datetime, reason: str = "") -> Path:
    """One backup into the backup folder, named by ``now`` (a local time)."""
    if not settings.configured:
        settings.folder.mkdir(parents=True, exist_ok=True)
    dest = settings.folder / backup_name(now, reason)
    backup_file(db_path, dest)
    return dest


def restore_file(backup: Path, db_path: Path) -> dict[str, int]:
    """Replace the database at ``db_path`` with the verified ``backup``.

    The copy goes through SQLite's backup API into the live file, so the
    database keeps its WAL and a connection left open sees the restored
    content instead of a file swapped under it."""
    counts = read_counts(backup)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    src, dst = _connect(backup), sqlite3.connect(str(db_path), timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()
    return counts


# ------------------------------------------------------------------ status
def write_status(settings: BackupSettings, **fields: Any) -> None:
    status = read_status(settings)
    status.update(fields)
    try:
        settings.status_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = settings.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, settings.status_file)
    except OSError:
        log.exception("could not write %s", settings.status_file)


def read_status(settings: BackupSettings) -> dict[str, Any]:
    try:
        return json.loads(settings.status_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@dataclass
class Problem:
    """Something the administrator must fix; ``message`` is an English msgid."""

    message: str
    params: dict[str, Any]

    def text(self) -> str:
        from .i18n import _

        return _(self.message).format(**self.params)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def problems(settings: BackupSettings, db_path: Path | None, now: dt.datetime) -> list[Problem]:
    """What stands between this office and a usable backup: for the admin
    status page and ``motcua check``.  ``now`` is the office's local time."""
    now = now.replace(tzinfo=None)
    out: list[Problem] = []
    folder = settings.folder
    if not folder.is_dir():
        if settings.configured or folder.exists():
            out.append(Problem("The backup folder {folder} does not exist.", {"folder": folder}))
    elif not os.access(folder, os.W_OK):
        out.append(Problem("The backup folder {folder} cannot be written.", {"folder": folder}))
    else:
        need = max(MIN_FREE_BYTES, 3 * (db_path.stat().st_size if db_path and db_path.exists() else 0))
        free = shutil.disk_usage(folder).free
        if free < need:
            out.append(Problem("The backup folder {folder} is almost full ({free} free).",
                               {"folder": folder, "free": human_bytes(free)}))
    status = read_status(settings)
    if status.get("error"):
        out.append(Problem("The last automatic backup failed ({at}): {error}",
                           {"at": status.get("error_at", ""), "error": status["error"]}))
    found = [when for when, reason, _p in backups(folder) if reason in ("", "manual")]
    if settings.at is not None and db_path is not None and found and \
            (now - found[-1]).days >= 2:
        out.append(Problem("No backup for {days} days.", {"days": (now - found[-1]).days}))
    return out


# ------------------------------------------------------------------ schedule
def office_zone(db_path: Path) -> ZoneInfo:
    """The first office's time zone, read straight from the file (a backup
    is scheduled in office time, whatever the PC's clock zone is)."""
    try:
        con = sqlite3.connect(f"file:{db_path.as_posix()}?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("SELECT timezone FROM office ORDER BY id LIMIT 1").fetchone()
        finally:
            con.close()
        return ZoneInfo(row[0] if row and row[0] else DEFAULT_TZ)
    except Exception:  # no office yet, bad zone name: the default zone
        return ZoneInfo(DEFAULT_TZ)


def office_now(db_path: Path) -> dt.datetime:
    """The office's wall-clock time now (naive), which backups are named by."""
    return dt.datetime.now(office_zone(db_path)).replace(tzinfo=None)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class BackupScheduler:
    """Daily backups while the server runs.

    ``tick(now)`` does one check: a backup is due when the folder holds none
    yet, or when the newest one is from an earlier office day and the daily
    time has passed (a PC switched off at that time catches up when it is on
    again).  The thread only calls ``tick`` every ``every`` seconds; tests
    call it with the time they choose."""

    def __init__(self, db_path: Path, settings: BackupSettings,
                 clock: Callable[[], dt.datetime] = utc_now, every: float = 60.0) -> None:
        self.db_path, self.settings, self.clock, self.every = db_path, settings, clock, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_at: dt.datetime | None = None  # after a failure: try again hourly, not each tick

    def due(self, local: dt.datetime) -> bool:
        if self.settings.at is None:
            return False
        daily = [when for when, reason, _p in backups(self.settings.folder) if reason in ("", "manual")]
        if not daily:
            return True
        return daily[-1].date() < local.date() and local.time() >= self.settings.at

    def tick(self, now: dt.datetime | None = None) -> Path | None:
        now = now or self.clock()
        local = now.astimezone(office_zone(self.db_path)).replace(tzinfo=None)
        if not self.due(local) or (self._retry_at is not None and now < self._retry_at):
            return None
        try:
            path = take_backup(self.db_path, self.settings, local)
            removed = rotate(self.settings.folder, self.settings.keep_days, local.date())
        except (BackupError, OSError, sqlite3.Error) as exc:
            text = exc.text() if isinstance(exc, BackupError) else str(exc)
            log.error("automatic backup failed: %s", text)
            write_status(self.settings, error=text, error_at=local.isoformat(timespec="minutes"))
            self._retry_at = now + dt.timedelta(hours=1)
            return None
        self._retry_at = None
        log.info("backup written to %s (%d old backups removed)", path, len(removed))
        write_status(self.settings, error=None, last_ok=local.isoformat(timespec="minutes"),
                     file=str(path))
        return path

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception:  # never let the thread die: the next tick tries again
                log.exception("backup scheduler")

    def start(self) -> "BackupScheduler":
        self._thread = threading.Thread(target=self._run, name="motcua-backup", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
