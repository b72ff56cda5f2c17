"""Leader dashboard, officer pages and exports (server-rendered, Vietnamese)."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, render_template, request, url_for
from sqlalchemy import select

from .. import models as m
from ..security import current_principal, require
from . import bp, charts, excel
from .dashboard import build as build_dashboard
from .period import KINDS, Period, PeriodError, make_period
from .scope import GROUPS, Filters, Scope

PERIOD_LABELS = {"today": "Today", "week": "This week", "month": "This month",
                 "quarter": "This quarter", "year": "This year", "custom": "Custom"}
PERIOD_ERRORS = {"bad_date": "The date {text} is not a valid date (use dd/mm/yyyy).",
                 "reversed": "The start date is after the end date.",
                 "too_long": "A report covers at most three years.",
                 "bad_kind": "Unknown period."}


def _int_arg(name: str) -> int | None:
    v = request.args.get(name, "")
    return int(v) if v.isdigit() and len(v) < 10 else None


def request_period(office: m.Office) -> Period:
    """The period of the picker; raises PeriodError for dates that cannot be used."""
    return make_period(request.args.get("period") or None, office.timezone,
                       request.args.get("from"), request.args.get("to"))


def request_scope(s: Any, office: m.Office, period: Period, staff_id: int | None = None) -> Scope:
    filters = Filters(_int_arg("service"), _int_arg("counter"), staff_id or _int_arg("staff"))
    return Scope(s, office, period, filters, request.args.get("misuse") == "1")


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


def _period_kinds(office: m.Office) -> dict[str, tuple[str, str]]:
    """Each named period's dates, for the picker's script to fill the date boxes."""
    out = {}
    for k in KINDS[:-1]:
        p = make_period(k, office.timezone)
        out[k] = (p.first.isoformat(), p.last.isoformat())
    return out


def _render(template: str, staff_id: int | None = None, **extra: Any) -> Any:
    db = current_app.extensions["motcua_db"]
    gettext = current_app.extensions["motcua_gettext"]
    with db.read() as s:
        office, choices = _office_and_choices(s)
        common = dict(office=office, kinds=KINDS, period_labels=PERIOD_LABELS,
                      kind_dates=_period_kinds(office), choices=choices,
                      filters=Filters(_int_arg("service"), _int_arg("counter"),
                                      staff_id or _int_arg("staff")),
                      misuse=request.args.get("misuse") == "1", args=request.args,
                      pct=charts.pct, dur=duration, local=_local_fmt(office), **extra)
        try:
            period = request_period(office)
        except PeriodError as exc:
            # The form comes back as typed, with the reason in words.
            typed = request.args.get("from") or request.args.get("to")
            form = {"kind": "custom" if typed else request.args.get("period", ""),
                    "from": request.args.get("from", ""), "to": request.args.get("to", "")}
            message = gettext(PERIOD_ERRORS[exc.code]).format(text=exc.text)
            return render_template(template, form=form, period_error=message, **common), 400
        form = {"kind": period.kind, "from": period.first.isoformat(),
                "to": period.last.isoformat()}
        data = build_dashboard(request_scope(s, office, period, staff_id), gettext,
                               _int_arg("low_page") or 1)
        return render_template(template, form=form, period=period, **data, **common)


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
    """(period, build(scope)) for the period and filters in the request."""
    with current_app.extensions["motcua_db"].read() as s:
        office, _choices = _office_and_choices(s)
        try:
            period = request_period(office)
        except PeriodError as exc:
            gettext = current_app.extensions["motcua_gettext"]
            abort(Response(gettext(PERIOD_ERRORS[exc.code]).format(text=exc.text), 400,
                           mimetype="text/plain"))
        return period, build(request_scope(s, office, period))


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
    if group not in GROUPS:
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
