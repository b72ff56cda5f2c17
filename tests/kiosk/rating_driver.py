"""Scenario plumbing for the rating drivers (each runs in its own process).

A scenario runs in a plain thread beside the real Kivy app: it performs the
staff side over HTTP, presses real widgets with ``UnitTestTouch`` on the main
thread, waits for screens, saves ``Window.screenshot`` PNGs at two window
sizes and finally writes a JSON result for the pytest test to check.  Steps
that need the test process (stopping the server) use a file handshake.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import requests


class Driver:
    def __init__(self, app: Any, result: Path, shots: Path, prefix: str) -> None:
        self.app, self.result, self.shots, self.prefix = app, Path(result), Path(shots), prefix
        self.data: dict[str, Any] = {"screens": [], "shots": []}
        self.t0 = time.monotonic()
        self.history: list[str] = []   # every screen shown, in order (Kivy thread)
        self.cursor = 0

    # ------------------------------------------------------------ main thread
    def ui(self, fn: Callable[[], Any], timeout: float = 20) -> Any:
        from kivy.clock import Clock

        box: dict[str, Any] = {}
        done = threading.Event()

        def run(_dt: float) -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the scenario thread
                box["error"] = exc
            done.set()

        Clock.schedule_once(run)
        if not done.wait(timeout):
            raise TimeoutError("UI thread did not answer")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    #: How often :meth:`wait` asks the Kivy thread.
    poll_seconds = 0.1

    def wait(self, cond: Callable[[], Any], what: str, timeout: float = 40) -> Any:
        """Poll ``cond`` on the Kivy thread until it holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.ui(cond)
            if value:
                return value
            time.sleep(self.poll_seconds)
        raise AssertionError(f"timed out waiting for {what}")

    def current(self) -> str:
        return self.ui(lambda: self.app.root.current)

    def wait_screen(self, name: str, timeout: float = 40) -> None:
        """Wait until ``name`` has been shown since the last screen waited for.

        Screens are read from the ScreenManager's own history (recorded on the
        Kivy thread), so a short one such as the thank-you is never missed on
        a busy machine."""
        def seen() -> bool:
            tail = self.history[self.cursor:]
            if name not in tail:
                return False
            sm = self.app.root
            if sm.current == name and sm.transition.is_active:
                return False   # touches are ignored until the transition ends
            self.cursor += tail.index(name) + 1
            return True
        self.wait(seen, f"screen {name}", timeout)
        self.data["screens"].append(name)
        self.data.setdefault("timeline", []).append(
            [name, round(time.monotonic() - self.t0, 2)])

    def tap(self, widget_fn: Callable[[], Any]) -> None:
        """A real touch at the widget's centre, dispatched through the Window."""
        from kivy.tests.common import UnitTestTouch

        def do() -> None:
            w = widget_fn()
            x, y = w.to_window(*w.center)
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            touch.touch_up()
        self.ui(do)

    def shot(self, name: str) -> None:
        """Screenshot at the window's size (fixed per process: offscreen SDL
        does not follow a resize at run time, so each size is its own run)."""
        from kivy.core.window import Window

        time.sleep(0.3)  # let the transition and a couple of frames finish
        w, h = self.ui(lambda: tuple(Window.size))
        target = self.shots / f"{self.prefix}_{name}_{w}x{h}.png"
        saved = self.ui(lambda: Window.screenshot(name=str(target)))
        Path(saved).replace(target)  # Kivy appends a counter to the name
        self.data["shots"].append(str(target))

    # ------------------------------------------------------------ test process
    def step(self, name: str, timeout: float = 90) -> None:
        """Ask the test process to act (e.g. stop the server) and wait for it."""
        self.result.with_suffix(".step").write_text(name, encoding="utf-8")
        ack = self.result.with_suffix(f".ack-{name}")
        deadline = time.monotonic() + timeout
        while not ack.exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"no ack for step {name}")
            time.sleep(0.1)

    def run(self, scenario: Callable[["Driver"], None]) -> None:
        """Start ``scenario`` once the app is up; stop the app when it ends."""
        def body() -> None:
            try:
                def follow() -> None:
                    sm = self.app.root
                    self.history.append(sm.current)
                    sm.bind(current=lambda _sm, value: self.history.append(value))
                self.ui(follow)
                scenario(self)
                self.data["ok"] = True
            except BaseException as exc:  # noqa: BLE001 - reported in the JSON
                self.data["ok"] = False
                self.data["error"] = "".join(traceback.format_exception(exc))
            self.result.write_text(json.dumps(self.data, ensure_ascii=False, indent=1),
                                   encoding="utf-8")
            try:
                self.ui(self.app.stop, timeout=5)
            except Exception:  # noqa: BLE001
                pass

        from kivy.clock import Clock
        Clock.schedule_once(lambda _dt: threading.Thread(target=body, daemon=True).start(), 0.5)


class Staff:
    """The officer's side, over HTTP like the web console."""

    def __init__(self, server: str, staff_token: str, kiosk_token: str, counter_id: int) -> None:
        self.server, self.counter_id = server, counter_id
        self.staff = {"Authorization": f"Bearer {staff_token}"}
        self.kiosk = {"Authorization": f"Bearer {kiosk_token}"}

    def issue(self, service_id: int) -> dict[str, Any]:
        r = requests.post(f"{self.server}/api/v1/tickets", json={"service_id": service_id},
                          headers=self.kiosk, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def call_next(self) -> dict[str, Any]:
        r = requests.post(f"{self.server}/api/v1/counters/{self.counter_id}/call-next",
                          headers=self.staff, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def complete(self, ticket_id: int) -> dict[str, Any]:
        r = requests.post(f"{self.server}/api/v1/tickets/{ticket_id}/complete",
                          headers=self.staff, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()


def set_office_setting(db_path: str, key: str, value: Any) -> None:
    """Test set-up: an admin changing one office setting (read per request by the server)."""
    with sqlite3.connect(db_path, timeout=30) as conn:
        row = conn.execute("SELECT id, settings FROM office ORDER BY id LIMIT 1").fetchone()
        settings = json.loads(row[1] or "{}")
        settings[key] = value
        conn.execute("UPDATE office SET settings = ? WHERE id = ?",
                     (json.dumps(settings, ensure_ascii=False), row[0]))
