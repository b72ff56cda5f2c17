"""Staff console: sign-in, counter choice, the live counter page, photos.

The page itself only renders the frame; every action goes through the JSON
API with the session cookie and ``X-CSRFToken``, and every event on the
stream makes the page refetch :func:`views.state` — the authoritative view —
so a second tab or a second officer can never leave a stale ticket on screen.
"""
from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("console", __name__)


def t(message: str) -> str:
    """Vietnamese for a msgid, looked up over all web domains (console, admin, server...)."""
    return current_app.extensions["motcua_gettext"](message)


from . import auth, layout, photos, views  # noqa: E402,F401  (routes)
