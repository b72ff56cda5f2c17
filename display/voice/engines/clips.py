"""clips: an office's own recorded voice, stitched from WAV clips.

Many offices prefer a real Vietnamese voice (often a staff member's) to a
synthetic one.  They record the fixed parts of the sentence as whole phrases
and the number words one by one; this engine joins them.

Clip naming scheme (one WAV per word or phrase, in ``clips_dir``):

* The file name is the Vietnamese text it says, lower case, words joined by
  ``_`` (a space or ``-`` also works): ``một.wav``, ``mười.wav``,
  ``mươi.wav``, ``lăm.wav``, ``nghìn.wav``, ``đến_quầy_số.wav``,
  ``mời_công_dân_có_số_thứ_tự.wav``.  Names are compared after Unicode NFC
  normalisation, so files copied from a Mac still match.
* Optionally a UTF-8 index ``clips.txt`` maps text to any file name, one
  ``text = file.wav`` per line (``#`` starts a comment), for offices whose
  tools cannot save Vietnamese file names: ``mười = muoi_10.wav``.  The
  index wins over derived names.
* The longest recorded phrase is used first, so a whole-sentence clip beats
  word clips.  Any word with no clip is reported in one error listing all
  of them (see :func:`required_clips` for the full list an office needs).

Clips may have any PCM sample rate, width and channel count: each is
converted to mono 16-bit at ``settings.sample_rate``, trimmed of the silence
around it, and cached until the file changes.
"""
from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .._i18n import _
from ..audio import Pcm, concat, read_wav, silence, to_wav, trim
from ..errors import VoiceError
from ..numbers import DIGIT_WORDS, read_letters
from .base import Engine

if TYPE_CHECKING:  # pragma: no cover
    from ..settings import VoiceSettings

__all__ = ["INDEX_FILE", "ClipsEngine", "clip_filename", "required_clips", "write_starter_clips"]

INDEX_FILE = "clips.txt"
_PAUSE = None  # token standing for punctuation
_PUNCT_PAUSE = 0.25
_PLACEHOLDER = re.compile(r"\{(?:so|số|quay|quầy)\}")
_EDGE_PUNCT = "\"'“”‘’()[]«»"
_PAUSE_PUNCT = ",.;:!?…"

_cache_lock = threading.Lock()
_clip_cache: OrderedDict[tuple, Pcm] = OrderedDict()
_CACHE_SIZE = 512


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def _key(text: str) -> tuple[str, ...]:
    """A word or phrase as the tuple of its words, the lookup key of a clip."""
    return tuple(w for w in re.split(r"[\s_\-]+", _norm(text)) if w)


def clip_filename(phrase: str) -> str:
    """The file name the naming scheme expects for ``phrase``: "đến quầy số" -> "đến_quầy_số.wav"."""
    return "_".join(_key(phrase)) + ".wav"


def _tokens(text: str) -> list[str | None]:
    """Words of a sentence, with ``None`` where punctuation asks for a short pause."""
    out: list[str | None] = []
    for raw in _norm(text).split():
        word = raw.strip(_EDGE_PUNCT)
        pause = word.endswith(tuple(_PAUSE_PUNCT))
        word = word.strip(_PAUSE_PUNCT + _EDGE_PUNCT)
        if word:
            out.append(word)
        if pause:
            out.append(_PAUSE)
    return out


def _read_index(path: Path) -> dict[tuple[str, ...], Path]:
    table: dict[tuple[str, ...], Path] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        text, sep, name = line.partition("=")
        if not sep or not _key(text) or not name.strip():
            raise VoiceError(_("Line %(line)d of %(file)s should read 'text = file.wav'.")
                             % {"line": number, "file": path})
        table[_key(text)] = path.parent / name.strip()
    return table


class ClipsEngine(Engine):
    name = "clips"

    def __init__(self, settings: "VoiceSettings") -> None:
        super().__init__(settings)
        self.directory = Path(settings.clips_dir or ".").expanduser()

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            raise VoiceError(_("The clips folder %s does not exist.") % self.directory)
        return sorted(p for p in self.directory.iterdir() if p.is_file())

    def library(self) -> dict[tuple[str, ...], Path]:
        """Every phrase this folder can say, mapped to its WAV file."""
        table: dict[tuple[str, ...], Path] = {}
        for path in self._files():
            if path.suffix.lower() == ".wav" and _key(path.stem):
                table[_key(path.stem)] = path
        index = self.directory / INDEX_FILE
        if index.is_file():
            table.update(_read_index(index))
        return table

    def available(self) -> bool:
        return self.directory.is_dir()

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in self._files():
            st = path.stat()
            digest.update(f"{_norm(path.name)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8"))
        return digest.hexdigest()

    def _clip(self, path: Path) -> Pcm:
        """One clip in the output format; cached until the file changes."""
        try:
            st = path.stat()
        except OSError as exc:
            raise VoiceError(_("Cannot read the clip %s.") % path) from exc
        key = (str(path), st.st_mtime_ns, st.st_size, self.settings.sample_rate)
        with _cache_lock:
            if key in _clip_cache:
                _clip_cache.move_to_end(key)
                return _clip_cache[key]
        try:
            pcm = trim(read_wav(path.read_bytes(), self.settings.sample_rate))
        except VoiceError as exc:
            raise VoiceError(f"{path.name}: {exc}") from exc
        with _cache_lock:
            _clip_cache[key] = pcm
            while len(_clip_cache) > _CACHE_SIZE:
                _clip_cache.popitem(last=False)
        return pcm

    def plan(self, text: str) -> list[Path | None]:
        """The clips (``None`` = pause) that say ``text``, longest phrases first."""
        table = self.library()
        longest = max((len(k) for k in table), default=1)
        tokens = _tokens(text)
        plan: list[Path | None] = []
        missing: list[str] = []
        i = 0
        while i < len(tokens):
            if tokens[i] is None:
                plan.append(None)
                i += 1
                continue
            for size in range(min(longest, len(tokens) - i), 0, -1):
                words = tokens[i : i + size]
                if None not in words and tuple(words) in table:
                    plan.append(table[tuple(words)])  # type: ignore[arg-type]
                    i += size
                    break
            else:
                if tokens[i] not in missing:
                    missing.append(tokens[i])  # type: ignore[arg-type]
                i += 1
        if missing:
            raise VoiceError(
                _("No recorded clip for: %(words)s. Add files such as %(example)s to %(folder)s.")
                % {"words": ", ".join(missing), "example": clip_filename(missing[0]), "folder": self.directory}
            )
        return plan

    def speak(self, text: str) -> Pcm:
        rate = self.settings.sample_rate
        gap = silence(rate, self.settings.clips_gap)
        parts: list[Pcm] = []
        for item in self.plan(text):
            if item is None:
                parts.append(silence(rate, _PUNCT_PAUSE))
                continue
            if parts:
                parts.append(gap)
            parts.append(self._clip(item))
        return concat(rate, parts)


def required_clips(settings: "VoiceSettings", letters: str = "") -> list[str]:
    """Every phrase or word an office must record for these settings.

    The fixed parts of the template become phrases; numbers need the digit
    words and the connective words the settings use; ``letters`` lists the
    ticket prefixes in use ("AB") so their names are included.
    """
    phrases = [p for p in (" ".join(_key(part)) for part in _PLACEHOLDER.split(_norm(settings.template))) if p]
    words = list(DIGIT_WORDS) + ["mười", "mươi", "mốt", "tư", "lăm", settings.zero_tens, "trăm", settings.thousand]
    if letters:
        words += read_letters(letters).split()
    out: list[str] = []
    for item in phrases + words:
        if item not in out:
            out.append(item)
    return out


def write_starter_clips(directory: Path | str, settings: "VoiceSettings",
                        phrases: Iterable[str] | None = None) -> list[Path]:
    """Render a starter clip folder with espeak-ng, one WAV per phrase.

    An office can then replace the files one by one with its own recordings
    and keep announcing meanwhile.  Existing files are left alone.
    """
    from .espeak import EspeakEngine

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    engine = EspeakEngine(settings)
    written = []
    for phrase in phrases if phrases is not None else required_clips(settings):
        target = folder / clip_filename(phrase)
        if not target.exists():
            target.write_bytes(to_wav(engine.speak(phrase)))
            written.append(target)
    return written
