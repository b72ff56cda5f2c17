"""The procedure guide: what each procedure is, how it reads, and how it is found.

Rows are checked by counter_server/procedure_rows.py (form, spreadsheet, demo); this module
only turns stored rows into what the API sends and finds them by a query
that ignores diacritics and case (search_text.fold on both sides).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import models as m
from .search_text import fold, matches, patterns, terms

def search_key(name: str, code: str, papers: list[dict[str, Any]]) -> str:
    """What a query is matched against: the name first, then the code and the papers."""
    parts = [name, code] + [p.get("name", "") for p in papers]
    return " " + fold(" ".join(parts)) + " "


def view(p: m.Procedure, service: m.Service | None = None) -> dict[str, Any]:
    """A procedure as the API sends it (the kiosk prints from this)."""
    return {"id": p.id, "service_id": p.service_id,
            "service_code": service.code if service else "",
            "service_name": service.name if service else "",
            "code": p.code, "name": p.name,
            "papers": [{"name": x.get("name", ""), "copies": int(x.get("copies", 1)),
                        "kind": x.get("kind", "original")} for x in p.papers or []],
            "fee_vnd": p.fee_vnd, "free": p.fee_vnd == 0, "fee_note": p.fee_note,
            "time_limit": p.time_limit, "result_place": p.result_place,
            "legal_basis": p.legal_basis,
            "checked_on": p.checked_on.isoformat() if p.checked_on else None,
            "sample": p.sample}


def find(s: Session, office_id: int, query: str = "", service_id: int | None = None,
         *, active_services_only: bool = True) -> list[dict[str, Any]]:
    """The office's procedures, in service then procedure order; ``query`` words must be
    words of the name, code or papers (search_text.patterns: no diacritics, no case, the
    last word may be unfinished); procedures whose name matches come first."""
    stmt = (select(m.Procedure, m.Service).join(m.Service, m.Service.id == m.Procedure.service_id)
            .where(m.Procedure.office_id == office_id))
    if active_services_only:
        stmt = stmt.where(m.Service.active.is_(True))
    if service_id is not None:
        stmt = stmt.where(m.Procedure.service_id == service_id)
    words = terms(query)
    for pattern in patterns(words):  # folded words are [0-9a-z] only: nothing to escape
        stmt = stmt.where(m.Procedure.search_key.like(f"%{pattern}%"))
    stmt = stmt.order_by(m.Service.sort_order, m.Service.id, m.Procedure.sort_order,
                         m.Procedure.id)
    rows = [view(p, svc) for p, svc in s.execute(stmt)]
    if words:
        rows.sort(key=lambda r: not matches(fold(r["name"]), words))
    return rows
