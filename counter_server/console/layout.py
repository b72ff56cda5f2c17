"""What every page built on ``base.html`` needs: office name and the role's menu.

Registered app-wide so the reports, phone and display pages of other
blueprints can extend the same layout."""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from sqlalchemy import select

from .. import models as m
from ..api import get_db
from ..security import AuthError, current_principal
from . import bp

# (endpoint, English label, roles)
NAV = (
    ("console.index", "Counter", ("staff",)),
    ("reports.dashboard", "Reports", ("leader", "admin")),
    ("admin.index", "Administration", ("admin",)),
    ("admin.audit", "Audit log", ("admin", )),
    ("console.account", "My account", ("staff", "leader", "admin")),
)


@bp.app_context_processor
def layout_context() -> dict[str, Any]:
    try:
        p = current_principal()
    except AuthError:
        p = None
    office_name = ""
    with get_db().read() as s:
        if p is not None:
            office = s.get(m.Office, p.office_id)
        else:
            office = s.scalar(select(m.Office).order_by(m.Office.id))
        office_name = office.name if office else ""
    nav = []
    if p is not None and not p.is_device:
        for endpoint, label, roles in NAV:
            if p.role in roles and endpoint in current_app.view_functions:
                nav.append({"url": url_for(endpoint), "label": label, "endpoint": endpoint})
    return {"office_name": office_name, "principal": p, "nav": nav}
