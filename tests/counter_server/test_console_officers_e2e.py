"""The console's officer features in headless Chromium against a real
``motcua serve`` (issue 15, "The console" and "Officers and counters"):
confirmations after complete and transfer, no own service in the transfer
dialog, Enter in the pause dialog, the day's no-shows brought back or
cancelled, a kiosk's printer fault in every console, reprint, sign-out with a
ticket in hand, and a displaced console that says so and acts no more."""
from __future__ import annotations

import pytest
import requests

from tests.conftest import artifact_path, bearer
from tests.counter_server.office_support import (ApiOfficer, WebOfficer, issue, ticket_status,
                                                 wait_for)
from tests.counter_server.test_console_e2e import (WAIT, browser, shortcut,  # noqa: F401 (fixture)
                                                   sign_in)

pytestmark = pytest.mark.slow

pw = pytest.importorskip("playwright.sync_api")


def kiosk_printer(server, status: str, message: str = "") -> None:
    requests.post(server.url + "/api/v1/device/status", headers=bearer(server.token("kiosk")),
                  json={"status": status, "code": "paper_out" if message else "",
                        "message": message}, timeout=10).raise_for_status()


def test_console_officer_day(live_server, browser):  # noqa: F811
    expect = pw.expect
    server = live_server
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())  # the cancel confirmation
    sign_in(page, server, "canbo1", counter=1)
    expect(page.locator("#live")).to_have_text("Trực tiếp", timeout=WAIT)
    msg = page.locator("#message")

    # Complete: a short confirmation.
    t1, t2 = issue(server, "HT"), issue(server, "HT")
    expect(page.locator("#waiting-list tr[data-ticket-id]")).to_have_count(2, timeout=WAIT)
    shortcut(page, "g")
    expect(page.locator("#ticket-number")).to_have_text(t1["display_number"], timeout=WAIT)
    page.click("#btn-complete")
    expect(msg).to_have_text(f"Đã hoàn thành vé {t1['display_number']}.", timeout=WAIT)
    expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT)

    # Transfer: the ticket's own service is not offered; a confirmation after.
    shortcut(page, "g")
    expect(page.locator("#ticket-number")).to_have_text(t2["display_number"], timeout=WAIT)
    shortcut(page, "c")
    own = page.locator(f"#transfer-service option[value='{server.creds['services']['HT']}']")
    expect(own).to_be_disabled()
    expect(own).to_be_hidden()
    page.select_option("#transfer-service", str(server.creds["services"]["CU"]))
    page.click("#transfer-ok")
    expect(msg).to_have_text(f"Đã chuyển vé {t2['display_number']} sang Cư trú.", timeout=WAIT)
    expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT)
    assert ticket_status(server, t2["code"])["service_code"] == "CU"

    # Pause: Enter in the details field submits the dialog.
    shortcut(page, "t")
    page.fill("#pause-detail", "họp giao ban")
    page.press("#pause-detail", "Enter")
    expect(page.locator("#counter-state")).to_have_text("Tạm dừng — Nghỉ trưa: họp giao ban",
                                                        timeout=WAIT)
    shortcut(page, "t")
    expect(page.locator("#counter-state")).to_have_text("Đang mở", timeout=WAIT)

    # No-show, brought back from today's list, then cancelled from it.
    t3 = issue(server, "HT")
    expect(page.locator("#waiting-list")).to_contain_text(t3["display_number"], timeout=WAIT)
    shortcut(page, "g")
    expect(page.locator("#ticket-status")).to_have_text("Đã gọi", timeout=WAIT)
    shortcut(page, "v")
    row = page.locator(f"#no-show-list tr[data-ticket-id='{t3['id']}']")
    expect(row).to_contain_text(t3["display_number"], timeout=WAIT)
    page.screenshot(path=str(artifact_path("console", "no_shows.png")), full_page=True)
    row.locator("button[data-row-action=reactivate]").click()
    expect(msg).to_have_text(f"Vé {t3['display_number']} đã trở lại đầu hàng chờ.", timeout=WAIT)
    expect(page.locator(f"#waiting-list tr[data-ticket-id='{t3['id']}']")).to_have_count(
        1, timeout=WAIT)
    assert ticket_status(server, t3["code"])["status"] == "waiting"
    shortcut(page, "g")
    expect(page.locator("#ticket-number")).to_have_text(t3["display_number"], timeout=WAIT)
    shortcut(page, "v")
    expect(row).to_have_count(1, timeout=WAIT)
    row.locator("button[data-row-action=cancel]").click()
    expect(msg).to_have_text(f"Đã hủy vé {t3['display_number']}.", timeout=WAIT)
    expect(row).to_have_count(0, timeout=WAIT)
    assert ticket_status(server, t3["code"])["status"] == "cancelled"

    # A printer fault at the kiosk shows in every console of the office.
    ctx2 = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page2 = ctx2.new_page()
    sign_in(page2, server, "canbo2", counter=2)
    expect(page2.locator("#live")).to_have_text("Trực tiếp", timeout=WAIT)
    kiosk_printer(server, "error", "Hết giấy")
    for p in (page, page2):
        expect(p.locator("#device-faults")).to_be_visible(timeout=WAIT)
        expect(p.locator("#device-faults")).to_contain_text("Hết giấy")
    page.screenshot(path=str(artifact_path("console", "printer_fault.png")), full_page=True)

    # Reprint: refused while the printer is down, sent to the kiosk once it is back.
    t4 = issue(server, "HT")
    wrow = page.locator(f"#waiting-list tr[data-ticket-id='{t4['id']}']")
    wrow.locator("button[data-row-action=reprint]").click()
    expect(msg).to_contain_text("Hết giấy", timeout=WAIT)
    kiosk_printer(server, "ok")
    for p in (page, page2):
        expect(p.locator("#device-faults")).to_be_hidden(timeout=WAIT)
    wrow.locator("button[data-row-action=reprint]").click()
    expect(msg).to_have_text(f"Đang in lại vé {t4['display_number']} tại máy lấy số "
                             f"“{server.creds['devices']['kiosk']['name']}”.", timeout=WAIT)
    r = requests.get(f"{server.url}/api/v1/tickets/{t4['id']}/print",
                     headers=bearer(server.token("kiosk")), timeout=10)
    assert r.status_code == 200 and r.json()["code"] == t4["code"]

    # Signing out with a ticket in hand asks first; "put back" requeues it.
    shortcut(page, "g")
    expect(page.locator("#ticket-number")).to_have_text(t4["display_number"], timeout=WAIT)
    page.click("form.who button[type=submit]")
    expect(page.locator("#ticket-in-hand h1")).to_contain_text(t4["display_number"], timeout=WAIT)
    page.screenshot(path=str(artifact_path("console", "sign_out_ticket.png")), full_page=True)
    page.click("#ticket-requeue")
    page.wait_for_url("**/login")
    assert ticket_status(server, t4["code"])["status"] == "waiting"

    # canbo2's console is displaced (an admin releases counter 2, canbo3 takes
    # it): it says so, and "next" does nothing.
    WebOfficer.at(server, "quantri", None).release(2)
    ApiOfficer.at(server, "canbo3", 2)
    ended = page2.locator("#session-ended")
    expect(ended).to_be_visible(timeout=WAIT)  # (as soon as the release reaches it)
    expect(ended).to_contain_text("Quầy 2")
    expect(ended).to_contain_text("phiên làm việc của ông/bà tại quầy này đã kết thúc")
    page2.keyboard.press("g")  # an ended console takes no action: its buttons stay disabled
    wait_for(lambda: ticket_status(server, t4["code"])["status"] == "waiting")
    expect(page2.locator("#btn-call-next")).to_be_disabled()
    page2.screenshot(path=str(artifact_path("console", "session_ended.png")), full_page=True)
    ctx2.close()
    ctx.close()
