"""The Kivy lobby display, headless, against a real running server.

Each scenario runs the real app in a subprocess (tests/display/driver_display.py)
that answers JSON commands; calls are made through the HTTP API like a
counter PC would, and the assertions read the widgets the citizens see.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from tests.conftest import ROOT, artifact_path, bearer

pytestmark = pytest.mark.slow  # end to end (real processes, windows or a browser)

DRIVER = Path(__file__).resolve().parent / "driver_display.py"
WAIT = 30.0  # generous upper bound for a condition; no timing is asserted


class Display:
    """The display subprocess and its command channel."""

    def __init__(self, server: Any, size: str, *extra: str, token: str | None = None) -> None:
        env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
               "KIVY_NO_ARGS": "1", "KIVY_HOME": tempfile.mkdtemp(prefix="motcua-kivy-"),
               "KIVY_NO_FILELOG": "1"}
        # The display's log goes to a file: if it dies, the failure shows why.
        self.log = Path(tempfile.mkdtemp(prefix="motcua-display-log-")) / "stderr.txt"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(DRIVER), "--server", server.url, "--token",
                 token or server.token("display"), "--size", size, *extra],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                cwd=str(ROOT), env=env, text=True, encoding="utf-8")

    def cmd(self, name: str, **kw: Any) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"cmd": name, **kw}) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith("@@"):
                out = json.loads(line[2:])
                assert "error" not in out, out
                return out
        self.proc.wait(10)
        tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise AssertionError(f"display process ended (exit {self.proc.returncode}):\n{tail}")

    def wait_for(self, what: str, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while True:
            st = self.cmd("state")
            if pred(st):
                return st
            if time.monotonic() > deadline:
                raise AssertionError(f"display never showed {what}: {st}")
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.cmd("quit")
                self.proc.wait(10)
            except Exception:
                self.proc.kill()
                self.proc.wait(5)


def issue(server: Any, service_code: str, n: int = 1) -> list[str]:
    services = requests.get(server.url + "/api/v1/services", headers=bearer(server.token("kiosk")),
                            timeout=10).json()["services"]
    sid = next(s["id"] for s in services if s["code"] == service_code)
    return [requests.post(server.url + "/api/v1/tickets", json={"service_id": sid},
                          headers=bearer(server.token("kiosk")), timeout=10).json()["display_number"]
            for _ in range(n)]


_current: dict[tuple[str, int], int] = {}


def call_next(server: Any, token: str, counter: int, action: str = "call-next") -> dict[str, Any]:
    """What the staff console does: finish the current ticket, then call (or recall)."""
    cid = server.creds["counters"][str(counter)]
    key = (server.url, counter)
    if action == "call-next" and key in _current:
        for step in ("start", "complete"):
            r = requests.post(f"{server.url}/api/v1/tickets/{_current[key]}/{step}",
                              headers=bearer(token), timeout=10)
            assert r.status_code == 200, r.text
    r = requests.post(f"{server.url}/api/v1/counters/{cid}/{action}", headers=bearer(token),
                      timeout=10)
    assert r.status_code == 200, r.text
    out = r.json()
    _current[key] = out["id"]
    return out


def card(st: dict[str, Any], counter: int) -> dict[str, Any]:
    return st["cards"].get(str(counter), {})


@pytest.fixture
def display_factory():
    shown: list[Display] = []

    def make(server: Any, size: str, *extra: str, token: str | None = None) -> Display:
        d = Display(server, size, *extra, token=token)
        shown.append(d)
        return d

    yield make
    for d in shown:
        d.close()


def set_notice(server: Any, text: str) -> None:
    """What the admin's office settings page stores (the admin UI is another issue)."""
    from counter_server import models as m
    from counter_server.db import Database

    db = Database(server.db_url, pool_size=1)
    try:
        with db.write() as s:
            office = s.query(m.Office).first()
            office.settings = {**(office.settings or {}), "notice": text}
    finally:
        db.dispose()


NOTICE = "Công dân vui lòng chuẩn bị sẵn giấy tờ tùy thân và hồ sơ trước khi đến quầy."


def test_calls_appear_highlight_clears_and_missed_calls_show_after_reconnect(live_server,
                                                                           display_factory):
    set_notice(live_server, NOTICE)
    issue(live_server, "HT", 12)
    issue(live_server, "CT", 1)
    t1, t2 = live_server.staff_token(1), live_server.staff_token(2)
    d = display_factory(live_server, "1366x768", "--voice-engine", "none",
                        "--highlight-seconds", "600")
    st = d.wait_for("counters 1 and 2", lambda s: s["connected"] and {"1", "2"} <= set(s["cards"]))
    assert "UBND xã Quảng Khê" in st["texts"] and not st["status_visible"]
    assert any(t.startswith("QUẦY 1") for t in st["texts"])

    # A call appears on screen, highlighted, and is announced.
    assert call_next(live_server, t1, 1)["display_number"] == "1001"
    st = d.wait_for("1001 at counter 1", lambda s: card(s, 1).get("number") == "1001")
    assert "1001" in st["texts"] and card(st, 1)["highlighted"]
    d.cmd("shorten_highlights", seconds=0.3)
    d.wait_for("the highlight to clear", lambda s: not card(s, 1)["highlighted"])
    # A recall is announced again.
    call_next(live_server, t1, 1, "recall")
    st = d.wait_for("the recall announced", lambda s: s["announced"].count(["1001", 1]) == 2)
    d.wait_for("a chime played through SoundLoader", lambda s: s["played"] >= 1)

    # Screenshot with a fresh (highlighted) call at 1366x768.
    call_next(live_server, t2, 2)
    st = d.wait_for("counter 2 highlighted and in the recent calls",
                    lambda s: card(s, 2).get("highlighted") and s["texts"].count("1002") >= 2)
    d.cmd("shot", path=str(artifact_path("display", "kivy-1366x768.png")))
    assert card(st, 2)["font_size"] >= 768 * 0.12  # numerals readable across the room
    announced_before = len(st["announced"])

    # Server stopped: discreet indicator; calls made after restart, before the
    # display is back, appear once it reconnects (Last-Event-ID), few announced.
    d.cmd("hold", on=True)
    live_server.stop()
    st = d.wait_for("the disconnected indicator", lambda s: not s["connected"])
    assert st["status_visible"] and "Mất kết nối" in st["status_text"]
    d.cmd("shot", path=str(artifact_path("display", "kivy-1366x768-disconnected.png")))
    live_server.start()
    missed = [call_next(live_server, t1, 1)["display_number"] for _ in range(3)]
    missed += [call_next(live_server, t2, 2)["display_number"] for _ in range(2)]
    d.cmd("hold", on=False)
    st = d.wait_for("the missed calls", lambda s: s["connected"] and s["missed_calls"] == 5)
    assert card(st, 1)["number"] == missed[2] and card(st, 2)["number"] == missed[4]
    # the side panel holds the last 4 calls (sized to be read from 5 m)
    st = d.wait_for("the side panel", lambda s: all(n in s["texts"] for n in missed[1:]))
    assert len(st["announced"]) - announced_before == 3
    assert [a[0] for a in st["announced"][-3:]] == missed[2:]

    # A dropped stream connection (server still up): a call made meanwhile shows.
    d.cmd("hold", on=True)
    d.cmd("drop")
    d.wait_for("the drop noticed", lambda s: not s["connected"])
    number = call_next(live_server, t1, 1)["display_number"]
    d.cmd("hold", on=False)
    st = d.wait_for(f"{number} after the drop", lambda s: card(s, 1).get("number") == number)
    assert card(st, 1)["highlighted"]
    d.close()

    # The same screen on a 1920x1080 TV.
    big = display_factory(live_server, "1920x1080", "--no-voice")
    big.wait_for("counters", lambda s: s["connected"] and {"1", "2"} <= set(s["cards"]))
    call_next(live_server, t1, 1)
    st = big.wait_for("a highlighted call", lambda s: card(s, 1).get("highlighted"))
    assert st["window"] == [1920, 1080] and st["announced"] and not st["played"]
    big.cmd("shot", path=str(artifact_path("display", "kivy-1920x1080.png")))


@pytest.mark.slow
def test_widget_and_texture_counts_stay_flat_over_hundreds_of_calls(live_server, display_factory):
    """The real window at 1920x1080 draws every call; nothing it builds may pile up."""
    import itertools

    counters = (1, 2)  # both serve HT in the demo office
    tokens = {c: live_server.staff_token(c) for c in counters}
    issue(live_server, "HT", 320)
    d = display_factory(live_server, "1920x1080", "--voice-engine", "none")
    d.wait_for("counters", lambda s: s["connected"] and {"1", "2"} <= set(s["cards"]))
    turn = itertools.cycle(counters)

    def calls(n: int) -> str:
        number = ""
        for _ in range(n):
            c = next(turn)
            number = call_next(live_server, tokens[c], c)["display_number"]
        return number

    def settled(last: str) -> dict[str, Any]:
        d.wait_for(f"{last} on screen", lambda s: last in s["texts"])
        return d.cmd("counts")

    first = settled(calls(60))
    after = settled(calls(240))
    assert after["last_event_id"] > first["last_event_id"] and after["frames"] > first["frames"]
    assert after["widgets"] <= first["widgets"], (first, after)
    # A texture per call would add 240 here.  Glyphs drawn for the first time at a
    # size (numbers reaching new digits, the recent list's entries) add a few: up to
    # 5 were seen in loaded runs, all of number-glyph sizes.
    new = list(after["sizes"])
    for size in first["sizes"]:
        if size in new:
            new.remove(size)
    assert after["textures"] <= first["textures"] + 12, (new, first, after)


def test_a_wrong_token_says_the_display_is_not_registered(live_server, display_factory):
    d = display_factory(live_server, "1366x768", "--voice-engine", "none", token="not-a-token")
    st = d.wait_for("the not-registered message",
                    lambda s: s["status_visible"] and "chưa được đăng ký" in s["status_text"])
    assert not st["connected"]
    d.cmd("shot", path=str(artifact_path("display", "kivy-1366x768-not-registered.png")))
