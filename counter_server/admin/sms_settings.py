"""The office's optional SMS/Zalo gateway on the settings page: its fields, checked
once for the form and the TOML import, and today's failures (counter_server/notify_sms.py)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .. import models as m
from ..api import get_db
from ..notify_sms import DEFAULT_TEMPLATE, recent_failures, template_problem
from ..security import current_principal
from . import bp
from .common import Fields, FormError


def gateway_url(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or " " in value:
        raise FormError("The gateway address must look like http://192.168.1.20:9000/sms.")
    return value[:500]


def sms_values(f: Fields) -> dict[str, Any]:
    """The gateway settings of the form; a field the form leaves out keeps its stored value."""
    out: dict[str, Any] = {"sms_enabled": f.check("sms_enabled")}
    if "sms_webhook_url" in f.values:
        out["sms_webhook_url"] = gateway_url(f.text("sms_webhook_url"))
        if out["sms_enabled"] and not out["sms_webhook_url"]:
            raise FormError("Give the gateway's address to send messages.")
    if "sms_body_template" in f.values:
        template = f.text("sms_body_template") or DEFAULT_TEMPLATE
        problem = template_problem(template)
        if problem:
            raise FormError(problem[0], **problem[1])
        out["sms_body_template"] = template[:2000]
    return out


@bp.app_template_global()
def sms_failures() -> list[dict[str, Any]]:
    """Today's gateway failures of the signed-in admin's office (the settings page)."""
    with get_db().read() as s:
        return recent_failures(s, s.get(m.Office, current_principal().office_id))
