"""Leader dashboard, officer pages and exports (server-rendered, Vietnamese)."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, render_template, request, url_for
from sqlalchemy import select

from .. import models as m
from ..security import current_principal, require
from . import bp, cache, charts, excel
from . import figures as fg
from . import tables as tb
from .period import KINDS, Period, PeriodError, make_period

PERIOD_LABELS = {"today": "Today", "week": "This week", "month": "This month",
                 "quarter": "This quarter", "year": "This year", "custom": "Custom"}


def _int_arg(name: str) -> int | None:
    v = request.args.get(name, "")
    return int(v) if v.isdigit() else None


def request_period(office: m.Office) -> Period:
    try:
        return make_period(request.args.get("period") or None, office.timezone,
                           request.args.get("from"), request.args.get("to"))
    except PeriodError:
        abort(400)


def use_cache() -> bool:
    return bool(current_app.config.get("REPORT_CACHE", True))


def make_ctx(s: Any, office: m.Office, period: Period, filters: fg.Filters,
             include_misuse: bool = False) -> fg.Ctx:
    """A report context, fed from the day cache unless REPORT_CACHE is off."""
    c = fg.Ctx(s, office, period, filters, include_misuse)
    return cache.attach(c) if use_cache() else c


def refresh_cache() -> None:
    """Bring the cached days of the requested period up to date (a small read
    when nothing changed) before the figures are read."""
    if not use_cache():
        return
    db = current_app.extensions["motcua_db"]
    with db.read() as s:
        office = s.get(m.Office, current_principal().office_id)
        period = request_period(office)
        oid = office.id
    cache.refresh(db, oid, period.first, period.last)


def build_dashboard(s: Any, office: m.Office, period: Period, filters: fg.Filters,
                    include_misuse: bool = False) -> dict[str, Any]:
    """Every figure and chart of one dashboard page (shared with the bench)."""
    c = make_ctx(s, office, period, filters, include_misuse)
    total = tb.totals(c)
    # p90 only for the totals; per-group tables show counts, averages and shares.
    by = {g: tb.grouped(c, g, percentiles=False) for g in ("staff", "day")}  # one cube scan
    # counter and service charts need only the rating shares
    for g in ("counter", "service"):
        rs = fg.rating_stats(c, g)
        names = tb.labels(c, g, rs)
        by[g] = sorted(({"key": k, "label": names.get(k, "—"), **v} for k, v in rs.items()),
                       key=lambda r: r["label"])
    levels = c.levels
    gettext = current_app.extensions["motcua_gettext"]

    def shares(g: str) -> str:
        rows = [(r["label"], r["levels"]) for r in by[g] if r["rated"]]
        return charts.stacked_shares(gettext({"staff": "Satisfaction by officer",
                                              "counter": "Satisfaction by counter",
                                              "service": "Satisfaction by service"}[g]),
                                     rows, levels, gettext("No data"))

    bands = fg.wait_bands(c)
    band_rows = [(_band_label(b, gettext), b["levels"]) for b in bands]
    days = [(r["label"], r["issued"], r["served"],
             (r["official"]["very_satisfied"] + r["official"]["satisfied"]) / r["rated"]
             if r["rated"] else None) for r in by["day"]]
    return {
        "c": c, "total": total, "by": by, "levels": levels, "bands": bands,
        "low": fg.low_ratings(c),
        "charts": {
            "staff": shares("staff"), "counter": shares("counter"), "service": shares("service"),
            "heatmap": charts.heatmap(gettext("Tickets by weekday and hour"), fg.heatmap(c)),
            "trend": charts.daily_trend(gettext("Daily trend"), days, gettext("Issued"),
                                        gettext("Served"), gettext("Satisfied share")),
            "bands": charts.stacked_shares(gettext("Satisfaction by waiting time"), band_rows,
                                           levels, gettext("No data")),
        },
    }


def _band_label(b: dict[str, Any], gettext: Any) -> str:
    if b["hi"] is None:
        return gettext("over {lo} min").format(lo=b["lo"])
    return gettext("{lo}–{hi} min").format(lo=b["lo"], hi=b["hi"])


def _office_and_choices(s: Any) -> tuple[m.Office, dict[str, list[tuple[int, str]]]]:
    p = current_principal()
    office = s.get(m.Office, p.office_id)
    oid = office.id
    choices = {
        "service": [(i, n) for i, n in s.execute(select(m.Service.id, m.Service.name)
                                                  .where(m.Service.office_id == oid)
                                                  .order_by(m.Service.sort_order))],
        "counter": [(i, nm or f"Quầy {num}") for i, num, nm in s.execute(
            select(m.Counter.id, m.Counter.number, m.Counter.name)
            .where(m.Counter.office_id == oid).order_by(m.Counter.number))],
        "staff": [(i, n) for i, n in s.execute(select(m.User.id, m.User.full_name)
                                                .where(m.User.office_id == oid,
                                                       m.User.role == "staff")
                                                .order_by(m.User.full_name))],
    }
    return office, choices


def _render(template: str, **extra: Any) -> str:
    db = current_app.extensions["motcua_db"]
    refresh_cache()
    with db.read() as s:
        office, choices = _office_and_choices(s)
        period = request_period(office)
        filters = fg.Filters(_int_arg("service"), _int_arg("counter"),
                             extra.pop("staff_id", None) or _int_arg("staff"))
        misuse = request.args.get("misuse") == "1"
        data = build_dashboard(s, office, period, filters, misuse)
        return render_template(template, office=office, period=period, kinds=KINDS,
                               period_labels=PERIOD_LABELS, choices=choices, filters=filters,
                               misuse=misuse, args=request.args, pct=charts.pct,
                               dur=duration, local=_local_fmt(office), **data, **extra)


def duration(seconds: float | None) -> str:
    """Minutes with a Vietnamese decimal comma ("12,5 phút")."""
    if seconds is None:
        return "—"
    return f"{seconds / 60:.1f}".replace(".", ",") + " phút"


def _local_fmt(office: m.Office) -> Any:
    zone = ZoneInfo(office.timezone)

    def fmt(t: dt.datetime | None) -> str:
        if t is None:
            return ""
        return t.replace(tzinfo=dt.timezone.utc).astimezone(zone).strftime("%d/%m/%Y %H:%M")

    return fmt


@bp.get("/")
@require("leader", "admin", html=True)
def dashboard() -> str:
    return _render("reports/dashboard.html")


@bp.get("/staff/<int:user_id>")
@require("leader", "admin", html=True)
def officer(user_id: int) -> str:
    db = current_app.extensions["motcua_db"]
    with db.read() as s:
        user = s.get(m.User, user_id)
        if user is None or user.office_id != current_principal().office_id:
            abort(404)
        name = user.full_name
    return _render("reports/officer.html", staff_id=user_id, officer_name=name)


def _export(build: Any) -> tuple[Any, Any]:
    """(period, build(ctx)) for the period and filters in the request."""
    refresh_cache()
    with current_app.extensions["motcua_db"].read() as s:
        office, _choices = _office_and_choices(s)
        period = request_period(office)
        filters = fg.Filters(_int_arg("service"), _int_arg("counter"), _int_arg("staff"))
        return period, build(make_ctx(s, office, period, filters,
                                      request.args.get("misuse") == "1"))


@bp.get("/export.xlsx")
@require("leader", "admin", html=True)
def export_xlsx() -> Response:
    period, body = _export(excel.workbook_bytes)
    name = f"bao-cao-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/export.csv")
@require("leader", "admin", html=True)
def export_csv() -> Response:
    group = request.args.get("group_by", "staff")
    if group not in fg.GROUPS:
        abort(400)
    period, text = _export(lambda ctx: excel.csv_text(ctx, group))
    name = f"bao-cao-{group}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    # UTF-8 with BOM so Excel on Windows shows the diacritics.
    return Response("\ufeff" + text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def export_url(kind: str, **kw: Any) -> str:
    args = {k: v for k, v in request.args.items() if k != "group_by"}
    args.update(kw)
    return url_for(f"reports.export_{kind}", **args)


bp.add_app_template_global(export_url, "reports_export_url")
