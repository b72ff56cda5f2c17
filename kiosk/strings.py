"""Texts the lobby kiosk shows, and the small formatting rules behind them.

Message ids are English (``kiosk`` gettext domain, Vietnamese catalog in
``kiosk/locale/vi``).  Kept free of Kivy so tests and the benchmark can use it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

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

#: Button colours by position: strong, distinct, white text stays readable on each.
SERVICE_COLOURS = ("#1565c0", "#2e7d32", "#c62828", "#6a1b9a", "#bf360c", "#00695c",
                   "#ad1457", "#4e342e")


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


def office_clock(local_iso: str | None, received_monotonic: float, now_monotonic: float) -> dt.datetime:
    """The office's local time, advanced from the server's last ``local_time``.

    The kiosk PC's own zone and clock may be wrong; the server's value (with
    its UTC offset) is the truth, so the kiosk only adds the time elapsed.
    """
    if not local_iso:
        return dt.datetime.now()
    base = dt.datetime.fromisoformat(local_iso)
    return base + dt.timedelta(seconds=max(0.0, now_monotonic - received_monotonic))
