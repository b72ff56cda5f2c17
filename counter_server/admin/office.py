"""The admin home page and the office settings (name, hours, notice, rating
levels and reasons, announcement and voice, priority policy)."""
from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import models as m
from ..api import get_db
from ..defaults import office_settings
from ..security import current_principal, require
from . import bp
from .common import Fields, audit, checkbox, form, save
from .validators import CHECKBOXES, NUMBER_MODES, VOICE_ENGINES, settings_form, settings_values


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


def apply_settings(office: m.Office, f: Fields) -> None:
    """Check the settings form (or an imported file written as one) and store it; settings
    the form does not show (other parts' keys) are kept."""
    columns, values = settings_values(f)
    for k, v in columns.items():
        setattr(office, k, v)
    office.settings = {**office_settings(office.settings), **values}


def current_form(office: m.Office) -> dict[str, Any]:
    return settings_form({"name": office.name, "address": office.address,
                          "timezone": office.timezone, "opening_hours": office.opening_hours},
                         office_settings(office.settings))


@bp.route("/settings", methods=["GET", "POST"])
@require("admin", html=True)
def settings():
    p = current_principal()
    if request.method == "POST":
        def do(s: Session) -> None:
            office = s.get(m.Office, p.office_id)
            apply_settings(office, form())
            audit(s, "settings_updated", name=office.name)
        if save(do, "Settings saved."):
            return redirect(url_for("admin.settings"))
    with get_db().read() as s:
        values = current_form(s.get(m.Office, p.office_id))
    if request.method == "POST":  # keep what was typed after a refusal
        values.update({k: v for k, v in request.form.items() if k != "csrf_token"})
        for box in CHECKBOXES:
            values[box] = checkbox(box)
    return render_template("admin/settings.html", form=values, engines=VOICE_ENGINES,
                           modes=NUMBER_MODES)
