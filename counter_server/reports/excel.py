"""Excel (XlsxWriter) and CSV exports: one workbook per period, a sheet per grouping.

Cells hold real numbers (minutes, fractions) with number formats, so the
leader's quarterly report can compute with them; headers are Vietnamese.
The low-ratings sheet lists the :data:`LOW_SHEET_LIMIT` newest low ratings
and says above them how many the period has (the dashboard pages through
them all): a leader follows up recent complaints one by one, while a
year's whole list (thousands of rows) is more than anyone reads and would
be most of the file's writing time.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from . import ratings as rt
from .scope import Scope
from .tables import Report

LOW_SHEET_LIMIT = 1000
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


class _Formats:
    """The workbook's cell formats, made once (XlsxWriter formats belong to a workbook)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.title = wb.add_format({"bold": True, "font_size": 13})
        self.header = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "text_wrap": True,
                                     "valign": "vcenter"})
        self.bold = wb.add_format({"bold": True})
        self._num: dict[str, Any] = {}

    def number(self, fmt: str) -> Any:
        if fmt not in self._num:
            self._num[fmt] = self.wb.add_format({"num_format": fmt})
        return self._num[fmt]


def _sheet(ws: Any, f: _Formats, c: Scope, group: str | None, rows: list[dict[str, Any]]) -> int:
    """One grouping; returns the next free row."""
    cols = columns(c)
    header = [GROUP_HEADER.get(group or "", "Toàn đơn vị")] + [h for h, _f, _g in cols]
    ws.set_column(0, 0, 30)
    ws.set_column(1, len(header) - 1, 13)
    ws.freeze_panes(2, 1)
    ws.write(0, 0, _title(c), f.title)
    ws.write_row(1, 0, header, f.header)
    formats = [f.number(fmt) for _h, fmt, _g in cols]
    for i, r in enumerate(rows, start=2):
        ws.write_string(i, 0, r["label"] if group else "Tổng")
        for j, ((_h, _fmt, get), cell_format) in enumerate(zip(cols, formats), start=1):
            value = get(r)
            if value is None:
                ws.write_blank(i, j, None, cell_format)
            else:
                ws.write_number(i, j, value, cell_format)
    return 2 + len(rows)


def workbook_bytes(c: Scope) -> bytes:
    """The summary, a sheet per grouping (with its p90s) and the newest low ratings."""
    groups = [g for g, _t in SHEETS]
    report = Report(c, groups, p90_groups=[None, *groups])
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    f = _Formats(wb)
    ws = wb.add_worksheet("Tổng hợp")
    total = report.total()
    row = _sheet(ws, f, c, None, [total])
    ws.write_row(row + 1, 0, ["Đánh giá lạm dụng (không tính)", total["misuse_total"]])
    for group, title in SHEETS:
        _sheet(wb.add_worksheet(title), f, c, group, report.rows(group))
    low = wb.add_worksheet("Đánh giá thấp")
    for col, width in enumerate((17, 9, 15, 30, 40, 22, 7, 24)):
        low.set_column(col, col, width)
    low_total = rt.low_count(c)
    low_rows = rt.low_ratings(c, LOW_SHEET_LIMIT)
    low.write(0, 0, _low_note(low_total, len(low_rows)), f.bold)
    low.write_row(1, 0, ("Thời gian", "Số vé", "Mức", "Lý do", "Góp ý", "Cán bộ", "Quầy",
                         "Lĩnh vực"), f.bold)
    zone = ZoneInfo(c.tz)
    stamp = f.number("dd/mm/yyyy hh:mm")
    text, number = low.write_string, low.write_number  # typed writes, one call per cell
    for i, r in enumerate(low_rows, start=2):
        local = r["created_at"].replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
        low.write_datetime(i, 0, local, stamp)
        text(i, 1, r["number"])
        text(i, 2, r["level_label"])
        text(i, 3, "; ".join(r["reasons"]))
        text(i, 4, r["comment"] or "")
        text(i, 5, r["staff"])
        if r["counter"] is not None:
            number(i, 6, r["counter"])
        text(i, 7, r["service"])
    wb.close()
    return buf.getvalue()


def _dots(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _low_note(total: int, listed: int) -> str:
    """The line above the low ratings: how many the period has, how many are listed."""
    if listed == total:
        return f"{_dots(total)} đánh giá thấp trong kỳ, mới nhất trước."
    return (f"{_dots(total)} đánh giá thấp trong kỳ; dưới đây là {_dots(listed)} đánh giá mới "
            "nhất. Danh sách đầy đủ xem trên trang Báo cáo (mục Đánh giá thấp) hoặc xuất "
            "Excel cho từng tháng.")


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
