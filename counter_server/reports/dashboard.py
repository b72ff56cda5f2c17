"""Every figure and chart of the dashboard and officer pages, for one scope."""
from __future__ import annotations

from typing import Any, Callable

from . import charts
from . import ratings as rt
from .excel import LOW_SHEET_LIMIT
from .scope import Scope
from .tables import Report

LOW_PAGE_SIZE = 200
SHARE_TITLES = {"staff": "Satisfaction by officer", "counter": "Satisfaction by counter",
                "service": "Satisfaction by service"}


def _band_label(b: dict[str, Any], gettext: Callable[[str], str]) -> str:
    if b["hi"] is None:
        return gettext("over {lo} min").format(lo=b["lo"])
    return gettext("{lo}–{hi} min").format(lo=b["lo"], hi=b["hi"])


def build(sc: Scope, gettext: Callable[[str], str], low_page: int = 1) -> dict[str, Any]:
    """The page's figures: totals with p90, tables per officer and day, shares per
    counter and service, the weekday x hour heatmap, waiting bands, low ratings."""
    report = Report(sc, ("staff", "day"), rating_groups=("staff", "counter", "service", "day"),
                    heatmap=True)
    total = report.total()
    by = {g: report.rows(g) for g in ("staff", "day")}
    by.update({g: report.ratings(g) for g in ("counter", "service")})
    levels = sc.levels

    def shares(g: str) -> str:
        rows = [(r["label"], r["levels"]) for r in by[g] if r["rated"]]
        return charts.stacked_shares(gettext(SHARE_TITLES[g]), rows, levels, gettext("No data"))

    bands = rt.wait_bands(sc)
    band_rows = [(_band_label(b, gettext), b["levels"]) for b in bands]
    days = [(r["key"], r["issued"], r["served"],
             (r["official"]["very_satisfied"] + r["official"]["satisfied"]) / r["rated"]
             if r["rated"] else None) for r in by["day"]]
    low_total = rt.low_count(sc)
    pages = max(1, -(-low_total // LOW_PAGE_SIZE))
    low_page = min(max(1, low_page), pages)
    low = rt.low_ratings(sc, LOW_PAGE_SIZE, (low_page - 1) * LOW_PAGE_SIZE)
    return {
        "sc": sc, "total": total, "by": by, "levels": levels, "bands": bands,
        "low": low, "low_total": low_total, "low_sheet_limit": LOW_SHEET_LIMIT, "low_page": low_page, "low_pages": pages,
        "low_first": (low_page - 1) * LOW_PAGE_SIZE + 1 if low else 0,
        "low_last": (low_page - 1) * LOW_PAGE_SIZE + len(low),
        "charts": {
            "staff": shares("staff"), "counter": shares("counter"), "service": shares("service"),
            "heatmap": charts.heatmap(gettext("Tickets by weekday and hour"), report.heatmap()),
            "trend": charts.daily_trend(gettext("Daily trend"), days, gettext("Issued"),
                                        gettext("Served"), gettext("Satisfied share")),
            "bands": charts.stacked_shares(gettext("Satisfaction by waiting time"), band_rows,
                                           levels, gettext("No data")),
        },
    }
