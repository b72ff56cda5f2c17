"""Counter tablet end to end: real Kivy app (own process), real server, real DB."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import artifact_path

from .rating_support import ROOT, kivy_env, ratings_rows

import pytest  # noqa: E402

pytestmark = pytest.mark.slow  # end to end (real processes, windows or a browser)

def driver_cmd(live, tmp: Path, scenario: str, counter: int = 1,
               size: str = "1280x800") -> tuple[list[str], Path]:
    result = tmp / f"tablet-{scenario}.json"
    cmd = [sys.executable, str(ROOT / "tests" / "kiosk" / "rating_tablet_driver.py"),
           "--server", live.url, "--token", live.token(f"rating{counter}"),
           "--kiosk-token", live.token("kiosk"), "--staff-token", live.staff_token(counter),
           "--db", live.db_url.removeprefix("sqlite:///"), "--result", str(result),
           "--shots", str(artifact_path("rating", "x").parent), "--scenario", scenario,
           "--size", size, "--counter", str(counter),
           "--counter-id", str(live.creds["counters"][str(counter)]),
           "--service-id", str(live.creds["services"]["HT"]),
           "--data-dir", str(tmp / f"tablet-data-{scenario}")]
    return cmd, result


def run(cmd: list[str], result: Path, tmp: Path, on_step=None, timeout: float = 240) -> dict:
    """Run a driver, answering its handshake steps; returns its JSON result."""
    import json

    log = open(tmp / (result.stem + ".log"), "w")
    proc = subprocess.Popen(cmd, env=kivy_env(tmp, cmd[cmd.index('--size') + 1]), cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    step_file, handled = result.with_suffix(".step"), set()
    try:
        while proc.poll() is None:
            assert time.monotonic() < deadline, "driver did not finish"
            if on_step and step_file.exists():
                name = step_file.read_text(encoding="utf-8")
                if name and name not in handled:
                    handled.add(name)
                    on_step(name)
                    result.with_suffix(f".ack-{name}").write_text("ok")
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert result.exists(), (tmp / (result.stem + ".log")).read_text()[-6000:]
    data = json.loads(result.read_text(encoding="utf-8"))
    assert data.get("ok"), data.get("error", "") + (tmp / (result.stem + ".log")).read_text()[-3000:]
    return data


def test_tablet_rates_completed_tickets_with_the_right_officer(live_server, tmp_path):
    cmd, result = driver_cmd(live_server, tmp_path, "main")
    data = run(cmd, result, tmp_path)
    assert data["idle"] == {"counter": "Quầy 1", "officer": "Nguyễn Thị Hoa", "avatar": "NH"}
    assert "Nguyễn Thị Hoa" in data["faces_subtitle"]
    assert {"rate_faces", "rate_reasons", "rate_thanks", "idle"} <= set(data["screens"])
    # Typed on the on-screen keyboard (the reasons make room for it meanwhile).
    assert data["typed"] == "Chờ lâu quá " and data["reasons_hidden"]

    rows = ratings_rows(live_server)
    by_code: dict = {}
    for r in rows:
        by_code.setdefault(r["ticket_code"], []).append(r)
    staff_id = live_server.creds["users"]["canbo1"]["id"]
    counter_id = live_server.creds["counters"]["1"]

    low = by_code[data["low"]]
    assert len(low) == 1 and low[0]["level"] == 1 and not low[0]["misuse"]
    assert low[0]["reasons"] == '["long_wait"]' and low[0]["comment"] == "Chờ lâu quá"
    happy = by_code[data["happy"]]
    assert len(happy) == 1 and happy[0]["level"] == 4 and happy[0]["reasons"] == "[]"
    for r in low + happy:
        assert (r["channel"], r["staff_id"], r["counter_id"]) == ("tablet", staff_id, counter_id)
    assert data["timed_out"] not in by_code          # the screen timed out: nothing stored

    fast = by_code[data["too_fast"]]
    assert len(fast) == 1 and fast[0]["misuse"] and fast[0]["misuse_reason"] == "too_fast"
    # Faces only once there is a ticket to rate: none while served, none on the idle screen,
    # so no press is ever stored without a ticket.
    assert data["faces_while_serving"] and set(data["faces_while_serving"]) == {0}
    assert data["idle_faces"] == 0
    assert None not in by_code
    assert len(rows) == 3 and not data["offered_again"]
    # Every caption is readable on the rating screens' background (WCAG AA, 4.5:1).
    from kiosk.rating_widgets import BACKGROUND, contrast, hex_color

    assert [c["text"] for c in data["captions"]] == [
        "Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"]
    for c in data["captions"]:
        assert contrast(c["color"], hex_color(BACKGROUND)) >= 4.5, c
    for shot in data["shots"]:
        assert Path(shot).stat().st_size > 5000


def test_tablet_widget_and_texture_counts_stay_flat_over_hundreds_of_calls(live_server, tmp_path):
    """The real window at 1280x800 offers the faces for 240 completed tickets (every
    tenth rated); nothing it builds per call may pile up, nor the codes it remembers."""
    cmd, result = driver_cmd(live_server, tmp_path, "growth")
    data = run(cmd, result, tmp_path, timeout=900)
    first, after = data["first"], data["after"]
    assert data["frames"] > 240
    assert after["widgets"] <= first["widgets"], (first, after)
    # A texture per call would add 200; a new glyph size or two may appear.
    assert after["textures"] <= first["textures"] + 6, (first, after)
    from kiosk.rating_app import RECENT_CODES

    assert data["codes_kept"] == RECENT_CODES
    assert len(ratings_rows(live_server)) == 24


def test_tablet_rating_made_offline_arrives_once(live_server, tmp_path):
    cmd, result = driver_cmd(live_server, tmp_path, "offline", counter=2, size="800x1280")

    def on_step(name: str) -> None:
        if name == "stop":
            live_server.stop()
        elif name == "start":
            live_server.start()

    data = run(cmd, result, tmp_path, on_step)
    assert data["queued_while_down"] == 1 and data["queue_file_lines"] == 1
    rows = [r for r in ratings_rows(live_server) if r["ticket_code"] == data["code"]]
    assert len(rows) == 1
    assert rows[0]["channel"] == "tablet" and rows[0]["level"] == 2 and not rows[0]["misuse"]
    assert rows[0]["reasons"] == '["unclear"]'
    assert rows[0]["staff_id"] == live_server.creds["users"]["canbo2"]["id"]
    assert len(ratings_rows(live_server)) == 1


def test_reasons_screen_fits_1024x600(live_server, tmp_path):
    cmd, result = driver_cmd(live_server, tmp_path, "fit", size="1024x600")
    data = run(cmd, result, tmp_path)
    for state in ("closed_keyboard", "open_keyboard"):
        boxes = data[state]
        w, h = boxes["window"]
        shown = [boxes["comment"], boxes["send"], boxes["skip"]]
        if state == "closed_keyboard":
            shown += boxes["reasons"] + [boxes["title"]]
            assert len(boxes["reasons"]) == 5
        else:
            shown.append(boxes["keyboard"])
        for x0, y0, x1, y1 in shown:
            assert x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h, (state, (x0, y0, x1, y1), (w, h))


def _missing(live, tmp: Path, name: str, token: str, counter: int) -> dict:
    cmd, result = driver_cmd(live, tmp, "missing", counter=1, size="1024x600")
    cmd[cmd.index("--token") + 1] = token
    cmd[cmd.index("--counter") + 1] = str(counter)
    cmd[cmd.index("--data-dir") + 1] = str(tmp / f"tablet-data-{name}")
    cmd[cmd.index("--result") + 1] = str(tmp / f"tablet-missing-{name}.json")
    return run(cmd, tmp / f"tablet-missing-{name}.json", tmp)["missing"]


def test_tablet_says_what_is_missing(live_server, tmp_path):
    """Wrong token, a counter the server does not have, a counter with no officer."""
    bad = _missing(live_server, tmp_path, "token", "not-a-token", 1)
    assert bad["problem"] == "not_registered" and bad["hint"].startswith(
        "Máy đánh giá này chưa được đăng ký")
    assert "Không kết nối được" not in bad["status"]
    gone = _missing(live_server, tmp_path, "counter", live_server.token("rating1"), 99)
    assert gone["problem"] == "no_counter" and gone["hint"].startswith("Máy chủ không có quầy 99.")
    alone = _missing(live_server, tmp_path, "officer", live_server.token("rating2"), 2)
    assert alone["problem"] == "" and alone["hint"].startswith("Quầy này chưa có cán bộ đăng nhập.")
    assert bad["faces"] == gone["faces"] == alone["faces"] == 0
