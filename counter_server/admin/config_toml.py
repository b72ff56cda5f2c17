"""The whole office configuration as one TOML file (tomli-w writes, tomllib reads).

Exported: office (name, address, zone, hours, settings), services, counters
with their service weights, accounts (no password hashes) and devices (no
tokens).  Import updates by natural key (service code, counter number,
username) inside one transaction: any error leaves everything unchanged.
New accounts get a random password the admin must reset; devices are never
created from a file, because their tokens cannot travel in it.
"""
from __future__ import annotations

import datetime as dt
import secrets
import tomllib
from typing import Any

import tomli_w
from flask import Response, flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import models as m
from ..api import get_db
from ..console import t
from ..security import current_principal, hash_password, require
from . import bp
from ..defaults import office_settings
from .catalog import apply_service
from .common import Fields, FormError, audit, save
from .office import apply_settings
from .validators import as_form_text, settings_form, weight

MAX_FILE = 512 * 1024
SERVICE_KEYS = ("code", "name", "icon", "prefix", "number_start", "number_end", "daily_cap",
                "hours", "sort_order", "active", "default_service_minutes")
#: A service that is new in the file starts from the form's own defaults.
NEW_SERVICE = {"active": "on", "sort_order": "0", "default_service_minutes": "8"}


def _clean(v: Any) -> Any:
    """TOML has no null: drop None values, recursively."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_clean(x) for x in v if x is not None]
    return v


def export_config(s: Session, office_id: int) -> dict[str, Any]:
    office = s.get(m.Office, office_id)
    services = list(s.scalars(select(m.Service).where(m.Service.office_id == office_id)
                              .order_by(m.Service.sort_order, m.Service.id)))
    codes = {sv.id: sv.code for sv in services}
    counters = []
    for c in s.scalars(select(m.Counter).where(m.Counter.office_id == office_id)
                       .order_by(m.Counter.number)):
        counters.append({"number": c.number, "name": c.name, "active": c.active,
                         "services": [{"code": codes[cs.service_id], "weight": cs.weight}
                                      for cs in c.services if cs.service_id in codes]})
    by_id = {c.id: c.number for c in s.scalars(select(m.Counter).where(
        m.Counter.office_id == office_id))}
    return _clean({
        "format": "motcua-office-config", "version": 1,
        "exported_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "office": {"name": office.name, "address": office.address, "timezone": office.timezone,
                   "opening_hours": office.opening_hours or {}, "settings": office.settings or {}},
        "services": [{k: getattr(sv, k) for k in SERVICE_KEYS} for sv in services],
        "counters": counters,
        "users": [{"username": u.username, "full_name": u.full_name, "role": u.role,
                   "active": u.active} for u in s.scalars(select(m.User).where(
                       m.User.office_id == office_id).order_by(m.User.username))],
        "devices": [{"name": d.name, "kind": d.kind, "counter": by_id.get(d.counter_id),
                     "revoked": d.revoked} for d in s.scalars(select(m.Device).where(
                         m.Device.office_id == office_id).order_by(m.Device.id))],
    })


def _need(cond: bool, message: str, **params: Any) -> None:
    if not cond:
        raise FormError(message, **params)


def import_config(s: Session, office_id: int, data: dict[str, Any], admin_id: int) -> dict[str, int]:
    """Apply a parsed file; returns counts of what changed."""
    _need(data.get("format") == "motcua-office-config", "This is not a motcua configuration file.")
    office = s.get(m.Office, office_id)
    o = data.get("office", {})
    if o:
        _need(isinstance(o, dict), "This is not a motcua configuration file.")
        stored = office_settings({**(office.settings or {}), **(o.get("settings") or {})})
        apply_settings(office, Fields(settings_form({
            "name": o.get("name", office.name), "address": o.get("address", office.address),
            "timezone": o.get("timezone", office.timezone),
            "opening_hours": o.get("opening_hours", office.opening_hours)}, stored)))
        office.settings = {**stored, **office.settings}
    done = {"services": 0, "counters": 0, "users": 0}
    svc_by_code = {sv.code: sv for sv in s.scalars(select(m.Service).where(
        m.Service.office_id == office_id))}
    for row in data.get("services", []):
        _need(isinstance(row, dict), "Each service needs a code and a name.")
        code = str(row.get("code", "")).strip().upper()
        _need(bool(code) and bool(row.get("name")), "Each service needs a code and a name.")
        sv = svc_by_code.get(code)
        fields = ({k: as_form_text(getattr(sv, k)) for k in SERVICE_KEYS if k != "daily_cap"}
                  if sv else dict(NEW_SERVICE))
        fields.update({k: as_form_text(row[k]) for k in SERVICE_KEYS if k in row})
        if sv is None:
            sv = m.Service(office_id=office_id)
        apply_service(s, sv, office_id, Fields(fields))
        s.add(sv)
        s.flush()
        svc_by_code[code] = sv
        done["services"] += 1
    s.flush()
    ctr_by_num = {c.number: c for c in s.scalars(select(m.Counter).where(
        m.Counter.office_id == office_id))}
    for row in data.get("counters", []):
        num = row.get("number")
        _need(isinstance(num, int) and num > 0, "Each counter needs a number.")
        c = ctr_by_num.get(num) or m.Counter(office_id=office_id, number=num, state="closed")
        c.name, c.active = row.get("name", c.name or f"Quầy {num}"), bool(row.get("active", True))
        links = []
        for link in row.get("services", []):
            sv = svc_by_code.get(str(link.get("code", "")).upper())
            _need(sv is not None, "Counter {number} names an unknown service {code}.",
                  number=num, code=link.get("code"))
            links.append((sv.id, weight(link.get("weight", 1))))
        old = {cs.service_id: cs for cs in c.services}
        c.services = [old[sid] if sid in old else m.CounterService(service_id=sid, weight=w)
                      for sid, w in links]
        for cs, (_sid, w) in zip(c.services, links):
            cs.weight = w
        s.add(c)
        done["counters"] += 1
    for row in data.get("users", []):
        name = str(row.get("username", "")).strip().lower()
        _need(bool(name) and row.get("role") in m.ROLES, "Each account needs a username and a role.")
        u = s.scalar(select(m.User).where(m.User.username == name))
        if u is None:
            u = m.User(office_id=office_id, username=name,
                       password_hash=hash_password(secrets.token_urlsafe(24)))
            s.add(u)
        elif u.office_id != office_id:
            raise FormError("User {name} already exists.", name=name)
        if u.id != admin_id:  # never lock oneself out by import
            if (u.role, u.active) != (row["role"], bool(row.get("active", True))):
                u.session_version = (u.session_version or 0) + 1
            u.role, u.active = row["role"], bool(row.get("active", True))
        u.full_name = row.get("full_name", u.full_name or name)
        done["users"] += 1
    s.flush()
    return done


@bp.route("/config.toml")
@require("admin", html=True)
def config_export():
    p = current_principal()
    with get_db().read() as s:
        body = tomli_w.dumps(export_config(s, p.office_id))
    stamp = dt.date.today().isoformat()
    return Response(body, mimetype="application/toml", headers={
        "Content-Disposition": f'attachment; filename="motcua-config-{stamp}.toml"'})


@bp.route("/config/import", methods=["POST"])
@require("admin", html=True)
def config_import():
    p = current_principal()
    upload = request.files.get("file")
    raw = upload.read(MAX_FILE + 1) if upload else b""
    if not raw:
        flash(t("Choose a TOML file."), "error")
        return redirect(url_for("admin.settings"))
    if len(raw) > MAX_FILE:
        flash(t("The file is too large."), "error")
        return redirect(url_for("admin.settings"))
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        flash(t("The file is not valid TOML: {error}").format(error=err), "error")
        return redirect(url_for("admin.settings"))

    def do(s: Session) -> dict[str, int]:
        try:
            out = import_config(s, p.office_id, data, p.user_id)
        except (TypeError, ValueError, AttributeError, KeyError) as err:
            if isinstance(err, FormError):
                raise
            raise FormError("The file is not valid TOML: {error}", error=str(err)) from None
        audit(s, "config_imported", **out)
        return out
    save(do, "Configuration imported.")
    return redirect(url_for("admin.settings"))
