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
import os
import statistics
import threading
import time

import support  # noqa: F401  (first: sys.path and the headless environment)
from support import ROOT, load_average, office_server, run_app

import requests  # noqa: E402

TARGET_P95_MS = 100.0


def bench_latency(app, server, calls: int) -> dict:
    """Run from a worker thread while the Kivy app runs."""
    url = server.url
    kiosk = {"Authorization": f"Bearer {server.token('kiosk')}"}
    sid = next(s["id"] for s in requests.get(url + "/api/v1/services", headers=kiosk,
                                             timeout=10).json()["services"] if s["code"] == "HT")
    for _ in range(calls):
        requests.post(url + "/api/v1/tickets", json={"service_id": sid}, headers=kiosk, timeout=10)
    staff = {"Authorization": f"Bearer {server.staff_token(1)}"}
    cid = server.creds["counters"]["1"]
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
    return {"load": load_average(), "calls": len(latencies), "p50_ms": statistics.median(latencies),
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
    with office_server() as server:
        from display.app import build_app

        app = build_app(["--server", server.url, "--token", server.token("display"),
                         "--size", "1366x768", "--windowed", "--no-voice"])

        def work() -> None:
            results["latency"] = bench_latency(app, server, opts.calls)

        run_app(app, work)

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
