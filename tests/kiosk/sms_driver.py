"""Drive the kiosk's optional "text me when my turn is near" in a real Kivy window (its
own process), with the driver of kiosk_driver.py (real touches through the window):

    python tests/kiosk/sms_driver.py sms RESULT.json SHOTS_DIR -- <kiosk args>
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.kiosk.kiosk_driver import SCENARIOS, Driver, main  # noqa: E402


def scenario_sms(d: Driver) -> None:
    app = d.app
    pad = lambda: app.root.get_screen("sms_phone")  # noqa: E731
    d.wait(lambda: app.online and app.services_loaded and app.root.current == "home"
           and app.sms_offer.enabled, what="home with the offer")
    since = time.monotonic()
    d.tap(d.button(0))
    d.wait(lambda: app.root.current == "ticket" and app.print_state == "printed", what="ticket")
    d.past_guard("ticket", since)
    d.shot("sms-ticket")
    since = time.monotonic()
    d.tap(lambda: app.sms_offer.button)
    d.wait(lambda: app.root.current == "sms_phone", what="number pad")
    d.past_guard("sms_phone", since)

    def type_keys(keys: list[str]) -> None:
        for key in keys:
            d.tap(lambda key=key: app.sms_offer.keys[key])

    type_keys(["0", "9", "1", "ok"])
    d.wait(lambda: pad().failed, what="too short")
    d.result["short"] = d.ui(lambda: pad().message)
    type_keys(["7", "back", *"2345678", "ok"])
    d.wait(lambda: not pad().sending and pad().message.startswith("Đã"), what="stored")
    d.shot("sms-done")
    d.result["done"] = d.ui(lambda: pad().message)
    d.result["ticket"] = d.ui(lambda: app.ticket)
    d.wait(lambda: app.root.current == "home", timeout=20, what="home after the message")


SCENARIOS["sms"] = scenario_sms

if __name__ == "__main__":
    main()
