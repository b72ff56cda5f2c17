"""The kiosk's search over the procedure guide it fetched (no Kivy, no network).

The kiosk fetches the office's whole list once (``GET /procedures``) and
searches it here on every key press, with the server's own rules
(counter_server.search_text): no round trip per key, and the guide keeps
working for a while if the server goes away.
"""
from __future__ import annotations

from typing import Any

from counter_server.search_text import fold, matches, terms


class ProcedureIndex:
    """The fetched procedures with their folded texts, in the server's order."""

    def __init__(self, procedures: list[dict[str, Any]]) -> None:
        self.procedures = procedures
        self._keys = [(p, fold(" ".join([p.get("name", ""), p.get("code", "")]
                                        + [x.get("name", "") for x in p.get("papers") or []])),
                       fold(p.get("name", ""))) for p in procedures]
        seen: dict[int, str] = {}
        for p in procedures:
            seen.setdefault(p["service_id"], p.get("service_name", ""))
        #: (service id, service name) of the services that have procedures, in order.
        self.services = list(seen.items())

    def search(self, query: str = "", service_id: int | None = None) -> list[dict[str, Any]]:
        """Procedures whose name, code or papers hold every word of ``query`` (the last may
        be unfinished), those matched by name first."""
        words = terms(query)
        named, others = [], []
        for proc, key, name in self._keys:
            if service_id is not None and proc["service_id"] != service_id:
                continue
            if not words:
                named.append(proc)
            elif matches(key, words):
                (named if matches(name, words) else others).append(proc)
        return named + others
