"""What the Kivy benchmarks share: a real server, a real app in an offscreen window.

Import this module first in a benchmark (before Kivy): it puts the repository
ahead of ``bench/`` on ``sys.path`` (``bench/display.py`` would otherwise
shadow the ``display`` package) and sets the headless SDL environment.

* :func:`office_server` - ``motcua serve`` on a temporary SQLite file with
  the demo office (the tests' :class:`~tests.conftest.LiveServer`);
* :class:`Office` - the counter PCs and the kiosk over HTTP: issue a ticket
  and call it, at every counter in turn;
* :func:`run_app` - run a Kivy app and a worker thread that drives it from
  outside; :func:`on_ui` runs a function on the Kivy thread;
* :func:`rss_mb`, :func:`cpu_seconds`, :func:`ui_counts`, :func:`idle`,
  :func:`frame_cost` - the figures the soaks print;
* every request times out (:data:`REQUEST_TIMEOUT`; the server's thread
  stacks are printed then) and :func:`stall_watch` dumps the bench's own
  threads when a step stalls: a hang is reported, never silent.
"""
from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="motcua-bench-kivy-"))
os.environ.setdefault("MOTCUA_SECRET_KEY", "bench-" + os.urandom(8).hex())
os.environ.setdefault("MOTCUA_BACKUP_TIME", "off")

import requests  # noqa: E402

#: Every HTTP request of a bench gives up after this long: a hang is reported
#: (with the server's thread stacks), never waited for silently.
REQUEST_TIMEOUT = 30.0
#: The bench's own threads are dumped (faulthandler, which needs no GIL) when
#: one step makes no progress for this long.
STALL_SECONDS = 120.0

#: Numbers per service in the benchmark office: a soak calls 10,000 tickets in
#: one service day, more than the demo's blocks of 999 hold.
NUMBERS_PER_SERVICE = 9999


def rss_mb() -> float:
    """Resident memory now (not the peak), in MB (Linux /proc; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds() -> float:
    """CPU time of this process (every thread, the GL driver's too)."""
    t = os.times()
    return t.user + t.system


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def widen_numbers(db_url: str) -> None:
    """Give every service a block of :data:`NUMBERS_PER_SERVICE` numbers
    (10001-19999, 20001-29999, ...), as an office admin can."""
    from counter_server import models as m
    from counter_server.db import Database

    db = Database(db_url, pool_size=1)
    try:
        with db.write() as s:
            for i, svc in enumerate(s.query(m.Service).order_by(m.Service.sort_order), start=1):
                svc.number_start = i * 10000 + 1
                svc.number_end = svc.number_start + NUMBERS_PER_SERVICE - 1
    finally:
        db.dispose()


def set_office_setting(db_url: str, key: str, value: Any) -> None:
    """One office setting, changed as the admin page does: with an
    ``admin.settings_updated`` event (the screens' snapshot tags key on the
    office's newest event; without one they keep their 304)."""
    from counter_server import models as m
    from counter_server.db import Database
    from counter_server.engine import append_event

    db = Database(db_url, pool_size=1)
    try:
        with db.write() as s:
            office = s.query(m.Office).first()
            office.settings = {**(office.settings or {}), key: value}
            append_event(s, office.id, "admin.settings_updated", payload={"admin": {"via": "bench"}})
    finally:
        db.dispose()


@contextlib.contextmanager
def office_server(threads: int = 16) -> Iterator[Any]:
    """A running ``motcua serve`` over a fresh demo office (open 24/7, wide
    number blocks); yields the :class:`~tests.conftest.LiveServer`."""
    from tests.conftest import LiveServer, seed_database

    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        folder = Path(tmp)
        db_url = f"sqlite:///{(folder / 'bench.sqlite3').as_posix()}"
        creds = seed_database(db_url)
        widen_numbers(db_url)
        server = LiveServer(db_url, folder / "instance", creds, threads=threads,
                            env=_stack_dump_env(folder)).start()
        try:
            yield server
        finally:
            server.stop()


def _stack_dump_env(folder: Path) -> dict[str, str]:
    """Environment for the server process: where signals exist, SIGUSR1 makes
    it write every thread's stack to its log (a ``sitecustomize`` on its path)."""
    if not hasattr(signal, "SIGUSR1"):
        return {}
    diag = folder / "diag"
    diag.mkdir()
    (diag / "sitecustomize.py").write_text(
        "import faulthandler, signal, sys\n"
        "faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)\n")
    return {"PYTHONPATH": os.pathsep.join([str(diag), os.environ.get("PYTHONPATH", "")])}


def server_stacks(server: Any, wait: float = 2.0) -> str:
    """The server's thread stacks (SIGUSR1, see :func:`_stack_dump_env`): the
    part of its log they were written to."""
    if not hasattr(signal, "SIGUSR1") or server.proc is None or server.proc.poll() is not None:
        return "(no stacks: the server is not running or has no SIGUSR1)"
    size = server.log.stat().st_size
    server.proc.send_signal(signal.SIGUSR1)
    time.sleep(wait)
    with open(server.log, "rb") as f:
        f.seek(size)
        return f.read().decode(errors="replace")


class Stalled(RuntimeError):
    """A request of the bench got no answer within :data:`REQUEST_TIMEOUT`."""


class Office:
    """Counter PCs and the kiosk over HTTP.  :meth:`call` issues a ticket for
    one of the counter's services and calls the counter's next ticket
    (completing the one it served), at the given counters in turn."""

    def __init__(self, server: Any, counters: tuple[int, ...] = (1, 2, 3, 4)) -> None:
        self.server = server
        self.url, self.http = server.url, requests.Session()
        self.kiosk = {"Authorization": f"Bearer {server.token('kiosk')}"}
        from counter_server.defaults import DEMO_COUNTERS

        ids = server.creds["services"]
        self.staff = []
        for number in counters:
            headers = {"Authorization": f"Bearer {server.staff_token(number)}"}
            services = [ids[code] for code in DEMO_COUNTERS[number][1]]
            self.staff.append((server.creds["counters"][str(number)], headers, services))
        self.calls = 0
        self.failed = 0

    def call(self) -> dict[str, Any] | None:
        """One call; the called ticket, or None when the server refused."""
        cid, headers, services = self.staff[self.calls % len(self.staff)]
        service = services[(self.calls // len(self.staff)) % len(services)]
        self.post("/api/v1/tickets", {"service_id": service}, self.kiosk)
        r = self.post(f"/api/v1/counters/{cid}/call-next", {"complete_current": True}, headers)
        if r.status_code != 200:
            self.failed += 1
            return None
        self.calls += 1
        return r.json()

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        """One POST; on no answer within :data:`REQUEST_TIMEOUT` the server's
        stacks are printed and :class:`Stalled` raised (after ``self.calls``)."""
        try:
            return self.http.post(self.url + path, json=body, headers=headers,
                                  timeout=REQUEST_TIMEOUT)
        except requests.Timeout as exc:
            health = "no answer"
            with contextlib.suppress(requests.RequestException):
                health = str(requests.get(self.url + "/api/v1/health", timeout=5).status_code)
            print(f"[{time.strftime('%H:%M:%S')}] POST {path} after {self.calls} calls: no answer "
                  f"in {REQUEST_TIMEOUT:.0f} s (/health on a new connection: {health}); "
                  f"server stacks:\n{server_stacks(self.server)}", flush=True)
            raise Stalled(f"POST {path} got no answer in {REQUEST_TIMEOUT:.0f} s after "
                          f"{self.calls} calls") from exc

    def run(self, count: int, interval: float) -> float:
        """``count`` calls, one every ``interval`` s (or as fast as the server
        answers); returns the calls per second reached."""
        start = time.monotonic()
        for i in range(count):
            with stall_watch():
                self.call()
            delay = start + (i + 1) * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return count / max(1e-9, time.monotonic() - start)


@contextlib.contextmanager
def stall_watch(seconds: float = STALL_SECONDS) -> Iterator[None]:
    """Dump every thread of this process to stderr every ``seconds`` the block
    runs (faulthandler's own thread: works even when a thread holds the GIL,
    e.g. stuck in the GL driver)."""
    faulthandler.dump_traceback_later(seconds, repeat=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def on_ui(fn: Callable[[], Any], timeout: float = 120) -> Any:
    """Run ``fn`` on the Kivy thread (from a worker) and return its result."""
    from kivy.clock import Clock

    done, out = threading.Event(), {}

    def job(_dt: float) -> None:
        try:
            out["v"] = fn()
        finally:
            done.set()

    Clock.schedule_once(job)
    if not done.wait(timeout):
        raise TimeoutError(f"the Kivy thread did not run {fn} within {timeout:.0f} s")
    return out.get("v")


def wait_until(pred: Callable[[], Any], timeout: float = 30, what: str = "",
               state: Callable[[], Any] | None = None) -> None:
    """Poll ``pred`` on the Kivy thread until it is true; on time-out the
    error says ``what`` was awaited and what ``state`` returned."""
    deadline = time.monotonic() + timeout
    while not on_ui(pred):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or pred}"
                               + (f": {on_ui(state)}" if state else ""))
        time.sleep(0.005)


def ui_counts() -> dict[str, int]:
    """Live widgets and textures, gc-tracked objects, Python's allocated blocks."""
    from kivy.graphics.texture import Texture
    from kivy.uix.widget import Widget

    gc.collect()
    objs = gc.get_objects()
    return {"widgets": sum(issubclass(type(o), Widget) for o in objs),
            "textures": sum(issubclass(type(o), Texture) for o in objs),
            "objects": len(objs), "blocks": sys.getallocatedblocks()}


def snapshot(label: str, events: int, settle: float = 2.0) -> dict[str, Any]:
    """Memory and counts after ``events``, once what is pending reached the screen."""
    on_ui(lambda: None)
    time.sleep(settle)
    row = {"label": label, "events": events, "rss_mb": rss_mb(), **on_ui(ui_counts)}
    print(f"[{time.strftime('%H:%M:%S')}] {events} events: RSS {row['rss_mb']:.1f} MB, "
          f"{row['widgets']} widgets, {row['textures']} textures", flush=True)
    return row


class FrameCounter:
    """Frames the window really swapped (``Window.on_flip``)."""

    def __init__(self) -> None:
        from kivy.core.window import Window

        self.frames = 0
        Window.bind(on_flip=self._flip)

    def _flip(self, *_a: Any) -> None:
        self.frames += 1


def idle(frames: Callable[[], int], seconds: float) -> dict[str, float]:
    """Frames drawn and CPU of this process per second over ``seconds`` of no events."""
    f0, c0, t0 = frames(), cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    dt = time.monotonic() - t0
    return {"fps": (frames() - f0) / dt, "cpu": (cpu_seconds() - c0) / dt}


def frame_cost(frames: Callable[[], int], seconds: float) -> dict[str, float]:
    """CPU of this process per frame while the whole window is redrawn as fast
    as it can be (``Window.canvas.ask_update`` every frame) for ``seconds``."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    ev = on_ui(lambda: Clock.schedule_interval(lambda _dt: Window.canvas.ask_update(), 0))
    try:
        time.sleep(0.5)
        f0, c0, t0 = frames(), cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        drawn, dt = frames() - f0, time.monotonic() - t0
        return {"fps": drawn / dt, "cpu_ms": (cpu_seconds() - c0) * 1000 / max(1, drawn)}
    finally:
        on_ui(ev.cancel)


def run_app(app: Any, work: Callable[[], None]) -> None:
    """``app.run()`` with ``work`` in a worker thread once the app started;
    the app stops when ``work`` returns or raises."""
    def worker() -> None:
        try:
            work()
        finally:
            from kivy.clock import Clock

            Clock.schedule_once(lambda _dt: app.stop())

    app.bind(on_start=lambda *_: threading.Thread(target=worker, daemon=True).start())
    app.run()


def print_rows(rows: list[dict[str, Any]], unit: str) -> None:
    for r in rows:
        print(f"  {r['label']:18} {r['events']:6} {unit}: RSS {r['rss_mb']:7.1f} MB, Python "
              f"{r['blocks']} blocks / {r['objects']} objects, {r['widgets']} widgets, "
              f"{r['textures']} textures")


def print_growth(rows: list[dict[str, Any]], target_mb: float) -> None:
    if len(rows) >= 2:
        growth = rows[-1]["rss_mb"] - rows[0]["rss_mb"]
        print(f"  RSS growth after the first {rows[0]['events']}: {growth:+.1f} MB "
              f"(peak row {max(r['rss_mb'] for r in rows):.1f} MB) — target within "
              f"{target_mb:.0f} MB: {'OK' if abs(growth) <= target_mb else 'MISSED'}")
