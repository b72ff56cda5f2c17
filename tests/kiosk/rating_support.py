"""Helpers shared by the rating tests: staff actions over HTTP, the server's rows.

The staff side is driven exactly as the web console does it (bearer token,
call-next, complete); stored ratings are read straight from the live
server's SQLite file, the one truth the reports use.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).absolute().parents[2]


def api(live: Any, method: str, path: str, token: str, **kw: Any) -> requests.Response:
    return requests.request(method, live.url + "/api/v1" + path,
                            headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw)


def issue(live: Any, service: str = "HT") -> dict[str, Any]:
    r = api(live, "POST", "/tickets", live.token("kiosk"),
            json={"service_id": live.creds["services"][service]})
    assert r.status_code == 201, r.text
    return r.json()


def call_and_complete(live: Any, counter: int, staff_token: str | None = None) -> dict[str, Any]:
    """The officer at ``counter`` calls the next ticket and completes it."""
    token = staff_token or live.staff_token(counter)
    cid = live.creds["counters"][str(counter)]
    r = api(live, "POST", f"/counters/{cid}/call-next", token)
    assert r.status_code == 200, r.text
    t = r.json()
    r = api(live, "POST", f"/tickets/{t['id']}/complete", token)
    assert r.status_code == 200, r.text
    return r.json()


def ratings_rows(live: Any) -> list[dict[str, Any]]:
    path = live.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT r.*, t.code AS ticket_code, t.display_number "
                            "FROM rating r LEFT JOIN ticket t ON t.id = r.ticket_id "
                            "ORDER BY r.id").fetchall()
    return [dict(r) for r in rows]


def kivy_env(tmp: Path, size: str) -> dict[str, str]:
    (tmp / "kivy_home").mkdir(parents=True, exist_ok=True)
    w, h = size.split("x")
    return {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
            "KIVY_HOME": str(tmp / "kivy_home"), "SDL_AUDIODRIVER": "dummy",
            "KIVY_WINDOW_WIDTH": w, "KIVY_WINDOW_HEIGHT": h,
            "MOTCUA_LANG": "vi", "PYTHONPATH": str(ROOT)}


def run_driver(script: str, args: list[str], tmp: Path, size: str,
               timeout: float = 180) -> dict[str, Any]:
    """Run one Kivy scenario in its own process; returns the JSON it wrote."""
    out = tmp / f"result-{Path(script).stem}-{size}.json"
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "kiosk" / script), *args,
                           "--result", str(out), "--size", size],
                          env=kivy_env(tmp, size), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0 and out.exists(), (
        f"driver failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return json.loads(out.read_text(encoding="utf-8"))
