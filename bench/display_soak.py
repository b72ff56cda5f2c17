"""Benchmark (not a test): the lobby display through a day, with real frames drawn.

Runs the real display app (``display.app.build_app``) in an offscreen window
at 1920x1080 against a real ``motcua serve`` on a temporary SQLite file, and
calls tickets through the HTTP API as counter PCs do, at several counters in
turn:

1. 100 calls to warm up (fonts, glyphs, the voice): the reference RSS;
2. idle: frames drawn per second and CPU per second, ticker on, then off
   (the office setting ``display_ticker``, read from a fresh snapshot);
3. a day's calls at office pace (``--day-calls`` at ``--day-interval``);
4. a rush: 4 calls a second for ``--rush-seconds``.

Prints RSS, Python heap (allocated blocks and gc-tracked objects), widget and
texture counts, and the announcements said, shortened, merged and dropped,
against the targets of issue #18: RSS after all calls within 50 MB of RSS
after the first 100; idle CPU <= 50 % of one core with the ticker on, <= 5 %
off; every announcement either said or skipped with a log line.

    .venv/bin/python bench/display_soak.py                      # the issue's figures
    .venv/bin/python bench/display_soak.py --day-calls 300 --day-interval 0.2 \\
        --rush-seconds 30 --idle-seconds 10                      # a quick run
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="motcua-soak-kivy-"))
os.environ.setdefault("MOTCUA_SECRET_KEY", "soak-" + os.urandom(8).hex())

import requests  # noqa: E402

COUNTERS = ("1", "2")  # both serve HT in the demo office
TARGET_RSS_MB = 50.0
TARGET_IDLE_ON, TARGET_IDLE_OFF = 0.50, 0.05


def rss_mb() -> float:
    """Resident memory now, in MB (Linux /proc; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def set_office_setting(db_url: str, key: str, value: Any) -> None:
    from counter_server import models as m
    from counter_server.db import Database

    db = Database(db_url, pool_size=1)
    try:
        with db.write() as s:
            office = s.query(m.Office).first()
            office.settings = {**(office.settings or {}), key: value}
    finally:
        db.dispose()


def start_server(folder: Path) -> tuple[subprocess.Popen, str, dict, str]:
    from counter_server.db import Database
    from counter_server.migrate import upgrade
    from counter_server.seed import seed_demo

    db_url = f"sqlite:///{(folder / 'soak.sqlite3').as_posix()}"
    upgrade(db_url)
    db = Database(db_url, pool_size=1)
    with db.write() as s:
        creds = json.loads(json.dumps(seed_demo(s, always_open=True)))
    db.dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "counter_server.cli", "--instance", str(folder),
                             "serve", "--port", str(port), "--threads", "16"],
                            env={**os.environ, "MOTCUA_DATABASE_URL": db_url}, cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(url + "/api/v1/health", timeout=0.5).ok:
                return proc, url, creds, db_url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


class Office:
    """Counter PCs and the kiosk, over HTTP: each call issues a ticket and calls it."""

    def __init__(self, url: str, creds: dict) -> None:
        self.url, self.http = url, requests.Session()
        self.kiosk = {"Authorization": f"Bearer {creds['devices']['kiosk']['token']}"}
        services = self.http.get(url + "/api/v1/services", headers=self.kiosk,
                                 timeout=30).json()["services"]
        self.service = next(s["id"] for s in services if s["code"] == "HT")
        self.staff = []
        for number in COUNTERS:
            name = f"canbo{number}"
            r = self.http.post(url + "/api/v1/auth/token", timeout=30, json={
                "username": name, "password": creds["users"][name]["password"],
                "counter_id": creds["counters"][number]})
            r.raise_for_status()
            self.staff.append((creds["counters"][number],
                               {"Authorization": f"Bearer {r.json()['token']}"}))
        self.calls = 0

    def call(self) -> None:
        cid, headers = self.staff[self.calls % len(self.staff)]
        self.http.post(self.url + "/api/v1/tickets", json={"service_id": self.service},
                       headers=self.kiosk, timeout=30)
        r = self.http.post(f"{self.url}/api/v1/counters/{cid}/call-next",
                           json={"complete_current": True}, headers=headers, timeout=30)
        if r.status_code == 200:
            self.calls += 1

    def run(self, count: int, interval: float) -> float:
        """``count`` calls, one every ``interval`` s (or as fast as the server answers)."""
        start = time.monotonic()
        for i in range(count):
            self.call()
            delay = start + (i + 1) * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return count / max(1e-9, time.monotonic() - start)


def on_ui(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on the Kivy thread and return its result."""
    from kivy.clock import Clock

    done, out = threading.Event(), {}

    def job(_dt: float) -> None:
        try:
            out["v"] = fn()
        finally:
            done.set()

    Clock.schedule_once(job)
    done.wait(120)
    return out.get("v")


def ui_counts(app: Any) -> dict[str, int]:
    from kivy.graphics.texture import Texture
    from kivy.uix.widget import Widget

    gc.collect()
    objs = gc.get_objects()
    return {"widgets": sum(issubclass(type(o), Widget) for o in objs),
            "textures": sum(issubclass(type(o), Texture) for o in objs),
            "objects": len(objs), "blocks": sys.getallocatedblocks()}


def snapshot(app: Any, label: str, calls: int) -> dict[str, Any]:
    on_ui(lambda: None)  # let pending events reach the screen
    time.sleep(2.0)
    c = on_ui(lambda: ui_counts(app))
    return {"label": label, "calls": calls, "rss_mb": rss_mb(), **c}


def idle(app: Any, seconds: float) -> dict[str, float]:
    time.sleep(3.0)  # the last call's highlight and announcement end first
    f0, c0, t0 = app.frames_drawn, cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    dt = time.monotonic() - t0
    return {"fps": (app.frames_drawn - f0) / dt, "cpu": (cpu_seconds() - c0) / dt}


def soak(app: Any, office: Office, db_url: str, opts: argparse.Namespace, out: dict) -> None:
    deadline = time.monotonic() + 120
    while not app.controller.connected and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = out["rows"] = []
    office.run(100, 0.1)
    rows.append(snapshot(app, "first 100 calls", office.calls))
    notice = app.notice
    out["idle_on"] = idle(app, opts.idle_seconds)
    set_office_setting(db_url, "display_ticker", False)
    app.feed.request_refresh()
    deadline = time.monotonic() + 30
    while app.state.ticker and time.monotonic() < deadline:
        time.sleep(0.1)
    out["idle_off"] = idle(app, opts.idle_seconds)
    out["notice"] = bool(notice)
    set_office_setting(db_url, "display_ticker", True)
    app.feed.request_refresh()
    out["day_rate"] = office.run(opts.day_calls, opts.day_interval)
    rows.append(snapshot(app, "after the day", office.calls))
    rush = int(opts.rush_seconds * 4)
    out["rush_rate"] = office.run(rush, 0.25)
    rows.append(snapshot(app, "after the rush", office.calls))
    if app.announcer is not None:
        app.announcer.wait(timeout=120)
        out["voice"] = app.announcer.counts()
    out["announced"] = app.announce_requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--day-calls", type=int, default=7500)
    ap.add_argument("--day-interval", type=float, default=1.0,
                    help="seconds between calls in the day (office pace, compressed)")
    ap.add_argument("--rush-seconds", type=float, default=600, help="4 calls a second, this long")
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--voice-engine", default="none", choices=("espeak-ng", "none"),
                    help="none: the chime only (the queue policy still runs)")
    opts = ap.parse_args()

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    skipped: list[str] = []

    class Skips(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            skipped.append(record.getMessage())

    voice_log = logging.getLogger("display.voice.queue")
    voice_log.setLevel(logging.INFO)
    voice_log.addHandler(Skips())
    voice_log.propagate = False

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="motcua-soak-") as tmp:
        proc, url, creds, db_url = start_server(Path(tmp))
        try:
            from display.app import build_app

            app = build_app(["--server", url, "--token", creds["devices"]["display"]["token"],
                             "--size", opts.size, "--windowed", "--voice-engine", opts.voice_engine])
            office = Office(url, creds)

            def work() -> None:
                try:
                    soak(app, office, db_url, opts, out)
                except Exception as exc:  # print what was measured so far
                    out["error"] = repr(exc)
                finally:
                    from kivy.clock import Clock

                    Clock.schedule_once(lambda _dt: app.stop())

            app.bind(on_start=lambda *_: threading.Thread(target=work, daemon=True).start())
            app.run()
        finally:
            proc.terminate()
            proc.wait(10)

    rows = out.get("rows", [])
    print(f"display soak at {opts.size}, software GL ({os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}); calls over {len(COUNTERS)} counters")
    for r in rows:
        print(f"  {r['label']:16} {r['calls']:6} calls: RSS {r['rss_mb']:7.1f} MB, Python "
              f"{r['blocks']} blocks / {r['objects']} objects, {r['widgets']} widgets, "
              f"{r['textures']} textures")
    if len(rows) >= 2:
        growth = rows[-1]["rss_mb"] - rows[0]["rss_mb"]
        print(f"  RSS growth after the first 100 calls: {growth:+.1f} MB — target within "
              f"{TARGET_RSS_MB:.0f} MB: {'OK' if abs(growth) <= TARGET_RSS_MB else 'MISSED'}")
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


if __name__ == "__main__":
    main()
