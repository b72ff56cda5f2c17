"""Backups that survive the PC: the scheduler (time injected, no sleeps) takes
the daily backup on a real SQLite file, verifies it, rotates old ones, and the
backup restores (through ``motcua restore``) to a database with every ticket
and rating."""
from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from counter_server import backup as b
from counter_server import engine as e
from counter_server import models as m
from counter_server.db import Database
from counter_server.ratings import create_rating
from tests.conftest import seed_database
from tests.counter_server.engine_support import T0
from tests.counter_server.test_cli import motcua

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    """An office time, as the aware UTC instant a clock would give."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=HCM).astimezone(dt.timezone.utc)


@pytest.fixture
def office_db(tmp_path: Path):
    inst = tmp_path / "inst"
    db_file = inst / "motcua.sqlite3"
    url = f"sqlite:///{db_file.as_posix()}"
    creds = seed_database(url)
    db = Database(url, pool_size=2)
    with db.write() as s:
        for c in s.scalars(select(m.Counter)):
            e.sign_in_counter(s, c.id, creds["users"][f"canbo{c.number}"]["id"], now=T0)
    yield inst, db_file, db, creds
    db.dispose()


def serve_and_rate(db: Database, creds: dict, n: int, at: dt.datetime) -> list[str]:
    """Issue, call, complete and rate ``n`` tickets; returns their codes."""
    codes = []
    counter = creds["counters"]["1"]
    for i in range(n):
        when = at + dt.timedelta(minutes=i)
        with db.write() as s:
            t = e.issue_ticket(s, creds["office_id"], creds["services"]["HT"], now=when).ticket
            codes.append(t.code)
        with db.write() as s:
            called = e.call_next(s, counter, None, now=when)
            e.start(s, called.id, counter, None, now=when)
            e.complete(s, called.id, counter, None, now=when)
        with db.write() as s:
            create_rating(s, creds["office_id"], ticket_code=codes[-1], level=4, now=when)
    return codes


def settings_for(inst: Path, keep_days: int = 3) -> b.BackupSettings:
    return b.BackupSettings.from_env(inst, {"MOTCUA_BACKUP_TIME": "12:30",
                                            "MOTCUA_BACKUP_KEEP_DAYS": str(keep_days)})


def test_daily_backup_on_schedule_rotated_and_restored(office_db, tmp_path: Path):
    inst, db_file, db, creds = office_db
    settings = settings_for(inst, keep_days=3)
    scheduler = b.BackupScheduler(db_file, settings, clock=lambda: pytest.fail("clock not injected"))
    codes = serve_and_rate(db, creds, 3, T0)

    first = scheduler.tick(local(2026, 11, 26, 9, 0))  # no backup yet: at once
    assert first is not None and first.name == "motcua-20261126-090000.sqlite3"
    assert scheduler.tick(local(2026, 11, 26, 13, 0)) is None  # one a day
    assert scheduler.tick(local(2026, 11, 27, 12, 29)) is None  # not before 12:30
    codes += serve_and_rate(db, creds, 2, T0 + dt.timedelta(days=1))
    second = scheduler.tick(local(2026, 11, 27, 12, 30))
    assert second is not None and second.name == "motcua-20261127-123000.sqlite3"
    # The PC was off for three days: the next start catches up, and backups
    # older than three days go.
    for day in (28, 29, 30):
        assert scheduler.tick(local(2026, 11, day, 12, 31)) is not None
    names = [p.name for _w, _r, p in b.backups(settings.folder)]
    assert names == ["motcua-20261128-123100.sqlite3", "motcua-20261129-123100.sqlite3",
                     "motcua-20261130-123100.sqlite3"]
    assert b.read_status(settings)["file"].endswith("motcua-20261130-123100.sqlite3")
    assert not b.problems(settings, db_file, dt.datetime(2026, 11, 30, 13, 0))

    # Every backup is one self-contained file that reads back whole.
    newest = b.backups(settings.folder)[-1][2]
    assert not Path(str(newest) + "-wal").exists()
    assert b.read_counts(newest)["ticket"] == 5 and b.read_counts(newest)["rating"] == 5

    # Later work is lost on purpose by restoring the backup of the 30th.
    serve_and_rate(db, creds, 1, T0 + dt.timedelta(days=5))
    db.dispose()
    r = motcua(inst, "restore", str(newest), "--yes")
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(db_file) as con:
        assert sorted(c for (c,) in con.execute("select code from ticket")) == sorted(codes)
        assert con.execute("select count(*) from rating r join ticket t on t.id = r.ticket_id "
                           "where r.level = 4").fetchone()[0] == 5
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    pre = [p for _w, reason, p in b.backups(settings.folder) if reason == "pre-restore"]
    assert len(pre) == 1 and b.read_counts(pre[0])["ticket"] == 6  # what was replaced is kept


def test_failures_are_reported_not_retried_every_minute(office_db, tmp_path: Path):
    inst, db_file, _db, _creds = office_db
    usb = tmp_path / "usb"
    settings = b.BackupSettings.from_env(inst, {"MOTCUA_BACKUP_DIR": str(usb)})
    scheduler = b.BackupScheduler(db_file, settings)
    assert scheduler.tick(local(2026, 11, 26, 13, 0)) is None
    assert not usb.exists()  # a folder the administrator named is never created
    status = b.read_status(settings)
    assert str(usb) in status["error"]
    texts = [p.text() for p in b.problems(settings, db_file, dt.datetime(2026, 11, 26, 13, 1))]
    assert any(str(usb) in t and "không tồn tại" in t for t in texts), texts
    usb.mkdir()
    assert scheduler.tick(local(2026, 11, 26, 13, 30)) is None  # waits an hour after a failure
    assert scheduler.tick(local(2026, 11, 26, 14, 1)) is not None
    assert b.read_status(settings)["error"] is None


def test_backup_refuses_a_copy_missing_rows(office_db, tmp_path: Path, monkeypatch):
    """Verification by reading back: a copy with fewer rows than the database is no backup."""
    inst, db_file, _db, _creds = office_db
    real = b.read_counts

    def fewer_after(path: Path) -> dict[str, int]:
        counts = real(path)
        if path.name.endswith(".part"):
            counts["ticket"] -= 1
        return counts

    serve_and_rate(_db, _creds, 1, T0)
    monkeypatch.setattr(b, "read_counts", fewer_after)
    with pytest.raises(b.BackupError, match="ticket"):
        b.backup_file(db_file, tmp_path / "x.sqlite3")
    assert not list(tmp_path.glob("x.sqlite3*"))


def test_migration_takes_a_backup_first(tmp_path: Path):
    from alembic import command

    from counter_server.migrate import alembic_config, upgrade

    db_file = tmp_path / "motcua.sqlite3"
    url = f"sqlite:///{db_file.as_posix()}"
    upgrade(url)
    assert not (tmp_path / "backups").exists()  # a fresh database: nothing to keep
    command.downgrade(alembic_config(url), "0004_reports")  # an older version's schema
    taken = upgrade(url, settings_for(tmp_path))
    assert taken is not None and taken.name.endswith("-pre-migrate.sqlite3")
    assert b.read_counts(taken)["ticket"] == 0
    assert upgrade(url, settings_for(tmp_path)) is None  # up to date: no backup
