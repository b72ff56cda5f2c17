"""Voice settings of one display (or of the server's web display).

Frozen and made of plain values so that a settings object can key a cache of
rendered WAVs and travel as JSON in a device's configuration.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from ._i18n import _

__all__ = ["DEFAULT_TEMPLATE", "ENGINES", "VoiceSettings"]

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "Mời công dân có số thứ tự {so} đến quầy số {quay}"
ENGINES = ("espeak-ng", "clips", "pyttsx3", "none")
NUMBER_MODES = ("words", "digits")


@dataclass(frozen=True)
class VoiceSettings:
    """How announcements sound.

    ``template`` holds the sentence; ``{so}``/``{số}`` becomes the ticket
    number and ``{quay}``/``{quầy}`` the counter number, both in words.
    ``repeat`` says the sentence that many times, ``pause`` seconds apart,
    after the chime when ``chime`` is on.  ``sample_rate`` is the output rate
    of the engines that do not impose one (clips, pyttsx3, none).
    """

    engine: str = "espeak-ng"
    template: str = DEFAULT_TEMPLATE
    number_mode: str = "words"
    zero_tens: str = "linh"
    thousand: str = "nghìn"
    repeat: int = 2
    pause: float = 0.8
    chime: bool = True
    chime_volume: float = 0.45
    espeak_voice: str = "vi"
    espeak_speed: int = 145
    espeak_path: str | None = None
    clips_dir: str | None = None
    clips_gap: float = 0.05
    pyttsx3_voice: str | None = None
    pyttsx3_rate: int | None = None
    sample_rate: int = 22050

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(_("Unknown voice engine %(engine)r; choose one of: %(choices)s.")
                             % {"engine": self.engine, "choices": ", ".join(ENGINES)})
        if self.number_mode not in NUMBER_MODES:
            raise ValueError(_("Number mode must be 'words' or 'digits', not %r.") % self.number_mode)
        if self.zero_tens not in ("linh", "lẻ"):
            raise ValueError(_("The word for a zero ten must be 'linh' or 'lẻ', not %r.") % self.zero_tens)
        if self.thousand not in ("nghìn", "ngàn"):
            raise ValueError(_("The word for thousand must be 'nghìn' or 'ngàn', not %r.") % self.thousand)
        if not 1 <= self.repeat <= 5:
            raise ValueError(_("The announcement can be repeated 1 to 5 times, not %r.") % self.repeat)
        if not 0 <= self.pause <= 10 or not 0 <= self.clips_gap <= 2:
            raise ValueError(_("Pauses must be between 0 and 10 seconds."))
        if not 80 <= self.espeak_speed <= 450:
            raise ValueError(_("The espeak-ng speed must be between 80 and 450 words per minute."))
        if not 8000 <= self.sample_rate <= 96000:
            raise ValueError(_("The sample rate must be between 8000 and 96000 Hz."))
        if not self.template.strip():
            raise ValueError(_("The announcement template is empty."))
        if self.engine == "clips" and not self.clips_dir:
            raise ValueError(_("The clips engine needs a folder of recorded clips (clips_dir)."))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "VoiceSettings":
        """Build settings from a device configuration, ignoring unknown keys.

        Unknown keys are logged and skipped rather than rejected, so a newer
        server can send settings an older display does not know yet.
        """
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            log.warning("ignoring unknown voice settings: %s", ", ".join(unknown))
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("repeat", "espeak_speed", "sample_rate"):
            if key in kwargs:
                kwargs[key] = int(kwargs[key])
        for key in ("pause", "clips_gap", "chime_volume"):
            if key in kwargs:
                kwargs[key] = float(kwargs[key])
        if "chime" in kwargs and isinstance(kwargs["chime"], str):
            kwargs["chime"] = kwargs["chime"].strip().lower() in ("1", "true", "yes", "on", "có")
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (the inverse of :meth:`from_dict`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> "VoiceSettings":
        return dataclasses.replace(self, **changes)

    def digest(self) -> str:
        """A stable hash of everything that changes the sound (for cache keys)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()
