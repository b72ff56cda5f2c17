"""espeak-ng: the default engine, free, offline, on Linux and Windows.

Runs the ``espeak-ng`` program once per sentence and reads the WAV it writes.
A subprocess rather than a binding: nothing to compile, and the program is a
single installer on Windows.  The text goes through standard input as UTF-8
(``-b 1``) so that Vietnamese survives Windows' command-line code pages.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .._i18n import _
from ..audio import Pcm, read_wav
from ..errors import VoiceError
from .base import Engine

__all__ = ["EspeakEngine", "find_espeak"]

_TIMEOUT = 30.0


def _windows_candidates() -> list[Path]:
    """Where the official Windows installer puts espeak-ng (it is not on PATH)."""
    out = []
    for var in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432"):
        base = os.environ.get(var)
        if base:
            out.append(Path(base) / "eSpeak NG" / "espeak-ng.exe")
    return out


def find_espeak(configured: str | None = None) -> str | None:
    """The espeak-ng executable to run, or None when there is none.

    ``configured`` is a full path or a program name from the settings; if it
    is given but missing we return None rather than silently using another
    program, so that a typo in the settings is reported.
    """
    if configured:
        path = Path(configured).expanduser()
        if path.is_file():
            return str(path)
        return shutil.which(configured)
    for name in ("espeak-ng", "espeak"):
        found = shutil.which(name)
        if found:
            return found
    if sys.platform == "win32":
        for candidate in _windows_candidates():
            if candidate.is_file():
                return str(candidate)
    return None


def _temp_root() -> str | None:
    """A temporary folder whose path espeak-ng can open.

    On Windows espeak-ng gets its arguments in the ANSI code page, so a temp
    folder under a Vietnamese user name ("C:\\Users\\Nguyễn...") would be
    unreachable; ProgramData is used instead.
    """
    default = tempfile.gettempdir()
    if sys.platform != "win32" or default.isascii():
        return None
    fallback = Path(os.environ.get("ProgramData", r"C:\ProgramData")) / "motcua" / "tmp"
    fallback.mkdir(parents=True, exist_ok=True)
    return str(fallback)


class EspeakEngine(Engine):
    name = "espeak-ng"

    def executable(self) -> str:
        exe = find_espeak(self.settings.espeak_path)
        if exe is None:
            raise VoiceError(
                _("espeak-ng is not installed (or not found at %s). Install espeak-ng "
                  "or set the path to espeak-ng in the voice settings.")
                % (self.settings.espeak_path or "PATH")
            )
        return exe

    def available(self) -> bool:
        return find_espeak(self.settings.espeak_path) is not None

    def fingerprint(self) -> str:
        return find_espeak(self.settings.espeak_path) or ""

    def speak(self, text: str) -> Pcm:
        exe = self.executable()
        text = " ".join(text.split())
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
        with tempfile.TemporaryDirectory(prefix="motcua-voice-", dir=_temp_root()) as tmp:
            out = Path(tmp) / "speech.wav"
            cmd = [exe, "-b", "1", "-v", self.settings.espeak_voice,
                   "-s", str(self.settings.espeak_speed), "-w", str(out), "--stdin"]
            try:
                proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True,
                                      timeout=_TIMEOUT, creationflags=flags, check=False)
            except FileNotFoundError as exc:
                raise VoiceError(_("espeak-ng is not installed (or not found at %s). Install espeak-ng "
                                   "or set the path to espeak-ng in the voice settings.") % exe) from exc
            except subprocess.TimeoutExpired as exc:
                raise VoiceError(_("espeak-ng took too long to answer.")) from exc
            if proc.returncode != 0 or not out.is_file():
                detail = proc.stderr.decode("utf-8", "replace").strip()
                raise VoiceError(_("espeak-ng failed (voice %(voice)s): %(detail)s")
                                 % {"voice": self.settings.espeak_voice, "detail": detail or proc.returncode})
            return read_wav(out.read_bytes())
