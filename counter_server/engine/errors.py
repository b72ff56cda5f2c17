"""The engine's one exception: a refused action, and nothing changed."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused action: ``code`` for machines, ``message`` (English msgid,
    translated at the edge) for people, ``status`` the HTTP status.  The
    caller rolls the transaction back, so a refusal never leaves a trace."""

    def __init__(self, code: str, message: str, status: int = 409, **params: Any) -> None:
        super().__init__(code)
        self.code, self.message, self.status, self.params = code, message, status, params


def not_found(what: str) -> DomainError:
    return DomainError(f"{what}_not_found", f"{what.capitalize()} not found.", 404)
