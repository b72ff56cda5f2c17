"""Snapshots over real HTTP: an ETag, 304 while nothing shown changed, a new
tag as soon as something did (an event, the service day, opening hours)."""
from __future__ import annotations

import datetime as dt

import pytest
import requests

from counter_server import models as m
from counter_server.db import Database
from counter_server.queries import snapshot_tag
from tests.conftest import LiveServer, bearer, seed_database


def _paths(server: LiveServer) -> list[tuple[str, str]]:
    counter = server.creds["counters"]["1"]
    return [("/api/v1/services", server.token("kiosk")),
            ("/api/v1/display", server.token("display")),
            (f"/api/v1/counters/{counter}", server.token("rating1"))]


def test_snapshots_answer_304_until_something_shown_changes(live_server: LiveServer) -> None:
    http = requests.Session()
    tags = {}
    for path, token in _paths(live_server):
        r = http.get(live_server.url + path, headers=bearer(token), timeout=10)
        assert r.status_code == 200 and r.headers["ETag"].startswith('W/"')
        assert r.headers["Cache-Control"] == "no-cache"
        tags[path] = (r.headers["ETag"], r.json())
        again = http.get(live_server.url + path, timeout=10,
                         headers={**bearer(token), "If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == r.headers["ETag"]
        other = http.get(live_server.url + path, timeout=10,
                         headers={**bearer(token), "If-None-Match": 'W/"something-else"'})
        assert other.status_code == 200

    # A ticket issued: every snapshot changed.
    service = live_server.creds["services"]["HT"]
    http.post(live_server.url + "/api/v1/tickets", headers=bearer(live_server.token("kiosk")),
              json={"service_id": service}, timeout=10).raise_for_status()
    for path, token in _paths(live_server):
        old_tag, old = tags[path]
        r = http.get(live_server.url + path, timeout=10,
                     headers={**bearer(token), "If-None-Match": old_tag})
        assert r.status_code == 200 and r.headers["ETag"] != old_tag, path
        assert r.json()["last_event_id"] > old["last_event_id"]
    waiting = {sv["id"]: sv["waiting"] for sv in http.get(
        live_server.url + "/api/v1/services", headers=bearer(live_server.token("kiosk")),
        timeout=10).json()["services"]}
    assert waiting[service] == 1

    # Another office's change (none here) or a second read changes nothing: 304 again.
    r = http.get(live_server.url + "/api/v1/display", headers=bearer(live_server.token("display")),
                 timeout=10)
    again = http.get(live_server.url + "/api/v1/display", timeout=10, headers={
        **bearer(live_server.token("display")), "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_the_tag_follows_opening_hours_and_the_service_day(sqlite_url: str) -> None:
    creds = seed_database(sqlite_url)
    db = Database(sqlite_url, pool_size=1)
    try:
        with db.write() as s:
            office = s.get(m.Office, creds["office_id"])
            office.settings = {**office.settings, "enforce_hours": True}
            office.opening_hours = {d: [["07:00", "11:30"], ["13:30", "17:00"]]
                                    for d in ("mon", "tue", "wed", "thu", "fri")}

        def tag(hh: int, mm: int, day: int = 26) -> str:
            at = dt.datetime(2026, 11, day, hh, mm) - dt.timedelta(hours=7)  # local → UTC
            with db.read() as s:
                return snapshot_tag(s, creds["office_id"], "services", at)[0]

        assert tag(9, 0) == tag(11, 29)           # open all along
        assert tag(11, 29) != tag(11, 30)         # the lunch break closes the kiosk
        assert tag(11, 30) == tag(13, 29)
        assert tag(13, 29) != tag(13, 30)
        assert tag(9, 0) != tag(9, 0, day=27)     # a new service day: numbers restart
    finally:
        db.dispose()


@pytest.mark.parametrize("path", ["/api/v1/services", "/api/v1/display"])
def test_in_process_304(client, creds, path) -> None:
    token = bearer(creds["devices"]["display"]["token"])
    r = client.get(path, headers=token)
    assert r.status_code == 200
    assert client.get(path, headers={**token, "If-None-Match": r.headers["ETag"]}).status_code == 304
