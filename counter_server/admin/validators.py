"""The rules an office's set-up must follow, once, for the admin forms and the TOML import.

Each function reads a :class:`~.common.Fields` (the form as sent, or a TOML
row written out as the form would send it) and returns clean values or
raises :class:`~.common.FormError` with the Vietnamese reason.
"""
from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .common import Fields, FormError, format_hours, parse_hours
from .sms_settings import sms_values

VOICE_ENGINES = ("espeak-ng", "clips", "pyttsx3", "none")
NUMBER_MODES = ("words", "digits")
OFFICIAL = ("very_satisfied", "satisfied", "unsatisfied")
FACES = ("very_happy", "happy", "neutral", "unhappy", "very_unhappy")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Announcement placeholders: the ticket number and the counter, with or without accents.
NUMBER_SLOTS, COUNTER_SLOTS = ("số", "so"), ("quầy", "quay")
_SLOT = re.compile(r"\{([^{}]*)\}")


# ------------------------------------------------------------------ services

# The settings form's tick boxes (an unticked box is absent from the form).
CHECKBOXES = ("enforce_hours", "kiosk_priority_step", "display_ticker", "kiosk_speech_default",
              "sms_enabled")

def service_values(f: Fields) -> dict[str, Any]:
    """One service's own fields, checked (clashes with other services: :func:`check_blocks`)."""
    code = f.text("code").upper()
    if not code or len(code) > 20 or not code.replace("_", "").isalnum():
        raise FormError("The code must be 1–20 letters or digits.")
    name = f.text("name")
    if not name:
        raise FormError("The name is required.")
    start = f.int("number_start", lo=0, hi=999_999)
    end = f.int("number_end", lo=0, hi=999_999)
    if end < start:
        raise FormError("The last number must not be below the first.")
    prefix = f.text("prefix").upper()
    if len(prefix) > 5 or not prefix.replace("_", "").isalnum() and prefix:
        raise FormError("The prefix has at most 5 letters or digits.")
    return {"code": code, "name": name[:200], "prefix": prefix, "number_start": start,
            "number_end": end,
            "daily_cap": f.int("daily_cap", required=False, lo=1, hi=999_999),
            "hours": parse_hours(f.text("hours")), "icon": f.text("icon")[:100],
            "sort_order": f.int("sort_order", lo=-1000, hi=1000),
            "default_service_minutes": f.int("default_service_minutes", lo=1, hi=600),
            "active": f.check("active")}


def _block(svc: Any) -> str:
    prefix = svc.prefix or ""
    return f"{prefix}{svc.number_start}–{prefix}{svc.number_end}"


def check_blocks(services: Iterable[Any]) -> None:
    """No two services of an office may print the same number on the same day.

    Numbers are the prefix followed by the number: the same prefix needs
    blocks that do not overlap, and a prefix may not be another one followed
    by digits ("A1" + 001 would read like "A" + 1001)."""
    rows = list(services)
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            pa, pb = a.prefix or "", b.prefix or ""
            if pa == pb:
                if a.number_start <= b.number_end and b.number_start <= a.number_end:
                    raise FormError("The numbers {block} of {code} overlap those of {other} "
                                    "({other_block}); the same day would print the same "
                                    "number twice.", block=_block(a), code=a.code,
                                    other=b.code, other_block=_block(b))
                continue
            short, long_ = sorted((pa, pb), key=len)
            if long_.startswith(short) and long_[len(short):].isdigit():
                raise FormError("The prefix “{prefix}” of {code} reads like “{other_prefix}” "
                                "of {other} followed by digits: choose another letter.",
                                prefix=pa, code=a.code, other_prefix=pb, other=b.code)


def weight(raw: Any) -> int:
    """A counter's weight for one service (the form's box or a file's number)."""
    text_ = str(raw).strip() or "1"
    if isinstance(raw, bool) or not text_.isdigit() or not 1 <= int(text_) <= 10:
        raise FormError("A weight is a whole number from 1 to 10.")
    return int(text_)


def as_form_text(value: Any) -> str:
    """A value read from a TOML file, written as the form would send it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, dict):
        return hours_text(value)
    return str(value)


# ------------------------------------------------------------------ office settings
def colour(value: str, where: str) -> str:
    if not COLOUR.match(value):
        raise FormError("“{value}” in {where} is not a colour like #1b9e3e.", value=value,
                        where=where)
    return value.lower()


def parse_levels(text_: str) -> list[dict[str, Any]]:
    out = []
    for line in filter(None, (x.strip() for x in text_.splitlines())):
        parts = [x.strip() for x in line.split("|")] + ["", "", "", ""]
        value, label, col, official, low = parts[:5]
        if not value.isdigit() or not label:
            raise FormError("Each rating level is “value | label | colour | official | low”.")
        if official and official not in OFFICIAL:
            raise FormError("Official share must be very_satisfied, satisfied or unsatisfied.")
        out.append({"value": int(value), "label": label[:60],
                    "color": colour(col, label) if col else "#607d8b",
                    "official": official or "satisfied", "low": low == "low"})
    if not 2 <= len(out) <= 5 or len({lv["value"] for lv in out}) != len(out):
        raise FormError("Give 2 to 5 rating levels with different values.")
    out.sort(key=lambda lv: -lv["value"])
    for i, lv in enumerate(out):  # faces follow the order, happiest first
        lv["face"] = FACES[min(i * (len(FACES) - 1) // max(1, len(out) - 1), len(FACES) - 1)]
    return out


def levels_text(levels: list[dict[str, Any]]) -> str:
    return "\n".join(f"{lv['value']} | {lv['label']} | {lv.get('color', '')} | "
                     f"{lv.get('official', '')} | {'low' if lv.get('low') else ''}".rstrip(" |")
                     for lv in levels)


def parse_reasons(text_: str) -> list[dict[str, str]]:
    out = []
    for line in filter(None, (x.strip() for x in text_.splitlines())):
        code, _, label = (x.strip() for x in line.partition("|"))
        if not code or not label:
            raise FormError("Each reason is “code | label”.")
        out.append({"code": code[:40], "label": label[:120]})
    return out


def reasons_text(reasons: list[dict[str, str]]) -> str:
    return "\n".join(f"{r['code']} | {r['label']}" for r in reasons)


def announcement(template: str) -> str:
    """``{số}``/``{so}`` and ``{quầy}``/``{quay}`` each once at least; nothing else in braces."""
    slots = _SLOT.findall(template)
    unknown = [x for x in slots if x not in NUMBER_SLOTS + COUNTER_SLOTS]
    if unknown or template.count("{") != len(slots) or template.count("}") != len(slots):
        raise FormError("The announcement knows only {{số}} (number) and {{quầy}} (counter), "
                        "not “{slot}”.", slot="{" + (unknown[0] if unknown else "") + "}")
    if not set(slots) & set(NUMBER_SLOTS) or not set(slots) & set(COUNTER_SLOTS):
        raise FormError("The announcement must contain {số} (number) and {quầy} (counter).")
    return template[:300]


def public_url(value: str) -> str:
    """The address phones open from the ticket's QR: http(s)://host[:port][/path], no query."""
    value = value.strip().rstrip("/")
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or parts.query or parts.fragment or " " in value):
        raise FormError("The address phones use must look like http://192.168.1.10:8080.")
    return value[:200]


def settings_values(f: Fields) -> tuple[dict[str, Any], dict[str, Any]]:
    """(office columns, settings) from the settings form; unknown settings keys are kept
    by the caller."""
    name = f.text("name")
    if not name:
        raise FormError("The name is required.")
    tz = f.text("timezone") or "Asia/Ho_Chi_Minh"
    try:
        ZoneInfo(tz)
    except Exception:
        raise FormError("Unknown time zone “{tz}”.", tz=tz) from None
    engine, mode = f.text("voice_engine"), f.text("voice_number_mode")
    if engine not in VOICE_ENGINES or mode not in NUMBER_MODES:
        raise FormError("Choose a voice engine and a number reading.")
    priority_run = f.int("priority_run", lo=0, hi=10)
    normal_run = f.int("normal_run", lo=0, hi=10)
    if priority_run == 0 and normal_run == 0:
        raise FormError("The priority policy needs at least one ticket in a row "
                        "(priority or normal).")
    office = {"name": name[:200], "address": f.text("address")[:300], "timezone": tz,
              "opening_hours": parse_hours(f.text("opening_hours")) or {}}
    settings = {
        "notice": f.text("notice")[:1000], "enforce_hours": f.check("enforce_hours"),
        "rating_levels": parse_levels(f.text("rating_levels")),
        "rating_reasons": parse_reasons(f.text("rating_reasons")),
        "rating_timeout_seconds": f.int("rating_timeout_seconds", lo=5, hi=600),
        "rating_min_interval_seconds": f.int("rating_min_interval_seconds", lo=0, hi=60),
        "announcement_template": announcement(f.text("announcement_template")),
        "voice_engine": engine, "voice_number_mode": mode,
        "voice_repeat": f.int("voice_repeat", lo=1, hi=3),
        "priority_run": priority_run, "normal_run": normal_run,
        "aging_minutes": f.int("aging_minutes", lo=1, hi=600),
        "kiosk_priority_step": f.check("kiosk_priority_step"),
        "kiosk_speech_default": f.check("kiosk_speech_default"),
        "display_ticker": f.check("display_ticker"),
        "public_url": public_url(f.text("public_url")),
        "wifi_hint": f.text("wifi_hint")[:80],
    }
    idle = f.int("idle_close_minutes", required=False, lo=0, hi=480)
    if idle is not None:  # (left out: the stored value stays)
        settings["idle_close_minutes"] = idle
    near = f.int("near_alert_places", required=False, lo=0, hi=50)
    if near is not None:  # (left out: the stored value stays)
        settings["near_alert_places"] = near
    settings.update(sms_values(f))
    return office, settings


def settings_form(office: Any, st: dict[str, Any]) -> dict[str, Any]:
    """The settings form's fields as text, from stored values (the page and the import)."""
    form = {k: v for k, v in st.items() if isinstance(v, (str, int, bool))}
    form.update({"name": office["name"], "address": office.get("address") or "",
                 "timezone": office.get("timezone") or "",
                 "opening_hours": hours_text(office.get("opening_hours")),
                 "rating_levels": levels_text(st["rating_levels"]),
                 "rating_reasons": reasons_text(st["rating_reasons"])})
    for box in CHECKBOXES:
        form[box] = "on" if st.get(box) else ""
    return form


def hours_text(hours: Any) -> str:
    """Stored hours (maybe from a file, any day names) written as the form's text."""
    if not hours:
        return ""
    if not isinstance(hours, dict):
        raise FormError("Hours must look like 07:00-11:30 (got “{span}”).", span=str(hours))
    for day, spans in hours.items():
        if not isinstance(spans, list) or not all(isinstance(x, list) and len(x) == 2
                                                  for x in spans):
            raise FormError("Hours must look like 07:00-11:30 (got “{span}”).", span=str(spans))
    return format_hours(hours)
