"""Drive the real counter tablet against a live server (one Kivy process).

Scenarios: ``main`` (low level → reasons, happy level, time-out, a press
too fast), ``offline`` (a press while the server is down), ``fit`` (the
reasons screen inside the window), ``missing`` (what the idle screen says
when the tablet cannot work) and ``growth`` (240 calls: widget and texture
counts).  Run by
tests/kiosk/test_rating_tablet.py; writes a JSON result and screenshots.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).absolute().parents[2]))

from tests.kiosk.rating_driver import Driver, Staff, set_office_setting  # noqa: E402


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    for name in ("--server", "--token", "--kiosk-token", "--staff-token", "--db", "--result",
                 "--shots", "--scenario", "--size"):
        p.add_argument(name, required=name != "--db")
    p.add_argument("--counter", type=int, required=True)
    p.add_argument("--counter-id", type=int, required=True)
    p.add_argument("--service-id", type=int, required=True)
    p.add_argument("--data-dir", required=True)
    return p.parse_args()


def press_face(d: Driver, screen: str, value: int) -> None:
    def find():
        sc = d.app.root.get_screen(screen)
        return next(b for b in sc.buttons if b.value == value)
    d.tap(find)


def faces_on_screen(d: Driver) -> int:
    from kiosk.rating_widgets import FaceButton

    screen = d.app.root.current_screen
    return sum(isinstance(w, FaceButton) for w in screen.walk())


def captions(d: Driver, screen: str) -> list[dict]:
    """Each face's caption on ``screen``: text and colour (the background is the screens')."""
    from kiosk.rating_widgets import FaceButton

    out = []
    for box in reversed(d.app.root.get_screen(screen).ids.faces.children):  # Kivy: last first
        if any(isinstance(w, FaceButton) for w in box.children):
            label = next(w for w in box.children if not isinstance(w, FaceButton))
            out.append({"text": label.text, "color": list(label.color)})
    return out


def serve(d: Driver, staff: Staff, service_id: int, shot: str = "") -> dict:
    t = staff.issue(service_id)
    called = staff.call_next()
    assert called["id"] == t["id"], called
    d.wait(lambda: d.app.serving == t["display_number"], "number being served")
    # While the citizen is being served there is no face to press anywhere on screen.
    d.data.setdefault("faces_while_serving", []).append(d.ui(lambda: faces_on_screen(d)))
    if shot:
        d.shot(shot)
    staff.complete(t["id"])
    return t


def main_scenario(d: Driver, a: argparse.Namespace, staff: Staff) -> None:
    app = d.app
    d.wait(lambda: app.officer_name and app.counter_name, "idle screen filled")
    d.data["idle"] = d.ui(lambda: {"counter": app.counter_name, "officer": app.officer_name,
                                   "avatar": app.root.get_screen("idle").ids.avatar.text})
    set_office_setting(a.db, "rating_min_interval_seconds", 0)

    # A. low level → reasons → send.
    t = serve(d, staff, a.service_id)
    d.wait_screen("rate_faces")
    d.data["faces_subtitle"] = d.ui(lambda: app.root.get_screen("rate_faces").subtitle)
    d.data["captions"] = d.ui(lambda: captions(d, "rate_faces"))
    d.shot("faces")
    press_face(d, "rate_faces", 1)
    d.wait_screen("rate_reasons")
    rs = lambda: app.root.get_screen("rate_reasons")  # noqa: E731
    d.tap(lambda: next(b for b in rs().ids.reasons_grid.children if b.code == "long_wait"))
    d.tap(lambda: next(b for b in rs().ids.reasons_grid.children if b.code == "attitude"))
    d.tap(lambda: next(b for b in rs().ids.reasons_grid.children if b.code == "attitude"))
    d.shot("reasons")
    # The comment typed on the on-screen Vietnamese keyboard: C-h-ơ + grave...
    d.tap(lambda: rs().ids.comment)
    d.wait(lambda: rs().ids.comment.focus and rs().ids.keyboard.opacity == 1, "keyboard shown")
    d.data["reasons_hidden"] = d.ui(lambda: rs().ids.reasons_grid.parent.height == 0)
    keys = lambda: rs().ids.keyboard.keys  # noqa: E731
    for key in ("shift", "c", "h", "ơ", "grave", "space", "l", "â", "u", "space", "q", "u",
                "a", "acute", "space", "x", "back"):
        d.tap(lambda key=key: next(b for b in keys() if b.key == key))
    d.data["typed"] = d.ui(lambda: rs().ids.comment.text)
    d.shot("reasons_keyboard")
    d.tap(lambda: next(b for b in keys() if b.key == "done"))
    d.wait(lambda: not rs().ids.comment.focus and rs().ids.keyboard.opacity == 0,
           "keyboard hidden")
    d.tap(lambda: rs().ids.send)
    d.wait_screen("rate_thanks")
    d.shot("thanks")
    d.wait(lambda: app.pending == 0 and not app.sender.queue.pending(), "rating A sent")
    d.wait_screen("idle")
    d.data["low"] = t["code"]

    # B. happy level: stored at once, no reasons asked.
    t = serve(d, staff, a.service_id, shot="idle_serving")
    d.wait_screen("rate_faces")
    press_face(d, "rate_faces", 4)
    d.wait_screen("rate_thanks")
    d.data["happy"] = t["code"]
    d.wait(lambda: not app.sender.queue.pending(), "rating B sent")
    d.wait_screen("idle")
    d.shot("idle")

    # C. nobody presses: the faces go away by themselves, nothing stored.
    d.ui(lambda: setattr(app.flow, "faces_timeout", 2))   # a short configured time-out
    t = serve(d, staff, a.service_id)
    d.wait_screen("rate_faces")
    d.wait_screen("idle", timeout=60)
    d.data["timed_out"] = t["code"]
    d.ui(lambda: setattr(app.flow, "faces_timeout", 30))

    # D. rapid presses: the next rating comes "too fast"; idle has nothing to press.
    set_office_setting(a.db, "rating_min_interval_seconds", 3600)
    t = serve(d, staff, a.service_id)
    d.wait_screen("rate_faces")
    press_face(d, "rate_faces", 3)
    d.wait_screen("rate_thanks")
    d.wait_screen("idle")
    d.data["too_fast"] = t["code"]
    d.data["idle_faces"] = d.ui(lambda: faces_on_screen(d))
    d.wait(lambda: not app.sender.queue.pending(), "ratings sent")
    d.data["offered_again"] = d.current() != "idle"


def _box(widget) -> list[float]:
    x, y = widget.to_window(widget.x, widget.y)
    return [x, y, x + widget.width, y + widget.height]


def fit_scenario(d: Driver, a: argparse.Namespace, staff: Staff) -> None:
    """The reasons screen at the window's size: every reason, the comment and the buttons
    inside the window, with and without the on-screen keyboard."""
    from kivy.core.window import Window

    app = d.app
    d.wait(lambda: app.officer_name, "idle screen filled")
    serve(d, staff, a.service_id, shot="idle_serving")
    d.wait_screen("rate_faces")
    d.shot("faces")
    press_face(d, "rate_faces", 1)
    d.wait_screen("rate_reasons")
    rs = lambda: app.root.get_screen("rate_reasons")  # noqa: E731
    d.shot("reasons")

    def boxes() -> dict:
        sc = rs()
        return {"window": list(Window.size),
                "reasons": [_box(b) for b in sc.ids.reasons_grid.children],
                "title": _box(sc.ids.title), "comment": _box(sc.ids.comment),
                "send": _box(sc.ids.send),
                "skip": _box(sc.ids.skip), "keyboard": _box(sc.ids.keyboard)}
    d.data["closed_keyboard"] = d.ui(boxes)
    d.tap(lambda: rs().ids.comment)
    d.wait(lambda: rs().ids.comment.focus and rs().ids.keyboard.opacity == 1, "keyboard shown")
    d.shot("reasons_keyboard")
    d.data["open_keyboard"] = d.ui(boxes)
    d.tap(lambda: rs().ids.send)
    d.wait_screen("rate_thanks")


def missing_scenario(d: Driver, a: argparse.Namespace, staff: Staff) -> None:
    """The tablet cannot work (wrong token, unknown counter, no officer): the idle screen
    says what is missing."""
    app = d.app
    d.wait(lambda: app.problem or (app.online and app.counter_name), "tablet settled")
    d.shot(f"missing_{a.counter}")
    d.data["missing"] = d.ui(lambda: {
        "problem": app.problem, "hint": app.root.get_screen("idle").ids.idle_hint.text,
        "status": app.root.get_screen("idle").ids.status.text,
        "faces": faces_on_screen(d)})


def offline_scenario(d: Driver, a: argparse.Namespace, staff: Staff) -> None:
    app = d.app
    d.wait(lambda: app.officer_name, "idle screen filled")
    t = serve(d, staff, a.service_id, shot="idle_serving")
    d.wait_screen("rate_faces")
    d.shot("faces")
    d.step("stop")                      # the test stops the server
    press_face(d, "rate_faces", 2)
    d.wait_screen("rate_reasons")
    rs = lambda: app.root.get_screen("rate_reasons")  # noqa: E731
    d.tap(lambda: next(b for b in rs().ids.reasons_grid.children if b.code == "unclear"))
    d.shot("reasons")
    d.tap(lambda: rs().ids.send)
    d.wait_screen("rate_thanks")
    d.shot("thanks")
    d.wait_screen("idle")
    d.wait(lambda: not app.online, "offline noticed")
    d.data["queued_while_down"] = d.ui(lambda: len(app.sender.queue.pending()))
    d.data["queue_file_lines"] = sum(1 for _ in open(Path(a.data_dir) / "rating_queue.jsonl",
                                                     encoding="utf-8"))
    d.shot("offline")
    d.step("start")                     # the test starts it again
    d.wait(lambda: not app.sender.queue.pending() and app.pending == 0, "queue drained", 60)
    d.wait(lambda: app.online, "back online", 60)
    d.data["code"] = t["code"]


def counts() -> dict:
    """Live widgets and textures (Kivy thread): what a leak per call would grow."""
    import gc

    from kivy.graphics.texture import Texture
    from kivy.uix.widget import Widget

    gc.collect()
    objs = gc.get_objects()
    return {"widgets": sum(isinstance(o, Widget) for o in objs),
            "textures": sum(isinstance(o, Texture) for o in objs)}


def growth_scenario(d: Driver, a: argparse.Namespace, staff: Staff) -> None:
    """Calls at the counter, every tenth rated: counts after a warm-up and after 200 more."""
    app = d.app
    d.wait(lambda: app.officer_name and app.counter_name, "idle screen filled")
    set_office_setting(a.db, "rating_min_interval_seconds", 0)

    def calls(n: int) -> None:
        for i in range(n):
            t = staff.issue(a.service_id)
            assert staff.call_next()["id"] == t["id"]
            d.wait(lambda: app.serving == t["display_number"], "number being served")
            staff.complete(t["id"])
            # (faces still up for the ticket before are replaced: no change of screen)
            d.wait(lambda: app.root.current == "rate_faces" and app.flow.active
                   and app.flow.ticket.get("display_number") == t["display_number"],
                   "faces for the ticket completed")
            if i % 10 == 0:
                press_face(d, "rate_faces", 4)
                d.wait_screen("rate_thanks")
                d.wait_screen("idle")
        d.wait(lambda: not app.sender.queue.pending(), "ratings sent")

    calls(40)
    d.data["first"] = d.ui(counts)
    calls(200)
    d.data["after"] = d.ui(counts)
    d.data["frames"] = d.ui(lambda: app.frames.drawn)
    d.data["codes_kept"] = d.ui(lambda: len(app.submitted_codes))


def main() -> None:
    a = parse()
    from kiosk.rating_app import RatingTabletApp, configure_window

    configure_window(a.size, True)
    args = argparse.Namespace(server=a.server, token=a.token, counter=a.counter, size=a.size,
                              windowed=True, rating_timeout=30, thanks_seconds=2.5,
                              retry_seconds=0.5, data_dir=a.data_dir)
    app = RatingTabletApp(args)
    staff = Staff(a.server, a.staff_token, a.kiosk_token, a.counter_id)
    d = Driver(app, Path(a.result), Path(a.shots), f"tablet_{a.scenario}")
    scenario = {"main": main_scenario, "offline": offline_scenario, "fit": fit_scenario,
                "missing": missing_scenario, "growth": growth_scenario}[a.scenario]
    d.run(lambda drv: scenario(drv, a, staff))
    app.run()


if __name__ == "__main__":
    main()
