"""The real lobby kiosk or a real counter tablet, in its own process, taking part
in the office-day test (tests/test_office_day.py) on the test's orders.

    python tests/kiosk/office_remote.py kiosk|tablet SHOTS_DIR -- <app arguments>

Kivy's window is one per process, so each app runs here and the test talks to
it through ``tests/office_clients.py``: one JSON order per line on stdin
(``{"id": 1, "do": "issue", "args": {...}}``), one JSON answer per line on the
answer channel (``{"id": 1, "value": ...}`` or ``{"id": 1, "error": "..."}``).
The answer channel is the process's original stdout; everything else the
process prints (Kivy's log) goes to stderr, the test's log file.

Orders run one at a time on a worker thread; whatever touches widgets runs on
the Kivy thread (:meth:`Driver.ui`).  A citizen's press is a real touch
through the window (``UnitTestTouch``), made once the screen has been drawn
(its layout done) and, on the kiosk's guarded screens, once its tap guard is
over.  Every wait is on the app's state.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.kiosk.rating_driver import Driver  # noqa: E402

WAIT = 40.0


class Remote(Driver):
    """What both apps do: draw, touch, look, take screenshots."""

    poll_seconds = 0.02  # the office day waits on many small steps

    def __init__(self, app: Any, shots: Path, prefix: str) -> None:
        super().__init__(app, shots / "unused.json", shots, prefix)
        self.frames = 0
        self.taken: dict[str, str] = {}   # screenshots of the order being run

    def started(self) -> None:
        from kivy.core.window import Window

        def follow() -> None:
            sm = self.app.root
            self.history.append(sm.current)
            sm.bind(current=lambda _sm, value: self.history.append(value))
            Window.bind(on_flip=self._flipped)
        self.ui(follow)

    def _flipped(self, *_args: Any) -> None:
        self.frames += 1

    def drawn(self, cond: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        """Wait for ``cond``, then for a frame drawn after it held: what the
        citizen touches next is laid out and on screen."""
        from kivy.core.window import Window

        value = self.wait(cond, what, timeout)

        def ask() -> int:
            Window.canvas.ask_update()
            return self.frames
        before = self.ui(ask)
        self.wait(lambda: self.frames > before, f"a frame drawn after {what}", timeout)
        return value

    def press_at(self, points: list[tuple[float, float]]) -> None:
        """Touches at window coordinates (Kivy thread)."""
        from kivy.tests.common import UnitTestTouch

        for x, y in points:
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            touch.touch_up()

    def screenshot(self, name: str) -> str:
        """The window as it is now (after a frame drawn), as a PNG."""
        from kivy.core.window import Window

        self.drawn(lambda: True, f"screenshot {name}")
        w, h = self.ui(lambda: tuple(Window.size))
        target = self.shots / f"{self.prefix}_{name}_{w}x{h}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        saved = self.ui(lambda: Window.screenshot(name=str(target)))
        Path(saved).replace(target)  # Kivy adds a counter to the name
        return str(target)

    def faces_on_screen(self) -> int:
        from kiosk.rating_widgets import FaceButton

        return sum(isinstance(w, FaceButton) for w in self.app.root.current_screen.walk())

    def rate(self, level: int, reasons: list[str], after: str) -> None:
        """On the faces screen (drawn): touch a face; a low one asks for reasons,
        touched and sent; the thank-you follows, then ``after`` again."""
        app = self.app
        faces = lambda: app.root.get_screen("rate_faces")  # noqa: E731
        low = self.ui(lambda: next(lv for lv in faces().flow.levels if lv["value"] == level)["low"])
        self.tap(lambda: next(b for b in faces().buttons if b.value == level))
        if low:
            self.drawn(lambda: app.root.current == "rate_reasons", "the reasons screen")
            rs = lambda: app.root.get_screen("rate_reasons")  # noqa: E731
            for code in reasons:
                self.tap(lambda code=code: next(b for b in rs().ids.reasons_grid.children
                                                if b.code == code))
            self.wait(lambda: list(rs().chosen) == list(reasons), "reasons chosen")
            self.tap(lambda: rs().ids.send)
        self.wait_screen("rate_thanks")
        self.wait_screen(after, timeout=WAIT)


# ---------------------------------------------------------------------- kiosk
class Kiosk(Remote):
    """The lobby kiosk in ticket mode: tickets by touch, the rating keypad."""

    def ready(self) -> dict[str, Any]:
        app = self.app
        self.drawn(lambda: app.online and app.services_loaded and app.root.current == "home",
                   "the kiosk's home screen")
        self.cursor = len(self.history)
        return {"buttons": self.offered()["buttons"]}

    def _offered(self) -> dict[str, Any]:
        app = self.app
        return {"sent": [s["code"] for s in app.link.data.get("services", [])],
                "buttons": [s["code"] for s in app.services if s["id"] in app._buttons]}

    def offered(self) -> dict[str, Any]:
        """The services the server sent and those with a button on the home screen."""
        return self.ui(self._offered)

    def wait_offered(self, code: str, sent: bool, button: bool) -> dict[str, Any]:
        """Wait until the server's list has (or lacks) ``code``, and its button too."""
        def now() -> dict[str, Any] | None:
            o = self._offered()
            return o if ((code in o["sent"]) == sent and (code in o["buttons"]) == button) else None
        return self.wait(now, f"{code} sent={sent}, button={button}")

    def issue(self, code: str, shot: str = "") -> dict[str, Any]:
        """A citizen touches the service, then "no priority" (when the office asks),
        reads the number on screen while the ticket prints, and touches the ticket
        to go back."""
        app = self.app

        def button() -> Any:
            sid = next((s["id"] for s in app.services if s["code"] == code), None)
            b = app._buttons.get(sid)
            return b if b is not None and not b.disabled else None

        before = self.ui(lambda: app.ticket.get("id"))
        self.drawn(lambda: app.root.current == "home" and not app.issuing and button(),
                   f"the {code} button at home")
        if shot:
            self.taken["home"] = self.screenshot(f"{shot}_home")
        self.tap(button)
        if self.ui(lambda: app.priority_step):
            self.past_guard("priority")
            self.tap(lambda: next(b for b in app.root.get_screen("priority").ids.choices.children
                                  if b.value == ""))
        self.drawn(lambda: app.root.current == "ticket" and app.ticket.get("id") != before
                   and app.print_state == "printed" and app.ticket_service, "the ticket printed")
        ticket = self.ui(lambda: dict(app.ticket))
        shown = self.ui(lambda: app.root.get_screen("ticket").ids.number.text)
        assert shown == ticket["display_number"], (shown, ticket["display_number"])
        if shot:
            self.taken["screen"] = self.screenshot(shot)
        self.past_guard("ticket")
        self.tap(lambda: app.root.get_screen("ticket"))
        self.drawn(lambda: app.root.current == "home", "home again")
        return {**ticket, "shown": shown}

    def past_guard(self, name: str) -> None:
        import time

        app = self.app

        def ready() -> bool:
            sm = app.root
            sc = sm.get_screen(name)
            return sm.current == name and time.monotonic() - sc.entered_at >= sc.guard_seconds
        self.drawn(ready, f"{name} past its tap guard")

    def lobby_find(self, number: str, check: str, shot: str = "") -> dict[str, Any]:
        """At the kiosk's rating keypad: the number, then the check code.  Answers
        what the citizen is shown: ``kind`` "found" (the faces, with their subtitle)
        or "not_found", "not_served", "rated" (the keypad's message); the kiosk is
        left where the citizen is (faces, or the keypad)."""
        app = self.app
        entry = lambda: app.root.get_screen("rate_entry")  # noqa: E731

        def key(label: str) -> Callable[[], Any]:
            return lambda: next(b for b in entry().ids.keypad.children if b.text == label)

        self.drawn(lambda: app.root.current == "home" and not app.root.get_screen(
            "home").ids.rate_button.disabled, "the rating button at home")
        self.tap(lambda: app.root.get_screen("home").ids.rate_button)
        self.drawn(lambda: app.root.current == "rate_entry", "the rating keypad")
        for ch in number:
            self.tap(key(ch))
        self.wait(lambda: entry().entered == number, f"{number} typed")
        self.tap(lambda: entry().ids.ok)
        self.drawn(lambda: entry().step == "check", "the check-code step")
        for ch in check:
            self.tap(key(ch))
        self.wait(lambda: entry().entered == check, "check code typed")
        if shot:
            self.taken["keypad"] = self.screenshot(shot + "_keypad")
        self.tap(lambda: entry().ids.ok)
        self.wait(lambda: app.root.current == "rate_faces" or (not entry().busy and entry().message),
                  "the ticket found, or a message")
        if self.ui(lambda: app.root.current) == "rate_faces":
            self.drawn(lambda: True, "the faces")
            if shot:
                self.taken["faces"] = self.screenshot(shot + "_faces")
            return {"kind": "found", "number": self.ui(
                lambda: app.lobby_rating.flow.ticket.get("display_number"))}
        from kiosk.rating_widgets import tr

        kinds = {tr("No ticket today with this number and check code."): "not_found",
                 tr("This ticket has not been served yet."): "not_served",
                 tr("This ticket has already been rated. Thank you!"): "rated"}
        message = self.ui(lambda: entry().message)
        assert message in kinds, message
        return {"kind": kinds[message], "message": message}

    def lobby_back(self) -> None:
        """From the keypad back to the home screen (its "Back" button)."""
        app = self.app
        self.tap(lambda: app.root.get_screen("rate_entry").ids.back)
        self.drawn(lambda: app.root.current == "home", "home again")

    def lobby_rate(self, level: int, reasons: list[str] | None = None) -> dict[str, Any]:
        """On the faces found at the keypad: touch a face; the rating is sent."""
        app = self.app
        lobby = app.lobby_rating
        sent_before = self.ui(lambda: len(lobby.sender.dropped))
        self.cursor = len(self.history)
        self.rate(level, reasons or [], "home")
        self.wait(lambda: not lobby.sender.queue.pending(), "the lobby rating sent")
        return {"refused": [str(e) for _i, e in lobby.sender.dropped[sent_before:]]}


# ---------------------------------------------------------------------- tablet
class Tablet(Remote):
    """The counter tablet: follows its counter, offers the faces after a completion."""

    def ready(self) -> dict[str, Any]:
        app = self.app
        self.drawn(lambda: app.online and app.counter_name and app.root.current == "idle",
                   "the tablet's idle screen")
        self.cursor = len(self.history)
        app.sender.on_result = self._result(app.sender.on_result)
        self.results: list[dict[str, Any]] = []
        return {"counter": self.ui(lambda: app.counter_name)}

    def _result(self, inner: Callable[..., None]) -> Callable[..., None]:
        def on_result(item: dict[str, Any], response: Any, error: Any) -> None:
            self.results.append({"code": item.get("ticket_code"), "response": response,
                                 "error": None if error is None else
                                 {"status": getattr(error, "status", 0),
                                  "code": getattr(error, "code", ""), "message": str(error)}})
            inner(item, response, error)
        return on_result

    def look(self) -> dict[str, Any]:
        app = self.app
        return self.ui(lambda: {
            "screen": app.root.current, "serving": app.serving, "officer": app.officer_name,
            "state": app.counter_state, "faces": self.faces_on_screen(),
            "offered": (app.flow.ticket.get("display_number") if app.flow.active else None)})

    def serving(self, number: str, officer: str) -> dict[str, Any]:
        """The idle screen shows ``number`` being served by ``officer``."""
        app = self.app
        self.drawn(lambda: app.serving == number and app.officer_name == officer
                   and app.root.current == "idle", f"{number} served by {officer}")
        return self.look()

    def press_early(self, number: str, officer: str, shot: str = "") -> dict[str, Any]:
        """While ``number`` is still served the citizen touches the tablet all over
        (where the faces will be): there is nothing to press and nothing is kept."""
        from kivy.core.window import Window

        app = self.app
        seen = self.serving(number, officer)
        if shot:
            self.taken["screen"] = self.screenshot(shot)
        queued = self.ui(lambda: len(app.sender.queue))

        def touch_everywhere() -> dict[str, Any]:
            w, h = Window.size
            self.press_at([(w * i / 4, h * j / 4) for i in (1, 2, 3) for j in (1, 2, 3)])
            return {"screen": app.root.current, "flow": app.flow.active,
                    "queued": len(app.sender.queue) - queued}
        after = self.ui(touch_everywhere)
        return {**seen, "after": after}

    def offered(self, code: str, officer: str, shot: str = "") -> dict[str, Any]:
        """The faces are up for the ticket whose code is ``code`` (drawn)."""
        app = self.app
        self.drawn(lambda: app.root.current == "rate_faces" and app.flow.active
                   and app.flow.ticket.get("code") == code, f"faces for {code}")
        look = {**self.look(), "subtitle": self.ui(lambda: app.root.get_screen("rate_faces").subtitle)}
        assert officer in look["subtitle"], look
        if shot:
            self.taken["screen"] = self.screenshot(shot)
        return look

    def rate(self, code: str, level: int, officer: str, reasons: list[str] | None = None,
             shot: str = "") -> dict[str, Any]:
        """The citizen whose ticket was just completed touches a face: sent and answered."""
        app = self.app
        seen = self.offered(code, officer, shot)
        self.cursor = len(self.history)
        n = len(self.results)
        Remote.rate(self, level, reasons or [], "idle")
        self.wait(lambda: len(self.results) > n and not app.sender.queue.pending(),
                  "the rating answered")
        answer = next(r for r in self.results[n:] if r["code"] == code)
        return {**seen, **answer}


# ---------------------------------------------------------------------- main
def serve_orders(remote: Remote, reply: Any) -> None:
    def send(message: dict[str, Any]) -> None:
        reply.write(json.dumps(message, ensure_ascii=False, default=str) + "\n")
        reply.flush()

    try:
        remote.started()
        send({"id": 0, "value": remote.ready()})
    except BaseException:  # noqa: BLE001 - reported to the test
        send({"id": 0, "error": traceback.format_exc()})
    for line in sys.stdin:
        order = json.loads(line)
        if order["do"] == "stop":
            break
        try:
            remote.taken = {}
            value = getattr(remote, order["do"])(**order.get("args", {}))
            if isinstance(value, dict) and remote.taken:
                value = {**value, "shots": dict(remote.taken)}
            send({"id": order["id"], "value": value})
        except BaseException:  # noqa: BLE001 - reported to the test
            send({"id": order["id"], "error": traceback.format_exc()})
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: remote.app.stop(), 0)


def main() -> None:
    kind, shots = sys.argv[1], Path(sys.argv[2])
    app_argv = sys.argv[sys.argv.index("--") + 1:]
    # Answers go through the original stdout; anything else printed goes to stderr.
    reply = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    if kind == "kiosk":
        from kiosk.app import configure_kivy, create_app, parse_args

        args = parse_args(app_argv)
        configure_kivy(args)
        app = create_app(args)
        app.rating_thanks_seconds = 1.0   # the thank-you after a rating (4 s in the office)
        remote: Remote = Kiosk(app, shots, "kiosk")
    else:
        from counter_server import kivy_logging
        from kiosk.rating_app import RatingTabletApp, configure_window, parse_args

        kivy_logging.configure(False)
        args = parse_args(app_argv)
        args.thanks_seconds = 1.0   # the thank-you after a rating (4 s in the office)
        args.retry_seconds = 0.5
        configure_window(args.size, True)
        app = RatingTabletApp(args)
        remote = Tablet(app, shots, f"tablet{args.counter}")
    app.bind(on_start=lambda *_a: threading.Thread(target=serve_orders, args=(remote, reply),
                                                   daemon=True).start())
    app.run()


if __name__ == "__main__":
    main()
