"""Benchmark (not a test): the lobby kiosk or the counter tablet through 10,000 events.

The real Kivy app in an offscreen window, frames drawn, against a real
``motcua serve`` (``bench/support.py``), driven from outside as people and
counter PCs would:

* ``--app kiosk`` (1080x1920, ticket mode, printing real ESC/POS bytes to
  the null device): each event is a touch on a service button, the ticket
  issued over HTTP and shown on screen, then back home;
* ``--app tablet`` (1280x800, counter 1): each event is a call at its
  counter over HTTP (``call-next`` completing the ticket served); the tablet
  follows the event stream, shows the number served and offers the faces for
  the completed ticket; every ``--rate-every``-th offer a face is touched and
  the rating sent, the others are replaced by the next call, as when a
  citizen leaves without rating.

Prints RSS, Python heap, widget and texture counts every ``--every`` events,
and frames drawn and CPU per second when idle, against the target of issue
#18: memory after 10,000 events within 50 MB of memory after the first 100.

    .venv/bin/python bench/app_soak.py --app kiosk
    .venv/bin/python bench/app_soak.py --app tablet --events 2000   # a quicker run
"""
from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import support  # noqa: F401  (first: sys.path and the headless environment)
from support import (FrameCounter, Office, frame_cost, idle, load_average, office_server, on_ui,
                     print_growth, print_rows, run_app, set_office_setting, snapshot,
                     stall_watch, wait_until)

TARGET_RSS_MB = 50.0
WARM_UP = 100


def touch(widget: Any) -> None:
    """A real touch at the widget's centre, through the window (Kivy thread)."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    t = UnitTestTouch(x, y)
    t.touch_down()
    t.touch_up()


# ---------------------------------------------------------------------- kiosk
def override_multisamples(n: int | None) -> None:
    """After the app's own settings, before the window opens (a before/after reference)."""
    if n is not None:
        from kivy.config import Config

        Config.set("graphics", "multisamples", str(n))


def kiosk_app(server: Any, folder: Path, multisamples: int | None, size: str) -> Any:
    from kiosk.app import configure_kivy, create_app, parse_args

    args = parse_args(["--server", server.url, "--token", server.token("kiosk"), "--windowed",
                       "--size", size, "--priority-step", "off",
                       "--printer", f'{{"kind": "file", "devfile": "{Path(os.devnull).as_posix()}"}}',
                       "--data-dir", str(folder)])
    configure_kivy(args)
    override_multisamples(multisamples)
    return create_app(args)


def kiosk_ready(app: Any) -> Callable[[], bool]:
    return lambda: app.online and app.services_loaded and app.root.current == "home"


class KioskDriver:
    """Touches services in turn, as fast as the kiosk shows their tickets.

    Each touch waits for its ticket's number drawn in a frame of the ticket
    screen, then goes home, as a citizen touching the ticket does.  The
    printing of that ticket (details, ESC/POS bytes) goes on meanwhile on the
    kiosk's printer thread, as it does when a citizen takes the ticket before
    it is out; the next touch waits until at most one ticket is still being
    printed, so nothing piles up.  (Waiting for each "printed" on the ticket
    screen drew two more frames per ticket at 1080x1920 in software OpenGL:
    about 70 ms of rasterising each, the pace of the first soak runs.)"""

    def __init__(self, app: Any) -> None:
        self.app, self.drawn = app, ""
        self.submitted = self.printed = 0

    def bind(self) -> None:
        from kivy.core.window import Window

        app = self.app

        def on_flip(*_a: Any) -> None:
            if app.root.current == "ticket":
                self.drawn = app.root.get_screen("ticket").ids.number.text
        Window.bind(on_flip=on_flip)
        submit = app.printing.submit

        def counted(ticket: Any, on_result: Callable[[Any], None]) -> None:
            def done(state: Any) -> None:
                self.printed += 1
                on_result(state)
            self.submitted += 1
            submit(ticket, done)
        app.printing.submit = counted

    def event(self, i: int) -> None:
        app = self.app
        if i == 0:
            on_ui(self.bind)
        before = on_ui(lambda: app.ticket.get("id"))

        def tap() -> None:
            self.drawn = ""
            buttons = [b for b in app._buttons.values() if not b.disabled]
            touch(buttons[i % len(buttons)])

        wait_until(lambda: not app.issuing and app.root.current == "home"
                   and self.printed >= self.submitted - 1, timeout=60,
                   what="kiosk home, the ticket before printed",
                   state=lambda: (app.root.current, app.issuing, self.submitted, self.printed))
        on_ui(tap)
        wait_until(lambda: app.ticket.get("id") not in (None, before)
                   and self.drawn == app.ticket["display_number"], timeout=60,
                   what="the ticket's number drawn",
                   state=lambda: (app.root.current, self.drawn, app.ticket.get("display_number"),
                                  app.issuing, app.print_state, app.message))
        on_ui(app.go_home)

    def finish(self) -> None:
        wait_until(lambda: self.printed == self.submitted, timeout=120, what="every ticket printed")


# ---------------------------------------------------------------------- tablet
def tablet_app(server: Any, folder: Path, multisamples: int | None) -> Any:
    from kiosk.rating_app import RatingTabletApp, configure_window, parse_args

    args = parse_args(["--server", server.url, "--token", server.token("rating1"),
                       "--counter", "1", "--size", "1280x800", "--windowed",
                       "--data-dir", str(folder)])
    args.thanks_seconds = 0.3  # back to idle quickly: the next call follows at once
    configure_window(args.size, args.windowed)
    override_multisamples(multisamples)
    return RatingTabletApp(args)


def tablet_ready(app: Any) -> Callable[[], bool]:
    return lambda: app.online and bool(app.counter_name) and app.root.current == "idle"


class TabletDriver:
    def __init__(self, app: Any, office: Office, rate_every: int) -> None:
        self.app, self.office, self.rate_every = app, office, rate_every
        self.offered = self.rated = self.touches_again = 0

    def event(self, i: int) -> None:
        app = self.app
        ticket = self.office.call()
        if ticket is None:
            raise RuntimeError("call-next refused")
        wait_until(lambda: app.serving == ticket["display_number"], timeout=60, what="number served")
        if i == 0:
            return  # nothing completed before the first call
        self.offered += 1
        if i % self.rate_every:
            return
        wait_until(lambda: app.root.current == "rate_faces" and app.flow.active
                   and not app.root.transition.is_active, timeout=60, what="faces offered")

        def press() -> None:
            screen = app.root.get_screen("rate_faces")
            touch(next(b for b in screen.buttons if b.value == max(x.value for x in screen.buttons)))

        # A touch in the frame the faces are laid out in can land beside the
        # button: touch again until the flow moves on (counted).
        for attempt in range(10):
            on_ui(press)
            try:
                wait_until(lambda: app.root.current != "rate_faces", timeout=2)
                break
            except TimeoutError:
                self.touches_again += 1
        self.rated += 1
        wait_until(lambda: app.root.current == "idle" and not app.sender.queue.pending(),
                   timeout=60, what="rating sent, idle again",
                   state=lambda: (app.root.current, app.flow.active, app.pending,
                                  app.sender.queue.pending(), app.problem))


def report(out: dict, opts: argparse.Namespace, driver: Any, started: float) -> None:
    rows = out.get("rows", [])
    what = "touches" if opts.app == "kiosk" else "calls"
    ms = "" if opts.multisamples is None else f", multisamples {opts.multisamples}"
    print(f"{opts.app} soak{ms}, software GL ({os.cpu_count()} CPUs, load average {load_average():.1f}), "
          f"{(time.monotonic() - started) / 60:.0f} min, {out.get('rate', 0):.1f} {what}/s")
    print_rows(rows, what)
    print_growth(rows, TARGET_RSS_MB)
    if driver is not None:
        print(f"  faces offered {driver.offered}, rated {driver.rated} "
              f"({driver.touches_again} touches repeated)")
    r = out.get("idle")
    if r:
        print(f"  idle: {r['fps']:5.2f} frames drawn/s, CPU {r['cpu'] * 100:5.1f} % of a core")
    r = out.get("frame")
    if r:
        print(f"  redrawn continuously: {r['fps']:5.2f} frames/s, CPU {r['cpu_ms']:5.1f} ms a frame")
    if out.get("error"):
        print("  stopped early:", out["error"])
    sys.stdout.flush()



# ---------------------------------------------------------------------- soak
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--app", choices=("kiosk", "tablet"), required=True)
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--every", type=int, default=1000, help="a memory row every N events")
    ap.add_argument("--idle-seconds", type=float, default=20)
    ap.add_argument("--rate-every", type=int, default=10, help="tablet: touch a face every N offers")
    ap.add_argument("--multisamples", type=int, default=None,
                    help="override the app's OpenGL multisampling (a before/after reference)")
    ap.add_argument("--size", default=None, help="kiosk: window size (default 1080x1920)")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop the events after this long (0: no limit); the figures say how many ran")
    opts = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    faulthandler.enable(file=sys.__stderr__)

    out: dict[str, Any] = {}
    started = time.monotonic()
    with office_server() as server, tempfile.TemporaryDirectory(prefix="motcua-soak-data-") as data:
        set_office_setting(server.db_url, "rating_min_interval_seconds", 0)
        folder = Path(data)
        if opts.app == "kiosk":
            app = kiosk_app(server, folder, opts.multisamples, opts.size or "1080x1920")
            kiosk = KioskDriver(app)
            ready, event, finish = kiosk_ready(app), kiosk.event, kiosk.finish
            driver = None
        else:
            app = tablet_app(server, folder, opts.multisamples)
            office = Office(server, counters=(1,))
            driver = TabletDriver(app, office, opts.rate_every)
            ready, event, finish = tablet_ready(app), driver.event, lambda: None

        def work() -> None:
            try:
                frames = FrameCounter()
                wait_until(ready, timeout=120, what=f"{opts.app} ready")
                rows = out["rows"] = []
                t0 = time.monotonic()
                stop_at = t0 + opts.max_minutes * 60 if opts.max_minutes else float("inf")
                done = 0
                while done < opts.events and (done < WARM_UP or time.monotonic() < stop_at):
                    with stall_watch():
                        event(done)
                    done += 1
                    if done == WARM_UP or (done > WARM_UP and done % opts.every == 0):
                        finish()
                        rows.append(snapshot(f"after {done}", done, settle=1.0))
                finish()
                if rows and rows[-1]["events"] != done:
                    rows.append(snapshot(f"after {done}", done, settle=1.0))
                out["rate"] = done / (time.monotonic() - t0)
                wait_until(ready, timeout=180, what=f"{opts.app} idle")  # unrated faces time out
                time.sleep(2.0)
                out["idle"] = idle(lambda: frames.frames, opts.idle_seconds)
                out["frame"] = frame_cost(lambda: frames.frames, opts.idle_seconds / 2)
            except Exception as exc:  # print what was measured so far
                out["error"] = repr(exc)
            # From the worker, before the app stops: the figures are printed
            # even if the app or the server hangs on the way out.
            report(out, opts, driver, started)

        run_app(app, work)


if __name__ == "__main__":
    main()
