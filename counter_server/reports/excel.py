"""Excel (openpyxl) and CSV exports: one workbook per period, a sheet per grouping.

Cells hold real numbers (minutes, fractions) with number formats, so the
leader's quarterly report can compute with them; headers are Vietnamese.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import ratings as rt
from .scope import Scope
from .tables import Report

SHEETS = (("staff", "Cán bộ"), ("counter", "Quầy"), ("service", "Lĩnh vực"), ("day", "Ngày"))
GROUP_HEADER = {"staff": "Cán bộ", "counter": "Quầy", "service": "Lĩnh vực", "day": "Ngày",
                "hour": "Giờ", "weekday": "Thứ"}
OFFICIAL_LABELS = {"very_satisfied": "Rất hài lòng", "satisfied": "Hài lòng",
                   "unsatisfied": "Không hài lòng"}


def columns(c: Scope) -> list[tuple[str, str, Any]]:
    """(header, number format, getter) for every exported column."""
    mins = lambda k: (lambda r: None if r[k] is None else round(r[k] / 60, 2))  # noqa: E731
    cols: list[tuple[str, str, Any]] = [
        ("Số vé phát", "#,##0", lambda r: r["issued"]),
        ("Đã phục vụ", "#,##0", lambda r: r["served"]),
        ("Vắng mặt", "#,##0", lambda r: r["no_show"]),
        ("Đã hủy", "#,##0", lambda r: r["cancelled"]),
        ("Chờ TB (phút)", "0.0", mins("avg_wait")),
        ("Chờ P90 (phút)", "0.0", mins("p90_wait")),
        ("Phục vụ TB (phút)", "0.0", mins("avg_service")),
        ("Phục vụ P90 (phút)", "0.0", mins("p90_service")),
        ("Lượt đánh giá", "#,##0", lambda r: r["rated"]),
        ("Tỷ lệ đánh giá", "0.0%", lambda r: r["coverage"]),
    ]
    for lv in c.levels:
        cols.append((lv["label"], "#,##0", lambda r, v=lv["value"]: r["levels"].get(v, 0)))
    for key, label in OFFICIAL_LABELS.items():
        cols.append((f"Tỷ lệ {label.lower()}", "0.0%", lambda r, k=key: r["official_share"][k]))
    return cols


def _title(c: Scope) -> str:
    p = c.period
    return (f"{c.office.name} — báo cáo từ {p.first:%d/%m/%Y} đến {p.last:%d/%m/%Y}"
            + (" (gồm đánh giá bị đánh dấu lạm dụng)" if c.include_misuse else ""))


def _cell(ws: Any, value: Any, fmt: str | None = None, bold: bool = False,
          fill: Any = None, wrap: bool = False) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = Font(bold=True)
    if fill is not None:
        cell.fill = fill
    if wrap:
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    return cell


def _sheet(ws: Any, c: Scope, group: str | None, rows: list[dict[str, Any]]) -> None:
    """One grouping, streamed (write-only workbook: ~3x faster for long periods)."""
    cols = columns(c)
    header = [GROUP_HEADER.get(group or "", "Toàn đơn vị")] + [h for h, _f, _g in cols]
    ws.column_dimensions["A"].width = 30
    for j in range(2, len(header) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 13
    ws.freeze_panes = "B3"
    title = _cell(ws, _title(c))
    title.font = Font(bold=True, size=13)
    ws.append([title])
    fill = PatternFill("solid", fgColor="DCE6F1")
    ws.append([_cell(ws, h, bold=True, fill=fill, wrap=True) for h in header])
    for r in rows:
        ws.append([r["label"] if group else "Tổng"]
                  + [_cell(ws, get(r), fmt) for _h, fmt, get in cols])


def workbook(c: Scope) -> Workbook:
    """The summary, a sheet per grouping (with its p90s) and every low rating."""
    groups = [g for g, _t in SHEETS]
    report = Report(c, groups, p90_groups=[None, *groups])
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Tổng hợp")
    total = report.total()
    _sheet(ws, c, None, [total])
    ws.append([])
    ws.append(["Đánh giá lạm dụng (không tính)", total["misuse_total"]])
    for group, title in SHEETS:
        _sheet(wb.create_sheet(title), c, group, report.rows(group))
    low = wb.create_sheet("Đánh giá thấp")
    for col, w in zip("ABCDEFGH", (17, 9, 15, 30, 40, 22, 7, 24)):
        low.column_dimensions[col].width = w
    low.append([_cell(low, h, bold=True) for h in ("Thời gian", "Số vé", "Mức", "Lý do", "Góp ý",
                                                    "Cán bộ", "Quầy", "Lĩnh vực")])
    zone = ZoneInfo(c.tz)
    stamp = "dd/mm/yyyy hh:mm"
    for r in rt.low_ratings(c):
        local = r["created_at"].replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
        low.append([_cell(low, local, stamp), r["number"], r["level_label"],
                    "; ".join(r["reasons"]), r["comment"], r["staff"], r["counter"], r["service"]])
    return wb


def workbook_bytes(c: Scope) -> bytes:
    buf = io.BytesIO()
    workbook(c).save(buf)
    return buf.getvalue()


def csv_text(c: Scope, group: str) -> str:
    """One grouping as CSV (decimal point, fractions for shares: machine-readable)."""
    cols = columns(c)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([GROUP_HEADER[group]] + [h for h, _f, _g in cols])
    for r in Report(c, [group], p90_groups=[group]).rows(group):
        vals = [get(r) for _h, _f, get in cols]
        w.writerow([r["label"]] + ["" if v is None else (round(v, 4) if isinstance(v, float) else v)
                                   for v in vals])
    return out.getvalue()
