"""Benchmark (not a test): the lobby display through a day, with real frames drawn.

Runs the real display app (``display.app.build_app``) in an offscreen window
at 1920x1080 against a real ``motcua serve`` (``bench/support.py``: demo
office, every service with a block of 9,999 numbers), and calls tickets
through the HTTP API as counter PCs do, at the four counters in turn, over
all six services:

1. 100 calls to warm up (fonts, glyphs, the voice): the reference RSS;
2. idle: frames drawn per second and CPU per second, ticker on, then off
   (the office setting ``display_ticker``, read from a fresh snapshot);
3. a day's calls at office pace (``--day-calls`` at ``--day-interval``;
   an office calls every few seconds, the bench compresses the day);
4. a rush: 4 calls a second for ``--rush-seconds``.

Prints RSS, Python heap (allocated blocks and gc-tracked objects), widget and
texture counts every ``--every`` calls, and the announcements said,
shortened, merged and dropped, against the targets of issue #18: RSS after
10,000 calls within 50 MB of RSS after the first 100; idle CPU <= 50 % of one
core with the ticker on, <= 5 % off; every announcement either said or
skipped with a log line.

    .venv/bin/python bench/display_soak.py                      # 10,000 calls
    .venv/bin/python bench/display_soak.py --day-calls 300 --day-interval 0.2 \\
        --rush-seconds 30 --idle-seconds 10                      # a quick run
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import support  # noqa: F401  (first: sys.path and the headless environment)
from support import (Office, idle, load_average, office_server, print_growth, print_rows,
                     run_app, set_office_setting, snapshot)

TARGET_RSS_MB = 50.0
TARGET_IDLE_ON, TARGET_IDLE_OFF = 0.50, 0.05


def calls(app: Any, office: Office, count: int, interval: float, every: int,
          rows: list[dict[str, Any]]) -> float:
    """``count`` calls in chunks of ``every``, a snapshot after each chunk."""
    start, done = time.monotonic(), 0
    while done < count:
        chunk = min(every, count - done)
        office.run(chunk, interval)
        done += chunk
        rows.append(snapshot(f"{len(rows)}", office.calls, settle=0.5))
    return count / max(1e-9, time.monotonic() - start)


def soak(app: Any, server: Any, office: Office, opts: argparse.Namespace, out: dict) -> None:
    deadline = time.monotonic() + 120
    while not app.controller.connected and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = out["rows"] = []
    office.run(100, 0.1)
    rows.append(snapshot("first 100 calls", office.calls))
    frames = lambda: app.frames.drawn  # noqa: E731
    out["notice"] = bool(app.notice)
    time.sleep(3.0)  # the last call's highlight and announcement end first
    out["idle_on"] = idle(frames, opts.idle_seconds)
    set_office_setting(server.db_url, "display_ticker", False)
    app.feed.request_refresh()
    deadline = time.monotonic() + 30
    while app.state.ticker and time.monotonic() < deadline:
        time.sleep(0.1)
    if app.state.ticker:
        raise RuntimeError("the display_ticker setting did not reach the display in 30 s")
    time.sleep(1.0)
    out["idle_off"] = idle(frames, opts.idle_seconds)
    set_office_setting(server.db_url, "display_ticker", True)
    app.feed.request_refresh()
    for key, count, interval, label in (
            ("day_rate", opts.day_calls, opts.day_interval, "after the day"),
            ("rush_rate", int(opts.rush_seconds * 4), 0.25, "after the rush")):
        if count:
            out[key] = calls(app, office, count, interval, opts.every, rows)
            rows[-1]["label"] = label
    if app.announcer is not None:
        app.announcer.wait(timeout=120)
        out["voice"] = app.announcer.counts()
    out["announced"] = app.announce_requests


def report(out: dict, opts: argparse.Namespace, office: Office, skipped: list[str],
           started: float) -> None:
    rows = out.get("rows", [])
    print(f"display soak at {opts.size}, software GL ({os.cpu_count()} CPUs, load average "
          f"{load_average():.1f}), {(time.monotonic() - started) / 60:.0f} min; calls at "
          f"{len(office.staff)} counters over 6 services, {office.failed} refused")
    print_rows(rows, "calls")
    print_growth(rows, TARGET_RSS_MB)
    print(f"  call pace: day {out.get('day_rate', 0):.2f}/s, rush {out.get('rush_rate', 0):.2f}/s")
    for key, target, name in (("idle_on", TARGET_IDLE_ON, "ticker on "),
                              ("idle_off", TARGET_IDLE_OFF, "ticker off")):
        r = out.get(key)
        if r:
            print(f"  idle, {name}: {r['fps']:5.2f} frames drawn/s, CPU {r['cpu'] * 100:5.1f} % of "
                  f"a core — target <= {target * 100:.0f} %: {'OK' if r['cpu'] <= target else 'MISSED'}")
    v = out.get("voice")
    if v:
        told = v["said"] + v["merged"] + v["dropped"] + v["waiting"]
        logged = sum(1 for m in skipped if " dropped: " in m or " merged: " in m)
        print(f"  announcements: {out.get('announced')} asked, {v['said']} said ({v['shortened']} "
              f"shortened to once), {v['merged']} merged, {v['dropped']} dropped, "
              f"{v['waiting']} waiting; skip log lines {logged} — every one said or logged: "
              f"{'OK' if told == out.get('announced') and logged == v['merged'] + v['dropped'] else 'MISSED'}")
    if out.get("error"):
        print("  stopped early:", out["error"])
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--day-calls", type=int, default=7500)
    ap.add_argument("--day-interval", type=float, default=0.25,
                    help="seconds between calls in the day (office pace, compressed)")
    ap.add_argument("--rush-seconds", type=float, default=600, help="4 calls a second, this long")
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--every", type=int, default=1000, help="a memory row every N calls")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--voice-engine", default="none", choices=("espeak-ng", "none"),
                    help="none: the chime only (the queue policy still runs)")
    opts = ap.parse_args()

    logging.basicConfig(level=logging.WARNING)
    skipped: list[str] = []

    class Skips(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            skipped.append(record.getMessage())

    voice_log = logging.getLogger("display.voice.queue")
    voice_log.setLevel(logging.INFO)
    voice_log.addHandler(Skips())
    voice_log.propagate = False

    out: dict[str, Any] = {}
    started = time.monotonic()
    with office_server() as server:
        from display.app import build_app

        app = build_app(["--server", server.url, "--token", server.token("display"),
                         "--size", opts.size, "--windowed", "--voice-engine", opts.voice_engine])
        office = Office(server)

        def work() -> None:
            try:
                soak(app, server, office, opts, out)
            except Exception as exc:  # print what was measured so far
                out["error"] = repr(exc)
            # From the worker, before the app stops: the figures are printed
            # even if the app or the server hangs on the way out.
            report(out, opts, office, skipped, started)

        run_app(app, work)


if __name__ == "__main__":
    main()
