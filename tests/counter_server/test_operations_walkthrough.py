"""docs/operations.md, section 2, run line by line on a fresh instance folder.

Every line of the walkthrough block is handled here, in order, and an
unknown line fails the test, so the documentation cannot drift from what
works.  ``motcua`` lines run as real processes (in a fresh folder, with the
default ``./instance``); ``serve`` runs in the background on a free port; the
kiosk, display and tablet lines are parsed by the apps' own parsers and then
do over HTTP what those apps do (issue a ticket, read the display, rate); the
browser lines sign in and post the same forms and API calls a browser does.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from counter_server.defaults import ALWAYS_OPEN
from tests.conftest import ROOT, bearer, free_port

pytestmark = pytest.mark.slow  # a whole office, end to end

DOC = ROOT / "docs" / "operations.md"
ADMIN_PW, STAFF_PW = "mat-khau-quan-tri", "mat-khau-can-bo"


def walkthrough() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    return [line.strip() for line in block.strip().strip("`").splitlines() if line.strip()]


class Office:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("MOTCUA_DATABASE_URL", "MOTCUA_INSTANCE", "MOTCUA_BACKUP_DIR")}
        self.env["MOTCUA_LANG"] = "vi"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}
        self.ticket: dict | None = None
        self.backup: str | None = None
        self.log = folder / "server-output.txt"

    def run(self, args: list[str], stdin: str = "") -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "counter_server.cli", *args], cwd=self.folder,
                           input=stdin, capture_output=True, text=True, env=self.env, timeout=180)
        assert "Traceback" not in r.stderr, r.stderr
        assert r.returncode == 0, f"motcua {shlex.join(args)}:\n{r.stdout}\n{r.stderr}"
        return r

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.folder / "instance" / "motcua.sqlite3")

    def serve(self, args: list[str]) -> None:
        args = [str(self.port) if prev == "--port" else a for prev, a in zip([""] + args, args)]
        out = open(self.log, "ab")
        self.server = subprocess.Popen([sys.executable, "-m", "counter_server.cli", *args],
                                       cwd=self.folder, env=self.env, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.server.poll() is None, self.log.read_text(errors="replace")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start: " + self.log.read_text(errors="replace"))
        assert "motcua đang chạy tại" in self.log.read_text(encoding="utf-8")

    def stop(self) -> None:
        if self.server and self.server.poll() is None:
            self.server.terminate()
            self.server.wait(20)

    def fill(self, line: str) -> str:
        """The line with this office's address, the printed tokens and the backup put in."""
        line = line.replace("http://PC:8080", self.url)
        for kind in ("kiosk", "display", "rating"):
            line = line.replace(f"<{kind} token>", self.tokens.get(kind, "?"))
        return line.replace("<backup file>", shlex.quote(self.backup or "?"))

    # ------------------------------------------------------------- browser lines
    def admin_checklist(self) -> None:
        web = requests.Session()
        login = web.get(self.url + "/login", timeout=10).text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', login)[1]
        r = web.post(self.url + "/login", data={"csrf_token": csrf, "username": "quantri",
                                                "password": ADMIN_PW}, timeout=10)
        assert r.url.endswith("/admin/setup"), r.url  # a new office opens on the checklist
        token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)[1]
        assert "Tạo các lĩnh vực mặc định" in r.text
        web.post(self.url + "/admin/setup/default-services", data={"csrf_token": token}, timeout=10)
        page = web.post(self.url + "/admin/setup/default-counters",
                        data={"csrf_token": token, "counters": "3"}, timeout=10).text
        assert "Tạo các quầy" not in page  # done
        with self.db() as con:
            assert con.execute("select count(*) from service").fetchone()[0] == 6
            assert con.execute("select count(*) from counter").fetchone()[0] == 3

    def officer_calls(self) -> None:
        with self.db() as con:
            (counter_id,) = con.execute("select id from counter where number = 1").fetchone()
        r = requests.post(self.url + "/api/v1/auth/token", json={
            "username": "canbo1", "password": STAFF_PW, "counter_id": counter_id}, timeout=10)
        r.raise_for_status()
        staff = bearer(r.json()["token"])
        called = requests.post(f"{self.url}/api/v1/counters/{counter_id}/call-next", headers=staff,
                               json={}, timeout=10)
        assert called.status_code == 200, called.text
        tid = called.json()["id"]
        for step in ("start", "complete"):
            r = requests.post(f"{self.url}/api/v1/tickets/{tid}/{step}", headers=staff, json={},
                              timeout=10)
            assert r.status_code == 200, r.text


def test_operations_walkthrough(tmp_path: Path):
    from display.app import parse_args as display_args
    from kiosk.app import parse_args as kiosk_args

    office = Office(tmp_path)
    lines = walkthrough()
    assert len(lines) >= 14
    try:
        for line in lines:
            if line.startswith("# browser:") and "/admin/" in line:
                office.admin_checklist()
                continue
            if line.startswith("# browser:") and "/login" in line and "canbo1" in line:
                office.officer_calls()
                continue
            if line.startswith("# stop the server"):
                office.stop()
                continue
            assert line.startswith(".venv/bin/motcua "), f"unknown line in the walkthrough: {line}"
            args = shlex.split(office.fill(line))[1:]
            if args[0] == "init":
                r = office.run(args, stdin=ADMIN_PW + "\n")
                assert "UBND xã Quảng Khê" in r.stdout
                with office.db() as con:  # the test runs at any hour: open 24/7
                    con.execute("update office set opening_hours = ?", (json.dumps(ALWAYS_OPEN),))
            elif args[0] == "serve":
                office.serve(args)
                if office.backup:  # after the restore: the ticket and its rating came back
                    code = office.ticket["code"]
                    status = requests.get(f"{office.url}/api/v1/tickets/{code}", timeout=10)
                    assert status.status_code == 200 and status.json()["status"] == "done"
            elif args[:2] == ["user", "add"]:
                office.run(args, stdin=STAFF_PW + "\n")
            elif args[:2] == ["device", "add"]:
                out = office.run(args).stdout
                office.tokens[args[args.index("--kind") + 1]] = out.strip().splitlines()[-1]
            elif args[0] == "kiosk" and "rating" in args:
                parsed = kiosk_args(args[1:])
                assert parsed.mode == "rating" and parsed.counter == 1
                r = requests.post(parsed.server + "/api/v1/ratings", headers=bearer(parsed.token),
                                  json={"ticket_code": office.ticket["code"], "level": 4},
                                  timeout=10)
                assert r.status_code == 201, r.text
            elif args[0] == "kiosk":
                parsed = kiosk_args(args[1:])
                services = requests.get(parsed.server + "/api/v1/services", timeout=10,
                                        headers=bearer(parsed.token)).json()["services"]
                r = requests.post(parsed.server + "/api/v1/tickets", headers=bearer(parsed.token),
                                  json={"service_id": services[0]["id"]}, timeout=10)
                assert r.status_code == 201, r.text
                office.ticket = r.json()
            elif args[0] == "display":
                parsed = display_args(args[1:])
                r = requests.get(parsed.server + "/api/v1/display", headers=bearer(parsed.token),
                                 timeout=10)
                assert r.status_code == 200, r.text
            elif args[0] == "check":
                r = office.run(args)
                assert "[LỖI]" not in r.stdout
            elif args[0] == "backup":
                out = office.run(args).stdout
                office.backup = re.search(r"(\S+\.sqlite3)", out)[1]
                with office.db() as con:  # work after the backup, which the restore undoes
                    con.execute("update office set name = 'đổi sau khi sao lưu'")
            elif args[0] == "restore":
                r = office.run(args, stdin="y\n")
                assert "pre-restore" in r.stdout
                with office.db() as con:
                    assert con.execute("select name from office").fetchone()[0] == "UBND xã Quảng Khê"
                    assert con.execute("select count(*) from rating").fetchone()[0] == 1
            else:
                raise AssertionError(f"unknown command in the walkthrough: {line}")
    finally:
        office.stop()
    assert office.backup and office.ticket
