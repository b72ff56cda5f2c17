"""Voice announcements: their text and settings, the rendered-sound cache and the
Announcer queue that plays calls in order."""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from display.voice import (
    Announcer,
    VoiceError,
    VoiceSettings,
    WavCache,
    announcement_text,
    synthesize,
    synthesize_text,
)
from display.voice.audio import read_wav
from display.voice.queue import AnnouncementQueue, Call
from display.voice.engines import get_engine
from display.voice.engines.clips import clip_filename
from tests.display.voice_support import tone_clips, wav_info, write_tone  # noqa: F401  (a fixture)


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
    items = [("1001", 1), ("1002", 2), ("A005", 3), ("2024", 12), ("15", 4), ("21", 5)]
    expected = [synthesize(settings, n, c) for n, c in items]
    player = RecordingPlayer()
    announcer = Announcer(settings, player, max_waiting=10)
    for n, c in items:  # enqueued at once, faster than they play, like button presses
        announcer.announce(n, c)
    announcer.say("một hai ba")
    assert announcer.wait(timeout=60)
    announcer.stop()
    assert len(player.played) == len(items) + 1
    assert player.played[: len(items)] == expected  # order kept
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
        announcer.announce("Z9", 3)  # no clip for "dét"
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
    announcer.announce("0", 1)
    while announcer.pending:  # wait for the worker to take the first one
        time.sleep(0.005)
    for i in range(1, 5):
        announcer.announce(str(i), i + 1)
    announcer.stop(timeout=0)  # pending ones are dropped now, the playing one finishes
    gate.set()
    announcer.stop(timeout=30)  # idempotent; waits for the worker
    assert len(played) == 1


def test_queue_under_a_burst_says_shortens_merges_and_drops_in_order(caplog) -> None:
    caplog.set_level(logging.INFO, logger="display.voice.queue")
    q = AnnouncementQueue(max_waiting=4)
    for number, counter in [("1001", 1), ("2001", 2), ("1001", 1), ("3001", 3), ("1002", 1),
                            ("4001", 4), ("5001", 5)]:
        q.put(Call(number, counter))
    turns = []
    while (turn := q.take(repeat=2)) is not None:
        turns.append((turn.call.number, turn.call.counter, turn.repeat))
    assert turns == [("3001", 3, 1), ("1002", 1, 1), ("4001", 4, 1), ("5001", 5, 2)]
    assert q.counts() == {"said": 4, "shortened": 3, "merged": 1, "dropped": 2, "waiting": 0}
    assert [(k, c.number, r) for k, c, r in q.skips] == [
        ("merged", "1001", "called again at counter 1 before it was said"),
        ("dropped", "1001", "replaced by 1002 at counter 1"),
        ("dropped", "2001", "queue full (4 calls waiting)"),
        ("shortened", "3001", "said once: 3 more waiting"),
        ("shortened", "1002", "said once: 2 more waiting"),
        ("shortened", "4001", "said once: 1 more waiting"),
    ]
    logged = [r.getMessage() for r in caplog.records if r.name == "display.voice.queue"]
    assert logged == [f"announcement {c.number} at counter {c.counter} {k}: {r}" for k, c, r in q.skips]
    assert [r.levelname for r in caplog.records][:3] == ["INFO", "WARNING", "WARNING"]


def test_announcer_keeps_up_with_a_burst(tone_clips: Path, caplog) -> None:
    """While one call plays, a burst arrives: what follows is said once each, the
    replaced call is dropped, and the last one is said in full."""
    caplog.set_level(logging.INFO, logger="display.voice.queue")
    settings = VoiceSettings(engine="clips", clips_dir=str(tone_clips), repeat=2)
    gate = threading.Event()
    played: list[bytes] = []

    def player(wav: bytes) -> None:
        gate.wait(30)
        played.append(wav)

    announcer = Announcer(settings, player)
    announcer.announce("1001", 1)
    while announcer.pending:
        time.sleep(0.005)
    for number, counter in [("2001", 2), ("1002", 1), ("2002", 2), ("3001", 3)]:
        announcer.announce(number, counter)
    gate.set()
    assert announcer.wait(timeout=60)
    announcer.stop()
    once = settings.replace(repeat=1)
    assert played == [synthesize(settings, "1001", 1), synthesize(once, "1002", 1),
                      synthesize(once, "2002", 2), synthesize(settings, "3001", 3)]
    assert announcer.counts() == {"said": 4, "shortened": 2, "merged": 0, "dropped": 1,
                                  "waiting": 0}
    assert any("2001 at counter 2 dropped: replaced by 2002" in r.getMessage()
               for r in caplog.records)


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
