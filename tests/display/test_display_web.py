"""The web lobby display (/display) and its announcement audio.

The page runs in headless Chromium against a real server: the display link
turns into an HttpOnly cookie, the page follows the event stream with it,
and a call made through the API shows up on the TV within a second.
"""
from __future__ import annotations

import io
import wave
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from counter_server.security import DEVICE_COOKIE
from tests.conftest import artifact_path, bearer
from tests.display.test_display_app import NOTICE, call_next, issue, set_notice

import pytest  # noqa: E402

pytestmark = pytest.mark.slow  # end to end (real processes, windows or a browser)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_display_link_becomes_an_httponly_cookie_and_leaves_the_address(client, creds):
    token = creds["devices"]["display"]["token"]
    r = client.get(f"/display?token={token}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/display")
    assert token not in r.headers["Location"]
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{DEVICE_COOKIE}=") and "HttpOnly" in cookie
    page = client.get("/display")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bấm để bật âm thanh" in html and "VỪA GỌI" in html and token not in html
    # The cookie also opens the snapshot for the page's fetch().
    assert client.get("/api/v1/display").get_json()["office"]["name"] == "UBND xã Quảng Khê"


def test_wrong_links_and_strangers_are_refused(client, creds):
    for bad in ("nonsense", creds["devices"]["kiosk"]["token"]):
        r = client.get(f"/display?token={bad}")
        assert r.status_code == 403 and "Liên kết màn hình không hợp lệ" in r.get_data(as_text=True)
        assert DEVICE_COOKIE not in r.headers.get("Set-Cookie", "")
    r = client.get("/display")
    assert r.status_code == 302 and "/display" not in r.headers["Location"].split("?")[0]


def test_announce_wav_is_a_valid_wav_for_displays_only(client, creds, app):
    url = "/display/announce.wav?number=1005&counter=3"
    assert client.get(url).status_code == 401
    r = client.get(url, headers=bearer(creds["devices"]["kiosk"]["token"]))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    r = client.get(url, headers=bearer(creds["devices"]["display"]["token"]))
    assert r.status_code == 200 and r.mimetype == "audio/wav"
    with wave.open(io.BytesIO(r.data)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert seconds > 1.0  # chime and the sentence, not an empty file
    cached = list((Path(app.config["INSTANCE_DIR"]) / "voice-cache").glob("*.wav"))
    assert len(cached) == 1 and cached[0].read_bytes() == r.data
    again = client.get(url, headers=bearer(creds["devices"]["display"]["token"]))
    assert again.data == r.data
    once = client.get(url + "&once=1", headers=bearer(creds["devices"]["display"]["token"]))
    with wave.open(io.BytesIO(once.data)) as w:
        assert 1.0 < w.getnframes() / w.getframerate() < seconds  # said once: a TV behind
    bad = client.get("/display/announce.wav?number=<x>&counter=3",
                     headers=bearer(creds["devices"]["display"]["token"]))
    assert bad.status_code == 400 and bad.get_json()["error"]["message"]


def test_web_display_in_chromium_shows_calls_live(live_server):
    set_notice(live_server, NOTICE)
    issue(live_server, "HT", 6)
    t1 = live_server.staff_token(1)
    t2 = live_server.staff_token(2)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{live_server.url}/display?token={live_server.token('display')}")
            expect(page).to_have_url(f"{live_server.url}/display")
            cookie = next(c for c in page.context.cookies() if c["name"] == DEVICE_COOKIE)
            assert cookie["httpOnly"]
            card1 = page.locator('.card[data-counter="1"] .number')
            expect(card1).to_have_text("—")
            expect(page.locator("#sound")).to_contain_text("Bấm để bật âm thanh")
            # From now on the page lives on the events: no snapshot for a plain event.
            snapshots: list[str] = []
            page.on("request", lambda r: snapshots.append(r.url)
                    if "/api/v1/display" in r.url else None)
            ht_waiting = page.locator("#waiting li", has_text="Hộ tịch").locator(".count")
            expect(ht_waiting).to_have_text("6")
            issue(live_server, "HT", 1)
            expect(ht_waiting).to_have_text("7", timeout=2000)

            # A call through the API is on the TV within a second, highlighted.
            assert call_next(live_server, t1, 1)["display_number"] == "1001"
            expect(card1).to_have_text("1001", timeout=1000)
            expect(ht_waiting).to_have_text("6", timeout=1000)
            expect(page.locator('.card[data-counter="1"]')).to_have_class("card hl")
            expect(page.locator("#recent")).to_contain_text("1001")

            # After the click on the overlay, a recall plays the server's WAV.
            page.locator("#sound").click()
            expect(page.locator("#sound")).to_be_hidden()
            with page.expect_response("**/display/announce.wav?number=1001&counter=1") as resp:
                call_next(live_server, t1, 1, "recall")
            assert resp.value.status == 200
            call_next(live_server, t2, 2)
            expect(page.locator('.card[data-counter="2"] .number')).to_have_text("1002")
            page.screenshot(path=str(artifact_path("display", "web-1920x1080.png")))
            page.set_viewport_size({"width": 1366, "height": 768})
            page.screenshot(path=str(artifact_path("display", "web-1366x768.png")))

            assert snapshots == []

            # Server down: indicator; calls made meanwhile show after it returns.
            live_server.stop()
            expect(page.locator("#status")).to_be_visible(timeout=15000)
            live_server.start()
            missed = [call_next(live_server, t1, 1)["display_number"] for _ in range(2)]
            expect(card1).to_have_text(missed[-1], timeout=20000)
            expect(page.locator("#recent")).to_contain_text(missed[0])
            expect(page.locator("#status")).to_be_hidden()
            page.wait_for_function("window.motcuaDisplay.announced.length >= 5", timeout=20000)
            announced = page.evaluate("window.motcuaDisplay.announced")
            assert announced[-2:] == [[missed[0], 1], [missed[1], 1]]
        finally:
            browser.close()
