"""The admin home page and the office settings (name, hours, notice, rating
levels and reasons, announcement and voice, priority policy)."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import models as m
from ..api import get_db
from ..defaults import office_settings
from ..security import current_principal, require
from . import bp
from .common import FormError, audit, checkbox, field, format_hours, int_field, parse_hours, save

VOICE_ENGINES = ("espeak-ng", "clips", "pyttsx3", "none")
NUMBER_MODES = ("words", "digits")
OFFICIAL = ("very_satisfied", "satisfied", "unsatisfied")


@bp.route("/")
@require("admin", html=True)
def index():
    p = current_principal()
    with get_db().read() as s:
        def count(model: Any, *where: Any) -> int:
            return s.scalar(select(func.count()).select_from(model).where(
                model.office_id == p.office_id, *where)) or 0
        stats = {"services": count(m.Service, m.Service.active.is_(True)),
                 "counters": count(m.Counter, m.Counter.active.is_(True)),
                 "users": count(m.User, m.User.active.is_(True)),
                 "devices": count(m.Device, m.Device.revoked.is_(False)),
                 "device_errors": count(m.Device, m.Device.revoked.is_(False),
                                        m.Device.status == "error")}
    return render_template("admin/index.html", stats=stats)


def levels_text(levels: list[dict[str, Any]]) -> str:
    return "\n".join(f"{lv['value']} | {lv['label']} | {lv.get('color', '')} | "
                     f"{lv.get('official', '')} | {'low' if lv.get('low') else ''}".rstrip(" |")
                     for lv in levels)


def parse_levels(text_: str) -> list[dict[str, Any]]:
    faces = ("very_happy", "happy", "neutral", "unhappy", "very_unhappy")
    out = []
    for line in filter(None, (x.strip() for x in text_.splitlines())):
        parts = [x.strip() for x in line.split("|")] + ["", "", "", ""]
        value, label, color, official, low = parts[:5]
        if not value.isdigit() or not label:
            raise FormError("Each rating level is “value | label | colour | official | low”.")
        if official and official not in OFFICIAL:
            raise FormError("Official share must be very_satisfied, satisfied or unsatisfied.")
        out.append({"value": int(value), "label": label, "color": color or "#607d8b",
                    "official": official or "satisfied", "low": low == "low"})
    if not 2 <= len(out) <= 5 or len({lv["value"] for lv in out}) != len(out):
        raise FormError("Give 2 to 5 rating levels with different values.")
    out.sort(key=lambda lv: -lv["value"])
    for i, lv in enumerate(out):  # faces follow the order, happiest first
        lv["face"] = faces[min(i * (len(faces) - 1) // max(1, len(out) - 1), len(faces) - 1)]
    return out


def reasons_text(reasons: list[dict[str, str]]) -> str:
    return "\n".join(f"{r['code']} | {r['label']}" for r in reasons)


def parse_reasons(text_: str) -> list[dict[str, str]]:
    out = []
    for line in filter(None, (x.strip() for x in text_.splitlines())):
        code, _, label = (x.strip() for x in line.partition("|"))
        if not code or not label:
            raise FormError("Each reason is “code | label”.")
        out.append({"code": code[:40], "label": label[:120]})
    return out


def apply_settings(s: Session, office: m.Office) -> None:
    name = field("name")
    if not name:
        raise FormError("The name is required.")
    tz = field("timezone") or "Asia/Ho_Chi_Minh"
    try:
        ZoneInfo(tz)
    except Exception:
        raise FormError("Unknown time zone “{tz}”.", tz=tz) from None
    template = field("announcement_template")
    if "{so}" not in template or "{quay}" not in template:
        raise FormError("The announcement must contain {so} (number) and {quay} (counter).")
    engine, mode = field("voice_engine"), field("voice_number_mode")
    if engine not in VOICE_ENGINES or mode not in NUMBER_MODES:
        raise FormError("Choose a voice engine and a number reading.")
    st = office_settings(office.settings)
    st.update({
        "notice": field("notice")[:1000], "enforce_hours": checkbox("enforce_hours"),
        "display_ticker": checkbox("display_ticker"),
        "rating_levels": parse_levels(field("rating_levels")),
        "rating_reasons": parse_reasons(field("rating_reasons")),
        "rating_timeout_seconds": int_field("rating_timeout_seconds", lo=5, hi=600),
        "rating_min_interval_seconds": int_field("rating_min_interval_seconds", lo=0, hi=60),
        "announcement_template": template[:300], "voice_engine": engine,
        "voice_number_mode": mode, "voice_repeat": int_field("voice_repeat", lo=1, hi=3),
        "priority_run": int_field("priority_run", lo=0, hi=10),
        "normal_run": int_field("normal_run", lo=0, hi=10),
        "aging_minutes": int_field("aging_minutes", lo=1, hi=600),
        "kiosk_priority_step": checkbox("kiosk_priority_step"),
    })
    office.name, office.address, office.timezone = name[:200], field("address")[:300], tz
    office.opening_hours = parse_hours(field("opening_hours")) or {}
    office.settings = st


@bp.route("/settings", methods=["GET", "POST"])
@require("admin", html=True)
def settings():
    p = current_principal()
    if request.method == "POST":
        def do(s: Session) -> None:
            office = s.get(m.Office, p.office_id)
            apply_settings(s, office)
            audit(s, "settings_updated", name=office.name)
        if save(do, "Settings saved."):
            return redirect(url_for("admin.settings"))
    with get_db().read() as s:
        office = s.get(m.Office, p.office_id)
        st = office_settings(office.settings)
    form = {**st, "name": office.name, "address": office.address, "timezone": office.timezone,
            "opening_hours": format_hours(office.opening_hours),
            "rating_levels": levels_text(st["rating_levels"]),
            "rating_reasons": reasons_text(st["rating_reasons"])}
    if request.method == "POST":  # keep what was typed after a refusal
        form.update({k: v for k, v in request.form.items() if k != "csrf_token"})
        for box in ("enforce_hours", "kiosk_priority_step"):
            form[box] = checkbox(box)
    return render_template("admin/settings.html", form=form, engines=VOICE_ENGINES,
                           modes=NUMBER_MODES)
