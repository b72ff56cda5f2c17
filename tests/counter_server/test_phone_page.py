"""The citizen's phone page /t/<code> in headless Chromium on a phone-sized screen,
against a real ``motcua serve``; the queue is driven over HTTP like the kiosk and
the staff console do."""
from __future__ import annotations

import re

from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from counter_server import models as m
from tests.conftest import artifact_path, bearer

pytestmark = pytest.mark.slow  # end to end (real processes, windows or a browser)

playwright_api = pytest.importorskip("playwright.sync_api")

PHONE = {"width": 360, "height": 740}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 25_000  # the page follows the ticket's event stream


class Queue:
    def __init__(self, server: Any) -> None:
        self.s = server
        self.kiosk = bearer(server.token("kiosk"))
        self.staff = bearer(server.staff_token(1))
        self.counter = server.creds["counters"]["1"]
        svcs = requests.get(server.url + "/api/v1/services", headers=self.kiosk, timeout=10).json()
        self.ht = next(s["id"] for s in svcs["services"] if s["code"] == "HT")

    def issue(self) -> dict[str, Any]:
        r = requests.post(self.s.url + "/api/v1/tickets", json={"service_id": self.ht},
                          headers=self.kiosk, timeout=10)
        assert r.status_code == 201
        return r.json()

    def call_next(self) -> dict[str, Any]:
        r = requests.post(f"{self.s.url}/api/v1/counters/{self.counter}/call-next",
                          headers=self.staff, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def complete(self, ticket_id: int) -> None:
        r = requests.post(f"{self.s.url}/api/v1/tickets/{ticket_id}/complete",
                          headers=self.staff, timeout=10)
        assert r.status_code == 200 and r.json()["status"] == "done", r.text

    def served(self) -> dict[str, Any]:
        t = self.issue()
        assert self.call_next()["id"] == t["id"]
        self.complete(t["id"])
        return t


def ratings_of(db_url: str, ticket_id: int) -> list[m.Rating]:
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            out = list(s.scalars(select(m.Rating).where(m.Rating.ticket_id == ticket_id)))
            s.expunge_all()
            return out
    finally:
        engine.dispose()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(artifact_path("phone", name)), full_page=True)


def text(page: Any, sel: str) -> str:
    return page.locator(sel).inner_text().strip()


def test_phone_page_follows_the_ticket_and_takes_one_rating(live_server):
    q = Queue(live_server)
    ahead, mine = q.issue(), q.issue()
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                      has_touch=True, locale="vi-VN")
            page = ctx.new_page()
            problems: list[str] = []
            page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
            page.on("pageerror", lambda exc: problems.append(str(exc)))

            # waiting, one person ahead
            resp = page.goto(f"{live_server.url}/t/{mine['code']}")
            assert resp.status == 200
            assert text(page, "#number") == mine["display_number"]
            assert text(page, "#ahead") == "1"
            assert page.is_visible("text=Số người chờ trước ông/bà")
            # Citizens are "ông/bà", a ticket is "vé", everywhere on the page.
            body = page.inner_text("body")
            assert not re.search(r"\b[Bb]ạn\b|\b[Pp]hiếu\b", body), body
            assert not page.is_visible("#rate")
            html = page.content()
            assert ahead["code"] not in html and ahead["display_number"] not in html
            shot(page, "1-waiting.png")

            # the ticket ahead is called: the position drops without a reload
            assert q.call_next()["id"] == ahead["id"]
            playwright_api.expect(page.locator("#ahead")).to_have_text("0", timeout=WAIT_MS)
            # nobody ahead: "sắp đến lượt", never "khoảng 0 phút"
            page.wait_for_selector("#wait-none", state="visible", timeout=WAIT_MS)
            assert "khoảng 0" not in page.inner_text("body")
            q.complete(ahead["id"])

            # my turn: the called counter shows
            assert q.call_next()["id"] == mine["id"]
            page.wait_for_selector("[data-show=called]", state="visible", timeout=WAIT_MS)
            assert text(page, "[data-show=called] .cnum") == "1"
            assert "Mời ông/bà đến" in text(page, "[data-show=called]")
            shot(page, "2-called.png")

            # done: the rating form appears; a low face asks for reasons
            q.complete(mine["id"])
            page.wait_for_selector("#rate", state="visible", timeout=WAIT_MS)
            assert not page.is_visible("#reasons")
            shot(page, "3-rate.png")
            page.click("#lv-1")
            page.wait_for_selector("#reasons", state="visible")
            page.click("text=Thời gian chờ lâu")
            page.fill("#comment", "Phải chờ lâu ở quầy 1")
            shot(page, "4-rate-low.png")
            page.click("#send")
            page.wait_for_selector("#thanks", state="visible", timeout=WAIT_MS)
            assert not page.is_visible("#rate")
            shot(page, "5-thanks.png")
            [rating] = ratings_of(live_server.db_url, mine["id"])
            assert (rating.level, rating.reasons, rating.comment, rating.channel) == (
                1, ["long_wait"], "Phải chờ lâu ở quầy 1", "web")
            assert rating.staff_id == live_server.creds["users"]["canbo1"]["id"]
            status = requests.get(f"{live_server.url}/api/v1/tickets/{mine['code']}", timeout=10)
            assert status.json()["rated"] is True

            # a second rating of the same ticket is refused in plain Vietnamese
            other = q.served()
            page.goto(f"{live_server.url}/t/{other['code']}")
            page.wait_for_selector("#rate", state="visible")
            first = requests.post(live_server.url + "/api/v1/ratings",
                                  json={"ticket_code": other["code"], "level": 4}, timeout=10)
            assert first.status_code == 201
            page.click("#lv-3")
            page.click("#send")
            page.wait_for_selector("#msg", state="visible", timeout=WAIT_MS)
            assert "đã được đánh giá rồi" in text(page, "#msg")
            assert page.is_visible("#thanks")
            shot(page, "6-already-rated.png")
            assert [r.level for r in ratings_of(live_server.db_url, other["id"])] == [4]

            # no script error, no CSP violation, no missing file (the 409 above is expected)
            assert [x for x in problems if "409" not in x] == []

            # an unknown code: a friendly Vietnamese 404
            resp = page.goto(f"{live_server.url}/t/khongcophieunay")
            assert resp.status == 404
            assert "Không tìm thấy vé" in text(page, "h1")
            shot(page, "7-not-found.png")
        finally:
            browser.close()


def test_phone_page_without_javascript(live_server):
    q = Queue(live_server)
    done = q.served()
    waiting = q.issue()
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="vi-VN")
            page = ctx.new_page()
            page.goto(f"{live_server.url}/t/{waiting['code']}")
            assert text(page, "#ahead") == "0"
            assert page.locator("noscript").count() == 1  # the meta refresh keeps it live

            page.goto(f"{live_server.url}/t/{done['code']}")
            assert page.is_visible("#rate") and page.is_visible("#reasons")
            shot(page, "8-nojs-rate.png")
            page.click("#lv-2")
            page.click("text=Hướng dẫn chưa rõ ràng")
            with page.expect_navigation():
                page.click("#send")
            assert page.is_visible("#thanks") and not page.is_visible("#rate")
            shot(page, "9-nojs-thanks.png")
            [rating] = ratings_of(live_server.db_url, done["id"])
            assert (rating.level, rating.reasons, rating.channel) == (2, ["unclear"], "web")

            # the form posted again: refused with a clear message, nothing stored
            page.goto(f"{live_server.url}/t/{done['code']}")
            assert page.is_visible("#thanks") and not page.is_visible("#rate")
            token = page.locator("input[name=csrf_token]").get_attribute("value")
            url = f"{live_server.url}/t/{done['code']}"
            r = page.request.post(url, form={"level": "4", "csrf_token": token})
            assert r.status == 409 and "đã được đánh giá rồi" in r.text()
            r = page.request.post(url, form={"level": "4", "csrf_token": "stale"})
            assert r.status == 400 and "tải lại trang" in r.text()
            r = page.request.post(url, form={"level": "7", "csrf_token": token})
            assert r.status == 422 and "chọn một mức đánh giá" in r.text()
            assert [x.level for x in ratings_of(live_server.db_url, done["id"])] == [2]
        finally:
            browser.close()
