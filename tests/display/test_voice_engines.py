"""Voice engines, the assembled announcement WAV, the cache and the Announcer."""
from __future__ import annotations

import io
import math
import struct
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest

from counter_server.i18n import clear_cache
from display.voice import (
    Announcer,
    VoiceError,
    VoiceSettings,
    WavCache,
    announcement_text,
    synthesize,
    synthesize_text,
)
from display.voice.audio import chime, read_wav
from display.voice.engines import ENGINE_MODULES, engine_class, get_engine
from display.voice.engines.clips import INDEX_FILE, ClipsEngine, clip_filename, required_clips, write_starter_clips
from display.voice.engines.espeak import EspeakEngine, find_espeak

needs_espeak = pytest.mark.skipif(find_espeak() is None, reason="espeak-ng is not installed")


def wav_info(data: bytes) -> tuple[int, int, int, float]:
    """(rate, channels, sample width, seconds) of a WAV, read with the stdlib only."""
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes() / w.getframerate()


def write_tone(path: Path, freq: float, seconds: float, rate: int, width: int, channels: int,
               pad: float = 0.1) -> None:
    """A test clip: silence, a tone, silence, in any PCM format (written without the code under test)."""
    frames = bytearray()
    n_pad, n_tone = int(rate * pad), int(rate * seconds)
    for i in range(n_pad + n_tone + n_pad):
        v = 0.6 * math.sin(2 * math.pi * freq * i / rate) if n_pad <= i < n_pad + n_tone else 0.0
        if width == 1:
            sample = bytes([int(128 + 127 * v)])
        elif width == 2:
            sample = struct.pack("<h", int(32767 * v))
        elif width == 3:
            sample = int(8388607 * v).to_bytes(3, "little", signed=True)
        else:
            sample = struct.pack("<i", int(2147483647 * v))
        frames += sample * channels
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


FORMATS = [(8000, 1, 1), (16000, 2, 1), (22050, 2, 2), (44100, 2, 2), (48000, 3, 1), (11025, 4, 1)]
TONE_SECONDS = 0.2


@pytest.fixture
def tone_clips(tmp_path: Path) -> Path:
    """A clip folder for the default template, each clip a tone in a different format."""
    folder = tmp_path / "clips"
    folder.mkdir()
    phrases = required_clips(VoiceSettings(), letters="A")
    for i, phrase in enumerate(phrases):
        rate, width, channels = FORMATS[i % len(FORMATS)]
        write_tone(folder / clip_filename(phrase), 300 + 20 * i, TONE_SECONDS, rate, width, channels)
    return folder


# --- espeak-ng -------------------------------------------------------------------------

@needs_espeak
def test_espeak_speaks_vietnamese_sentence() -> None:
    settings = VoiceSettings()
    pcm = EspeakEngine(settings).speak(announcement_text(settings, "1005", 3))
    assert pcm.rate == 22050
    assert 1.5 < pcm.duration < 10


@needs_espeak
def test_espeak_announcement_is_one_valid_wav() -> None:
    full = synthesize(VoiceSettings(), "1005", 3)
    rate, channels, width, seconds = wav_info(full)
    assert (rate, channels, width) == (22050, 1, 2)
    assert 2 < seconds < 20
    plain = synthesize(VoiceSettings(chime=False, repeat=1), "1005", 3)
    assert wav_info(plain)[:3] == (22050, 1, 2)
    assert 1.5 < wav_info(plain)[3] < seconds / 1.8  # chime + second reading make it much longer


@needs_espeak
def test_espeak_digit_mode_and_speed_change_the_sound() -> None:
    words = synthesize(VoiceSettings(chime=False, repeat=1), "1005", 3)
    digits = synthesize(VoiceSettings(chime=False, repeat=1, number_mode="digits"), "1005", 3)
    slow = synthesize(VoiceSettings(chime=False, repeat=1, espeak_speed=100), "1005", 3)
    assert words != digits
    assert wav_info(slow)[3] > wav_info(words)[3]


def test_espeak_missing_is_a_clear_vietnamese_error(tmp_path: Path) -> None:
    settings = VoiceSettings(espeak_path=str(tmp_path / "no-such-espeak-ng"))
    engine = EspeakEngine(settings)
    assert not engine.available()
    with pytest.raises(VoiceError, match="Chưa cài đặt espeak-ng"):
        synthesize(settings, "1005", 3)


def test_messages_follow_motcua_lang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_LANG", "en")
    clear_cache()
    try:
        with pytest.raises(VoiceError, match="espeak-ng is not installed"):
            EspeakEngine(VoiceSettings(espeak_path=str(tmp_path / "nope"))).speak("một")
    finally:
        monkeypatch.delenv("MOTCUA_LANG")
        clear_cache()


@needs_espeak
def test_espeak_bad_voice_reports_espeak_error() -> None:
    with pytest.raises(VoiceError, match="zz-nope"):
        EspeakEngine(VoiceSettings(espeak_voice="zz-nope")).speak("một")


# --- clips ---------------------------------------------------------------------------

def test_clips_stitch_mixed_formats(tone_clips: Path) -> None:
    settings = VoiceSettings(engine="clips", clips_dir=str(tone_clips), chime=False, repeat=1)
    plan = ClipsEngine(settings).plan(announcement_text(settings, "1005", 3))
    # "mời công dân có số thứ tự" | một nghìn không trăm linh năm | "đến quầy số" | ba
    assert [p.name for p in plan] == [clip_filename(x) for x in (
        "mời công dân có số thứ tự", "một", "nghìn", "không", "trăm", "linh", "năm", "đến quầy số", "ba")]
    rate, channels, width, seconds = wav_info(synthesize(settings, "1005", 3))
    assert (rate, channels, width) == (22050, 1, 2)
    # nine tones of 0.2 s (plus trimmed margins and gaps), not the padded files
    assert 9 * TONE_SECONDS < seconds < 9 * (TONE_SECONDS + 0.2)


def test_clips_output_rate_is_configurable(tone_clips: Path) -> None:
    settings = VoiceSettings(engine="clips", clips_dir=str(tone_clips), sample_rate=16000)
    assert wav_info(synthesize(settings, "A001", 2))[:3] == (16000, 1, 2)


def test_clip_conversion_keeps_pitch(tmp_path: Path) -> None:
    """A 440 Hz stereo tone at 44.1 kHz is still 440 Hz after conversion to 22.05 kHz mono."""
    write_tone(tmp_path / "a.wav", 440, 1.0, 44100, 2, 2, pad=0)
    pcm = read_wav((tmp_path / "a.wav").read_bytes(), 22050)
    samples = pcm.samples()
    assert pcm.rate == 22050 and abs(len(samples) - 22050) <= 2
    crossings = sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))
    assert 860 <= crossings <= 900  # two per period


@needs_espeak
def test_clips_from_espeak_words_with_mixed_rates(tmp_path: Path) -> None:
    """A starter folder rendered by espeak-ng, some clips re-saved at 44.1 kHz stereo or 8-bit."""
    settings = VoiceSettings(engine="clips", clips_dir=str(tmp_path))
    written = write_starter_clips(tmp_path, settings)
    assert len(written) == len(required_clips(settings))
    for i, path in enumerate(sorted(written)):
        with wave.open(str(path), "rb") as w:
            frames = w.readframes(w.getnframes())
        if i % 3 == 1:  # 44.1 kHz stereo: every sample doubled in time and in channels
            out = b"".join(frames[j:j + 2] * 4 for j in range(0, len(frames), 2))
            params = (2, 2, 44100)
        elif i % 3 == 2:  # 8-bit unsigned mono at 22.05 kHz
            out = bytes((struct.unpack("<h", frames[j:j + 2])[0] >> 8) + 128 for j in range(0, len(frames), 2))
            params = (1, 1, 22050)
        else:
            continue
        with wave.open(str(path), "wb") as w:
            w.setnchannels(params[0])
            w.setsampwidth(params[1])
            w.setframerate(params[2])
            w.writeframes(out)
    full = synthesize(settings, "2024", 12)
    rate, channels, width, seconds = wav_info(full)
    assert (rate, channels, width) == (22050, 1, 2)
    assert 2 < seconds < 25
    single = synthesize(settings.replace(chime=False, repeat=1), "2024", 12)
    assert wav_info(single)[3] < seconds / 1.8


def test_clips_index_file_and_longest_phrase(tone_clips: Path) -> None:
    write_tone(tone_clips / "whole_phrase.wav", 900, 0.5, 22050, 2, 1)
    write_tone(tone_clips / "ascii-three.wav", 950, 0.3, 22050, 2, 1)
    (tone_clips / INDEX_FILE).write_text(
        "# text = file\nđến quầy số ba = whole_phrase.wav\nba=ascii-three.wav\n", encoding="utf-8")
    engine = ClipsEngine(VoiceSettings(engine="clips", clips_dir=str(tone_clips)))
    plan = engine.plan("Mời công dân có số thứ tự một, đến quầy số ba.")
    names = [p.name if p else "<pause>" for p in plan]  # punctuation becomes a short pause
    assert names[-4:] == [clip_filename("một"), "<pause>", "whole_phrase.wav", "<pause>"]
    assert [p.name for p in engine.plan("ba")] == ["ascii-three.wav"]


def test_clips_missing_words_are_listed(tone_clips: Path) -> None:
    settings = VoiceSettings(engine="clips", clips_dir=str(tone_clips))
    with pytest.raises(VoiceError) as err:
        synthesize(settings, "B-14", 12)  # "bê" and nothing else is missing
    assert "bê" in str(err.value) and "bê.wav" in str(err.value)
    with pytest.raises(VoiceError, match="không tồn tại|Không có thư mục"):
        synthesize(settings.replace(clips_dir=str(tone_clips / "nope")), "1", 1)


def test_clips_bad_index_line(tone_clips: Path) -> None:
    (tone_clips / INDEX_FILE).write_text("just some words\n", encoding="utf-8")
    with pytest.raises(VoiceError, match="Dòng 1"):
        synthesize(VoiceSettings(engine="clips", clips_dir=str(tone_clips)), "1", 1)


# --- none, chime, pyttsx3, registry ----------------------------------------------------

def test_none_engine_gives_chime_only_or_empty_wav() -> None:
    with_chime = synthesize(VoiceSettings(engine="none"), "1005", 3)
    rate, channels, width, seconds = wav_info(with_chime)
    assert (rate, channels, width) == (22050, 1, 2)
    assert 1 < seconds < 3
    silent = synthesize(VoiceSettings(engine="none", chime=False), "1005", 3)
    assert wav_info(silent)[3] == 0


def test_chime_is_two_tones_with_soft_edges() -> None:
    pcm = chime(22050)
    samples = pcm.samples()
    assert 1.0 < pcm.duration < 2.5
    peak = max(abs(s) for s in samples)
    assert 8000 < peak < 32767
    assert abs(samples[0]) < 200 and max(abs(s) for s in samples[-50:]) < 200


def test_pyttsx3_engine_when_installed() -> None:
    pytest.importorskip("pyttsx3")
    try:
        wav = synthesize(VoiceSettings(engine="pyttsx3", chime=False, repeat=1), "15", 2)
    except VoiceError as exc:  # no audio driver on this machine
        pytest.skip(str(exc))
    assert wav_info(wav)[3] > 0.5


def test_pyttsx3_missing_is_a_clear_error() -> None:
    try:
        import pyttsx3  # noqa: F401
    except ImportError:
        engine = get_engine(VoiceSettings(engine="pyttsx3"))
        assert not engine.available()
        with pytest.raises(VoiceError, match="pyttsx3"):
            engine.speak("một")
    else:
        pytest.skip("pyttsx3 is installed")


class FakeSapiDriver:
    """Stands in for pyttsx3's Windows driver: two voices, writes a 16 kHz WAV."""

    def __init__(self) -> None:
        self.props: dict[str, object] = {}
        self.target: str | None = None

    def getProperty(self, name: str) -> object:  # noqa: N802 - pyttsx3's API
        voices = [type("V", (), {"id": "TTS_MS_EN-US_ZIRA_11.0", "name": "Microsoft Zira", "languages": []}),
                  type("V", (), {"id": "TTS_MS_vi-VN_An_11.0", "name": "Microsoft An", "languages": []})]
        return voices if name == "voices" else self.props.get(name)

    def setProperty(self, name: str, value: object) -> None:  # noqa: N802
        self.props[name] = value

    def save_to_file(self, text: str, path: str) -> None:
        self.target = path

    def runAndWait(self) -> None:  # noqa: N802
        assert self.target
        write_tone(Path(self.target), 500, 0.8, 16000, 2, 1, pad=0)

    def stop(self) -> None:
        pass


def test_pyttsx3_engine_glue_with_a_fake_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    drivers: list[FakeSapiDriver] = []

    def init() -> FakeSapiDriver:
        drivers.append(FakeSapiDriver())
        return drivers[-1]

    monkeypatch.setitem(sys.modules, "pyttsx3", type(sys)("pyttsx3"))
    monkeypatch.setattr(sys.modules["pyttsx3"], "init", init, raising=False)
    settings = VoiceSettings(engine="pyttsx3", pyttsx3_rate=160)
    wav = synthesize(settings, "15", 2)
    assert drivers[0].props == {"voice": "TTS_MS_vi-VN_An_11.0", "rate": 160}
    rate, channels, width, seconds = wav_info(wav)
    assert (rate, channels, width) == (22050, 1, 2)
    assert seconds > 2 * 0.8
    with pytest.raises(VoiceError, match="Microsoft Hoài"):
        synthesize(settings.replace(pyttsx3_voice="Microsoft Hoài"), "15", 2)


def test_every_engine_is_registered() -> None:
    for name in ENGINE_MODULES:
        assert engine_class(name).name == name


# --- text and settings ---------------------------------------------------------------

def test_announcement_text_placeholders() -> None:
    s = VoiceSettings()
    assert announcement_text(s, "1005", 3) == \
        "Mời công dân có số thứ tự một nghìn không trăm linh năm đến quầy số ba"
    vi = s.replace(template="Xin mời số {số}, quầy {quầy}.", number_mode="digits", zero_tens="lẻ")
    assert announcement_text(vi, "A105", 12) == "Xin mời số a một không năm, quầy mười hai."
    assert announcement_text(s.replace(template="Kính mời {so} tới quầy {quay}"), 215, "4") == \
        "Kính mời hai trăm mười lăm tới quầy bốn"


def test_settings_from_dict_and_validation() -> None:
    s = VoiceSettings.from_dict({"engine": "none", "repeat": "3", "chime": "false", "future_option": 1})
    assert (s.engine, s.repeat, s.chime) == ("none", 3, False)
    assert VoiceSettings.from_dict(s.to_dict()) == s
    assert s.digest() != VoiceSettings().digest()
    for bad in ({"engine": "festival"}, {"repeat": 0}, {"number_mode": "roman"}, {"engine": "clips"}):
        with pytest.raises(ValueError):
            VoiceSettings(**bad)


# --- cache ---------------------------------------------------------------------------

def test_cache_renders_once_and_survives_restart(tmp_path: Path) -> None:
    settings = VoiceSettings(engine="none")
    calls = []

    def render() -> bytes:
        calls.append(1)
        return b"RIFF-fake"

    cache = WavCache(max_items=2, directory=tmp_path / "cache")
    assert cache.get_or_render(settings, "một", render) == b"RIFF-fake"
    assert cache.get_or_render(settings, "một", render) == b"RIFF-fake"
    assert len(calls) == 1
    again = WavCache(directory=tmp_path / "cache")
    assert again.get(settings, "một") == b"RIFF-fake"
    assert again.get(settings.replace(repeat=1), "một") is None
    assert again.get(settings, "hai") is None
    for text in ("a", "b", "c"):
        cache.put(settings, text, b"x")
    assert len(cache) == 2


def test_cache_follows_clip_changes(tone_clips: Path) -> None:
    settings = VoiceSettings(engine="clips", clips_dir=str(tone_clips), chime=False, repeat=1)
    cache = WavCache()
    first = synthesize(settings, "1", 1, cache=cache)
    assert synthesize(settings, "1", 1, cache=cache) is first
    write_tone(tone_clips / clip_filename("một"), 1200, 0.6, 22050, 2, 1)
    second = synthesize(settings, "1", 1, cache=cache)
    assert second != first and wav_info(second)[3] > wav_info(first)[3]


# --- Announcer -----------------------------------------------------------------------

class RecordingPlayer:
    """A play callback that takes a while, and notes when each sound starts and ends."""

    def __init__(self) -> None:
        self.played: list[bytes] = []
        self.spans: list[tuple[float, float]] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def __call__(self, wav: bytes) -> None:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        start = time.perf_counter()
        time.sleep(0.02)
        end = time.perf_counter()
        with self.lock:
            self.active -= 1
            self.played.append(wav)
            self.spans.append((start, end))


def test_announcer_plays_in_order_without_overlap_or_loss(tone_clips: Path) -> None:
    settings = VoiceSettings(engine="clips", clips_dir=str(tone_clips), repeat=1)
    items = [("1001", 1), ("1002", 2), ("A005", 3), ("1001", 1), ("2024", 12), ("15", 4), ("1002", 2), ("21", 5)]
    expected = [synthesize(settings, n, c) for n, c in items]
    player = RecordingPlayer()
    announcer = Announcer(settings, player)
    for n, c in items:  # enqueued at once, faster than they play, like button presses
        announcer.announce(n, c)
    announcer.say("một hai ba")
    assert announcer.wait(timeout=60)
    announcer.stop()
    assert len(player.played) == len(items) + 1
    assert player.played[: len(items)] == expected  # recalls included, order kept
    assert player.max_active == 1
    for (_, prev_end), (next_start, _) in zip(player.spans, player.spans[1:]):
        assert next_start >= prev_end
    with pytest.raises(RuntimeError):
        announcer.announce("1", 1)


def test_announcer_survives_errors(tone_clips: Path) -> None:
    errors: list[BaseException] = []
    player = RecordingPlayer()
    settings = VoiceSettings(engine="clips", clips_dir=str(tone_clips), repeat=1)
    with Announcer(settings, player, on_error=errors.append) as announcer:
        announcer.announce("1", 1)
        announcer.announce("Z9", 1)  # no clip for "dét"
        announcer.announce("2", 2)
        assert announcer.wait(timeout=60)
    assert len(player.played) == 2 and len(errors) == 1
    assert isinstance(errors[0], VoiceError)


def test_announcer_stop_drops_pending_only_without_drain() -> None:
    gate = threading.Event()
    played: list[bytes] = []

    def slow_player(wav: bytes) -> None:
        gate.wait(30)
        played.append(wav)

    announcer = Announcer(VoiceSettings(engine="none"), slow_player)
    for i in range(5):
        announcer.announce(str(i), 1)
    while announcer.pending == 5:  # wait for the worker to take the first one
        time.sleep(0.005)
    announcer.stop(timeout=0)  # pending ones are dropped now, the playing one finishes
    gate.set()
    announcer.stop(timeout=30)  # idempotent; waits for the worker
    assert len(played) == 1


def test_voice_imports_without_kivy_or_flask() -> None:
    code = ("import sys, display.voice, display.voice.engines.clips, display.voice.engines.espeak;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('kivy', 'flask', 'apiflask', 'sqlalchemy')];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_synthesize_text_uses_given_engine(tone_clips: Path) -> None:
    settings = VoiceSettings(engine="clips", clips_dir=str(tone_clips), chime=False, repeat=2, pause=0.5)
    once = read_wav(synthesize_text(settings.replace(repeat=1), "ba"))
    engine = get_engine(settings)
    twice = read_wav(synthesize_text(settings, "ba", engine=engine))
    speech = engine.speak("ba")
    assert twice.duration - once.duration == pytest.approx(speech.duration + 0.5, abs=0.01)
