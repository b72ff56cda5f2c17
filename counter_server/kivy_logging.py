"""Quiet Kivy for the kiosk and the display (imported before Kivy itself).

By default a kiosk's console shows warnings and errors only (Kivy's and
every library's); ``--verbose`` shows the debug lines.  Kivy probes xclip/xsel for a clipboard and logs a
CRITICAL "Cutbuffer" line with two tracebacks when they are missing (the
kiosk only needs SDL's clipboard): the clipboard is pinned to SDL and that
line is dropped unless verbose.  Imports nothing but the standard library
until Kivy is asked for.
"""
from __future__ import annotations

import logging
import os


class _DropCutbuffer(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Cutbuffer:", "clipboard_x"))


def configure(verbose: bool) -> None:
    """Call before ``kivy.config`` is first imported."""
    level = "debug" if verbose else "warning"
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ["KCFG_KIVY_LOG_LEVEL"] = level  # applies while Kivy starts, before its config file
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2,dummy")
    from kivy.config import Config
    from kivy.logger import Logger

    Config.set("kivy", "log_level", level)
    # Kivy's handlers sit on the root logger, which Kivy leaves at NOTSET:
    # without this, every library's debug lines (urllib3's requests) print.
    logging.root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not verbose:
        Logger.addFilter(_DropCutbuffer())
