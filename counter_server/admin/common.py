"""Small helpers shared by the admin pages: form parsing, hours text, audit events."""
from __future__ import annotations

import re
from typing import Any, Callable, TypeVar

from flask import flash, request
from sqlalchemy.orm import Session

from .. import engine as e
from ..api import run_write
from ..console import t
from ..security import current_principal

T = TypeVar("T")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)$")


class FormError(ValueError):
    """A field the admin must correct; the message is an English msgid (+ params)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message, self.params = message, params

    def text(self) -> str:
        return t(self.message).format(**self.params) if self.params else t(self.message)


def field(name: str, default: str = "") -> str:
    return request.form.get(name, default).strip()


def int_field(name: str, *, required: bool = True, lo: int = 0, hi: int = 10**9) -> int | None:
    raw = field(name)
    if not raw and not required:
        return None
    if not re.fullmatch(r"-?\d+", raw) or not lo <= int(raw) <= hi:
        raise FormError("“{field}” must be a whole number between {lo} and {hi}.",
                        field=t("field_" + name), lo=lo, hi=hi)
    return int(raw)


def checkbox(name: str) -> bool:
    return request.form.get(name) in ("on", "1", "true", "yes")


def parse_hours(text_: str) -> dict[str, list[list[str]]] | None:
    """``mon: 07:00-11:30, 13:30-17:00`` per line → the stored dict (blank → None)."""
    text_ = text_.strip()
    if not text_:
        return None
    out: dict[str, list[list[str]]] = {d: [] for d in DAYS}
    for line in text_.splitlines():
        if not line.strip():
            continue
        day, _, spans = line.partition(":")
        day = day.strip().lower()
        if day not in DAYS:
            raise FormError("Unknown day “{day}” in the hours (use mon … sun).", day=day)
        for span in filter(None, (x.strip() for x in spans.split(","))):
            mt = _SPAN.match(span)
            if not mt or span.split("-")[0].strip() >= span.split("-")[1].strip():
                raise FormError("Hours must look like 07:00-11:30 (got “{span}”).", span=span)
            out[day].append([f"{mt[1]}:{mt[2]}", f"{mt[3]}:{mt[4]}"])
    return out


def format_hours(hours: dict[str, Any] | None) -> str:
    if not hours:
        return ""
    return "\n".join(f"{d}: " + ", ".join(f"{a}-{b}" for a, b in hours.get(d, []))
                     for d in DAYS)


def audit(s: Session, action: str, **payload: Any) -> None:
    """One ``admin.<action>`` event naming the admin, in the change's transaction."""
    p = current_principal()
    e.append_event(s, p.office_id, f"admin.{action}", staff_id=p.user_id,
                   payload={"admin": payload})


def save(fn: Callable[[Session], T], done: str, **params: Any) -> T | None:
    """Run a change; flash success or the Vietnamese reason it was refused."""
    try:
        out = run_write(fn)
    except FormError as err:
        flash(err.text(), "error")
        return None
    except e.DomainError as err:
        flash(t(err.message).format(**err.params) if err.params else t(err.message), "error")
        return None
    flash(t(done).format(**params) if params else t(done), "info")
    return out if out is not None else True  # type: ignore[return-value]
