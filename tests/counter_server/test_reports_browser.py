"""The dashboard in headless Chromium, signed in as the leader through the real login."""
from __future__ import annotations

from playwright.sync_api import sync_playwright

from tests.conftest import artifact_path

from . import reports_fixture

import pytest  # noqa: E402

pytestmark = pytest.mark.slow  # end to end (real processes, windows or a browser)

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_dashboard_in_chromium(live_server) -> None:
    reports_fixture.build(live_server.db_url, live_server.creds)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="vi-VN")
            page.goto(live_server.url + "/reports/?period=custom&from=2026-03-10&to=2026-03-10")
            # anonymous: sent to the console sign-in, then back to the report
            page.fill("input[name=username]", "lanhdao")
            page.fill("input[name=password]", live_server.creds["users"]["lanhdao"]["password"])
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("#f-issued")
            assert "/reports/" in page.url
            assert page.inner_text("#f-issued") == "7"
            assert page.inner_text("#f-coverage") == "80,0 %"
            assert page.locator("svg").count() >= 5
            assert "Chờ lâu quá" in page.inner_text("#low-ratings")
            page.screenshot(path=str(artifact_path("reports", "dashboard.png")), full_page=True)
            # the officer page from the table link
            page.click("#by-staff a:text('Trần Văn Minh')")
            page.wait_for_selector("#f-issued")
            assert page.inner_text("#f-issued") == "3"
            page.screenshot(path=str(artifact_path("reports", "officer.png")), full_page=True)
            # the period picker: a named period posts back with the filters kept
            page.check("input[name=period][value=today]")
            page.click("form.rp-filters button[type=submit]")
            page.wait_for_selector("#f-issued")
            assert "period=today" in page.url
            assert page.is_checked("input[name=period][value=today]")
            # typing dates, without ticking "Tùy chọn", reports those dates
            page.fill("input[name=from]", "2026-03-10")
            page.fill("input[name=to]", "2026-03-10")
            assert page.is_checked("input[name=period][value=custom]")
            page.click("form.rp-filters button[type=submit]")
            page.wait_for_selector("#f-issued")
            assert page.inner_text("#f-issued") == "3"  # still the officer's page
            # reversed dates: a Vietnamese message, the form as typed
            page.fill("input[name=from]", "2026-03-12")
            page.click("form.rp-filters button[type=submit]")
            page.wait_for_selector("#period-error")
            assert "Ngày bắt đầu sau ngày kết thúc" in page.inner_text("#period-error")
            assert page.input_value("input[name=from]") == "2026-03-12"
            page.screenshot(path=str(artifact_path("reports", "period-error.png")), full_page=True)
        finally:
            browser.close()
