"""``motcua check``: is this installation ready to run an office today?

Each check gives ``ok``, ``warn`` (works, but look at it) or ``fail`` (must be
fixed): the database and its schema, the office and its time zone, the
clock, free disk space, backups, the voice engine and network printers.
"""
from __future__ import annotations

import datetime as dt
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from . import backup as b
from . import models as m
from .i18n import _

FAIL_FREE = 200 * 1024 * 1024
WARN_FREE = 1024 * 1024 * 1024
PRINTER_TIMEOUT = 2.0


@dataclass
class Result:
    level: str  # ok | warn | fail
    name: str
    detail: str


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _disk(folder: Path) -> Result:
    free = shutil.disk_usage(_existing(folder)).free
    level = "fail" if free < FAIL_FREE else "warn" if free < WARN_FREE else "ok"
    return Result(level, _("Disk space"), _("{free} free in {folder}").format(
        free=b.human_bytes(free), folder=folder))


def _printer(settings: dict[str, Any]) -> str | None:
    """Why a configured network printer cannot be reached (None: it can)."""
    host, port = settings.get("host"), int(settings.get("port", 9100))
    try:
        with socket.create_connection((host, port), timeout=PRINTER_TIMEOUT):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def printer_result(settings: dict[str, Any], where: str = "") -> Result:
    """A kiosk's printer settings (the JSON of ``motcua kiosk --printer``):
    a network printer must answer on its port, a file or device node exist."""
    name, kind = _("Printers"), settings.get("kind", "preview")
    label = f"{where + ': ' if where else ''}{kind}"
    if kind == "network" and settings.get("host"):
        why = _printer(settings)
        target = f"{settings['host']}:{settings.get('port', 9100)}"
        return Result("fail" if why else "ok", name, f"{label} {target} {why or _('reachable')}")
    if kind == "file" and settings.get("devfile"):
        ok = Path(settings["devfile"]).exists()
        return Result("ok" if ok else "fail", name, f"{label} {settings['devfile']} " +
                      (_("reachable") if ok else _("not found")))
    return Result("ok", name, _("{printer}: not checked from here").format(printer=label))


def _voice(st: dict[str, Any]) -> Result:
    name = _("Voice engine")
    engine = st.get("voice_engine") or "espeak-ng"
    try:
        from display.state import voice_overrides
        from display.voice.engines import get_engine
        from display.voice.settings import VoiceSettings

        block = {k: st.get(k) for k in ("announcement_template", "voice_engine",
                                        "voice_number_mode", "voice_repeat")}
        ready = get_engine(VoiceSettings.from_dict(voice_overrides(block))).available()
    except Exception as exc:  # an engine that cannot even load: say why
        return Result("warn", name, f"{engine}: {exc}")
    if ready:
        return Result("ok", name, engine)
    return Result("warn", name, _("{engine} is not installed on this PC: announcements stay silent "
                                  "(install espeak-ng, or choose another engine).").format(engine=engine))


def run_checks(url: str, settings: b.BackupSettings, now: dt.datetime | None = None,
               printers: tuple[dict[str, Any], ...] = ()) -> Iterator[Result]:
    from .db import Database
    from .defaults import office_settings
    from .migrate import pending

    now = now or dt.datetime.now(dt.timezone.utc)
    u = make_url(url)
    db_file = Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None
    name = _("Database")
    if db_file is not None and not db_file.is_file():
        yield Result("fail", name, _("No database at {path}: run 'motcua init' first.").format(path=db_file))
        return
    db = Database(url, pool_size=1)
    try:
        with db.read() as s:
            if db_file is not None:
                verdict = s.execute(text("PRAGMA integrity_check")).scalar()
            else:
                verdict = "ok" if s.execute(text("SELECT 1")).scalar() == 1 else "?"
        if verdict != "ok":
            yield Result("fail", name, _("damaged: {detail}").format(detail=verdict))
        elif pending(url):
            yield Result("warn", name, _("the schema is older than this version: run 'motcua init'"))
        else:
            yield Result("ok", name, make_url(url).render_as_string(hide_password=True))
        with db.read() as s:
            office = s.scalar(select(m.Office).order_by(m.Office.id))
            latest_event = s.scalar(select(func.max(m.Event.created_at)))
            devices = list(s.scalars(select(m.Device).where(m.Device.revoked.is_(False))))
            st = office_settings(office.settings) if office else {}
            office_info = (office.name, office.timezone) if office else None
    finally:
        db.dispose()

    name = _("Office")
    zone = None
    if office_info is None:
        yield Result("fail", name, _("No office yet: run 'motcua init' first."))
    else:
        try:
            zone = ZoneInfo(office_info[1])
            yield Result("ok", name, f"{office_info[0]} ({office_info[1]})")
        except (ZoneInfoNotFoundError, ValueError):
            yield Result("fail", name, _("Unknown time zone “{tz}” (for example Asia/Ho_Chi_Minh).")
                         .format(tz=office_info[1]))

    name = _("Clock")
    pc_local = now.astimezone()
    detail = _("PC: {pc} ({pc_zone})").format(pc=f"{pc_local:%d/%m/%Y %H:%M}",
                                              pc_zone=pc_local.tzname())
    if zone is not None:
        detail += "; " + _("office: {office}").format(office=f"{now.astimezone(zone):%d/%m/%Y %H:%M}")
    if now.year < 2025:
        yield Result("fail", name, detail + "; " + _("the PC's date is wrong"))
    elif latest_event is not None and latest_event - now.replace(tzinfo=None) > dt.timedelta(minutes=5):
        yield Result("fail", name, detail + "; " + _("the clock is behind the newest ticket event "
                                                     "({at} UTC): set the date and time").format(
            at=f"{latest_event:%d/%m/%Y %H:%M}"))
    elif zone is not None and pc_local.utcoffset() != now.astimezone(zone).utcoffset():
        yield Result("warn", name, detail + "; " + _("the PC's time zone is not the office's "
                                                     "(motcua uses the office's)"))
    else:
        yield Result("ok", name, detail)

    yield _disk(db_file.parent if db_file is not None else Path.cwd())

    name = _("Backups")
    if db_file is None:
        yield Result("warn", name, _("PostgreSQL: back up with pg_dump (docs/operations.md)"))
    else:
        local = now.astimezone(zone).replace(tzinfo=None) if zone else now.replace(tzinfo=None)
        found = False
        for problem in b.problems(settings, db_file, local):
            found = True
            yield Result("fail", name, problem.text())
        if not found:
            newest = b.backups(settings.folder)
            yield Result("ok" if newest else "warn", name, (
                _("newest: {file}").format(file=newest[-1][2]) if newest else
                _("none yet in {folder} (the server takes one a day)").format(folder=settings.folder)))

    yield _voice(st)

    checked = 0
    for d in devices:
        printer = (d.settings or {}).get("printer") or {}
        if printer:
            checked += 1
            yield printer_result(printer, d.name)
        if d.kind == "kiosk" and d.status == "error":
            yield Result("warn", _("Printers"), _("{device} reports: {error}").format(
                device=d.name, error=d.last_error))
    for printer in printers:
        checked += 1
        yield printer_result(printer)
    if not checked:
        yield Result("ok", _("Printers"), _("no network printer in the device settings (a kiosk's "
                                            "printer is given with --printer on the kiosk PC)"))
