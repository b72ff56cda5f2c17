"""Drive the lobby kiosk's rating screens against a live server (one Kivy process).

The ticket kiosk's own app is another engineer's; this host app does what the
contract says theirs does: a ScreenManager with a ``home`` screen holding a
"Đánh giá" button, ``app.client`` (kiosk token), ``app.server_url``,
``app.online``, and a call to ``add_lobby_rating_screens`` at build time.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).absolute().parents[2]))

from tests.kiosk.rating_driver import Driver, Staff  # noqa: E402


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    for name in ("--server", "--token", "--staff-token", "--result", "--shots", "--size",
                 "--data-dir"):
        p.add_argument(name, required=True)
    p.add_argument("--counter-id", type=int, required=True)
    p.add_argument("--service-id", type=int, required=True)
    p.add_argument("--host", choices=("stand-in", "real"), default="stand-in",
                   help="real: the ticket kiosk's own app (kiosk.app) hosts the screens")
    return p.parse_args()


def build_real_app(a: argparse.Namespace):
    """The ticket kiosk's real app, as ``motcua kiosk --mode ticket`` starts it."""
    import os

    from kiosk.app import configure_kivy, create_app, parse_args

    os.environ["MOTCUA_DATA_DIR"] = a.data_dir
    kargs = parse_args(["--server", a.server, "--token", a.token, "--windowed", "--size", a.size,
                        "--preview-dir", str(Path(a.data_dir) / "tickets")])
    configure_kivy(kargs)
    app = create_app(kargs)
    app.rating_retry_seconds, app.rating_thanks_seconds = 0.5, 1.5
    return app


def build_app(a: argparse.Namespace):
    from kivy.app import App
    from kivy.properties import BooleanProperty
    from kivy.uix.button import Button
    from kivy.uix.screenmanager import Screen, ScreenManager

    from counter_server.client import ApiClient
    from kiosk.lobby_rating import add_lobby_rating_screens

    class HostKiosk(App):
        online = BooleanProperty(True)

        def build(self):
            self.client = ApiClient(a.server, a.token)
            self.server_url = a.server
            self.data_dir = a.data_dir
            self.rating_retry_seconds = 0.5
            self.rating_thanks_seconds = 1.5
            sm = ScreenManager()
            home = Screen(name="home")
            self.rate_button = Button(text="Đánh giá", font_size="40sp",
                                      on_release=lambda *_: setattr(sm, "current", "rate_entry"))
            home.add_widget(self.rate_button)
            self.rate_button_fn = lambda: self.rate_button
            sm.add_widget(home)
            add_lobby_rating_screens(sm, self)
            return sm

    return HostKiosk()


def scenario(d: Driver, a: argparse.Namespace, staff: Staff) -> None:
    from kivy.core.window import Window

    app = d.app
    entry = lambda: app.root.get_screen("rate_entry")  # noqa: E731
    key = lambda label: lambda: next(b for b in entry().ids.keypad.children  # noqa: E731
                                     if b.text == label)

    def serve() -> dict:
        t = staff.issue(a.service_id)
        assert staff.call_next()["id"] == t["id"]
        staff.complete(t["id"])
        return t

    if not hasattr(app, "rate_button_fn"):   # the real kiosk: its home screen's button
        app.rate_button_fn = lambda: app.root.get_screen("home").ids.rate_button
        d.wait(lambda: app.online, "kiosk online")
    rate_button = lambda: app.rate_button_fn()  # noqa: E731

    # 1. keypad entry of a served ticket, low level with a reason.
    t1 = serve()
    d.wait_screen("home")
    d.tap(rate_button)
    d.wait_screen("rate_entry")
    d.shot("entry")
    for ch in t1["display_number"]:
        d.tap(key(ch))
    d.tap(key("9"))
    d.tap(lambda: entry().ids.delete)       # a mistyped digit, corrected
    d.data["typed"] = d.ui(lambda: entry().entered)
    d.tap(lambda: entry().ids.ok)
    d.wait(lambda: entry().step == "check", "check code step")
    d.data["check_prompt"] = d.ui(lambda: entry().ids.prompt.text)
    wrong = f"{(int(t1['check_code']) + 1) % 10000:04d}"
    for ch in wrong:                        # without proof: nothing found, nothing rated
        d.tap(key(ch))
    d.tap(lambda: entry().ids.ok)
    d.wait(lambda: not entry().busy and entry().message, "wrong check code message")
    d.data["wrong_check"] = d.ui(lambda: entry().message)
    d.data["wrong_check_screen"] = d.current()
    d.shot("entry_wrong_check")
    for ch in t1["check_code"]:
        d.tap(key(ch))
    d.tap(lambda: entry().ids.ok)
    d.wait_screen("rate_faces")
    d.data["subtitle"] = d.ui(lambda: app.root.get_screen("rate_faces").subtitle)
    d.shot("faces")
    d.tap(lambda: next(b for b in app.root.get_screen("rate_faces").buttons if b.value == 1))
    d.wait_screen("rate_reasons")
    rs = lambda: app.root.get_screen("rate_reasons")  # noqa: E731
    d.tap(lambda: next(b for b in rs().ids.reasons_grid.children if b.code == "resubmit"))
    d.shot("reasons")
    d.tap(lambda: rs().ids.send)
    d.wait_screen("rate_thanks")
    d.shot("thanks")
    d.wait_screen("home")
    d.data["keypad_code"] = t1["code"]

    # 2. the QR reader types the status URL and Enter.
    t2 = serve()
    d.tap(rate_button)
    d.wait_screen("rate_entry")

    def scan() -> None:
        for ch in f"{a.server}/t/{t2['code']}":
            Window.dispatch("on_textinput", ch)
        Window.dispatch("on_key_down", 13, 36, "\r", [])
    d.ui(scan)
    d.wait_screen("rate_faces")
    d.tap(lambda: next(b for b in app.root.get_screen("rate_faces").buttons if b.value == 4))
    d.wait_screen("rate_thanks")
    d.wait_screen("home")
    d.data["scan_code"] = t2["code"]

    # 2b. a keyboard (or a reader set to type the number): number + Enter, check code + Enter.
    t3 = serve()
    d.tap(rate_button)
    d.wait_screen("rate_entry")

    def type_line(text: str) -> None:
        for ch in text:
            Window.dispatch("on_textinput", ch)
        Window.dispatch("on_key_down", 13, 36, "\r", [])
    d.ui(lambda: type_line(t3["display_number"].lower()))
    d.wait(lambda: entry().step == "check", "check code step (keyboard)")
    d.ui(lambda: type_line(t3["check_code"]))
    d.wait_screen("rate_faces")
    d.tap(lambda: next(b for b in app.root.get_screen("rate_faces").buttons if b.value == 3))
    d.wait_screen("rate_thanks")
    d.wait_screen("home")
    d.data["keyboard_code"] = t3["code"]

    # 3. the same ticket again: already rated; a waiting ticket: not served yet;
    #    an unknown number: not found.
    def type_ticket(number: str, check: str) -> None:
        d.ui(lambda: entry().reset())
        for ch in number:
            d.tap(key(ch))
        d.tap(lambda: entry().ids.ok)
        for ch in check:
            d.tap(key(ch))
        d.tap(lambda: entry().ids.ok)

    d.tap(rate_button)
    d.wait_screen("rate_entry")
    type_ticket(t1["display_number"], t1["check_code"])
    d.wait(lambda: not entry().busy and entry().message, "already-rated message")
    d.data["again"] = d.ui(lambda: entry().message)
    d.data["again_screen"] = d.current()
    waiting = staff.issue(a.service_id)
    type_ticket(waiting["display_number"], waiting["check_code"])
    d.wait(lambda: not entry().busy and entry().message not in ("", d.data["again"]),
           "not-served message")
    d.data["waiting"] = d.ui(lambda: entry().message)
    type_ticket("9999", "1234")
    d.wait(lambda: not entry().busy and entry().message not in ("", d.data["waiting"]),
           "not-found message")
    d.data["unknown"] = d.ui(lambda: entry().message)
    d.shot("entry_error")
    d.tap(lambda: entry().ids.back)
    d.wait_screen("home")
    d.wait(lambda: not app.lobby_rating.sender.queue.pending(), "queue drained")


def main() -> None:
    a = parse()
    if a.host == "real":
        app = build_real_app(a)
    else:
        from kiosk.rating_app import configure_window

        configure_window(a.size, True)
        app = build_app(a)
    staff = Staff(a.server, a.staff_token, a.token, a.counter_id)
    d = Driver(app, Path(a.result), Path(a.shots), "lobby" if a.host == "stand-in" else "kiosk")
    d.run(lambda drv: scenario(drv, a, staff))
    app.run()


if __name__ == "__main__":
    main()
