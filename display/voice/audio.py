"""Sound as plain data: mono 16-bit PCM, WAV in and out, the chime.

Everything the voice module produces is stitched from pieces (chime, speech,
pauses, recorded clips) that must share one format, and ``audioop`` is gone
from Python 3.13.  So every piece is brought to one canonical form here —
mono, signed 16-bit, one sample rate — using only ``wave`` and ``array``.
This is fast enough for announcement-sized audio (a few seconds).
"""
from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from dataclasses import dataclass
from functools import lru_cache

from ._i18n import _
from .errors import VoiceError

__all__ = [
    "Pcm",
    "chime",
    "concat",
    "read_wav",
    "resample",
    "silence",
    "to_wav",
    "trim",
    "wav_duration",
]

_BIG_ENDIAN = sys.byteorder == "big"


@dataclass(frozen=True)
class Pcm:
    """Mono signed 16-bit little-endian samples at ``rate`` Hz."""

    rate: int
    data: bytes = b""

    @property
    def frames(self) -> int:
        return len(self.data) // 2

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.rate if self.rate else 0.0

    def samples(self) -> array:
        """The samples as an ``array('h')`` in native byte order."""
        out = array("h")
        out.frombytes(self.data)
        if _BIG_ENDIAN:
            out.byteswap()
        return out

    @classmethod
    def from_samples(cls, rate: int, samples: array) -> "Pcm":
        if _BIG_ENDIAN:
            samples = array("h", samples)
            samples.byteswap()
        return cls(rate, samples.tobytes())


def _decode(raw: bytes, width: int) -> array:
    """Raw interleaved frames of any PCM width -> ``array('h')`` of 16-bit values."""
    if width == 2:
        out = array("h")
        out.frombytes(raw[: len(raw) - len(raw) % 2])
        if _BIG_ENDIAN:
            out.byteswap()
        return out
    if width == 1:  # WAV 8-bit is unsigned
        return array("h", ((b - 128) << 8 for b in raw))
    if width == 3:  # keep the two most significant bytes of each 24-bit sample
        return array(
            "h",
            (int.from_bytes(raw[i + 1 : i + 3], "little", signed=True) for i in range(0, len(raw) - 2, 3)),
        )
    if width == 4:
        return array(
            "h",
            (int.from_bytes(raw[i + 2 : i + 4], "little", signed=True) for i in range(0, len(raw) - 3, 4)),
        )
    raise VoiceError(_("Unsupported WAV sample width: %d bytes.") % width)


def _to_mono(samples: array, channels: int) -> array:
    if channels == 1:
        return samples
    n = len(samples) // channels
    return array("h", (sum(samples[i * channels : (i + 1) * channels]) // channels for i in range(n)))


def resample(samples: array, src_rate: int, dst_rate: int) -> array:
    """Linear-interpolation resampling; plenty for speech clips and tones.

    When shrinking the rate, neighbouring samples are averaged first so that
    high frequencies do not fold back as hiss.
    """
    if src_rate == dst_rate or not samples:
        return samples
    if dst_rate < src_rate:
        k = int(src_rate / dst_rate + 0.5)
        if k > 1:
            samples = array(
                "h",
                (sum(samples[i : i + k]) // len(samples[i : i + k]) for i in range(len(samples))),
            )
    n_out = max(1, int(len(samples) * dst_rate / src_rate))
    step = src_rate / dst_rate
    last = len(samples) - 1
    out = array("h", bytes(2 * n_out))
    for j in range(n_out):
        pos = j * step
        i = int(pos)
        if i >= last:
            out[j] = samples[last]
        else:
            frac = pos - i
            a = samples[i]
            out[j] = int(a + (samples[i + 1] - a) * frac)
    return out


def read_wav(data: bytes, rate: int | None = None) -> Pcm:
    """Decode a PCM WAV (any width, any channel count) to :class:`Pcm`.

    With ``rate`` the result is resampled to it, so clips recorded at
    different rates can be joined.
    """
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            channels, width, src_rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise VoiceError(_("Not a readable PCM WAV file: %s") % exc) from exc
    samples = _to_mono(_decode(raw, width), channels)
    target = rate or src_rate
    return Pcm.from_samples(target, resample(samples, src_rate, target))


def to_wav(pcm: Pcm) -> bytes:
    """Encode :class:`Pcm` as a complete WAV file (mono, 16-bit)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.data)
    return buf.getvalue()


def wav_duration(data: bytes) -> float:
    """Length of a WAV in seconds (a blocking ``play`` callback needs it)."""
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getnframes() / w.getframerate()


def silence(rate: int, seconds: float) -> Pcm:
    return Pcm(rate, bytes(2 * max(0, int(rate * seconds))))


def concat(rate: int, parts: list[Pcm]) -> Pcm:
    """Join pieces, converting any that are at another rate."""
    chunks = []
    for part in parts:
        if part.rate != rate and part.frames:
            part = Pcm.from_samples(rate, resample(part.samples(), part.rate, rate))
        chunks.append(part.data)
    return Pcm(rate, b"".join(chunks))


def trim(pcm: Pcm, relative: float = 0.04, margin: float = 0.03) -> Pcm:
    """Cut leading and trailing near-silence, keeping ``margin`` seconds.

    Recorded clips usually start and end with a breath of silence; stitched
    as is, they make the sentence sound halting.  "Silence" is relative to
    the clip's own peak so that a quiet recording is not cut away.
    """
    samples = pcm.samples()
    if not samples:
        return pcm
    peak = max(abs(min(samples)), max(samples))
    threshold = max(64, int(peak * relative))
    start = next((i for i, s in enumerate(samples) if abs(s) > threshold), None)
    if start is None:
        return Pcm(pcm.rate, b"")
    end = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > threshold)
    pad = int(pcm.rate * margin)
    start, end = max(0, start - pad), min(len(samples), end + 1 + pad)
    return Pcm(pcm.rate, pcm.data[2 * start : 2 * end])


def _tone(rate: int, freq: float, seconds: float, decay: float) -> list[float]:
    """A bell-like note: fundamental plus soft overtones, quick attack, exponential decay."""
    n = int(rate * seconds)
    attack = max(1, int(rate * 0.006))
    fade = max(1, int(rate * 0.05))
    w = 2 * math.pi * freq / rate
    out = []
    for i in range(n):
        env = math.exp(-decay * i / rate)
        if i < attack:
            env *= i / attack
        if i > n - fade:
            env *= (n - i) / fade
        out.append(env * (math.sin(w * i) + 0.35 * math.sin(2 * w * i) + 0.12 * math.sin(3 * w * i)))
    return out


@lru_cache(maxsize=8)
def chime(rate: int, volume: float = 0.5) -> Pcm:
    """A two-tone "ding-dong" (E5 then C5, a falling major third) with a fade.

    Generated rather than shipped so it always matches the speech format and
    no sound file can go missing.  Cached per rate: it never changes.
    """
    ding = _tone(rate, 659.25, 0.65, 4.5)
    dong = _tone(rate, 523.25, 1.1, 3.2)
    offset = int(rate * 0.45)  # the second note starts while the first rings
    mix = [0.0] * (offset + len(dong))
    for i, v in enumerate(ding):
        mix[i] += v
    for i, v in enumerate(dong):
        mix[offset + i] += v
    peak = max(abs(v) for v in mix) or 1.0
    scale = 32767 * max(0.0, min(1.0, volume)) / peak
    return Pcm.from_samples(rate, array("h", (int(v * scale) for v in mix)))
