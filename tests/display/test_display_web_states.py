"""The web lobby display's states as a citizen reads them across the room
(issue 15, "What citizens and leaders see"): counter labels at least a third of
the number's height, lists readable at 5 m, a paused counter unmistakable (a
band in words, not pale small print) and the lost connection a wide band.
Measured in headless Chromium on a 1920x1080 page against a real server."""
from __future__ import annotations

import datetime as dt

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.conftest import artifact_path, bearer
from tests.display.test_display_app import call_next, issue
from tests.display.test_display_web import CHROMIUM_ARGS

pytestmark = pytest.mark.slow  # end to end (a real server and a browser)

HEIGHT = 1080
#: Text a citizen reads from 5 m on a 1080p TV: at least 4% of the screen height
#: (about 2 cm on a 43-inch screen).
READABLE_PX = 0.04 * HEIGHT


def font_px(page, selector: str) -> float:
    return page.eval_on_selector(selector, "e => parseFloat(getComputedStyle(e).fontSize)")


def test_paused_and_disconnected_are_unmistakable(live_server):
    issue(live_server, "HT", 3)
    t1, t2 = live_server.staff_token(1), live_server.staff_token(2)
    call_next(live_server, t1, 1)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": HEIGHT})
            page.goto(f"{live_server.url}/display?token={live_server.token('display')}")
            card1 = '.card[data-counter="1"]'
            expect(page.locator(card1 + " .number")).to_have_text("1001")
            expect(page.locator('.card[data-counter="2"]')).to_be_visible()
            expect(page.locator("#recent")).to_contain_text("1001")

            # Counter label >= a third of the number; the lists readable from 5 m.
            number = font_px(page, card1 + " .number")
            assert font_px(page, card1 + " .label") * 3 >= number, number
            assert font_px(page, "#recent .num") >= 1.5 * READABLE_PX
            assert font_px(page, "#recent .to") >= READABLE_PX
            assert font_px(page, "#waiting .name") >= READABLE_PX

            # Paused: a band saying so, in large capitals, on a card of another colour.
            r = requests.post(f"{live_server.url}/api/v1/counters/"
                              f"{live_server.creds['counters']['2']}/pause",
                              json={"reason": "Họp giao ban"}, headers=bearer(t2), timeout=10)
            assert r.status_code == 200, r.text
            card2 = '.card[data-counter="2"]'
            band = page.locator(card2 + " .band")
            expect(band).to_have_text("TẠM DỪNG")
            expect(page.locator(card2 + " .service")).to_have_text("Họp giao ban")
            assert font_px(page, card2 + " .band") >= READABLE_PX
            colours = page.eval_on_selector_all(
                ".card", "cs => cs.map(c => getComputedStyle(c).backgroundColor)")
            assert len(set(colours)) == 2, colours
            assert page.eval_on_selector(card2 + " .band", "e => e.offsetWidth") >= \
                0.9 * page.eval_on_selector(card2, "e => e.clientWidth - 30")
            page.screenshot(path=str(artifact_path("display", "web-paused-1920x1080.png")))

            # Disconnected: a wide band across the screen in large letters.
            live_server.stop()
            status = page.locator("#status")
            expect(status).to_be_visible(timeout=15000)
            expect(status).to_contain_text("Mất kết nối")
            assert font_px(page, "#status") >= READABLE_PX
            box = status.bounding_box()
            assert box["width"] >= 0.99 * 1920 and box["height"] >= 0.08 * HEIGHT, box
            page.screenshot(path=str(artifact_path("display", "web-disconnected-1920x1080.png")))
            live_server.start()
            expect(status).to_be_hidden(timeout=20000)
        finally:
            browser.close()


def test_a_screen_left_on_overnight_drops_yesterdays_calls(live_server):
    """A TV left on overnight: once the service day has turned, the calls its page
    gathered yesterday leave "recently called" as soon as it next reads the
    snapshot (here: after the server restarts in the morning)."""
    from counter_server import models as m
    from counter_server.db import Database

    issue(live_server, "HT", 3)
    t1 = live_server.staff_token(1)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": HEIGHT})
            page.goto(f"{live_server.url}/display?token={live_server.token('display')}")
            expect(page.locator(".card").first).to_be_visible()
            call_next(live_server, t1, 1)
            call_next(live_server, t1, 1)
            expect(page.locator("#recent li")).to_have_count(2)

            live_server.stop()
            expect(page.locator("#status")).to_be_visible(timeout=15000)
            db = Database(live_server.db_url, pool_size=1)
            try:
                with db.write() as s:   # the night passes: those calls are yesterday's
                    for ev in s.query(m.Event).filter(m.Event.type.like("ticket.%")):
                        ev.created_at = ev.created_at - dt.timedelta(days=1)
            finally:
                db.dispose()
            live_server.start()
            expect(page.locator("#status")).to_be_hidden(timeout=20000)
            expect(page.locator("#recent li")).to_have_count(0, timeout=10000)
            # Today's first call is listed as usual.
            number = call_next(live_server, t1, 1)["display_number"]
            expect(page.locator("#recent li")).to_have_count(1)
            expect(page.locator("#recent")).to_contain_text(number)
        finally:
            browser.close()
