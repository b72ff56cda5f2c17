"""End to end in headless Chromium against a real ``motcua serve``:
an officer signs in, the console follows the event stream, calls, completes,
works from the keyboard, never shows a stale ticket in a second tab or after a
second officer acts; an admin creates a service the kiosk then sees."""
from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import artifact_path, bearer

pytestmark = pytest.mark.slow  # end to end (real processes, windows or a browser)

pw = pytest.importorskip("playwright.sync_api")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT = 15_000  # ms: how long a live update may take to arrive before we give up

# The button behind each console shortcut.  While an action is in flight the
# console disables its buttons and drops key presses, so a test presses a key
# only once that key's button is enabled again.
SHORTCUT_BUTTON = {"g": "#btn-call-next", "l": "#btn-recall", "b": "#btn-start",
                   "h": "#btn-complete", "v": "#btn-no-show", "c": "#btn-transfer",
                   "t": "#btn-pause:visible, #btn-resume:visible"}


def shortcut(page: Any, key: str) -> None:
    """Press a console shortcut once the console takes it (its button enabled)."""
    pw.expect(page.locator(SHORTCUT_BUTTON[key])).to_be_enabled(timeout=WAIT)
    page.keyboard.press(key)


@pytest.fixture
def browser():
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def sign_in(page: Any, server: Any, username: str, counter: int | None = None) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.creds["users"][username]["password"])
    if counter is not None:
        page.select_option("select[name=counter_id]", str(server.creds["counters"][str(counter)]))
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle") if counter is None else page.wait_for_url("**/console")


def issue(server: Any, code: str) -> dict:
    r = requests.post(server.url + "/api/v1/tickets", headers=bearer(server.token("kiosk")),
                      json={"service_id": server.creds["services"][code]}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def display_number_at(server: Any, counter: int) -> str | None:
    snap = requests.get(server.url + "/api/v1/display", headers=bearer(server.token("display")),
                        timeout=10).json()
    for c in snap["counters"]:
        if c["number"] == counter:
            return (c["current"] or {}).get("display_number")
    raise AssertionError(counter)


def test_officer_console_end_to_end(live_server, browser):
    expect = pw.expect
    ctx = browser.new_context(viewport={"width": 1366, "height": 850}, locale="vi-VN")
    page = ctx.new_page()
    sign_in(page, live_server, "canbo1", counter=1)
    expect(page.locator("#live")).to_have_text("Trực tiếp", timeout=WAIT)
    expect(page.locator("#btn-call-next")).to_contain_text("Gọi số tiếp")

    # Tickets issued at the kiosk appear live in the waiting list.
    first, second = issue(live_server, "HT"), issue(live_server, "BHYT")
    expect(page.locator("#waiting-list tr[data-ticket-id]")).to_have_count(2, timeout=WAIT)
    expect(page.locator("#waiting-list")).to_contain_text(first["display_number"])

    page.click("#btn-call-next")
    expect(page.locator("#ticket-number")).to_have_text(first["display_number"], timeout=WAIT)
    expect(page.locator("#ticket-service")).to_have_text("Tư pháp – Hộ tịch")
    expect(page.locator("#ticket-status")).to_have_text("Đã gọi")
    assert display_number_at(live_server, 1) == first["display_number"]
    page.screenshot(path=str(artifact_path("console", "called.png")), full_page=True)

    page.click("#btn-complete")
    expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT)
    assert display_number_at(live_server, 1) is None
    expect(page.locator("[data-fig=completed]")).to_have_text("1", timeout=WAIT)

    # Keyboard: G call next, B start, H complete.
    shortcut(page, "g")
    expect(page.locator("#ticket-number")).to_have_text(second["display_number"], timeout=WAIT)
    shortcut(page, "b")
    expect(page.locator("#ticket-status")).to_have_text("Đang xử lý", timeout=WAIT)
    shortcut(page, "h")
    expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT)
    expect(page.locator("[data-fig=completed]")).to_have_text("2", timeout=WAIT)

    # Pause with a reason (T), then resume (T).
    shortcut(page, "t")
    page.select_option("#pause-reason", "Họp")
    page.click("#pause-ok")
    expect(page.locator("#counter-state")).to_have_text("Tạm dừng — Họp", timeout=WAIT)
    shortcut(page, "t")
    expect(page.locator("#counter-state")).to_have_text("Đang mở", timeout=WAIT)

    # A second tab of the same officer never shows a stale ticket.
    tab2 = ctx.new_page()
    tab2.goto(live_server.url + "/console")
    expect(tab2.locator("#live")).to_have_text("Trực tiếp", timeout=WAIT)
    third = issue(live_server, "HT")
    expect(page.locator("#waiting-list")).to_contain_text(third["display_number"], timeout=WAIT)
    shortcut(page, "g")
    expect(tab2.locator("#ticket-number")).to_have_text(third["display_number"], timeout=WAIT)
    tab2.click("#btn-complete")
    expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT)

    # A second officer cannot take the counter while it is held: refused, saying by whom.
    fourth = issue(live_server, "HT")
    shortcut(page, "g")
    expect(page.locator("#ticket-number")).to_have_text(fourth["display_number"], timeout=WAIT)
    ctx2 = browser.new_context(viewport={"width": 1366, "height": 850})
    other = ctx2.new_page()
    other.goto(live_server.url + "/login")
    other.fill("input[name=username]", "canbo2")
    other.fill("input[name=password]", live_server.creds["users"]["canbo2"]["password"])
    other.select_option("select[name=counter_id]", str(live_server.creds["counters"]["1"]))
    other.click("button[type=submit]")
    expect(other.locator(".flash-error")).to_contain_text("Nguyễn Thị Hoa", timeout=WAIT)
    page.click("#btn-no-show")
    expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT)

    # Transfer: the first officer calls, transfers to Cư trú (counter 3's service).
    fifth = issue(live_server, "HT")
    shortcut(page, "g")
    expect(page.locator("#ticket-number")).to_have_text(fifth["display_number"], timeout=WAIT)
    shortcut(page, "c")
    page.select_option("#transfer-service", str(live_server.creds["services"]["CU"]))
    page.click("#transfer-ok")
    expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT)
    t = requests.get(live_server.url + "/api/v1/tickets/" + fifth["code"], timeout=10).json()
    assert t["service_code"] == "CU" and t["status"] == "waiting"
    page.screenshot(path=str(artifact_path("console", "after.png")), full_page=True)
    ctx2.close()
    ctx.close()


def test_admin_creates_a_service_the_kiosk_sees(live_server, browser):
    expect = pw.expect
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = ctx.new_page()
    page.goto(live_server.url + "/login")
    page.screenshot(path=str(artifact_path("console", "login.png")), full_page=True)
    sign_in(page, live_server, "quantri")
    expect(page.locator("h1")).to_have_text("Quản trị")
    page.screenshot(path=str(artifact_path("admin", "index.png")), full_page=True)
    page.goto(live_server.url + "/admin/services")
    form = page.locator("#service-form form")
    form.locator("input[name=code]").fill("TTHC")
    form.locator("input[name=name]").fill("Thủ tục hành chính khác")
    form.locator("input[name=number_start]").fill("7001")
    form.locator("input[name=number_end]").fill("7999")
    form.locator("input[name=daily_cap]").fill("50")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Đã lưu lĩnh vực.")
    page.screenshot(path=str(artifact_path("admin", "services.png")), full_page=True)

    r = requests.get(live_server.url + "/api/v1/services",
                     headers=bearer(live_server.token("kiosk")), timeout=10)
    names = {s["code"]: s for s in r.json()["services"]}
    assert names["TTHC"]["name"] == "Thủ tục hành chính khác"
    assert names["TTHC"]["daily_cap"] == 50 and names["TTHC"]["open"] is True
    # No counter serves it yet: off the kiosk (no counters listed) and refused if asked
    # directly (issue #15); tests/counter_server/test_unserved_service.py goes on from here.
    assert names["TTHC"]["counters"] == []
    r = requests.post(live_server.url + "/api/v1/tickets", headers=bearer(live_server.token("kiosk")),
                      json={"service_id": names["TTHC"]["id"]}, timeout=10)
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_counter_serves"

    for path, name in (("/admin/counters", "counters"), ("/admin/users", "users"),
                       ("/admin/devices", "devices"), ("/admin/settings", "settings"),
                       ("/admin/audit", "audit")):
        page.goto(live_server.url + path)
        page.screenshot(path=str(artifact_path("admin", name + ".png")), full_page=True)
    expect(page.locator("table.audit")).to_contain_text("admin.service_created")
    ctx.close()


def ticket_status(server: Any, code: str) -> str:
    r = requests.get(server.url + "/api/v1/tickets/" + code, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["status"]


def test_complete_and_call_next_in_one_tap(live_server, browser):
    """With a ticket in hand the big button reads "Xong, gọi số tiếp" and does
    both steps at once; with nobody waiting it says so and keeps the ticket."""
    expect = pw.expect
    ctx = browser.new_context(viewport={"width": 1366, "height": 850}, locale="vi-VN")
    page = ctx.new_page()
    sign_in(page, live_server, "canbo1", counter=1)
    expect(page.locator("#live")).to_have_text("Trực tiếp", timeout=WAIT)
    big = page.locator("#btn-call-next")
    label = page.locator("#btn-call-next-label")
    expect(label).to_have_text("Gọi số tiếp")

    first, second = issue(live_server, "HT"), issue(live_server, "HT")
    expect(page.locator("#waiting-list tr[data-ticket-id]")).to_have_count(2, timeout=WAIT)
    big.click()
    expect(page.locator("#ticket-number")).to_have_text(first["display_number"], timeout=WAIT)
    # Called: the big button switches to the one-tap flow and stays usable;
    # the separate Complete button is still there.
    expect(label).to_have_text("Xong, gọi số tiếp")
    expect(big).to_be_enabled()
    expect(page.locator("#btn-complete")).to_be_enabled()
    page.screenshot(path=str(artifact_path("console", "complete_next.png")), full_page=True)

    big.click()
    expect(page.locator("#ticket-number")).to_have_text(second["display_number"], timeout=WAIT)
    assert ticket_status(live_server, first["code"]) == "done"
    assert ticket_status(live_server, second["code"]) == "called"
    assert display_number_at(live_server, 1) == second["display_number"]
    expect(page.locator("[data-fig=completed]")).to_have_text("1", timeout=WAIT)
    expect(page.locator("#waiting-count")).to_have_text("0", timeout=WAIT)

    # Serving, nobody waiting: key G answers the Vietnamese queue-empty
    # message and the ticket in hand stays as it was.
    shortcut(page, "b")
    expect(page.locator("#ticket-status")).to_have_text("Đang xử lý", timeout=WAIT)
    expect(label).to_have_text("Xong, gọi số tiếp")
    shortcut(page, "g")
    expect(page.locator("#message")).to_have_text("Không còn ai đang chờ ở quầy này.", timeout=WAIT)
    expect(page.locator("#message")).to_be_visible()
    expect(page.locator("#ticket-number")).to_have_text(second["display_number"])
    expect(page.locator("#ticket-status")).to_have_text("Đang xử lý")
    assert ticket_status(live_server, second["code"]) == "serving"
    assert display_number_at(live_server, 1) == second["display_number"]
    expect(page.locator("[data-fig=completed]")).to_have_text("1")
    page.screenshot(path=str(artifact_path("console", "complete_next_empty.png")), full_page=True)

    # Completing with H empties the hand: the big button is plain "call next" again.
    shortcut(page, "h")
    expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT)
    expect(label).to_have_text("Gọi số tiếp")
    assert ticket_status(live_server, second["code"]) == "done"
    ctx.close()
