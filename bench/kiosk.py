"""Lobby kiosk figures: tap to number on screen, ticket render + encode, cold start, memory,
procedure search, touch to speech start.

Targets (issue 3): tap to number <= 150 ms against a local server, render and
encode <= 100 ms, cold start <= 3 s; (issue 17) procedure search p95 <= 50 ms
for 2,000 procedures, searched on the kiosk over the fetched list (reference
in the same run: the server's ``GET /procedures?q=`` for the same keystrokes); touch to
speech start <= 300 ms with espeak-ng (speaker on, a first touch on a service: from the
touch to the player starting the sound; reference in the same run: espeak-ng rendering
the same sentences alone, and the tap-to-number figure).  Run: ``python bench/kiosk.py`` (headless:
it sets SDL_VIDEODRIVER=offscreen itself).  A local ``motcua serve`` on a fresh
demo database is started and stopped by the benchmark.
"""
from __future__ import annotations

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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGETS = {"tap_to_number_ms": 150.0, "render_encode_ms": 100.0, "cold_start_s": 3.0,
           "procedure_search_p95_ms": 50.0, "touch_to_speech_ms": 300.0}
#: What citizens type, measured after every key press (each prefix of each query).
SEARCHES = ("dang ky tam tru", "khai sinh", "chứng thực bản sao", "the bao hiem y te",
            "giay phep xay dung", "ho ngheo", "ket hon")
PROCEDURES = 2000
ENV = {"SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy", "KIVY_NO_ARGS": "1"}


def _rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource  # POSIX fallback (peak, not current)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------- child side
def _child(mode: str, started: float, kiosk_argv: list[str]) -> None:
    from kiosk.app import configure_kivy, create_app, parse_args

    args = parse_args(kiosk_argv)
    configure_kivy(args)
    app = create_app(args)

    def ui(fn: Any) -> Any:
        from kivy.clock import Clock

        done, box = threading.Event(), {}
        Clock.schedule_once(lambda _dt: (box.setdefault("v", fn()), done.set()), 0)
        done.wait(30)
        return box.get("v")

    def poll(pred: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not ui(pred):
            if time.monotonic() > deadline:
                state = ui(lambda: (app.root.current, app.issuing, app.online, app.message,
                                    app.root.transition.is_active))
                raise TimeoutError(f"kiosk did not get there: {state}")
            time.sleep(0.002)

    def run() -> None:
        out: dict[str, Any] = {}
        try:
            poll(lambda: app.online and app.services_loaded and app.root.current == "home")
            if mode == "cold":
                ui(lambda: None)  # one more frame: the home screen is drawn
                out = {"cold_start_s": time.time() - started, "rss_mb": _rss_mb()}
            elif mode == "speech":
                out = _speech_taps(app, ui, poll)
            else:
                from kivy.core.window import Window
                from kivy.tests.common import UnitTestTouch

                shown = threading.Event()
                marks: dict[str, float] = {}

                def number_set(*_a: Any) -> None:
                    marks["set"] = time.perf_counter()

                def flipped(*_a: Any) -> None:
                    # The first frame swapped to the screen after the number was set.
                    if "set" in marks and not shown.is_set():
                        marks["drawn"] = time.perf_counter()
                        shown.set()

                app.bind(ticket_number=number_set)
                Window.bind(on_flip=flipped)
                time.sleep(0.5)
                samples, inside = [], []
                for i in range(int(os.environ.get("BENCH_TAPS", "30"))):
                    def tap() -> float:
                        button = list(app._buttons.values())[i % len(app._buttons)]
                        x, y = button.to_window(*button.center)
                        touch = UnitTestTouch(x, y)
                        t0 = time.perf_counter()
                        touch.touch_down()
                        touch.touch_up()
                        return t0
                    marks.clear()
                    shown.clear()
                    t0 = ui(tap)
                    if not shown.wait(30):
                        raise TimeoutError("no ticket on screen")
                    assert ui(lambda: app.root.get_screen("ticket").ids.number.text) == app.ticket["display_number"]
                    samples.append((marks["drawn"] - t0) * 1000)
                    inside.append(app.last_tap_ms)
                    ui(app.go_home)
                    time.sleep(float(os.environ.get("BENCH_PAUSE", "0.25")))
                out = {"samples_ms": samples, "inside_ms": inside, "rss_mb": _rss_mb()}
        except BaseException as exc:  # noqa: BLE001
            out = {"error": repr(exc)}
        print("RESULT " + json.dumps(out), flush=True)
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: app.stop(), 0)

    app.bind(on_start=lambda *_a: threading.Thread(target=run, daemon=True).start())
    app.run()


def _speech_taps(app: Any, ui: Any, poll: Any) -> dict[str, Any]:
    """Speaker on: first touches on services, each one read aloud with the real engine.

    Measured from the touch (taken on the UI thread, like a finger) to the player
    starting the sound (``Speaker.spoken``); each touch goes to another service so
    that every one reads (none confirms).  Reference in the same process: the same
    sentences rendered by the voice alone, without the kiosk around it.
    """
    from kivy.tests.common import UnitTestTouch

    from kiosk import speech

    poll(lambda: app.speech_on)
    samples, texts = [], []
    for i in range(int(os.environ.get("BENCH_SPEECH_TAPS", "20"))):
        def tap() -> tuple[float, int]:
            button = list(app._buttons.values())[i % len(app._buttons)]
            x, y = button.to_window(*button.center)
            touch = UnitTestTouch(x, y)
            seen = len(app.speaker.spoken) if app.speaker else 0
            t0 = time.perf_counter()
            touch.touch_down()
            touch.touch_up()
            return t0, seen
        t0, seen = ui(tap)
        poll(lambda: app.speaker is not None and len(app.speaker.spoken) > seen)
        text, at = app.speaker.spoken[-1]
        samples.append((at - t0) * 1000)
        texts.append(text)
        time.sleep(float(os.environ.get("BENCH_PAUSE", "0.6")))  # past the bounce guard
    voice = app.speaker.voice
    render = []
    for text in texts:
        start = time.perf_counter()
        voice.render(text, repeat=1, chime=False)
        render.append((time.perf_counter() - start) * 1000)
    return {"samples_ms": samples, "render_ms": render, "engine": voice.settings.engine,
            "sentence": speech.service_sentence(app.services[0]["name"])}


# ---------------------------------------------------------------------- parent side
def _run_child(mode: str, kiosk_argv: list[str], home: str) -> dict[str, Any]:
    env = {**os.environ, **ENV, "KIVY_HOME": home}
    started = time.time()
    proc = subprocess.run([sys.executable, __file__, "--child", mode, repr(started), "--", *kiosk_argv],
                          env=env, capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(proc.stderr[-3000:])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _add_procedures(url: str, total: int) -> None:
    """Bring the demo office to ``total`` procedures: the demo's sample rows in many variants."""
    import tomllib

    from sqlalchemy import text

    from counter_server import procedure_rows
    from counter_server.db import Database

    demo = tomllib.loads(procedure_rows.DEMO_FILE.read_text(encoding="utf-8"))["procedure"]
    db = Database(url, pool_size=1)
    try:
        with db.write() as s:
            office_id = s.scalar(text("SELECT min(id) FROM office"))
            count = total - s.scalar(text("SELECT count(*) FROM procedure"))
            rows = [(i, {**demo[i % len(demo)],
                         "name": f"{demo[i % len(demo)]['name']} – trường hợp {i // len(demo) + 1}"})
                    for i in range(count)]
            report = procedure_rows.import_rows(s, office_id, rows)
            assert not report.refused, report.refused[:3]
    finally:
        db.dispose()


def bench_procedure_search(server_url: str, token: str) -> dict[str, Any]:
    """The kiosk's local search (kiosk.procedure_search) over the fetched list, per key press,
    against the server's own search over HTTP for the same key presses."""
    import requests

    from counter_server.client import ApiClient
    from kiosk.procedure_search import ProcedureIndex

    client = ApiClient(server_url, token)
    t0 = time.perf_counter()
    procedures = client.procedures()["procedures"]
    fetched = time.perf_counter()
    index = ProcedureIndex(procedures)
    built = time.perf_counter()
    prefixes = [q[:n] for q in SEARCHES for n in range(1, len(q) + 1)]
    local, remote = [], []
    for _round in range(3):
        for prefix in prefixes:
            start = time.perf_counter()
            index.search(prefix)
            local.append((time.perf_counter() - start) * 1000)
    session = requests.Session()
    for prefix in prefixes:
        start = time.perf_counter()
        r = session.get(server_url + "/api/v1/procedures", params={"q": prefix},
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)
        r.raise_for_status()
        remote.append((time.perf_counter() - start) * 1000)
    return {"procedures": len(procedures), "key_presses": len(local),
            "kiosk_local_ms": {"p50": round(statistics.median(local), 2),
                               "p95": round(_pct(local, 0.95), 2), "max": round(max(local), 2)},
            "reference_server_q_ms": {"p50": round(statistics.median(remote), 1),
                                      "p95": round(_pct(remote, 0.95), 1)},
            "fetch_list_ms": round((fetched - t0) * 1000, 1),
            "build_index_ms": round((built - fetched) * 1000, 1)}


def main() -> None:
    from tests.conftest import LiveServer, seed_database

    spec = importlib.util.spec_from_file_location("bench_printing", ROOT / "bench" / "printing.py")
    bench_printing = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(bench_printing)

    with tempfile.TemporaryDirectory(prefix="motcua-bench-kiosk-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{(folder / 'bench.sqlite3').as_posix()}"
        creds = seed_database(url)
        _add_procedures(url, PROCEDURES)
        server = LiveServer(url, folder / "instance", creds).start()
        try:
            search = bench_procedure_search(server.url, server.token("kiosk"))
            argv = ["--server", server.url, "--token", server.token("kiosk"), "--windowed",
                    "--size", "1024x600", "--priority-step", "off", "--printer", "preview",
                    "--preview-dir", str(folder / "tickets")]
            home = str(folder / "kivy-home")
            _run_child("cold", argv, home)  # warm the OS file cache and Kivy's config once
            colds = [_run_child("cold", argv, home) for _ in range(3)]
            taps = _run_child("tap", argv, home)
            spoken = _run_child("speech", [*argv, "--speech", "on", "--voice-engine", "espeak-ng"],
                                home)
        finally:
            server.stop()
    if "error" in taps:
        raise SystemExit(f"tap benchmark failed: {taps['error']}")
    if "error" in spoken:
        raise SystemExit(f"speech benchmark failed: {spoken['error']}")
    speak = spoken["samples_ms"]
    render = bench_printing.bench_render(30)
    tap = taps["samples_ms"]
    result = {
        "tap_to_number_ms": {"p50": round(statistics.median(tap), 1), "p95": round(_pct(tap, 0.95), 1),
                             "max": round(max(tap), 1), "runs": len(tap),
                             "app_internal_p50": round(statistics.median(taps["inside_ms"]), 1)},
        "render_encode_ms": {k: render[k] for k in ("80mm", "58mm")},
        "cold_start_s": {"median": round(statistics.median(c["cold_start_s"] for c in colds), 2),
                         "runs": [round(c["cold_start_s"], 2) for c in colds]},
        "procedure_search": search,
        "touch_to_speech_start_ms": {
            "p50": round(statistics.median(speak), 1), "p95": round(_pct(speak, 0.95), 1),
            "max": round(max(speak), 1), "runs": len(speak), "engine": spoken["engine"],
            "reference_engine_render_alone_ms": {"p50": round(statistics.median(spoken["render_ms"]), 1),
                                                 "p95": round(_pct(spoken["render_ms"], 0.95), 1)},
            "sentence_example": spoken["sentence"]},
        "memory_rss_mb": {"after_start": round(statistics.median(c["rss_mb"] for c in colds), 1),
                          "after_taps": round(taps["rss_mb"], 1)},
        "targets": TARGETS,
    }
    result["within_targets"] = {
        "tap_to_number": result["tap_to_number_ms"]["p95"] <= TARGETS["tap_to_number_ms"],
        "render_encode": all(render[k]["p95_ms"] <= TARGETS["render_encode_ms"] for k in ("80mm", "58mm")),
        "cold_start": result["cold_start_s"]["median"] <= TARGETS["cold_start_s"],
        "procedure_search": search["kiosk_local_ms"]["p95"] <= TARGETS["procedure_search_p95_ms"],
        "touch_to_speech": result["touch_to_speech_start_ms"]["p95"] <= TARGETS["touch_to_speech_ms"],
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        for key, value in ENV.items():
            os.environ.setdefault(key, value)
        _child(sys.argv[2], float(sys.argv[3]), sys.argv[sys.argv.index("--") + 1:])
    else:
        main()
