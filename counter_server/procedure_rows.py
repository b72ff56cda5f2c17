"""Procedure rows: the one set of rules for the admin form, a spreadsheet row and the
demo data, and the spreadsheet columns (xlsx and CSV, the form provinces publish).

A row is a mapping of column keys to what a cell or a form field holds
(text, or the numbers and dates openpyxl reads).  :func:`check_row` returns
clean values or raises :class:`RowError` with an English msgid that the
catalogs translate; :func:`import_rows` stores every good row of a file in
the caller's transaction and reports each bad one with its row number.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import models as m
from .procedures import search_key
from .search_text import fold

#: (key, the header written on export); headers are matched without diacritics or case,
#: and the English key is accepted too.
COLUMNS = (
    ("service_code", "Mã lĩnh vực"),
    ("code", "Mã thủ tục"),
    ("name", "Tên thủ tục"),
    ("papers", "Giấy tờ cần mang"),
    ("fee", "Lệ phí (đồng)"),
    ("fee_note", "Ghi chú lệ phí"),
    ("time_limit", "Thời hạn giải quyết"),
    ("result_place", "Nơi trả kết quả"),
    ("legal_basis", "Căn cứ pháp lý"),
    ("checked_on", "Ngày kiểm tra"),
    ("sample", "Dữ liệu mẫu"),
)
_HEADER_KEYS = {fold(label): key for key, label in COLUMNS} | {fold(k): k for k, _l in COLUMNS}
#: How a paper is brought (original, copy, either) and what a papers cell says for each
#: (the first is written on export).
KIND_WORDS = {"original": ("bản chính", "chính", "original"),
              "copy": ("bản sao", "sao", "copy"),
              "either": ("bản chính hoặc bản sao", "xuất trình", "either")}
_KIND_OF = {fold(w): kind for kind, words in KIND_WORDS.items() for w in words}
_FREE = {fold(w) for w in ("miễn phí", "miễn lệ phí", "không thu", "không", "free", "0")}
_YES = {fold(w) for w in ("có", "x", "1", "yes", "true", "on", "mẫu")}
_NO = {fold(w) for w in ("", "không", "0", "no", "false", "off")}
_AMOUNT = re.compile(r"^\d{1,3}([.,\s]\d{3})+$|^\d+$")
MAX_ROWS = 5000
MAX_PAPERS = 30


class RowError(ValueError):
    """Why a row is refused: an English msgid (translated where it is shown) + params."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message, self.params = message, params


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_fee(value: Any) -> int:
    """A fee in VND: a whole number ("8.000", "8,000 đồng", 8000) or free ("Miễn phí", 0)."""
    if isinstance(value, bool):
        raise RowError("The fee “{fee}” is not a number of đồng or “miễn phí”.", fee=value)
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise RowError("The fee “{fee}” is not a number of đồng or “miễn phí”.", fee=value)
        amount = int(value)
    else:
        raw = str(value or "").strip()
        folded = fold(raw)
        if folded in _FREE:
            return 0
        number = re.sub(r"\s*(đồng|đ|vnđ|vnd)\.?$", "", raw, flags=re.IGNORECASE).strip()
        if not _AMOUNT.match(number):
            raise RowError("The fee “{fee}” is not a number of đồng or “miễn phí”.", fee=raw)
        amount = int(re.sub(r"\D", "", number))
    if not 0 <= amount <= 1_000_000_000:
        raise RowError("The fee “{fee}” is not a number of đồng or “miễn phí”.", fee=value)
    return amount


def parse_papers(text: str) -> list[dict[str, Any]]:
    """One paper a line: “name | copies | bản chính/bản sao/bản chính hoặc bản sao”
    (copies and kind may be left out: 1, bản chính)."""
    out = []
    for line in filter(None, (x.strip() for x in text.splitlines())):
        parts = [x.strip() for x in line.split("|")]
        if len(parts) > 3 or not parts[0]:
            raise RowError("Each paper is “name | copies | bản chính or bản sao” (got “{line}”).",
                           line=line)
        copies = parts[1] if len(parts) > 1 and parts[1] else "1"
        if not copies.isdigit() or not 1 <= int(copies) <= 20:
            raise RowError("The number of copies of “{paper}” must be 1 to 20.", paper=parts[0])
        kind = _KIND_OF.get(fold(parts[2]) if len(parts) > 2 else fold("bản chính"))
        if kind is None:
            raise RowError("“{kind}” is not bản chính, bản sao or bản chính hoặc bản sao.",
                           kind=parts[2])
        out.append({"name": parts[0][:300], "copies": int(copies), "kind": kind})
    if len(out) > MAX_PAPERS:
        raise RowError("A procedure lists at most {n} papers.", n=MAX_PAPERS)
    return out


def papers_text(papers: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(f"{p['name']} | {p.get('copies', 1)} | {KIND_WORDS[p.get('kind', 'original')][0]}"
                     for p in papers)


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = str(value or "").strip()
    if not raw:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    raise RowError("The date checked “{date}” must look like 31/12/2025.", date=raw)


def parse_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    folded = fold(_text({"v": value}, "v"))
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise RowError("“Sample data” must be “có” or “không” (got “{value}”).", value=value)


def check_row(row: Mapping[str, Any], services: Mapping[str, m.Service]) -> dict[str, Any]:
    """Clean values of one procedure, or RowError. ``services``: the office's, by code."""
    name = _text(row, "name")
    if not name:
        raise RowError("The procedure's name is missing.")
    if len(name) > 300:
        raise RowError("The procedure's name is longer than 300 characters.")
    code = _text(row, "service_code").upper()
    service = services.get(code)
    if service is None:
        raise RowError("Unknown service code “{code}”.", code=code)
    papers = parse_papers(_text(row, "papers"))
    values = {"service_id": service.id, "name": name, "code": _text(row, "code")[:40],
              "papers": papers, "fee_vnd": parse_fee(row.get("fee")),
              "fee_note": _text(row, "fee_note")[:300],
              "time_limit": _text(row, "time_limit")[:200],
              "result_place": _text(row, "result_place")[:300],
              "legal_basis": _text(row, "legal_basis")[:5000],
              "checked_on": parse_date(row.get("checked_on")),
              "sample": parse_flag(row.get("sample"))}
    values["search_key"] = search_key(name, values["code"], papers)
    return values


def services_by_code(s: Session, office_id: int) -> dict[str, m.Service]:
    return {sv.code: sv for sv in s.scalars(select(m.Service).where(
        m.Service.office_id == office_id))}


def store(s: Session, office_id: int, values: Mapping[str, Any],
          proc: m.Procedure | None = None) -> tuple[m.Procedure, bool]:
    """Write checked values: onto ``proc``, else onto the office's procedure of that service
    with that name, else a new one at the end of its service.  Returns (row, created)."""
    if proc is None:
        proc = s.scalar(select(m.Procedure).where(
            m.Procedure.office_id == office_id, m.Procedure.service_id == values["service_id"],
            m.Procedure.name == values["name"]))
    created = proc is None
    if created:
        last = s.scalars(select(m.Procedure.sort_order).where(
            m.Procedure.office_id == office_id,
            m.Procedure.service_id == values["service_id"]).order_by(
            m.Procedure.sort_order.desc()).limit(1)).first()
        proc = m.Procedure(office_id=office_id, sort_order=(last or 0) + 1)
        s.add(proc)
    for key, value in values.items():
        setattr(proc, key, value)
    s.flush()
    return proc, created


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    #: (row number as the spreadsheet shows it, the procedure's name, RowError)
    refused: list[tuple[int, str, RowError]] = field(default_factory=list)


def import_rows(s: Session, office_id: int,
                rows: Iterable[tuple[int, Mapping[str, Any]]]) -> ImportReport:
    """Check every row first, then store the good ones (the caller's one transaction)."""
    services = services_by_code(s, office_id)
    report, good, seen = ImportReport(), [], {}
    for number, row in rows:
        try:
            values = check_row(row, services)
            key = (values["service_id"], values["name"])
            if key in seen:
                raise RowError("The same procedure is already on row {row}.", row=seen[key])
            seen[key] = number
            good.append(values)
        except RowError as err:
            report.refused.append((number, _text(row, "name"), err))
    for values in good:
        _proc, created = store(s, office_id, values)
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report


# ---------------------------------------------------------------------- spreadsheets
def _rows_from_table(table: Iterable[Iterable[Any]]) -> list[tuple[int, dict[str, Any]]]:
    """The header row names the columns; each later non-empty row becomes a mapping."""
    out: list[tuple[int, dict[str, Any]]] = []
    keys: list[str | None] | None = None
    for number, cells in enumerate(table, start=1):
        cells = list(cells)[:40]
        if keys is None:
            if not any(c not in (None, "") for c in cells):
                continue
            keys = [_HEADER_KEYS.get(fold(str(c or ""))) for c in cells]
            if "name" not in keys or "service_code" not in keys:
                raise RowError("The first row must name the columns, with at least "
                               "“Mã lĩnh vực” and “Tên thủ tục”.")
            continue
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue
        if len(out) >= MAX_ROWS:
            raise RowError("The file has more than {n} rows.", n=MAX_ROWS)
        out.append((number, {k: c for k, c in zip(keys, cells) if k}))
    if keys is None:
        raise RowError("The file is empty.")
    return out


def read_sheet(data: bytes, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows of an .xlsx (first sheet) or .csv file (UTF-8, or Windows-1258 as Excel saves)."""
    if filename.lower().endswith(".xlsx"):
        import openpyxl
        from zipfile import BadZipFile

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (BadZipFile, KeyError, ValueError, OSError, TypeError) as err:
            raise RowError("The file is not a readable .xlsx spreadsheet ({error}).",
                           error=type(err).__name__) from None
        try:
            return _rows_from_table(wb.worksheets[0].iter_rows(values_only=True))
        finally:
            wb.close()
    if filename.lower().endswith(".csv"):
        for encoding in ("utf-8-sig", "cp1258"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - cp1258 decodes almost anything
            raise RowError("The CSV file is not UTF-8 text.")
        if "\x00" in text:
            raise RowError("The CSV file is not UTF-8 text.")
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        try:
            return _rows_from_table(csv.reader(io.StringIO(text, newline=""), dialect))
        except csv.Error as err:
            raise RowError("The CSV file cannot be read: {error}", error=str(err)) from None
    raise RowError("Choose an .xlsx or .csv file.")


def export_table(s: Session, office_id: int) -> list[list[Any]]:
    """The header row and one row per procedure, in the import's own format."""
    codes = {sv.id: sv.code for sv in services_by_code(s, office_id).values()}
    out: list[list[Any]] = [[label for _k, label in COLUMNS]]
    for p in s.scalars(select(m.Procedure).where(m.Procedure.office_id == office_id)
                       .order_by(m.Procedure.service_id, m.Procedure.sort_order, m.Procedure.id)):
        out.append([codes.get(p.service_id, ""), p.code, p.name, papers_text(p.papers or []),
                    "Miễn phí" if p.fee_vnd == 0 else p.fee_vnd, p.fee_note, p.time_limit,
                    p.result_place, p.legal_basis,
                    p.checked_on.strftime("%d/%m/%Y") if p.checked_on else "",
                    "có" if p.sample else "không"])
    return out


def table_csv(table: list[list[Any]]) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(table)
    return buf.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def table_xlsx(table: list[list[Any]]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    ws = wb.add_worksheet("Thủ tục")
    head, wrap = wb.add_format({"bold": True, "bg_color": "#e8eef5"}), wb.add_format(
        {"text_wrap": True, "valign": "top"})
    for c, width in enumerate((10, 12, 40, 60, 12, 30, 24, 30, 50, 12, 10)):
        ws.set_column(c, c, width, wrap)
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            ws.write(r, c, value, head if r == 0 else wrap)
    ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()


DEMO_FILE = Path(__file__).resolve().parent / "demo_procedures.toml"


def load_demo(s: Session, office_id: int) -> ImportReport:
    """The demo office's sample procedures, through the import's own rules."""
    data = tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))
    rows = [(i, {**row, "sample": True}) for i, row in enumerate(data["procedure"], start=1)]
    report = import_rows(s, office_id, rows)
    if report.refused:
        raise ValueError(f"demo procedures refused: {report.refused}")
    return report
