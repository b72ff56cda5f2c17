"""Small helpers shared by the admin pages: form values, audit events, saving."""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping, TypeVar

from flask import flash, request
from sqlalchemy.orm import Session

from .. import engine as e
from .. import hours as h
from ..api import run_write
from ..console import t
from ..security import current_principal

T = TypeVar("T")


class FormError(ValueError):
    """A field the admin must correct; the message is an English msgid (+ params)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message, self.params = message, params

    def text(self) -> str:
        params = {k: t(v) if isinstance(v, str) and v.startswith("field_") else v
                  for k, v in self.params.items()}
        return t(self.message).format(**params) if params else t(self.message)


class Fields:
    """What a form sent, as text: the request's form, or a TOML row written out as
    the form would send it, so the import runs exactly the form's validators."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return "" if value is None else str(value).strip()

    def int(self, name: str, *, required: bool = True, lo: int = 0,
            hi: int = 10**9) -> int | None:
        raw = self.text(name)
        if not raw and not required:
            return None
        if not re.fullmatch(r"-?\d+", raw) or not lo <= int(raw) <= hi:
            raise FormError("“{field}” must be a whole number between {lo} and {hi}.",
                            field="field_" + name, lo=lo, hi=hi)
        return int(raw)

    def check(self, name: str) -> bool:
        return self.values.get(name) in ("on", "1", "true", "yes", True)


def form() -> Fields:
    return Fields(request.form)


def field(name: str, default: str = "") -> str:
    return form().text(name, default)


def int_field(name: str, *, required: bool = True, lo: int = 0, hi: int = 10**9) -> int | None:
    return form().int(name, required=required, lo=lo, hi=hi)


def checkbox(name: str) -> bool:
    return form().check(name)


def parse_hours(text_: str) -> dict[str, list[list[str]]] | None:
    """The hours text of a form (see :func:`counter_server.hours.parse_hours`)."""
    try:
        return h.parse_hours(text_)
    except h.HoursError as err:
        raise FormError(err.message, **err.params) from None


format_hours = h.format_hours


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
