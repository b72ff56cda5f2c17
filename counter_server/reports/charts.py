"""Charts as inline SVG drawn here in Python: offline, no JavaScript, no CDN.

Each function returns an ``<svg>`` string (markup-safe text escaped) sized by
its data; templates embed it with ``|safe``.
"""
from __future__ import annotations

from typing import Any, Sequence
from xml.sax.saxutils import escape

FONT = 'font-family="Segoe UI, Noto Sans, DejaVu Sans, Arial, sans-serif"'
WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


def _t(x: float, y: float, text: str, size: int = 12, anchor: str = "start",
       fill: str = "#222", weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}">{escape(str(text))}</text>')


def _svg(w: float, h: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
            f'width="100%" style="max-width:{w:.0f}px" role="img" aria-label="{escape(title)}" {FONT}>'
            f'<title>{escape(title)}</title>' + "".join(body) + "</svg>")


def pct(x: float | None) -> str:
    """Vietnamese percentage: 45,2 %."""
    return "—" if x is None else f"{x * 100:.1f}".replace(".", ",") + " %"


def stacked_shares(title: str, rows: Sequence[tuple[str, dict[Any, int]]],
                   levels: Sequence[dict[str, Any]], empty: str = "Không có dữ liệu") -> str:
    """100 % horizontal bars: the share of each rating level per row."""
    label_w, bar_w, row_h, top = 220, 460, 26, 30
    h = top + max(1, len(rows)) * row_h + 40
    w = label_w + bar_w + 70
    body = []
    if not rows:
        body.append(_t(w / 2, top + 18, empty, anchor="middle", fill="#777"))
    for i, (label, counts) in enumerate(rows):
        y = top + i * row_h
        total = sum(counts.values())
        body.append(_t(label_w - 8, y + 16, label[:32], anchor="end"))
        x = float(label_w)
        for lv in levels:
            n = counts.get(lv["value"], 0)
            if not total or not n:
                continue
            seg = bar_w * n / total
            body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{seg:.1f}" height="{row_h - 6}" '
                        f'fill="{lv.get("color", "#888")}"><title>{escape(lv["label"])}: {n} '
                        f'({pct(n / total)})</title></rect>')
            if seg > 34:
                body.append(_t(x + seg / 2, y + 17, pct(n / total).replace(" %", "%"), 10,
                               "middle", "#fff", "bold"))
            x += seg
        body.append(_t(label_w + bar_w + 6, y + 16, f"n={total}", 11, fill="#555"))
    ly = top + max(1, len(rows)) * row_h + 20
    lx = float(label_w)
    for lv in levels:
        body.append(f'<rect x="{lx:.0f}" y="{ly - 10}" width="12" height="12" fill="{lv.get("color", "#888")}"/>')
        body.append(_t(lx + 16, ly, lv["label"], 11))
        lx += 30 + 7 * len(lv["label"])
    body.insert(0, _t(0, 18, title, 14, weight="bold"))
    return _svg(w, h, body, title)


def heatmap(title: str, cells: dict[tuple[int, int], int], hours: Sequence[int] = range(6, 19)) -> str:
    """Tickets per weekday (rows) and local hour (columns), darker = busier."""
    hours = list(hours)
    extra = sorted({h for (_d, h) in cells} - set(hours))
    hours = sorted(set(hours) | set(extra))
    cw, ch, left, top = 40, 28, 40, 46
    w, h = left + cw * len(hours) + 10, top + ch * 7 + 10
    peak = max(cells.values(), default=0)
    body = [_t(0, 18, title, 14, weight="bold")]
    for j, hr in enumerate(hours):
        body.append(_t(left + j * cw + cw / 2, top - 6, f"{hr}h", 11, "middle", "#555"))
    for d in range(7):
        y = top + d * ch
        body.append(_t(left - 6, y + ch / 2 + 4, WEEKDAYS[d], 11, "end", "#555"))
        for j, hr in enumerate(hours):
            n = cells.get((d, hr), 0)
            a = (n / peak) if peak else 0
            fill = f"rgba(21,101,192,{0.08 + 0.92 * a:.3f})" if n else "#f3f3f3"
            body.append(f'<rect x="{left + j * cw + 1}" y="{y + 1}" width="{cw - 2}" height="{ch - 2}" '
                        f'fill="{fill}"><title>{WEEKDAYS[d]} {hr}h: {n}</title></rect>')
            if n:
                body.append(_t(left + j * cw + cw / 2, y + ch / 2 + 4, str(n), 10, "middle",
                               "#fff" if a > 0.5 else "#123"))
    return _svg(w, h, body, title)


LONG_RANGE_DAYS = 62


def day_labels(days: Sequence[str]) -> list[str]:
    """dd/mm for ISO dates, dd/mm/yyyy when the days span years or a long range
    (a label without its year is ambiguous there)."""
    years = {d[:4] for d in days}
    long = len(years) > 1 or len(days) > LONG_RANGE_DAYS
    return [f"{d[8:10]}/{d[5:7]}/{d[:4]}" if long else f"{d[8:10]}/{d[5:7]}" for d in days]


def daily_trend(title: str, days: Sequence[tuple[str, int, int, float | None]],
                issued_label: str = "Số phát", served_label: str = "Đã phục vụ",
                sat_label: str = "Tỷ lệ hài lòng") -> str:
    """Bars: tickets issued per day (ISO date first); dark bars: served; line:
    satisfied share."""
    left, top, ph, pw = 46, 34, 180, 720
    w, h = left + pw + 50, top + ph + 56
    body = [_t(0, 18, title, 14, weight="bold")]
    peak = max((d[1] for d in days), default=0) or 1
    n = max(1, len(days))
    step = pw / n
    for k in range(5):
        v = peak * k / 4
        y = top + ph - ph * k / 4
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        body.append(_t(left - 4, y + 4, f"{v:.0f}", 10, "end", "#777"))
        body.append(_t(left + pw + 4, y + 4, f"{25 * k}%", 10, fill="#2e7d32"))
    pts = []
    short = day_labels([d[0] for d in days])
    # as many labels as fit: about 31 short ones or 12 with the year
    every = 1 if n <= 31 and short and len(short[0]) == 5 else max(1, -(-n // 12))
    for i, (day, issued, served, sat) in enumerate(days):
        label = f"{day[8:10]}/{day[5:7]}/{day[:4]}"
        x = left + i * step
        bw = min(40.0, max(1.0, step * 0.8))
        hi = ph * issued / peak
        hs = ph * served / peak
        body.append(f'<rect x="{x:.1f}" y="{top + ph - hi:.1f}" width="{bw:.1f}" height="{hi:.1f}" '
                    f'fill="#90caf9"><title>{escape(label)}: {issued} / {served}</title></rect>')
        body.append(f'<rect x="{x:.1f}" y="{top + ph - hs:.1f}" width="{bw:.1f}" height="{hs:.1f}" fill="#1565c0"/>')
        if sat is not None:
            pts.append(f"{x + bw / 2:.1f},{top + ph - ph * sat:.1f}")
        if i % every == 0:
            body.append(_t(x + bw / 2, top + ph + 14, short[i], 9, "middle", "#555"))
    if len(pts) > 1:
        body.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="#2e7d32" stroke-width="2"/>')
    ly = top + ph + 36
    for i, (color, text) in enumerate((("#90caf9", issued_label), ("#1565c0", served_label),
                                       ("#2e7d32", sat_label))):
        body.append(f'<rect x="{left + i * 170}" y="{ly - 10}" width="12" height="12" fill="{color}"/>')
        body.append(_t(left + i * 170 + 16, ly, text, 11))
    return _svg(w, h, body, title)
