"""The silent engine: no speech at all.

For offices that only want the chime (or nothing) and for machines without
any speech engine; the display still shows the number.
"""
from __future__ import annotations

from ..audio import Pcm
from .base import Engine

__all__ = ["NoneEngine"]


class NoneEngine(Engine):
    name = "none"

    def speak(self, text: str) -> Pcm:
        return Pcm(self.settings.sample_rate, b"")
