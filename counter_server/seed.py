"""Demo data: a commune office as described in DOMAIN.md.

Passwords and device tokens are random, returned once for printing; none is
stored in clear and none exists by default.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import models as m
from .procedure_rows import load_demo as load_demo_procedures
from .defaults import ALWAYS_OPEN, DEFAULT_HOURS, DEMO_COUNTERS, DEMO_SERVICES, DEMO_STAFF
from .security import hash_password, hash_token, new_token


def new_password() -> str:
    return new_token(9)  # typed after a prompt or pasted on a command line: no leading dash


def add_user(s: Session, office_id: int, username: str, role: str, password: str,
             full_name: str = "") -> m.User:
    if role not in m.ROLES:
        raise ValueError(role)
    u = m.User(office_id=office_id, username=username, role=role, full_name=full_name or username,
               password_hash=hash_password(password))
    s.add(u)
    s.flush()
    return u


def add_device(s: Session, office_id: int, name: str, kind: str,
               counter_id: int | None = None) -> tuple[m.Device, str]:
    if kind not in m.DEVICE_KINDS:
        raise ValueError(kind)
    token = new_token()
    d = m.Device(office_id=office_id, name=name, kind=kind, token_hash=hash_token(token),
                 counter_id=counter_id)
    s.add(d)
    s.flush()
    return d, token


def seed_demo(s: Session, *, always_open: bool = False,
              office_name: str = "UBND xã Quảng Khê") -> dict[str, Any]:
    """Create the demo office; returns the credentials to show once."""
    if s.scalar(select(m.Office.id).where(m.Office.name == office_name)) is not None:
        raise ValueError("demo office exists")
    office = m.Office(
        name=office_name,
        address="Trung tâm Phục vụ hành chính công xã Quảng Khê, tỉnh Lâm Đồng",
        timezone="Asia/Ho_Chi_Minh",
        opening_hours=ALWAYS_OPEN if always_open else DEFAULT_HOURS,
        settings={"enforce_hours": not always_open,
                  "notice": "Trung tâm Phục vụ hành chính công xã Quảng Khê kính chào "
                            "quý ông/bà. Vui lòng lấy số thứ tự và chờ đến lượt."},
    )
    s.add(office)
    s.flush()
    services = {}
    for order, (code, name, icon, start) in enumerate(DEMO_SERVICES):
        svc = m.Service(office_id=office.id, code=code, name=name, icon=icon,
                        number_start=start, number_end=start + 998, sort_order=order)
        s.add(svc)
        services[code] = svc
    s.flush()
    load_demo_procedures(s, office.id)
    creds: dict[str, Any] = {"office_id": office.id, "users": {}, "devices": {}, "counters": {}}
    for num, (cname, codes) in DEMO_COUNTERS.items():
        c = m.Counter(office_id=office.id, number=num, name=cname, state="closed")
        c.services = [m.CounterService(service_id=services[code].id, weight=1) for code in codes]
        s.add(c)
        s.flush()
        creds["counters"][num] = c.id
        username, full = DEMO_STAFF[num]
        pw = new_password()
        u = add_user(s, office.id, username, "staff", pw, full)
        creds["users"][username] = {"password": pw, "role": "staff", "id": u.id, "counter": num}
    for username, role, full in (("lanhdao", "leader", "Hoàng Văn Lợi"),
                                 ("quantri", "admin", "Quản trị hệ thống")):
        pw = new_password()
        u = add_user(s, office.id, username, role, pw, full)
        creds["users"][username] = {"password": pw, "role": role, "id": u.id}
    for name, kind, counter_num in [("Kiosk sảnh", "kiosk", None), ("Màn hình sảnh", "display", None)] + [
            (f"Máy đánh giá quầy {n}", "rating", n) for n in DEMO_COUNTERS]:
        d, token = add_device(s, office.id, name, kind,
                              creds["counters"][counter_num] if counter_num else None)
        key = kind if counter_num is None else f"rating{counter_num}"
        creds["devices"][key] = {"token": token, "id": d.id, "name": name}
    creds["services"] = {code: svc.id for code, svc in services.items()}
    return creds
