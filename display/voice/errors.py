"""The one exception the voice module raises for things an office can fix.

Its message is already translated (Vietnamese by default) so the display app
can show it on screen or in a device status as is.
"""
from __future__ import annotations

__all__ = ["VoiceError"]


class VoiceError(RuntimeError):
    """Speech could not be produced: missing engine, missing clips, bad WAV..."""
