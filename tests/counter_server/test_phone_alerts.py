"""“Your turn is near”: the ticket's status answer carries the office's alert
setting, the admin form keeps it in range, and the phone page in real Chromium
follows its ticket over the server's event stream (no polling) and rings,
vibrates and notifies when the ticket is N places from the front and when it is
called, driven by real calls on a real ``motcua serve``."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests

from tests.conftest import artifact_path, bearer
from tests.counter_server.test_admin import admin_client
from tests.counter_server.test_admin_validation import _settings_form


def _issue(client: Any, creds: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/tickets", json={"service_id": creds["services"]["HT"]},
                    headers=bearer(creds["devices"]["kiosk"]["token"]))
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def test_status_answer_carries_the_alert_setting(app, client, creds):
    first, mine = _issue(client, creds), _issue(client, creds)
    answer = client.get(f"/api/v1/tickets/{mine['code']}").get_json()
    assert (answer["waiting_before"], answer["near_alert_places"]) == (1, 3)  # the default
    assert "code" not in answer and first["code"] not in str(answer)
    # the page renders the same answer and names the ticket's own stream
    page = client.get(f"/t/{mine['code']}").get_data(as_text=True)
    assert f'data-events="/api/v1/tickets/{mine["code"]}/events"' in page
    assert 'data-near="3"' in page and 'id="alerts-on"' in page
    assert re.search(r'<p class="near" id="near">Sắp đến lượt ông/bà', page)  # 1 ahead <= 3

    admin, tok = admin_client(app, creds)
    form = _settings_form(admin, tok)
    assert form["near_alert_places"] == "3"
    for bad in ("-1", "51", "ba"):
        page = admin.post("/admin/settings", data={**form, "near_alert_places": bad},
                          follow_redirects=True).get_data(as_text=True)
        assert "“Số người phía trước khi báo sắp đến lượt” phải là số nguyên từ 0 đến 50." \
            in page, bad
    assert client.get(f"/api/v1/tickets/{mine['code']}").get_json()["near_alert_places"] == 3
    page = admin.post("/admin/settings", data={**form, "near_alert_places": "0"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Đã lưu cài đặt." in page
    assert client.get(f"/api/v1/tickets/{mine['code']}").get_json()["near_alert_places"] == 0
    page = client.get(f"/t/{mine['code']}").get_data(as_text=True)
    assert '<p class="near" id="near" hidden>' in page
    assert "khi ông/bà được gọi" in page

    # an imported configuration file without the key keeps the stored value
    admin.post("/admin/settings", data={**form, "near_alert_places": "5"})
    left_out = {k: v for k, v in form.items() if k != "near_alert_places"}
    admin.post("/admin/settings", data=left_out)
    assert client.get(f"/api/v1/tickets/{mine['code']}").get_json()["near_alert_places"] == 5


# ------------------------------------------------------------------ in Chromium
PHONE = {"width": 360, "height": 740}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000

# Count what the page does to alert: oscillators started (Web Audio), vibrations,
# notifications shown; record every request it sends (fetch, XHR, EventSource).
INSTRUMENT = """
(() => {
  const seen = window.__alerts = {tones: [], buzz: [], notes: []};
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...a) {
    seen.tones.push({hz: this.frequency.value, state: this.context.state});
    return start.apply(this, a);
  };
  if (navigator.vibrate) {
    const vibrate = navigator.vibrate.bind(navigator);
    navigator.vibrate = (p) => { seen.buzz.push(p); return vibrate(p); };
  }
  const Real = window.Notification;
  function Counting(title, options) {
    seen.notes.push({title, body: options && options.body});
    return new Real(title, options);
  }
  Object.defineProperty(Counting, 'permission', {get: () => Real.permission});
  Counting.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Counting;
})();
"""


class Office:
    """The kiosk and counter 1's officer, over HTTP against the live server."""

    def __init__(self, server: Any) -> None:
        self.s = server
        self.kiosk = bearer(server.token("kiosk"))
        self.staff = bearer(server.staff_token(1))
        self.counter = server.creds["counters"]["1"]
        self.ht = server.creds["services"]["HT"]

    def issue(self) -> dict[str, Any]:
        r = requests.post(self.s.url + "/api/v1/tickets", json={"service_id": self.ht},
                          headers=self.kiosk, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def call_next(self) -> dict[str, Any]:
        r = requests.post(f"{self.s.url}/api/v1/counters/{self.counter}/call-next",
                          json={"complete_current": True}, headers=self.staff, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def recall(self) -> dict[str, Any]:
        r = requests.post(f"{self.s.url}/api/v1/counters/{self.counter}/recall",
                          headers=self.staff, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def complete(self, ticket_id: int) -> None:
        r = requests.post(f"{self.s.url}/api/v1/tickets/{ticket_id}/complete",
                          headers=self.staff, timeout=10)
        assert r.status_code == 200, r.text


def wait_js(page: Any, expression: str, timeout: float = WAIT_MS / 1000) -> None:
    """Wait until ``expression`` is true in the page.  (Not page.wait_for_function: its
    polling evaluates strings, which the page's Content-Security-Policy forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => {expression}"):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)


def _seen(page: Any) -> dict[str, list]:
    return page.evaluate("window.__alerts")


@pytest.mark.slow
def test_phone_page_rings_when_near_and_when_called(live_server):
    playwright_api = pytest.importorskip("playwright.sync_api")
    expect = playwright_api.expect
    office = Office(live_server)
    before = [office.issue() for _ in range(5)]
    mine = office.issue()
    url = f"{live_server.url}/t/{mine['code']}"
    stream = f"{live_server.url}/api/v1/tickets/{mine['code']}/events"
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                      locale="vi-VN")
            ctx.grant_permissions(["notifications"], origin=live_server.url)
            ctx.add_init_script(INSTRUMENT)
            page = ctx.new_page()
            problems: list[str] = []
            page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            requests_sent: list[tuple[str, str]] = []
            page.on("request", lambda r: requests_sent.append((r.resource_type, r.url)))

            assert page.goto(url).status == 200
            expect(page.locator("#ahead")).to_have_text("5")
            assert page.is_hidden("#near")
            # the citizen turns alerts on: one short test tone, permission asked
            page.tap("#alerts-on")
            expect(page.locator("#alerts-state")).to_have_text(
                "Đã bật chuông báo. Xin ông/bà để trang này mở.")
            wait_js(page, "window.__alerts.tones.length === 1")
            assert _seen(page)["notes"] == []
            page.screenshot(path=str(artifact_path("phone", "alerts-1-on.png")), full_page=True)

            # 4 ahead: nothing yet
            assert office.call_next()["id"] == before[0]["id"]
            expect(page.locator("#ahead")).to_have_text("4", timeout=WAIT_MS)
            assert page.is_hidden("#near") and len(_seen(page)["tones"]) == 1

            # 3 ahead (the office's N): sound, vibration, notification, once
            assert office.call_next()["id"] == before[1]["id"]
            expect(page.locator("#ahead")).to_have_text("3", timeout=WAIT_MS)
            wait_js(page, "window.__alerts.notes.length === 1")
            seen = _seen(page)
            assert seen["notes"] == [{"title": "Sắp đến lượt ông/bà", "body": (
                f"Vé {mine['display_number']}: còn 3 người trước ông/bà. "
                "Xin ông/bà đến gần quầy.")}]
            near_tones = seen["tones"][1:]
            assert len(near_tones) == 2 and all(t["state"] == "running" for t in near_tones)
            assert page.is_visible("#near")
            page.screenshot(path=str(artifact_path("phone", "alerts-2-near.png")), full_page=True)

            # 2 and 1 ahead: no second "near" alert
            for k in (2, 3, 4):
                assert office.call_next()["id"] == before[k]["id"]
            expect(page.locator("#ahead")).to_have_text("0", timeout=WAIT_MS)
            assert len(_seen(page)["notes"]) == 1

            # called: the called alert with the counter
            assert office.call_next()["id"] == mine["id"]
            page.wait_for_selector("[data-show=called]", state="visible", timeout=WAIT_MS)
            wait_js(page, "window.__alerts.notes.length === 2")
            seen = _seen(page)
            assert seen["notes"][1] == {"title": "Đã đến lượt ông/bà!",
                                        "body": f"Mời ông/bà mang vé {mine['display_number']} "
                                                "đến quầy 1."}
            assert len(seen["tones"]) == 1 + 2 + 3
            # vibration: the tap's short buzz, then near and called
            assert seen["buzz"] == [[60], [250, 120, 250], [500, 150, 500, 150, 500]]
            page.screenshot(path=str(artifact_path("phone", "alerts-3-called.png")),
                            full_page=True)

            # the officer calls again: the called alert again
            office.recall()
            wait_js(page, "window.__alerts.notes.length === 3")
            assert _seen(page)["notes"][2]["title"] == "Đã đến lượt ông/bà!"
            assert len(_seen(page)["tones"]) == 1 + 2 + 3 + 3

            # done: the stream ends and the page stops listening
            office.complete(mine["id"])
            page.wait_for_selector("#rate", state="visible", timeout=WAIT_MS)
            assert page.is_hidden("#alerts")

            # Only the first loads and the one event stream: no polling.
            mine_path = f"/api/v1/tickets/{mine['code']}"
            api = [(kind, u) for kind, u in requests_sent if "/api/" in u]
            assert api == [("eventsource", stream)], api
            assert {kind for kind, _u in requests_sent} <= {"document", "stylesheet", "script",
                                                             "eventsource"}, requests_sent
            assert not [u for _k, u in requests_sent if u.endswith(mine_path)]
            assert problems == []
        finally:
            browser.close()
