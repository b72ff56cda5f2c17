"""Administration (admin role only): services, counters, accounts, devices,
office settings, TOML export/import and the audit view.

Every change is written in the same transaction as an ``admin.*`` event, so
the audit view reads the one event log like every other report.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import audit, catalog, config_toml, office, people  # noqa: E402,F401  (routes)
from . import procedures  # noqa: E402,F401  (routes: the procedure guide)
from . import setup  # noqa: E402,F401  (the set-up checklist and backup status)
from . import sms_settings  # noqa: E402,F401  (the SMS gateway's fields and failures)
