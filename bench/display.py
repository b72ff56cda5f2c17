"""Benchmark (not a test): the lobby display, end to end.

Prints:

* call made → display widget updated: a real ``motcua serve`` on a temporary
  SQLite file, the real Kivy display app (offscreen window), and a staff
  token pressing "call next"; the clock runs from just before the POST until
  the counter card's number changes on the Kivy thread (p50/p95; target
  p95 <= 100 ms);
* announcement synthesis time per engine (``bench/display_voice.py``;
  target <= 1 s);
Memory over a day, with frames really drawn, is ``bench/display_soak.py``.

    .venv/bin/python bench/display.py [--calls 60]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# This file is bench/display.py: with bench/ first on sys.path, "import display"
# would import this very script instead of the package.  The repository first.
ROOT = Path(__file__).resolve().parents[1]
sys.path = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="motcua-bench-kivy-"))
os.environ.setdefault("MOTCUA_SECRET_KEY", "bench-" + os.urandom(8).hex())

import requests  # noqa: E402


TARGET_P95_MS = 100.0


def rss_mb() -> float:
    """Resident memory now (not the peak), in MB."""
    try:
        import psutil  # type: ignore[import-not-found]

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_server(folder: Path) -> tuple[subprocess.Popen, str, dict]:
    from counter_server.db import Database
    from counter_server.migrate import upgrade
    from counter_server.seed import seed_demo

    url_db = f"sqlite:///{(folder / 'bench.sqlite3').as_posix()}"
    upgrade(url_db)
    db = Database(url_db, pool_size=1)
    with db.write() as s:
        creds = json.loads(json.dumps(seed_demo(s, always_open=True)))
    db.dispose()
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "MOTCUA_DATABASE_URL": url_db}
    proc = subprocess.Popen([sys.executable, "-m", "counter_server.cli", "--instance",
                             str(folder), "serve", "--port", str(port), "--threads", "16"],
                            env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(url + "/api/v1/health", timeout=0.5).ok:
                return proc, url, creds
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def bench_latency(app, url: str, creds: dict, calls: int) -> dict:
    """Run from a worker thread while the Kivy app runs."""
    kiosk = {"Authorization": f"Bearer {creds['devices']['kiosk']['token']}"}
    sid = next(s["id"] for s in requests.get(url + "/api/v1/services", headers=kiosk,
                                             timeout=10).json()["services"] if s["code"] == "HT")
    for _ in range(calls):
        requests.post(url + "/api/v1/tickets", json={"service_id": sid}, headers=kiosk, timeout=10)
    r = requests.post(url + "/api/v1/auth/token", timeout=10, json={
        "username": "canbo1", "password": creds["users"]["canbo1"]["password"],
        "counter_id": creds["counters"]["1"]})
    staff = {"Authorization": f"Bearer {r.json()['token']}"}
    cid = creds["counters"]["1"]
    seen: dict[str, float] = {}
    arrived = threading.Condition()

    def listener(counter: int, number: str, t: float) -> None:
        with arrived:
            seen[number] = t
            arrived.notify_all()

    app.card_listeners.append(listener)
    arrivals: dict[str, float] = {}
    sink = app.feed.sink

    def timed_sink(kind: str, *args) -> None:
        if kind == "event" and args[0].type == "ticket.called":
            ticket = (args[0].data.get("payload") or {}).get("ticket") or {}
            arrivals[str(ticket.get("display_number"))] = time.perf_counter()
        sink(kind, *args)

    app.feed.sink = timed_sink
    deadline = time.monotonic() + 30
    while 1 not in app._cards and time.monotonic() < deadline:
        time.sleep(0.05)
    latencies, posts, streams, ui_part, current = [], [], [], [], None
    for _ in range(calls):
        if current is not None:
            for step in ("start", "complete"):
                requests.post(f"{url}/api/v1/tickets/{current}/{step}", headers=staff, timeout=10)
        time.sleep(0.05)  # let the completion reach the screen first
        t0 = time.perf_counter()
        out = requests.post(f"{url}/api/v1/counters/{cid}/call-next", headers=staff,
                            timeout=10).json()
        posts.append((time.perf_counter() - t0) * 1000)
        current, number = out["id"], out["display_number"]
        with arrived:
            arrived.wait_for(lambda: number in seen, timeout=10)
        if number in seen:
            latencies.append((seen[number] - t0) * 1000)
            if number in arrivals:
                streams.append((arrivals[number] - t0) * 1000)
                ui_part.append((seen[number] - arrivals[number]) * 1000)
    latencies.sort()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"load": load, "calls": len(latencies), "p50_ms": statistics.median(latencies),
            "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)],
            "max_ms": latencies[-1], "post_p50_ms": statistics.median(posts),
            "stream_p50_ms": statistics.median(streams) if streams else float("nan"),
            "ui_p50_ms": statistics.median(ui_part) if ui_part else float("nan"),
            "ui_p95_ms": sorted(ui_part)[max(0, int(len(ui_part) * 0.95) - 1)] if ui_part else float("nan"),
            "ok": latencies[max(0, int(len(latencies) * 0.95) - 1)] <= TARGET_P95_MS}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--synthesis-runs", type=int, default=5)
    opts = ap.parse_args()

    spec = importlib.util.spec_from_file_location("bench_display_voice",
                                                  ROOT / "bench" / "display_voice.py")
    voice_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(voice_bench)  # type: ignore[union-attr]
    synthesis = voice_bench.bench_synthesis(opts.synthesis_runs)

    results: dict = {"synthesis": synthesis}
    with tempfile.TemporaryDirectory(prefix="motcua-bench-display-") as tmp:
        proc, url, creds = start_server(Path(tmp))
        try:
            from display.app import build_app

            app = build_app(["--server", url, "--token", creds["devices"]["display"]["token"],
                             "--size", "1366x768", "--windowed", "--no-voice"])

            def work() -> None:
                try:
                    results["latency"] = bench_latency(app, url, creds, opts.calls)
                finally:
                    from kivy.clock import Clock

                    Clock.schedule_once(lambda _dt: app.stop())

            app.bind(on_start=lambda *_: threading.Thread(target=work, daemon=True).start())
            app.run()
        finally:
            proc.terminate()
            proc.wait(10)

    lat = results.get("latency", {})
    print(f"call made -> display widget updated ({lat.get('calls')} calls, load average "
          f"{lat.get('load', float('nan')):.1f} on {os.cpu_count()} CPUs): "
          f"p50 {lat.get('p50_ms', float('nan')):.1f} ms, p95 {lat.get('p95_ms', float('nan')):.1f} ms, "
          f"max {lat.get('max_ms', float('nan')):.1f} ms (POST alone p50 "
          f"{lat.get('post_p50_ms', float('nan')):.1f} ms, event received p50 "
          f"{lat.get('stream_p50_ms', float('nan')):.1f} ms; event -> widget p50 "
          f"{lat.get('ui_p50_ms', float('nan')):.1f} / p95 {lat.get('ui_p95_ms', float('nan')):.1f} ms) — target p95 <= {TARGET_P95_MS:.0f} ms: "
          f"{'OK' if lat.get('ok') else 'MISSED'}")
    for name, r in synthesis["engines"].items():
        if r.get("error"):
            print(f"synthesis {name:10}: not available here ({r['error']})")
        else:
            print(f"synthesis {name:10}: first {r['first_s']:.3f} s, p50 {r['p50_s']:.3f} s, "
                  f"max {r['max_s']:.3f} s (audio {r['audio_s']:.1f} s) — target <= "
                  f"{synthesis['target_s']:.0f} s: {'OK' if r['ok'] else 'MISSED'}")

if __name__ == "__main__":
    main()
