"""The kiosk's search over the procedure guide it fetched (no Kivy, no network).

The kiosk fetches the office's whole list once (``GET /procedures``) and
searches it here on every key press, with the server's own rules
(counter_server.search_text): no round trip per key, and the guide keeps
working for a while if the server goes away.
"""
from __future__ import annotations

from typing import Any

from counter_server.search_text import fold, patterns, terms


class ProcedureIndex:
    """The fetched procedures with their folded texts, in the server's order."""

    def __init__(self, procedures: list[dict[str, Any]]) -> None:
        self.procedures = procedures
        # Padded with spaces as search_text.patterns expects, once, not per key press.
        self._keys = [(p, " " + fold(" ".join([p.get("name", ""), p.get("code", "")]
                                              + [x.get("name", "") for x in p.get("papers") or []]))
                       + " ", " " + fold(p.get("name", "")) + " ") for p in procedures]
        seen: dict[int, str] = {}
        for p in procedures:
            seen.setdefault(p["service_id"], p.get("service_name", ""))
        #: (service id, service name) of the services that have procedures, in order.
        self.services = list(seen.items())

    def search(self, query: str = "", service_id: int | None = None) -> list[dict[str, Any]]:
        """Procedures whose name, code or papers hold every word of ``query`` (the last may
        be unfinished), those matched by name first."""
        wanted = patterns(terms(query))
        named, others = [], []
        for proc, key, name in self._keys:
            if service_id is not None and proc["service_id"] != service_id:
                continue
            if all(p in key for p in wanted):
                (named if all(p in name for p in wanted) else others).append(proc)
        return named + others
