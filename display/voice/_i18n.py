"""Gettext for the voice module's own messages (errors, not announcements).

The announcement sentence is Vietnamese by nature and comes from the
settings' template; only messages for people fixing a set-up go through here.
"""
from __future__ import annotations

from pathlib import Path

from counter_server.i18n import translator

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
_ = translator(LOCALE_DIR, "voice")
