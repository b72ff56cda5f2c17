"""Voice engines: espeak-ng, recorded clips, the chime alone, pyttsx3 and their registry."""
from __future__ import annotations

import struct
import sys
import wave
from pathlib import Path

import pytest

from counter_server.i18n import clear_cache
from display.voice import (
    VoiceError,
    VoiceSettings,
    announcement_text,
    synthesize,
)
from display.voice.audio import chime, read_wav
from display.voice.engines import ENGINE_MODULES, engine_class, get_engine
from display.voice.engines.clips import INDEX_FILE, ClipsEngine, clip_filename, required_clips, write_starter_clips
from display.voice.engines.espeak import EspeakEngine, find_espeak
from tests.display.voice_support import (  # noqa: F401  (tone_clips: a fixture)
    TONE_SECONDS,
    tone_clips,
    wav_info,
    write_tone,
)

needs_espeak = pytest.mark.skipif(find_espeak() is None, reason="espeak-ng is not installed")


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
