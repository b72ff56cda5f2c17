"""Gettext for what the lobby display shows (domain ``display``)."""
from __future__ import annotations

from pathlib import Path

from counter_server.i18n import translator

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_ = translator(LOCALE_DIR, "display")
