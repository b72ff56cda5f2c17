"""Texts the lobby kiosk shows, and the small formatting rules behind them.

Message ids are English (``kiosk`` gettext domain, Vietnamese catalog in
``kiosk/locale/vi``).  Kept free of Kivy so tests and the benchmark can use it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from counter_server import hours as office_hours
from counter_server.i18n import translator

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_ = translator(LOCALE_DIR, "kiosk")

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Priority classes of the server (models.PRIORITY_CLASSES) -> (icon, English label).
PRIORITY_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("elderly", "elderly", "Elderly person"),
    ("disability", "disability", "Person with a disability"),
    ("pregnant", "pregnant", "Pregnant woman"),
    ("child", "child", "With a young child"),
    ("merit", "merit", "Person with meritorious service"),
)

#: Button colours: strong, distinct, white text stays readable on each.
SERVICE_COLOURS = ("#1565c0", "#2e7d32", "#c62828", "#6a1b9a", "#bf360c", "#00695c",
                   "#ad1457", "#4e342e")
#: The office's zone until the server says otherwise (the product's default office).
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def service_colour(service: dict[str, Any]) -> str:
    """A service keeps its colour whatever its place on the screen (citizens learn
    "the green one"): chosen by its id, not by its position."""
    return SERVICE_COLOURS[(int(service.get("id") or 1) - 1) % len(SERVICE_COLOURS)]


def day_name(key: str) -> str:
    names = {"mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"),
             "thu": _("Thursday"), "fri": _("Friday"), "sat": _("Saturday"), "sun": _("Sunday")}
    return names[key]


def format_hours(hours: dict[str, Any] | None) -> list[str]:
    """Opening hours as short lines, consecutive days with the same spans grouped.

    ``{"mon": [["07:00","11:30"]], ...}`` -> ``["Thứ Hai – Thứ Sáu: 07:00–11:30"]``.
    """
    if not hours:
        return []
    groups: list[tuple[list[str], str]] = []
    for key in DAY_KEYS:
        spans = hours.get(key) or []
        text = ", ".join(f"{a}–{b}" for a, b in spans)
        if groups and groups[-1][1] == text:
            groups[-1][0].append(key)
        else:
            groups.append(([key], text))
    lines = []
    for days, text in groups:
        if not text:
            continue
        label = day_name(days[0]) if len(days) == 1 else f"{day_name(days[0])} – {day_name(days[-1])}"
        lines.append(f"{label}: {text}")
    return lines


def wait_text(minutes: int | None) -> str:
    if minutes is None:
        return ""
    if minutes <= 0:
        return _("No wait")
    return _("About {minutes} min").format(minutes=minutes)


def waiting_text(count: int) -> str:
    return _("{count} waiting").format(count=count)


def ahead_text(count: int) -> str:
    if count <= 0:
        return _("You are next")
    return _("{count} people ahead of you").format(count=count)


def date_text(now: dt.datetime) -> str:
    weekday = day_name(DAY_KEYS[now.weekday()])
    return f"{weekday}, {now:%d/%m/%Y}"


def office_clock(local_iso: str | None, received_monotonic: float, now_monotonic: float,
                 zone: str | None = None) -> dt.datetime:
    """The office's local time, advanced from the server's last ``local_time``.

    The kiosk PC's own zone and clock may be wrong; the server's value (with
    its UTC offset) is the truth, so the kiosk only adds the time elapsed.
    Before the server answers, the PC's clock is shown in the office's zone
    (remembered from the last answer), never in the PC's own zone.
    """
    if not local_iso:
        try:
            tz = ZoneInfo(zone or DEFAULT_ZONE)
        except Exception:  # noqa: BLE001 - a bad remembered zone: the default office's
            tz = ZoneInfo(DEFAULT_ZONE)
        return dt.datetime.now(tz)
    base = dt.datetime.fromisoformat(local_iso)
    return base + dt.timedelta(seconds=max(0.0, now_monotonic - received_monotonic))


def opens_text(when: dt.datetime | None, now: dt.datetime) -> str:
    """When a closed office or service takes tickets again, in words."""
    if when is None:
        return ""
    time = f"{when:%H:%M}"
    if when.date() == now.date():
        return _("Opens at {time}.").format(time=time)
    if when.date() == now.date() + dt.timedelta(days=1):
        return _("Opens tomorrow at {time}.").format(time=time)
    return _("Opens on {day} {date} at {time}.").format(
        day=day_name(DAY_KEYS[when.weekday()]), date=f"{when:%d/%m}", time=time)


CLOSED_TITLES = {
    office_hours.BEFORE_OPENING: "The office has not opened yet.",
    office_hours.LUNCH_BREAK: "The office is closed for the lunch break.",
    office_hours.AFTER_HOURS: "Working hours are over for today.",
    office_hours.DAY_OFF: "The office is closed today.",
}


def closed_texts(hours: dict[str, Any] | None, now: dt.datetime) -> tuple[str, str]:
    """(why the office is closed, when it opens again) at the office's ``now``."""
    reason = office_hours.closed_reason(hours, now)
    title = _(CLOSED_TITLES.get(reason, "The office is closed now."))
    return title, opens_text(office_hours.next_opening(hours, now), now)


def service_closed_text(service: dict[str, Any], now: dt.datetime) -> str:
    """Why a service's button is grey; a service closed by its own hours gives them."""
    message = service.get("closed_message") or _("Not available now")
    if service.get("closed_reason") == "outside_hours":
        lines = format_hours(service.get("hours"))
        if lines:
            again = opens_text(office_hours.next_opening(service.get("hours"), now), now)
            return _("Takes tickets: {hours}").format(hours="; ".join(lines)) + (
                "\n" + again if again else "")
    return message
