"""A procedure's papers printed as a checklist on the ticket printer.

Drawn like the ticket (a 1-bit picture, Vietnamese in the picture, never
through a code page) with the ticket's own column, fonts and wrapping from
:mod:`kiosk.printing`; the papers are left-aligned lines, each with a box to
tick.  No Kivy here: the printer thread draws it.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PIL import Image, ImageDraw

from kiosk.printing import _, _Column, ticket_fonts, wrap_text

#: How each kind of paper reads after its number of copies ("1 bản chính").
KIND_LABELS = {"original": "original", "copy": "copy", "either": "original or copy"}


@dataclass(frozen=True)
class ChecklistData:
    """What goes on one checklist; ``procedure`` is the API's procedure object."""

    office_name: str
    procedure: dict[str, Any]
    printed_at: datetime
    #: The office's opening hours as lines ("Thứ Hai – Thứ Sáu: 07:00–11:30, 13:30–17:00").
    hours: list[str] = field(default_factory=list)


def paper_line(paper: dict[str, Any]) -> str:
    """“Tờ khai đăng ký khai sinh: 1 bản chính”."""
    kind = _(KIND_LABELS.get(paper.get("kind", "original"), "original"))
    return f"{paper.get('name', '')}: {paper.get('copies', 1)} {kind}"


def fee_text(procedure: dict[str, Any]) -> str:
    if procedure.get("free") or not procedure.get("fee_vnd"):
        amount = _("free of charge")
    else:
        amount = _("{amount} đồng").format(amount=f"{int(procedure['fee_vnd']):,}".replace(",", "."))
    return _("Fee: {amount}").format(amount=amount)


def facts(procedure: dict[str, Any]) -> list[tuple[str, str]]:
    """The procedure's fee, time limit, result place and legal basis as (kind, line):
    the checklist and the kiosk's procedure page say them alike."""
    out = [("fee", fee_text(procedure))]
    if procedure.get("fee_note"):
        out.append(("note", procedure["fee_note"]))
    if procedure.get("time_limit"):
        out.append(("time", _("Time limit: {limit}").format(limit=procedure["time_limit"])))
    if procedure.get("result_place"):
        out.append(("place", _("Result returned at: {place}").format(
            place=procedure["result_place"])))
    if procedure.get("legal_basis"):
        out.append(("basis", _("Legal basis: {basis}").format(basis=procedure["legal_basis"])))
    return out


def no_papers_text() -> str:
    return _("No papers are listed: please ask at the counter.")


def sample_text() -> str:
    return _("Sample information: please check it with the staff")


def _paper_item(col: _Column, text: str, size: float) -> Image.Image:
    """One paper: an empty box to tick, then the text wrapped beside it."""
    font = col.font(size)
    box = round(size * 0.8)
    gap = round(size * 0.5)
    lines = wrap_text(unicodedata.normalize("NFC", text), font, col.inner - box - gap)
    _l, top, _r, bottom = font.getbbox("ỖỸẤÁgjpqy|", anchor="ls")
    line_h = bottom - top + round(size * 0.12)
    image = Image.new("1", (col.inner, len(lines) * line_h + round(size * 0.3)), 1)
    pen = ImageDraw.Draw(image)
    y_box = max(0, -top - box)  # the box stands on the first line's baseline
    pen.rectangle((0, y_box, box, y_box + box), outline=0, width=max(2, box // 10))
    for i, line in enumerate(lines):
        pen.text((box + gap, i * line_h - top), line, font=font, fill=0, anchor="ls")
    return image


def render_checklist(data: ChecklistData, width_dots: int = 576) -> Image.Image:
    """Draw the checklist as a mode "1" image exactly ``width_dots`` wide."""
    if width_dots < 256:
        raise ValueError(f"width_dots={width_dots} is too narrow for a checklist")
    s = width_dots / 576
    t = 0.5 + 0.5 * s if s < 1 else s
    proc = data.procedure
    col = _Column(width_dots, max(6, round(12 * s)), ticket_fonts())
    col.space(16 * s)
    col.text(data.office_name, 24 * t, bold=True)
    col.space(8 * s)
    col.rule(max(2, round(3 * s)))
    col.space(12 * s)
    col.text(_("PAPERS TO BRING"), 30 * t, bold=True)
    col.space(8 * s)
    col.text(proc.get("name", ""), 30 * t, bold=True)
    if proc.get("service_name"):
        col.text(_("Service: {name}").format(name=proc["service_name"]), 22 * t)
    col.space(12 * s)
    col.rule(max(1, round(2 * s)))
    col.space(12 * s)
    papers = proc.get("papers") or []
    if papers:
        for paper in papers:
            col.image(_paper_item(col, paper_line(paper), 24 * t))
            col.space(4 * s)
    else:
        col.text(no_papers_text(), 22 * t)
    col.space(8 * s)
    col.rule(max(1, round(2 * s)))
    col.space(10 * s)
    sizes = {"fee": (24, True), "note": (20, False), "basis": (18, False)}
    for kind, line in facts(proc):
        size, bold = sizes.get(kind, (22, False))
        col.space({"fee": 0, "note": 0, "basis": 6}.get(kind, 4) * s)
        col.text(line, size * t, bold=bold)
    if proc.get("sample"):
        col.space(8 * s)
        col.text(sample_text(), 20 * t, bold=True, invert=True)
    if data.hours:
        col.space(12 * s)
        col.text(_("Office hours"), 22 * t, bold=True)
        for line in data.hours:
            col.text(line, 20 * t)
    col.space(10 * s)
    col.text(_("Printed on: {when}").format(when=data.printed_at.strftime("%d/%m/%Y %H:%M")),
             20 * t)
    col.space(8 * s)
    col.text(_("Thank you!"), 26 * t, bold=True)
    col.space(24 * s)
    return col.render()


def checklist_stem(data: ChecklistData) -> str:
    """The preview file's name: the procedure's id and the time."""
    return f"checklist-{data.procedure.get('id', 0)}-{data.printed_at.strftime('%Y%m%d-%H%M%S')}"
