"""pyttsx3: the voices installed in Windows (SAPI5), e.g. Microsoft An (vi-VN).

Optional: ``pip install motcua[windows]``.  pyttsx3 is imported only when
this engine is used, so other offices never need it.  Its driver is not
thread-safe, so every call is serialised by one lock.
"""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from .._i18n import _
from ..audio import Pcm, read_wav
from ..errors import VoiceError
from .base import Engine

__all__ = ["Pyttsx3Engine"]

_lock = threading.Lock()


def _load() -> Any:
    try:
        import pyttsx3  # type: ignore[import-not-found]
    except ImportError as exc:
        raise VoiceError(_("pyttsx3 is not installed. Install it (pip install pyttsx3) "
                           "or choose another voice engine.")) from exc
    return pyttsx3


def _pick_voice(driver: Any, wanted: str | None) -> str | None:
    """The configured voice id, else the first voice that looks Vietnamese."""
    voices = driver.getProperty("voices") or []
    if wanted:
        for voice in voices:
            if wanted in (voice.id, voice.name):
                return voice.id
        raise VoiceError(_("The voice %s is not installed on this computer.") % wanted)
    for voice in voices:
        langs = " ".join(str(x) for x in (getattr(voice, "languages", None) or []))
        label = f"{voice.id} {voice.name} {langs}".lower()
        if "vi-vn" in label or "vi_vn" in label or "vietnam" in label:
            return voice.id
    return None


class Pyttsx3Engine(Engine):
    name = "pyttsx3"

    def available(self) -> bool:
        try:
            _load()
        except VoiceError:
            return False
        return True

    def speak(self, text: str) -> Pcm:
        pyttsx3 = _load()
        with _lock, tempfile.TemporaryDirectory(prefix="motcua-voice-") as tmp:
            out = Path(tmp) / "speech.wav"
            try:
                driver = pyttsx3.init()
                voice = _pick_voice(driver, self.settings.pyttsx3_voice)
                if voice:
                    driver.setProperty("voice", voice)
                if self.settings.pyttsx3_rate:
                    driver.setProperty("rate", self.settings.pyttsx3_rate)
                driver.save_to_file(text, str(out))
                driver.runAndWait()
                driver.stop()
            except VoiceError:
                raise
            except Exception as exc:  # drivers raise anything: OSError, RuntimeError, COM errors
                raise VoiceError(_("The Windows voice failed: %s") % exc) from exc
            if not out.is_file():
                raise VoiceError(_("The Windows voice produced no sound file."))
            return read_wav(out.read_bytes(), self.settings.sample_rate)
