"""Offices for the province benchmarks: N offices in one database, each set up
as :mod:`bench.office_day` expects an office (the demo's services, 6 counters
serving every service, an officer signed in at each, 1 kiosk, 2 displays and a
rating tablet per counter).

The rows are made with the project's own functions (``seed.add_device``,
``engine.sign_in_counter``, the ``ApiToken`` row ``POST /auth/token`` adds):
an officer is signed in here rather than over HTTP because ``/auth/token``
allows 20 sign-ins a minute from one address and checks an argon2 hash
(about half a second each on this machine, 600 for 100 offices).  For the
same reason every officer's account shares one password hash, made once.
"""
from __future__ import annotations

from typing import Any

from counter_server import engine as e
from counter_server import models as m
from counter_server.db import Database
from counter_server.defaults import ALWAYS_OPEN, DEMO_SERVICES
from counter_server.migrate import upgrade
from counter_server.security import TOKEN_TTL, hash_password, hash_token, new_token
from counter_server.seed import add_device, new_password

COUNTERS = 6
DISPLAYS = 2
#: Numbers per service: a long run issues thousands of tickets in one service.
NUMBERS_PER_SERVICE = 9999


def add_office(s: Any, k: int, password_hash: str, counters: int = COUNTERS,
               displays: int = DISPLAYS) -> dict[str, Any]:
    """Office ``k`` and the credentials its screens use, in the shape of the
    demo seed's (``counters`` by number as text, ``devices`` by key) plus a
    signed-in officer's token per counter (``staff``)."""
    office = m.Office(name=f"UBND xã Thử Nghiệm {k}", timezone="Asia/Ho_Chi_Minh",
                      opening_hours=ALWAYS_OPEN, settings={"enforce_hours": False})
    s.add(office)
    s.flush()
    services = {}
    for order, (code, name, icon, _start) in enumerate(DEMO_SERVICES):
        start = (order + 1) * 10000 + 1
        svc = m.Service(office_id=office.id, code=code, name=name, icon=icon,
                        number_start=start, number_end=start + NUMBERS_PER_SERVICE - 1,
                        sort_order=order)
        s.add(svc)
        services[code] = svc
    s.flush()
    creds: dict[str, Any] = {"office_id": office.id, "counters": {}, "devices": {},
                             "staff": {}, "services": {c: x.id for c, x in services.items()}}
    for n in range(1, counters + 1):
        c = m.Counter(office_id=office.id, number=n, name=f"Quầy {n}", state="closed")
        c.services = [m.CounterService(service_id=x.id, weight=1) for x in services.values()]
        s.add(c)
        u = m.User(office_id=office.id, username=f"canbo{k}_{n}", role="staff",
                   full_name=f"Cán bộ {n}", password_hash=password_hash)
        s.add(u)
        s.flush()
        creds["counters"][str(n)] = c.id
        e.sign_in_counter(s, c.id, u.id)
        token = new_token()
        s.add(m.ApiToken(user_id=u.id, counter_id=c.id, token_hash=hash_token(token),
                         expires_at=m.utcnow() + TOKEN_TTL))
        creds["staff"][str(n)] = token
        _d, creds["devices"][f"rating{n}"] = add_device(s, office.id, f"Máy đánh giá quầy {n}",
                                                         "rating", c.id)
    _d, creds["devices"]["kiosk"] = add_device(s, office.id, "Kiosk sảnh", "kiosk")
    for n in range(1, displays + 1):
        key = "display" if n == 1 else f"display{n}"
        _d, creds["devices"][key] = add_device(s, office.id, f"Màn hình {n}", "display")
    return creds


def seed_offices(db_url: str, offices: int, counters: int = COUNTERS) -> list[dict[str, Any]]:
    """Migrate an empty database and add ``offices`` offices; their credentials."""
    upgrade(db_url)
    shared = hash_password(new_password())
    db = Database(db_url, pool_size=1)
    try:
        out = []
        for k in range(offices):  # one transaction per office, as an admin sets one up
            with db.write() as s:
                out.append(add_office(s, k, shared, counters))
        return out
    finally:
        db.dispose()
