"""The kiosk that speaks: the speaker button, the office's default, reading aloud in order,
and a ticket only after the confirming touch.

The real kiosk (widgets, speaker, Kivy player) runs against a real server; only the voice
engine's process is a stand-in (tests/kiosk/fake_espeak.py installed as ``espeak-ng`` on
the kiosk's PATH), which notes each sentence it is asked to say.
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from display.voice import Speaker, Voice, VoiceSettings
from kiosk import speech
from tests.conftest import LiveServer, bearer
from tests.counter_server.test_admin import admin_client
from tests.kiosk.test_kiosk_app import SHOTS, _edit, run_driver, tickets

FAKE_ESPEAK = Path(__file__).with_name("fake_espeak.py")
#: Long enough that a sentence still plays when the next touch comes: it must be cut off.
FAKE_SECONDS = 4.0


def install_fake_espeak(folder: Path, log: Path) -> dict[str, str]:
    """``espeak-ng`` on a PATH of its own: the stand-in engine process. Returns the env."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "espeak-ng"
    exe.write_text(f"#!{sys.executable}\nimport runpy\n"
                   f"runpy.run_path({str(FAKE_ESPEAK)!r}, run_name='__main__')\n", encoding="utf-8")
    exe.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "FAKE_ESPEAK_LOG": str(log), "FAKE_ESPEAK_SECONDS": str(FAKE_SECONDS)}


needs_posix_exec = pytest.mark.skipif(sys.platform == "win32",
                                      reason="the stand-in engine is a script run by its #! line")


# --- the kiosk, end to end --------------------------------------------------------------

@needs_posix_exec
@pytest.mark.slow
@pytest.mark.parametrize("size", ["1024x600", "1080x1920"])
def test_kiosk_reads_aloud_and_issues_after_the_confirming_touch(
        live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: str) -> None:
    log = tmp_path / "espeak.jsonl"
    for key, value in install_fake_espeak(tmp_path, log).items():
        monkeypatch.setenv(key, value)
    counts: dict[str, int] = {}

    def speech_default_on() -> None:
        def fn(s: Any, m: Any) -> None:
            office = s.scalar(select(m.Office))
            office.settings = {**(office.settings or {}), "kiosk_speech_default": True}
        _edit(live_server, fn)

    def count(step: str):
        return lambda: counts.__setitem__(step, len(tickets(live_server)))

    data = run_driver(tmp_path, "speech", [
        "--server", live_server.url, "--token", live_server.token("kiosk"), "--windowed",
        "--size", size, "--printer", "preview", "--preview-dir", str(tmp_path / "tickets"),
        "--priority-step", "on", "--refresh-seconds", "0.5", "--ticket-seconds", "120",
        "--priority-seconds", "120", "--voice-engine", "espeak-ng"],
        steps={"default-on": speech_default_on, "after-first-touch": count("after-first-touch"),
               "after-priority-first-touch": count("after-priority-first-touch"),
               "after-confirm": count("after-confirm")},
        extra={"espeak_log": str(log)})

    # The office's default is honoured: off as shipped, on once the admin sets it.
    assert data["speech_at_start"] is False
    # First touch (a double tap is one touch): the service is read, nothing issued.
    name = data["service_name"]
    assert data["armed"]["said"] == [speech.service_sentence(name)]
    assert data["armed"]["armed"] is True and data["armed"]["screen"] == "home"
    assert data["armed"]["hint"] == f"{name}: chạm lần nữa để xác nhận."
    assert counts["after-first-touch"] == 0
    # The priority group too is read first and confirmed second.
    assert data["priority_armed"] == {"armed": True, "screen": "priority"}
    assert counts["after-priority-first-touch"] == 0
    assert counts["after-confirm"] == 1
    issued = tickets(live_server)
    ticket = data["ticket"]
    assert issued[0]["display_number"] == ticket["display_number"]
    assert issued[0]["priority_class"] == "elderly"
    # In order: service, question, group, then the ticket's number and counter.
    expected = [speech.service_sentence(name), speech.priority_question(),
                speech.choice_sentence("Elderly person"),
                speech.ticket_sentence(ticket["display_number"], ticket["counters"])]
    assert data["said"] == expected
    assert data["started"] == expected  # each one reached the player, in that order
    assert "quầy số" in expected[-1] and ticket["counters"]
    # Each touch cut the sentence before it short (they last FAKE_SECONDS each).
    starts = data["start_times"]
    assert all(b - a < FAKE_SECONDS for a, b in zip(starts, starts[1:])), starts
    # The engine process was run as espeak-ng in Vietnamese.
    args = json.loads(log.read_text(encoding="utf-8").splitlines()[0])["args"]
    assert args[args.index("-v") + 1] == "vi"
    # The ticket screen's pictogram row names the counters.
    assert data["counters_text"] == "Quầy " + ", ".join(map(str, ticket["counters"]))
    # Back home the next citizen gets the office's default; the button turns speech off,
    # and then one touch goes on as without the feature, with nothing said.
    assert data["speech_back_home"] is True
    assert data["said_when_off"] == expected
    assert data["silent_ticket"]["display_number"] == issued[1]["display_number"]
    assert len(issued) == 2
    # On again: it says so.
    assert data["speech_next_citizen"] is True
    assert data["said_end"] == expected + [speech.speech_on_sentence()]
    for shot in ("home-speech", "home-speech-armed", "priority-speech", "ticket-speech",
                 "home-speech-off"):
        assert (SHOTS / f"{shot}-{size}.png").stat().st_size > 1000


@pytest.mark.slow
def test_kiosk_without_a_voice_engine_says_so_and_takes_one_touch(
        live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-engine"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no espeak-ng anywhere

    def speech_default_on() -> None:
        def fn(s: Any, m: Any) -> None:
            office = s.scalar(select(m.Office))
            office.settings = {**(office.settings or {}), "kiosk_speech_default": True}
        _edit(live_server, fn)

    data = run_driver(tmp_path, "speech_missing", [
        "--server", live_server.url, "--token", live_server.token("kiosk"), "--windowed",
        "--size", "1024x600", "--printer", "preview", "--preview-dir", str(tmp_path / "tickets"),
        "--priority-step", "off", "--refresh-seconds", "0.5", "--ticket-seconds", "120",
        "--voice-engine", "espeak-ng"], steps={"default-on": speech_default_on})

    told = ("Máy này hiện không đọc to được. Xin ông/bà chạm vào lĩnh vực như bình thường, "
            "hoặc nhờ cán bộ giúp.")
    assert data["message"] == told and data["hint"] == told
    assert data["armed"] is False
    assert data["speech_after_default"] is False
    assert data["ticket"]["display_number"] == tickets(live_server)[0]["display_number"]
    assert data["speech_next_citizen"] is False
    assert (SHOTS / "home-voice-missing-1024x600.png").stat().st_size > 1000


# --- the shared speaker: a new sentence replaces the one being said ----------------------

class SlowPlayer:
    """A player double that plays for ``seconds`` unless cancelled; notes what happened."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.events: list[tuple[str, bytes]] = []
        self.playing = threading.Event()

    def __call__(self, wav: bytes, cancel: threading.Event | None = None, on_start: Any = None) -> None:
        if on_start is not None:
            on_start()
        self.events.append(("start", wav))
        self.playing.set()
        cut = cancel.wait(self.seconds) if cancel is not None else False
        self.events.append(("cut" if cut else "end", wav))


@needs_posix_exec
def test_speaker_cuts_off_and_never_queues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "espeak.jsonl"
    for key, value in install_fake_espeak(tmp_path, log).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FAKE_ESPEAK_SECONDS", "0.2")
    player = SlowPlayer(seconds=30)
    speaker = Speaker(Voice(VoiceSettings(engine="espeak-ng")), player)
    try:
        speaker.say("Hộ tịch")
        assert player.playing.wait(30)
        for text in ("Đất đai", "Bảo hiểm", "Chứng thực"):  # while "Hộ tịch" plays
            speaker.say(text)
        assert _wait(lambda: [t for t, _ in speaker.spoken][-1:] == ["Chứng thực"])
        speaker.hush()
        assert speaker.wait(30)
    finally:
        speaker.stop()
    kinds = [kind for kind, _wav in player.events]
    assert kinds[:2] == ["start", "cut"] and kinds[-1] == "cut"  # cut off, never played out
    spoken = [t for t, _ in speaker.spoken]
    assert spoken[0] == "Hộ tịch" and spoken[-1] == "Chứng thực"
    assert len(spoken) <= 3  # sentences replaced before they started are skipped, not queued
    texts = [json.loads(line)["text"] for line in log.read_text(encoding="utf-8").splitlines()]
    assert texts[0] == "Hộ tịch" and texts[-1] == "Chứng thực"
    # Spoken once, without the display's chime: the WAV is the engine's speech plus the margins.
    from display.voice import wav_duration

    assert wav_duration(player.events[-1][1]) < 0.2 + 0.5


def _wait(predicate: Any, timeout: float = 30.0) -> bool:
    """Poll ``predicate`` (a state) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# --- the office setting in the admin pages -----------------------------------------------

def test_speech_default_in_the_settings_page(app, client, creds) -> None:
    from tests.counter_server.test_admin_validation import _settings_form

    admin, tok = admin_client(app, creds)
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Kiosk đọc to ngay từ đầu (nút loa bật sẵn)" in page
    assert re.search(r'<input type="checkbox" name="kiosk_speech_default" >', page)  # off as shipped
    kiosk = bearer(creds["devices"]["kiosk"]["token"])

    def office() -> dict[str, Any]:
        return client.get("/api/v1/services", headers=kiosk).get_json()["office"]

    assert office()["kiosk_speech_default"] is False
    form = _settings_form(admin, tok)
    r = admin.post("/admin/settings", data={**form, "kiosk_speech_default": "on"},
                   follow_redirects=True)
    assert "Đã lưu cài đặt." in r.get_data(as_text=True)
    assert office()["kiosk_speech_default"] is True
    assert "voice_engine" in office()
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="kiosk_speech_default" checked' in page
    form = _settings_form(admin, tok)
    form.pop("kiosk_speech_default", None)  # an unticked box is absent from the form
    admin.post("/admin/settings", data=form)
    assert office()["kiosk_speech_default"] is False


def test_two_touches_read_then_confirm() -> None:
    now = [100.0]
    touches = speech.TwoTouch(clock=lambda: now[0])
    assert touches.touch(("service", 1)) == speech.READ
    now[0] += 0.1
    assert touches.touch(("service", 1)) == speech.BOUNCE
    now[0] += 1
    assert touches.touch(("service", 2)) == speech.READ  # another service: read it instead
    now[0] += 1
    assert touches.touch(("service", 2)) == speech.CONFIRM
    assert touches.touch(("service", 2)) == speech.READ  # confirmed: the next touch reads again
    now[0] += speech.ARMED_SECONDS + 1
    assert touches.touch(("service", 2)) == speech.READ  # left too long: read again


def test_sentences_are_vietnamese_in_words() -> None:
    assert speech.ticket_sentence("1005", [3]) == (
        "Số thứ tự của ông bà là một nghìn không trăm linh năm. "
        "Khi được gọi, mời ông bà đến quầy số ba.")
    assert speech.ticket_sentence("A012", [1, 2, 12]).endswith(
        "một trong các quầy số một, hai hoặc mười hai.")
    assert speech.ticket_sentence("7", [4], "digits").startswith("Số thứ tự của ông bà là bảy.")
    assert speech.service_sentence("Hộ tịch") == "Hộ tịch. Ông bà chạm lần nữa để lấy số thứ tự."
    assert speech.choice_sentence("Elderly person") == "Người cao tuổi. Chạm lần nữa để chọn."
    # Recorded clips cannot say service names: the kiosk reads with espeak-ng then.
    assert speech.voice_settings({"voice_engine": "clips"}).engine == "espeak-ng"
    assert speech.voice_settings({"voice_engine": "none"}).engine == "none"
    assert speech.voice_settings({}, engine="none").chime is False
