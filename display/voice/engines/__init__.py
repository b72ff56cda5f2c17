"""Speech engines, one module each; :func:`get_engine` picks one from the settings.

Modules are imported lazily so that a missing optional dependency (pyttsx3)
only matters to the office that chose that engine.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .base import Engine

if TYPE_CHECKING:  # pragma: no cover
    from ..settings import VoiceSettings

__all__ = ["ENGINE_MODULES", "Engine", "engine_class", "get_engine"]

#: ``VoiceSettings.engine`` value -> (module, class name).
ENGINE_MODULES: dict[str, tuple[str, str]] = {
    "espeak-ng": ("espeak", "EspeakEngine"),
    "clips": ("clips", "ClipsEngine"),
    "pyttsx3": ("pyttsx3_engine", "Pyttsx3Engine"),
    "none": ("none", "NoneEngine"),
}


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under ``name``."""
    try:
        module, cls = ENGINE_MODULES[name]
    except KeyError:
        raise ValueError(f"unknown voice engine {name!r}") from None
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def get_engine(settings: "VoiceSettings") -> Engine:
    """A ready engine for these settings."""
    return engine_class(settings.engine)(settings)
