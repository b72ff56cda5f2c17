"""What the TV starts the day with: the display snapshot of GET /api/v1/display."""
from __future__ import annotations

import datetime as dt

from tests.conftest import bearer


def _called(s, office_id: int, number: str, when: dt.datetime) -> None:
    from counter_server import models as m

    s.add(m.Event(office_id=office_id, type="ticket.called", created_at=when,
                  payload={"ticket": {"display_number": number, "counter_number": 1}}))


def test_recent_calls_are_from_todays_service_day_only(app, creds, client):
    """Yesterday's last calls must not open the morning's "recently called" list (#15)."""
    from counter_server import models as m

    db = app.extensions["motcua_db"]
    now = m.utcnow()
    with db.write() as s:
        _called(s, creds["office_id"], "1099", now - dt.timedelta(days=1))
        _called(s, creds["office_id"], "1001", now)
    snap = client.get("/api/v1/display", headers=bearer(creds["devices"]["display"]["token"]))
    assert snap.status_code == 200
    numbers = [c["display_number"] for c in snap.get_json()["recent_calls"]]
    assert numbers == ["1001"]


def test_snapshot_carries_the_ticker_setting(app, creds, client):
    from counter_server import models as m

    token = bearer(creds["devices"]["display"]["token"])
    assert client.get("/api/v1/display", headers=token).get_json()["office"]["display_ticker"] is True
    with app.extensions["motcua_db"].write() as s:
        office = s.get(m.Office, creds["office_id"])
        office.settings = {**(office.settings or {}), "display_ticker": False}
    assert client.get("/api/v1/display", headers=token).get_json()["office"]["display_ticker"] is False
