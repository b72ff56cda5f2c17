"""Drive the lobby kiosk's procedure guide in a real Kivy window (its own process):

    python tests/kiosk/procedure_driver.py guide RESULT.json SHOTS_DIR -- <kiosk args>

The same driver as kiosk_driver.py (real touches through the window), with
the guide's scenario: open it from the home screen, type on the on-screen
Vietnamese keyboard, open a procedure, print its checklist, take a ticket,
browse by service.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.kiosk.kiosk_driver import SCENARIOS, Driver, main  # noqa: E402


def scenario_guide(d: Driver) -> None:
    app = d.app
    sm = lambda: app.root  # noqa: E731
    guide = lambda: app.root.get_screen("guide")  # noqa: E731
    page = lambda: app.root.get_screen("procedure")  # noqa: E731
    d.wait(lambda: app.online and app.services_loaded and sm().current == "home", what="home")
    d.shot("guide-home")
    since = time.monotonic()
    d.tap(lambda: sm().get_screen("home").ids.guide_button)
    d.wait(lambda: sm().current == "guide" and len(guide().ids.results.children) > 0,
           what="guide with results")
    d.past_guard("guide", since)
    d.shot("guide-all")
    d.result["all_count"] = d.ui(lambda: len(app.procedure_guide.results()))

    def row_names() -> list[str]:
        return [r.name for r in reversed(guide().ids.results.children)]

    def type_keys(text: str) -> None:
        for ch in text:
            key = "space" if ch == " " else ch
            d.tap(lambda key=key: next(b for b in guide().ids.keyboard.keys if b.key == key))

    d.tap(lambda: guide().ids.search)
    d.wait(lambda: guide().ids.search.focus and guide().ids.keyboard.opacity == 1,
           what="keyboard shown")
    type_keys("dang ky tam tru")
    d.wait(lambda: guide().ids.search.text == "dang ky tam tru", what="typed")
    d.result["tam_tru"] = d.ui(row_names)
    d.shot("guide-search")
    d.tap(lambda: next(b for b in guide().ids.keyboard.keys if b.key == "back"), times=1)
    d.ui(lambda: setattr(guide().ids.search, "text", ""))
    # Vietnamese typed with the tone keys: "sinh" then "khai" is found with its marks.
    type_keys("khai sinh")
    d.wait(lambda: row_names() and row_names()[0] == "Đăng ký khai sinh", what="khai sinh")
    d.result["khai_sinh"] = d.ui(row_names)
    d.ui(lambda: setattr(guide().ids.search, "text", ""))
    type_keys("tam")
    d.tap(lambda: next(b for b in guide().ids.keyboard.keys if b.key == "dot"))
    d.wait(lambda: guide().ids.search.text == "tạm", what="tone key")
    d.result["tone_typed"] = d.ui(lambda: (guide().ids.search.text, row_names()))
    d.ui(lambda: setattr(guide().ids.search, "text", "khai sinh"))
    d.tap(lambda: next(b for b in guide().ids.keyboard.keys if b.key == "done"))
    d.wait(lambda: not guide().ids.search.focus, what="keyboard folded")
    since = time.monotonic()
    d.tap(lambda: list(reversed(guide().ids.results.children))[0])
    d.wait(lambda: sm().current == "procedure", what="procedure page")
    d.past_guard("procedure", since)
    d.shot("guide-procedure")
    d.result["page"] = d.ui(lambda: {"title": page().ids.title.text,
                                     "papers": page().ids.papers.text,
                                     "facts": page().ids.facts.text,
                                     "sample": page().sample_text,
                                     "service_id": page().procedure["service_id"],
                                     "can_take": page().can_take_ticket})
    d.tap(lambda: page().ids.print_button)
    d.wait(lambda: page().print_text and not page().printing, what="checklist printed")
    d.result["print_text"] = d.ui(lambda: page().print_text)
    d.shot("guide-printed")
    since = time.monotonic()
    d.tap(lambda: page().ids.take_button)
    d.wait(lambda: sm().current == "ticket" and app.print_state == "printed", what="ticket")
    d.result["ticket"] = d.ui(lambda: app.ticket)
    d.past_guard("ticket", since)
    d.tap(lambda: sm().get_screen("ticket"))
    d.wait(lambda: sm().current == "home", what="home again")
    # Browse by service; the search left by the previous citizen is gone.
    since = time.monotonic()
    d.tap(lambda: sm().get_screen("home").ids.guide_button)
    d.wait(lambda: sm().current == "guide", what="guide again")
    d.past_guard("guide", since)
    d.result["search_after"] = d.ui(lambda: guide().ids.search.text)
    d.tap(lambda: next(c for c in guide().ids.services.children
                       if c.text == d.result["browse_service"]))
    d.wait(lambda: {r.detail for r in guide().ids.results.children} == {d.result["browse_service"]},
           what="one service's procedures")
    d.result["browsed"] = d.ui(row_names)
    d.shot("guide-service")
    since = time.monotonic()
    d.tap(lambda: guide().ids.services.children[-1])  # "Tất cả lĩnh vực"
    d.tap(lambda: app.root.get_screen("guide").children[0].children[0].children[-1].ids.back_button)
    d.wait(lambda: sm().current == "home", what="back home")


SCENARIOS["guide"] = scenario_guide

if __name__ == "__main__":
    main()
