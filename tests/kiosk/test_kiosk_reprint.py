"""Reprint end to end: an officer asks, the real lobby kiosk (``motcua kiosk``
in its own headless process) receives ``ticket.reprint`` on its event stream,
fetches the ticket and prints it on a port-9100 printer; the ESC/POS bytes
are decoded back and the printed QR opens that ticket's phone page."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from counter_server import models as m
from tests.conftest import LiveServer, artifact_path
from tests.counter_server.office_support import ApiOfficer, issue
from tests.kiosk.escpos_decoder import decode
from tests.kiosk.printing_support import FakeNetworkPrinter, qr_texts, vietnamese  # noqa: F401

pytestmark = pytest.mark.slow  # real processes and a Kivy window


def device_status(server: LiveServer, name: str) -> str:
    engine = create_engine(server.db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(m.Device.status).where(m.Device.name == name)).scalar()
    finally:
        engine.dispose()


def printed_jobs(printer: FakeNetworkPrinter, timeout: float) -> list:
    """Jobs with a picture in them (the printer checks between jobs carry none)."""
    out, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            job = decode(printer.jobs.get(timeout=0.2))
        except queue.Empty:
            if out:
                return out
            continue
        if job.rasters:
            out.append(job)
    return out


def test_officer_reprint_prints_at_the_kiosk(live_server: LiveServer, tmp_path: Path) -> None:
    printer = FakeNetworkPrinter()
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
           "KIVY_NO_ARGS": "1", "KIVY_HOME": tempfile.mkdtemp(prefix="kivy-home-"),
           "MOTCUA_LANG": "vi"}
    log = open(tmp_path / "kiosk.log", "wb")
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--server", live_server.url,
         "--token", live_server.token("kiosk"), "--windowed", "--size", "800x600",
         "--printer", json.dumps(printer.settings()),
         "--data-dir", str(tmp_path / "data")], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        kiosk_name = live_server.creds["devices"]["kiosk"]["name"]
        deadline = time.monotonic() + 90
        while device_status(live_server, kiosk_name) != "ok":
            assert kiosk.poll() is None, (tmp_path / "kiosk.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "the kiosk never reported its printer"
            time.sleep(0.2)
        ticket = issue(live_server, "HT")  # (issued through the API: nothing printed yet)
        officer = ApiOfficer.at(live_server, "canbo1", 1)
        jobs: list = []
        deadline = time.monotonic() + 60
        while not jobs:  # the kiosk's stream may still be connecting: ask again
            assert time.monotonic() < deadline, (tmp_path / "kiosk.log").read_text(errors="replace")
            r = officer.ticket(ticket["id"], "reprint")
            assert r.status_code == 202, r.text
            assert r.json()["kiosk"] == kiosk_name
            jobs = printed_jobs(printer, 5.0)
        image = jobs[0].stitched()
        image.save(artifact_path("kiosk", "reprint.png"))
        assert jobs[0].cuts == ["full"]
        assert qr_texts(image) == [live_server.url + "/t/" + ticket["code"]]
    finally:
        kiosk.terminate()
        try:
            kiosk.wait(10)
        except subprocess.TimeoutExpired:
            kiosk.kill()
        log.close()
        printer.close()
