"""``motcua demo`` as someone runs it in a terminal: it prints every device
token, opens the kiosk and display windows, and Ctrl+C (SIGINT to the
terminal's whole process group) stops every process without a traceback."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT")]

# The shell that starts a background job ignores SIGINT for it; a terminal does not.
AS_IN_A_TERMINAL = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                    "os.execv(sys.executable, [sys.executable, '-m', 'counter_server.cli', *sys.argv[1:]])")


def descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.add(c)
            todo.append(c)
    return found


def test_demo_prints_tokens_and_stops_quietly_on_ctrl_c(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MOTCUA_DATABASE_URL", "MOTCUA_INSTANCE")}
    env.update({"SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy", "MOTCUA_LANG": "vi",
                "KIVY_HOME": str(tmp_path / "kivy-home")})
    log = tmp_path / "demo-output.txt"
    with open(log, "w") as out:
        demo = subprocess.Popen([sys.executable, "-c", AS_IN_A_TERMINAL, "demo", "--port", str(port)],
                                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ctrl+C" not in log.read_text(encoding="utf-8"):
            assert demo.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        creds = json.loads((tmp_path / "instance" / "demo" / "demo-credentials.json").read_text(
            encoding="utf-8"))
        printed = log.read_text(encoding="utf-8")
        for device in creds["devices"].values():  # every token, not only the display's
            assert device["token"] in printed
        # both windows opened and reached the server (it records when a device was last seen)
        db_file = tmp_path / "instance" / "demo" / "motcua.sqlite3"
        deadline = time.monotonic() + 180
        while True:
            with sqlite3.connect(db_file) as con:
                seen = {k for (k,) in con.execute("select kind from device where last_seen is not null")}
            if {"kiosk", "display"} <= seen:
                break
            assert demo.poll() is None and time.monotonic() < deadline, (seen, log.read_text())
            time.sleep(0.5)
        screens = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                   for pid in descendants(demo.pid) if Path(f"/proc/{pid}/cmdline").exists()]
        assert sum(1 for argv in screens if b"--windowed" in argv) == 2  # windows, not full screen
        children = descendants(demo.pid)
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl+C in the terminal
        assert demo.wait(60) == 0
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in children):
            assert time.monotonic() < deadline, "a demo process is still running"
            time.sleep(0.2)
        output = log.read_text(encoding="utf-8")
        assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
        assert "Đang dừng bản trình diễn" in output
    finally:
        for pid in descendants(demo.pid) if demo.poll() is None else ():
            os.kill(pid, signal.SIGKILL)
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
