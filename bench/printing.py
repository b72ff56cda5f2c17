"""How long the kiosk takes to draw a ticket and turn it into ESC/POS bytes.

A citizen waits for this between pressing a service and the printer starting,
so the target is at most 100 ms per ticket.  Run: ``python bench/printing.py``.
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

# Run as a script, bench/ comes first on sys.path, and bench/kiosk.py would
# stand in for the kiosk package: the repository goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.printers import encode_ticket  # noqa: E402
from kiosk.printing import PAPER_DOTS, TicketData, ticket_fonts  # noqa: E402

TARGET_MS = 100.0


def _ticket(i: int) -> TicketData:
    return TicketData(
        office_name="UBND xã An Bình – Bộ phận Tiếp nhận và Trả kết quả",
        display_number=f"{1000 + i}",
        service_name="Tư pháp – Hộ tịch",
        counters=["Quầy 1", "Quầy 3"],
        issued_at=datetime(2025, 11, 26, 14, 5, tzinfo=timezone(timedelta(hours=7))),
        waiting_before=i % 20,
        estimated_wait_minutes=5 * (i % 20),
        status_url=f"http://192.168.1.10:8080/t/AbC{i:03d}",
        priority_label="Người cao tuổi" if i % 5 == 0 else None,
    )


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_render(runs: int = 50) -> dict:
    """p50/p95 in ms of render + encode per paper width; the first (font loading) apart."""
    start = time.perf_counter()
    ticket_fonts()
    result: dict = {"font_selection_ms": round((time.perf_counter() - start) * 1000, 1),
                    "runs": runs, "target_ms": TARGET_MS}
    for paper_mm, dots in PAPER_DOTS.items():
        samples: list[float] = []
        size = 0
        for i in range(runs + 1):
            start = time.perf_counter()
            size = len(encode_ticket(_ticket(i), dots))
            elapsed = (time.perf_counter() - start) * 1000
            if i:  # the first run warms the font and QR caches
                samples.append(elapsed)
        result[f"{paper_mm}mm"] = {
            "width_dots": dots,
            "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(_percentile(samples, 0.95), 1),
            "bytes": size,
            "within_target": _percentile(samples, 0.95) <= TARGET_MS,
        }
    return result


if __name__ == "__main__":
    figures = bench_render()
    print(f"font selection (once per process): {figures['font_selection_ms']} ms")
    for paper in ("80mm", "58mm"):
        row = figures[paper]
        print(f"{paper} ({row['width_dots']} dots): render+encode p50 {row['p50_ms']} ms, "
              f"p95 {row['p95_ms']} ms, {row['bytes']} bytes, "
              f"target <= {TARGET_MS:g} ms: {'ok' if row['within_target'] else 'MISSED'}")
