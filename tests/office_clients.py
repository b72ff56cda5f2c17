"""The clients of the office-day test (tests/test_office_day.py), two ways.

:class:`RealClients` are the office's own: the Kivy lobby kiosk (tickets by
touch, the rating keypad) and the Kivy counter tablets, each in its own
process (``tests/kiosk/office_remote.py``: one Kivy window per process), the
citizen's phone page and one officer's web console in headless Chromium.

:class:`HttpClients` send what those clients send, straight over HTTP
(``ApiClient``, the phone page's no-JavaScript form, the console's cookie
session): the same day in a fraction of the time, on both databases.

Both answer in the day's terms; each checks what its kind of client can see
(the real tablet: no face on screen while the citizen is served; the HTTP
one: nothing offered to rate), the day checks the rest.
"""
from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import requests

from counter_server.client import ApiClient, ApiError
from tests.conftest import ROOT, artifact_path
from tests.counter_server.office_support import WebOfficer
from tests.kiosk.rating_support import kivy_env

#: What the lobby keypad can tell a citizen, as :meth:`lobby_find` answers it.
FOUND, NOT_FOUND, NOT_SERVED, RATED = "found", "not_found", "not_served", "rated"
KIOSK_SIZE, TABLET_SIZE = "1080x1920", "1280x800"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000


# ---------------------------------------------------------------------- HTTP
class HttpClients:
    """The clients' requests, sent directly."""

    def __init__(self, live: Any, tmp: Path) -> None:
        self.live, self.url = live, live.url
        self.kiosk = ApiClient(self.url, live.token("kiosk"))
        self.tablets = {n: ApiClient(self.url, live.token(f"rating{n}")) for n in (1, 2, 3, 4)}
        self.services = {s["code"]: s["id"] for s in self.kiosk.services()["services"]}
        self.found: str | None = None
        self.console: WebOfficer | None = None

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    # kiosk
    def issue(self, code: str) -> dict[str, Any]:
        return self.kiosk.request("POST", "/tickets", json_body={"service_id": self.services[code]})

    def kiosk_offers(self, code: str, sent: bool, button: bool) -> None:
        """``code`` is (not) in the kiosk's list, and (not) to be given a button:
        the kiosk offers only services some counter serves."""
        self.services = {s["code"]: s["id"] for s in self.kiosk.services()["services"]}
        listed = {s["code"]: s for s in self.kiosk.services()["services"]}
        assert (code in listed) == sent, listed.keys()
        assert bool(sent and listed[code]["counters"]) == button, listed.get(code)

    def lobby_find(self, number: str, check: str) -> dict[str, Any]:
        """What the keypad finds: ``kind`` (FOUND, NOT_FOUND, NOT_SERVED, RATED) and,
        when found, the ticket's ``number``."""
        self.found = None
        try:
            t = self.kiosk.request("POST", "/tickets/lookup",
                                   json_body={"display_number": number, "check_code": check})
        except ApiError as err:
            assert err.status == 404 and err.code == "ticket_not_found", err
            return {"kind": NOT_FOUND}
        if t.get("rated"):
            return {"kind": RATED}
        if t["status"] != "done":
            assert t["code"] is None, t       # no code to rate with
            return {"kind": NOT_SERVED}
        self.found = t["code"]
        return {"kind": FOUND, "number": t["display_number"]}

    def lobby_back(self) -> None:
        self.found = None

    def lobby_rate(self, level: int, reasons: tuple[str, ...] = ()) -> None:
        assert self.found
        out = self.kiosk.rate(level=level, ticket_code=self.found, reasons=list(reasons))
        assert out["misuse"] is False, out
        self.found = None

    # counter tablets
    def _offer(self, counter: int) -> dict[str, Any] | None:
        cid = self.live.creds["counters"][str(counter)]
        try:
            return self.tablets[counter].request("GET", f"/counters/{cid}/last-completed")
        except ApiError as err:
            assert err.status == 404 and err.code == "nothing_to_rate", err
            return None

    def tablet_press_early(self, counter: int, ticket: dict[str, Any], officer: str) -> None:
        """The citizen is still served: nothing to rate."""
        assert self._offer(counter) is None

    def tablet_offers(self, counter: int, ticket: dict[str, Any], officer: str) -> None:
        offer = self._offer(counter)
        assert offer is not None and offer["ticket_id"] == ticket["id"], offer
        assert offer["staff"]["full_name"] == officer, offer

    def tablet_rate(self, counter: int, ticket: dict[str, Any], level: int, officer: str,
                    reasons: tuple[str, ...] = ()) -> None:
        self.tablet_offers(counter, ticket, officer)
        out = self.tablets[counter].rate(level=level, ticket_code=ticket["code"],
                                         reasons=list(reasons))
        assert out["misuse"] is False, out

    def tablet_idle(self, counter: int) -> None:
        """Nothing left to rate at ``counter``."""
        assert self._offer(counter) is None

    # the citizen's phone
    def phone_open(self, code: str) -> None:
        pass

    def phone_shows(self, code: str, status: str, counter: int | None = None) -> None:
        page = requests.get(f"{self.url}/t/{code}", timeout=10).text
        assert f'data-status="{status}"' in page, page[:600]

    def phone_rate(self, code: str, level: int) -> str:
        phone = requests.Session()
        page = phone.get(f"{self.url}/t/{code}", timeout=10)
        assert page.status_code == 200
        r = phone.post(f"{self.url}/t/{code}", timeout=10, allow_redirects=False,
                       data={"csrf_token": _csrf(page.text), "level": str(level)})
        if r.status_code == 303:
            return "rated"
        assert "đã được đánh giá rồi" in r.text, r.text[:600]
        return "already_rated"

    # one officer's web console
    def console_sign_in(self, username: str, counter: int) -> None:
        self.console = WebOfficer.at(self.live, username, counter)
        self.console_counter = counter

    def console_call_next(self, code: str) -> dict[str, Any]:
        """Call next at the console's counter; the answer and the page carry no code."""
        called = self.console.call_next(self.console_counter).json()
        assert "status_path" not in called and "code" not in called, called
        assert code not in self.console.state().text
        return called

    def console_complete(self, ticket: dict[str, Any]) -> None:
        self.console.api(f"/tickets/{ticket['id']}/complete").raise_for_status()

    def console_sign_out(self) -> None:
        assert self.console.form("/logout", {}).status_code == 302


# ---------------------------------------------------------------------- real
class RemoteApp:
    """One Kivy app in its own process, taking orders (tests/kiosk/office_remote.py)."""

    def __init__(self, kind: str, name: str, size: str, folder: Path, app_args: list[str]) -> None:
        self.name = name
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / f"{name}.log"
        self._logf = open(self.log, "w", encoding="utf-8")
        shots = artifact_path("office_day", "x").parent
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "kiosk" / "office_remote.py"), kind, str(shots),
             "--", *app_args],
            env=kivy_env(folder / name, size), cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._logf, text=True, encoding="utf-8")
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 1

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.answers.put(json.loads(line))
        self.answers.put({"id": -1, "error": f"{self.name} exited ({self.proc.poll()})"})

    def _answer(self, order_id: int, timeout: float) -> Any:
        try:
            got = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.name}: no answer in {timeout:.0f} s\n{self.tail()}") from None
        if "error" in got:
            raise AssertionError(f"{self.name}: {got['error']}\n{self.tail()}")
        assert got["id"] == order_id, got
        return got["value"]

    def ready(self, timeout: float = 180) -> Any:
        return self._answer(0, timeout)

    def ask(self, do: str, timeout: float = 90, **args: Any) -> Any:
        order_id, self.next_id = self.next_id, self.next_id + 1
        self.proc.stdin.write(json.dumps({"id": order_id, "do": do, "args": args},
                                         ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return self._answer(order_id, timeout)

    def tail(self, chars: int = 4000) -> str:
        self._logf.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"id": 0, "do": "stop"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        self._logf.close()


class RealClients:
    """The Kivy kiosk, the Kivy tablets of counters 1-3, a phone and a console in Chromium."""

    TABLETS = (1, 2, 3)

    def __init__(self, live: Any, tmp: Path) -> None:
        self.live, self.url, self.tmp = live, live.url, tmp
        self.apps: dict[str, RemoteApp] = {}
        self.shots: dict[str, str] = {}
        self.phones: dict[str, Any] = {}
        self.console_page: Any = None
        self._pw = self._browser = None

    def start(self) -> None:
        """Every app starts at once (their start-up overlaps); then Chromium."""
        folder = self.tmp / "clients"
        self.apps["kiosk"] = RemoteApp("kiosk", "kiosk", KIOSK_SIZE, folder, [
            "--server", self.url, "--token", self.live.token("kiosk"), "--windowed",
            "--size", KIOSK_SIZE, "--preview-dir", str(folder / "printed"),
            "--data-dir", str(folder / "kiosk-data"),
            # one touch per ticket: the priority question has its own tests
            "--priority-step", "off",
            # an admin's change reaches the kiosk by its periodic check (30 s by default)
            "--refresh-seconds", "1"])
        for n in self.TABLETS:
            self.apps[f"tablet{n}"] = RemoteApp("tablet", f"tablet{n}", TABLET_SIZE, folder, [
                "--server", self.url, "--token", self.live.token(f"rating{n}"),
                "--counter", str(n), "--size", TABLET_SIZE, "--windowed",
                "--data-dir", str(folder / f"tablet{n}-data")])
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=CHROMIUM_ARGS)
        self.phone_ctx = self._browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
            has_touch=True, locale="vi-VN")
        self.console_ctx = self._browser.new_context(viewport={"width": 1366, "height": 850},
                                                     locale="vi-VN")
        for app in self.apps.values():
            app.ready()

    def close(self) -> None:
        for app in self.apps.values():
            app.close()
        if self._browser is not None:
            self._browser.close()
        if self._pw is not None:
            self._pw.stop()

    def _ask(self, app: str, do: str, shot: str = "", until: str = "", **args: Any) -> Any:
        """An order to ``app``; with ``shot``, the screenshots it takes on the way are
        kept as ``<app>_<shot>_<what>``, until the one named ``until`` (else any) is."""
        kept = [k for k in self.shots if k.startswith(f"{app}_{shot}_")]
        taken = shot and (f"{app}_{shot}_{until}" in kept if until else bool(kept))
        answer = self.apps[app].ask(do, shot="" if taken else shot, **args)
        if isinstance(answer, dict):
            for key, path in (answer.pop("shots", None) or {}).items():
                self.shots[f"{app}_{shot}_{key}"] = path
        return answer

    # kiosk
    def issue(self, code: str) -> dict[str, Any]:
        return self._ask("kiosk", "issue", shot="ticket", code=code)

    def kiosk_offers(self, code: str, sent: bool, button: bool) -> None:
        self.apps["kiosk"].ask("wait_offered", code=code, sent=sent, button=button)

    def lobby_find(self, number: str, check: str) -> dict[str, Any]:
        return self._ask("kiosk", "lobby_find", shot="lobby", until="faces", number=number,
                         check=check)

    def lobby_back(self) -> None:
        self.apps["kiosk"].ask("lobby_back")

    def lobby_rate(self, level: int, reasons: tuple[str, ...] = ()) -> None:
        out = self.apps["kiosk"].ask("lobby_rate", level=level, reasons=list(reasons))
        assert out["refused"] == [], out

    # counter tablets
    def tablet_press_early(self, counter: int, ticket: dict[str, Any], officer: str) -> None:
        seen = self._ask(f"tablet{counter}", "press_early", shot="serving",
                         number=ticket["display_number"], officer=officer)
        assert seen["faces"] == 0 and seen["screen"] == "idle", seen
        assert seen["after"] == {"screen": "idle", "flow": False, "queued": 0}, seen

    def tablet_offers(self, counter: int, ticket: dict[str, Any], officer: str) -> None:
        self.apps[f"tablet{counter}"].ask("offered", code=ticket["code"], officer=officer)

    def tablet_rate(self, counter: int, ticket: dict[str, Any], level: int, officer: str,
                    reasons: tuple[str, ...] = ()) -> None:
        out = self._ask(f"tablet{counter}", "rate", shot="faces", code=ticket["code"],
                        level=level, officer=officer, reasons=list(reasons))
        assert out["error"] is None and out["response"]["misuse"] is False, out

    def tablet_idle(self, counter: int) -> None:
        look = self.apps[f"tablet{counter}"].ask("look")
        assert look["screen"] == "idle" and look["faces"] == 0, look

    # the citizen's phone (Chromium, phone-sized)
    def phone_open(self, code: str) -> Any:
        if code not in self.phones:
            page = self.phone_ctx.new_page()
            assert page.goto(f"{self.url}/t/{code}").status == 200
            self.phones[code] = page
        return self.phones[code]

    def phone_shows(self, code: str, status: str, counter: int | None = None) -> None:
        """The open page follows the ticket by itself (no reload)."""
        from playwright.sync_api import expect

        page = self.phone_open(code)
        expect(page.locator(f"[data-show={status}]")).to_be_visible(timeout=WAIT_MS)
        for other in page.locator("[data-show]").all():
            if other.get_attribute("data-show") != status:
                expect(other).to_be_hidden()
        if counter is not None:
            expect(page.locator(f"[data-show={status}] .cnum")).to_have_text(str(counter))
        name = f"phone_{status}"
        if name not in self.shots:
            self.shots[name] = str(artifact_path("office_day", name + ".png"))
            page.screenshot(path=self.shots[name], full_page=True)

    def phone_rate(self, code: str, level: int) -> str:
        """The rating form on the page; a ticket rated meanwhile elsewhere is refused
        in plain Vietnamese."""
        from playwright.sync_api import expect

        page = self.phone_open(code)
        expect(page.locator("#rate")).to_be_visible(timeout=WAIT_MS)
        page.click(f"#lv-{level}")
        page.click("#send")
        expect(page.locator("#thanks")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#rate")).to_be_hidden()
        msg = page.locator("#msg")
        outcome = "already_rated" if msg.is_visible() else "rated"
        if outcome == "already_rated":
            assert "đã được đánh giá rồi" in msg.inner_text(), msg.inner_text()
        name = f"phone_{outcome}"
        if name not in self.shots:
            self.shots[name] = str(artifact_path("office_day", name + ".png"))
            page.screenshot(path=self.shots[name], full_page=True)
        page.close()
        del self.phones[code]
        return outcome

    # one officer's web console (Chromium)
    def console_sign_in(self, username: str, counter: int) -> None:
        from playwright.sync_api import expect

        page = self.console_page = self.console_ctx.new_page()
        page.goto(self.url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", self.live.creds["users"][username]["password"])
        page.select_option("select[name=counter_id]", str(self.live.creds["counters"][str(counter)]))
        page.click("button[type=submit]")
        page.wait_for_url("**/console")
        expect(page.locator("#live")).to_have_text("Trực tiếp", timeout=WAIT_MS)

    def console_call_next(self, code: str) -> dict[str, Any]:
        from playwright.sync_api import expect

        page = self.console_page
        expect(page.locator("#btn-call-next")).to_be_enabled(timeout=WAIT_MS)
        with page.expect_response(lambda r: r.url.endswith("/call-next")) as answer:
            page.click("#btn-call-next")
        called = answer.value.json()
        assert answer.value.status == 200 and "status_path" not in called and "code" not in called
        expect(page.locator("#ticket-number")).to_have_text(called["display_number"],
                                                            timeout=WAIT_MS)
        assert code not in page.content()
        self.shots["console_called"] = str(artifact_path("office_day", "console_called.png"))
        page.screenshot(path=self.shots["console_called"], full_page=True)
        return called

    def console_complete(self, ticket: dict[str, Any]) -> None:
        from playwright.sync_api import expect

        page = self.console_page
        page.click("#btn-complete")
        expect(page.locator("#message")).to_have_text(
            f"Đã hoàn thành vé {ticket['display_number']}.", timeout=WAIT_MS)
        expect(page.locator("#ticket-number")).to_have_text("—", timeout=WAIT_MS)

    def console_sign_out(self) -> None:
        page = self.console_page
        page.click("form.who button[type=submit]")
        page.wait_for_url("**/login**")
        page.close()


# ---------------------------------------------------------------------- helpers
def _csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:400]
    return found[1]


__all__ = ["FOUND", "NOT_FOUND", "NOT_SERVED", "RATED", "HttpClients", "RealClients"]
