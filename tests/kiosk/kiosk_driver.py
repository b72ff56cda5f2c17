"""Drive the real lobby kiosk (ticket mode) in its own process, headless.

Kivy's window is a per-process singleton sized at import, so each scenario
runs here in a subprocess started by ``test_kiosk_app.py``:

    python tests/kiosk/kiosk_driver.py SCENARIO RESULT.json SHOTS_DIR -- <kiosk args>

The scenario runs in a thread; everything that touches widgets runs on the
Kivy thread through :meth:`Driver.ui`.  Taps are real touch events
(``UnitTestTouch``) that go through the window, the screens and the buttons.
When the test has to act (stop the server, change the database...), the
driver prints ``STEP <name>`` and waits for a line on stdin.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))


class Driver:
    """Helpers a scenario uses from its own thread."""

    def __init__(self, app: Any, shots: Path, tag: str) -> None:
        self.app, self.shots, self.tag = app, shots, tag
        self.result: dict[str, Any] = {"steps": [], "shots": []}

    def ui(self, fn: Callable[[], Any], timeout: float = 20.0) -> Any:
        from kivy.clock import Clock

        done, box = threading.Event(), {}

        def run(_dt: float) -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the scenario thread
                box["error"] = exc
            done.set()

        Clock.schedule_once(run, 0)
        if not done.wait(timeout):
            raise TimeoutError("UI thread did not answer")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def wait(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.ui(predicate)
            if value:
                return value
            time.sleep(0.05)
        state = self.ui(lambda: {"screen": self.app.root.current, "online": self.app.online,
                                 "issuing": self.app.issuing, "message": self.app.message,
                                 "print_state": self.app.print_state})
        raise TimeoutError(f"timed out waiting for {what or predicate}: {state}")

    def settle(self, seconds: float = 0.5) -> None:
        """Let transitions finish and a few frames render."""
        time.sleep(seconds)

    def shot(self, name: str) -> Path:
        from kivy.core.window import Window

        self.settle()
        target = self.shots / f"{name}-{self.tag}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        made = self.ui(lambda: Window.screenshot(name=str(target.with_name("tmp-shot.png"))))
        Path(made).replace(target)
        self.result["shots"].append(str(target))
        return target

    def tap(self, widget_fn: Callable[[], Any], times: int = 1) -> None:
        """Touch the widget's centre ``times`` times within one frame (a fast double tap)."""
        from kivy.tests.common import UnitTestTouch

        self.settle(0.25)  # let the layout place the widget first

        def go() -> None:
            widget = widget_fn()
            x, y = widget.to_window(*widget.center)
            for _ in range(times):
                touch = UnitTestTouch(x, y)
                touch.touch_down()
                touch.touch_up()

        self.ui(go)

    def past_guard(self, name: str, since: float) -> None:
        """Wait until screen ``name``, entered after ``since`` (a ``time.monotonic()``
        reading), has stopped swallowing touches: its double-tap guard is over and
        the screen manager's transition (which ignores touches) has finished."""
        def ready() -> bool:
            root = self.app.root
            screen = root.get_screen(name)
            return (root.current == name and not root.transition.is_active
                    and screen.entered_at >= since
                    and time.monotonic() - screen.entered_at >= screen.guard_seconds)

        self.wait(ready, what=f"{name} past its tap guard")

    def step(self, name: str) -> None:
        """Ask the test to act, and wait until it has."""
        self.result["steps"].append(name)
        print(f"STEP {name}", flush=True)
        line = sys.stdin.readline()
        if not line:
            raise RuntimeError("test went away")

    # shortcuts into the app
    def screen(self) -> str:
        return self.ui(lambda: self.app.root.current)

    def button(self, index: int) -> Any:
        return lambda: list(self.app._buttons.values())[index]


def scenario_flow(d: Driver) -> None:
    """Home -> (double tap) priority -> (double tap) ticket; closed services; closed office;
    server stops and returns."""
    app = d.app
    d.wait(lambda: app.online and app.services_loaded and app.root.current == "home", what="home")
    d.shot("home")
    tapped = time.monotonic()
    d.tap(d.button(0), times=2)
    d.wait(lambda: app.root.current == "priority", what="priority screen")
    d.shot("priority")
    elderly = lambda: next(b for b in app.root.get_screen("priority").ids.choices.children
                           if b.value == "elderly")
    d.past_guard("priority", tapped)  # the guard swallowed the second half of the double tap
    tapped = time.monotonic()
    d.tap(elderly, times=2)
    d.wait(lambda: app.root.current == "ticket" and app.print_state == "printed", what="ticket")
    d.shot("ticket")
    d.result["first"] = d.ui(lambda: {
        "label": app.root.get_screen("ticket").ids.number.text,
        "ticket": app.ticket, "print_text": app.print_text,
        "priority_text": app.ticket_priority_text})
    d.past_guard("ticket", tapped)
    d.tap(lambda: app.root.get_screen("ticket"))
    d.wait(lambda: app.root.current == "home", what="back home")

    d.step("close-services")
    d.wait(lambda: not app._buttons[d.result["capped_id"]].is_open
           and not app._buttons[d.result["hours_id"]].is_open, what="closed services")
    d.shot("home-closed-services")
    d.result["closed_texts"] = d.ui(lambda: {
        str(sid): app._buttons[sid].closed_text for sid in (d.result["capped_id"], d.result["hours_id"])})
    d.tap(lambda: app._buttons[d.result["capped_id"]], times=2)
    d.tap(lambda: app._buttons[d.result["hours_id"]], times=2)
    time.sleep(1.0)  # a tap that must change nothing: no state to wait for
    d.result["after_closed_taps"] = d.ui(lambda: {"screen": app.root.current, "issuing": app.issuing})

    d.step("close-office")
    d.wait(lambda: app.root.current == "closed", what="closed screen")
    d.shot("office-closed")
    d.result["hours_text"] = d.ui(lambda: app.hours_text)

    d.step("open-office")
    d.wait(lambda: app.root.current == "home", what="reopened")
    d.step("stop-server")
    d.wait(lambda: not app.online, what="offline")
    d.shot("reconnecting")
    d.result["offline"] = d.ui(lambda: {
        "disabled": [b.disabled for b in app._buttons.values()],
        "overlay": app.root.get_screen("home").ids.overlay.opacity,
        "text": app.root.get_screen("home").ids.overlay.ids.reconnect_label.text})
    d.tap(d.button(0))  # nothing may happen while offline
    time.sleep(0.3)  # a tap that must change nothing: no state to wait for
    d.result["offline_tap_screen"] = d.screen()
    d.step("start-server")
    d.wait(lambda: app.online, timeout=40, what="back online")
    d.settle()
    d.result["online_again_overlay"] = d.ui(lambda: app.root.get_screen("home").ids.overlay.opacity)
    tapped = time.monotonic()
    d.tap(d.button(0))
    d.wait(lambda: app.root.current == "priority", what="priority again")
    d.past_guard("priority", tapped)
    d.tap(lambda: app.root.get_screen("priority").ids.choices.children[-1])  # "no priority"
    d.wait(lambda: app.root.current == "ticket" and app.print_state == "printed", what="second ticket")
    d.result["second"] = d.ui(lambda: {"label": app.root.get_screen("ticket").ids.number.text,
                                        "ticket": app.ticket})


def scenario_printer_fault(d: Driver) -> None:
    """Printer refuses connections: number stays with the fault message; then it comes back."""
    app = d.app
    d.wait(lambda: app.online and app.services_loaded, what="home")
    d.wait(lambda: not app.printer_ok, what="printer fault seen at start")
    d.shot("home-printer-fault")
    d.result["home_hint"] = d.ui(lambda: app.root.get_screen("home").ids.hint.text)
    d.tap(d.button(1))
    d.wait(lambda: app.root.current == "ticket" and app.print_state == "failed", what="fault")
    d.shot("ticket-printer-fault")
    d.result["fault"] = d.ui(lambda: {
        "label": app.root.get_screen("ticket").ids.number.text,
        "print_text": app.root.get_screen("ticket").ids.print_state.text,
        "ticket": app.ticket, "screen": app.root.current})
    d.step("printer-back")
    d.wait(lambda: app.printer_ok, timeout=30, what="printer back")
    d.result["recovered"] = True


def _overlay(app: Any) -> dict[str, Any]:
    """What the reconnect overlay shows, and how opaque its background is."""
    from kivy.graphics import Color

    overlay = app.root.get_screen("home").ids.overlay
    colours = [i.rgba for i in overlay.canvas.before.children if isinstance(i, Color)]
    return {"opacity": overlay.opacity, "background_alpha": colours[0][3] if colours else 0,
            "title": overlay.ids.overlay_title.text, "text": overlay.ids.overlay_text.text,
            "reconnect": overlay.ids.reconnect_label.text}


def scenario_home_states(d: Driver) -> None:
    """Notice and instruction together; colours follow services; a service without a
    counter is left out; no service at all says what is missing; a day off says when the
    office opens; a service closed by its own hours gives them."""
    app = d.app
    d.wait(lambda: app.online and app.services_loaded and app.root.current == "home", what="home")
    home = app.root.get_screen("home")
    d.result["zone_file"] = str(app._zone_file)
    d.result["colours_before"] = d.ui(lambda: {str(k): list(b.colour) for k, b in app._buttons.items()})
    d.result["order_before"] = d.ui(lambda: list(app._buttons))
    d.step("notice-and-reorder")
    d.wait(lambda: app.notice and len(app._buttons) == d.result["expected_buttons"],
           what="notice and one service fewer")
    d.settle()
    d.shot("home-notice")
    d.result["notice"] = d.ui(lambda: {
        "hint": home.ids.hint.text, "notice": home.ids.notice.text,
        "hint_visible": home.ids.hint.height > 0 and home.ids.hint.opacity > 0,
        "notice_visible": home.ids.notice.height > 0 and home.ids.notice.opacity > 0,
        "buttons": {str(k): list(b.colour) for k, b in app._buttons.items()},
        "order": list(app._buttons), "phones": [app.public_url, app.wifi_hint]})
    d.step("service-hours")
    d.wait(lambda: any(not b.is_open for b in app._buttons.values()), what="closed service")
    d.shot("home-service-hours")
    d.result["service_hours"] = d.ui(lambda: {
        str(k): b.closed_text for k, b in app._buttons.items() if not b.is_open})
    d.step("no-counters")
    d.wait(lambda: app.no_services, what="no services")
    d.shot("home-no-services")
    d.result["no_services"] = d.ui(lambda: {
        "title": home.ids.no_services_title.text, "opacity": home.ids.no_services.opacity,
        "buttons": len(app._buttons)})
    d.step("day-off")
    d.wait(lambda: app.root.current == "closed", what="closed screen")
    d.shot("office-day-off")
    closed = app.root.get_screen("closed")
    d.result["closed"] = d.ui(lambda: {"title": closed.ids.closed_title.text,
                                       "next": closed.ids.closed_next.text})


def scenario_offline_start(d: Driver) -> None:
    """No server from the start: the clock is the remembered office zone's, and the
    opaque overlay sends citizens to the counter."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    app = d.app
    d.wait(lambda: app.problem == "unreachable", what="unreachable")
    d.settle()
    d.shot("offline-start")
    zone = d.result["zone"]
    d.result["clock"] = d.ui(lambda: app.root.get_screen("home").ids.clock.text)
    d.result["expected"] = [(dt.datetime.now(ZoneInfo(zone)) + dt.timedelta(minutes=m)).strftime("%H:%M")
                            for m in (-1, 0, 1)]
    d.result["overlay"] = d.ui(lambda: _overlay(app))


def scenario_bad_token(d: Driver) -> None:
    """A token the server refuses: "not registered", not "reconnecting" forever."""
    app = d.app
    d.wait(lambda: app.problem == "not_registered", what="not registered")
    d.settle()
    d.shot("not-registered")
    d.result["overlay"] = d.ui(lambda: _overlay(app))


def scenario_speech(d: Driver) -> None:
    """Speaker on by the office's setting: a first touch reads the service, the confirming
    touch moves on (priority question read), the group is read then confirmed, the ticket
    is issued and its number and counter read.  The speaker button turns it off: one
    touch issues, silently; on again, it says so."""
    from kiosk import speech

    app = d.app
    log = Path(d.result["espeak_log"])
    home = lambda: app.root.get_screen("home")

    def said() -> list[str]:
        """What the engine process was asked to say, in order."""
        if not log.exists():
            return []
        return [json.loads(line)["text"] for line in log.read_text(encoding="utf-8").splitlines()]

    def started() -> list[str]:
        """Sentences whose sound started playing, in order."""
        return [text for text, _at in app.speaker.spoken] if app.speaker else []

    def past_confirm_guard() -> None:
        d.wait(lambda: time.monotonic() - app.touches.armed_at >= speech.CONFIRM_GUARD_SECONDS,
               what="past the bounce guard")

    d.wait(lambda: app.online and app.services_loaded and app.root.current == "home", what="home")
    d.result["speech_at_start"] = d.ui(lambda: app.speech_on)
    d.step("default-on")
    d.wait(lambda: app.speech_on, what="office default: speech on")
    d.shot("home-speech")
    d.result["service_name"] = d.ui(lambda: app.services[0]["name"])
    d.tap(d.button(0), times=2)  # a double tap is one touch: it reads, it does not confirm
    d.wait(lambda: len(started()) == 1, what="service name said")
    d.shot("home-speech-armed")
    d.result["armed"] = d.ui(lambda: {"armed": d.button(0)().armed, "hint": home().ids.hint.text,
                                      "screen": app.root.current, "said": said()})
    d.step("after-first-touch")
    past_confirm_guard()
    tapped = time.monotonic()
    d.tap(d.button(0))  # the confirming touch
    d.wait(lambda: app.root.current == "priority" and len(started()) == 2, what="question said")
    d.shot("priority-speech")
    elderly = lambda: next(b for b in app.root.get_screen("priority").ids.choices.children
                           if b.value == "elderly")
    d.past_guard("priority", tapped)
    d.tap(elderly)
    d.wait(lambda: len(started()) == 3, what="priority group said")
    d.result["priority_armed"] = d.ui(lambda: {"armed": elderly().armed, "screen": app.root.current})
    d.step("after-priority-first-touch")
    past_confirm_guard()
    tapped = time.monotonic()
    d.tap(elderly)  # confirms: the ticket is issued
    d.wait(lambda: app.root.current == "ticket" and len(started()) == 4, what="ticket said")
    d.shot("ticket-speech")
    d.result["ticket"] = d.ui(lambda: dict(app.ticket))
    d.result["counters_text"] = d.ui(lambda: app.root.get_screen("ticket").ids.counters.text)
    d.result["said"], d.result["started"] = said(), started()
    d.result["start_times"] = d.ui(lambda: [at for _t, at in app.speaker.spoken])
    d.step("after-confirm")

    d.past_guard("ticket", tapped)
    d.tap(lambda: app.root.get_screen("ticket"))
    d.wait(lambda: app.root.current == "home", what="back home")
    d.result["speech_back_home"] = d.ui(lambda: app.speech_on)
    d.tap(lambda: home().ids.speech_button)
    d.wait(lambda: not app.speech_on, what="speaker button: off")
    d.shot("home-speech-off")
    tapped = time.monotonic()
    d.tap(d.button(1))  # speech off: one touch goes on, as without the feature
    d.wait(lambda: app.root.current == "priority", what="priority, speech off")
    d.past_guard("priority", tapped)
    d.tap(lambda: app.root.get_screen("priority").ids.choices.children[-1])  # "no priority"
    d.wait(lambda: app.root.current == "ticket" and app.print_state == "printed", what="silent ticket")
    d.result["silent_ticket"] = d.ui(lambda: dict(app.ticket))
    d.result["said_when_off"] = said()
    d.ui(app.go_home)
    d.result["speech_next_citizen"] = d.ui(lambda: app.speech_on)  # the office's default again
    d.tap(lambda: home().ids.speech_button)
    d.wait(lambda: not app.speech_on, what="speaker button: off again")
    d.tap(lambda: home().ids.speech_button)
    d.wait(lambda: app.speech_on and len(started()) == 5, what="speaker button: on, and says so")
    d.result["said_end"] = said()


def scenario_speech_missing(d: Driver) -> None:
    """No voice engine on the PC: the speaker button says so on screen and speech goes off,
    so one touch issues as without the feature; the office's default (turned on later)
    does not turn it back on for the next citizen."""
    app = d.app
    home = lambda: app.root.get_screen("home")
    d.wait(lambda: app.online and app.services_loaded and app.root.current == "home", what="home")
    d.tap(lambda: home().ids.speech_button)
    d.wait(lambda: not app.speech_on and app.message and app.voice_failed, what="voice failed")
    d.settle()
    d.shot("home-voice-missing")
    d.result["message"] = d.ui(lambda: app.message)
    d.result["hint"] = d.ui(lambda: home().ids.hint.text)
    d.result["armed"] = d.ui(lambda: d.button(0)().armed)
    d.step("default-on")
    d.wait(lambda: app._speech_default is True, what="office default on")
    d.result["speech_after_default"] = d.ui(lambda: app.speech_on)
    d.tap(d.button(0))  # one touch: the ticket
    d.wait(lambda: app.root.current == "ticket" and app.print_state == "printed", what="ticket")
    d.result["ticket"] = d.ui(lambda: dict(app.ticket))
    d.ui(app.go_home)
    d.result["speech_next_citizen"] = d.ui(lambda: app.speech_on)


SCENARIOS = {"flow": scenario_flow, "speech": scenario_speech, "speech_missing": scenario_speech_missing, "printer_fault": scenario_printer_fault,
             "home_states": scenario_home_states, "offline_start": scenario_offline_start,
             "bad_token": scenario_bad_token}


def main() -> None:
    scenario, result_path, shots = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    kiosk_argv = sys.argv[sys.argv.index("--") + 1:]
    from kiosk.app import configure_kivy, create_app, parse_args

    args = parse_args(kiosk_argv)
    configure_kivy(args)
    app = create_app(args)
    tag = "x".join(map(str, args.size)) if args.size else "default"
    driver = Driver(app, shots, tag)
    extra = json.loads(os.environ.get("KIOSK_DRIVER_EXTRA", "{}"))
    driver.result.update(extra)

    def run() -> None:
        try:
            SCENARIOS[scenario](driver)
            driver.result["ok"] = True
        except BaseException:  # noqa: BLE001 - reported to the test
            driver.result["ok"] = False
            driver.result["error"] = traceback.format_exc()
        result_path.write_text(json.dumps(driver.result, ensure_ascii=False, default=str),
                               encoding="utf-8")
        print("DONE", flush=True)
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: app.stop(), 0)

    def start(*_args: Any) -> None:
        threading.Thread(target=run, daemon=True).start()

    app.bind(on_start=start)
    app.run()


if __name__ == "__main__":
    main()
