"""Log files that rotate, in the instance folder (``<instance>/logs``).

The office PC runs for years: each process writes ``logs/<name>.log`` through
the standard ``RotatingFileHandler`` (5 MB a file, 5 old files kept), and the
console shows warnings only unless ``--verbose`` asks for everything.
"""
from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(instance: Path, name: str, verbose: bool = False) -> Path:
    """Send this process's logs to ``<instance>/logs/<name>.log`` (and the
    console); returns the log file's path."""
    folder = Path(instance) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_motcua", False):
            root.removeHandler(h)
    file_handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                       encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(FORMAT))
    file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for h in (file_handler, console):
        h._motcua = True  # type: ignore[attr-defined]
        root.addHandler(h)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return path
