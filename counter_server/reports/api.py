"""GET /api/v1/reports/summary (leader, admin) on an APIFlask blueprint, so the
route is part of the generated OpenAPI document."""
from __future__ import annotations

import datetime as dt
from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Date, Dict, Float, Integer, List, Nested, Raw, String
from apiflask.validators import OneOf
from flask import current_app

from .. import models as m
from ..api import errors
from ..api.schemas import Id
from ..engine import DomainError
from ..security import auth, current_principal
from .period import PeriodError, make_period
from .scope import GROUPS, Filters, Scope
from .tables import Report

reports_api = APIBlueprint("reports_api", __name__, url_prefix="/api/v1/reports", tag="Reports")


class SummaryQuery(Schema):
    from_ = Date(data_key="from", load_default=None,
                 metadata={"description": "First local date (YYYY-MM-DD, inclusive)"})
    to = Date(load_default=None, metadata={"description": "Last local date (inclusive)"})
    group_by = String(load_default="staff", validate=OneOf(GROUPS))
    service_id = Id(load_default=None)
    counter_id = Id(load_default=None)
    staff_id = Id(load_default=None)
    include_misuse = Integer(load_default=0, validate=OneOf((0, 1)))


class SummaryRow(Schema):
    key = Raw(allow_none=True)
    label = String()
    issued = Integer()
    served = Integer()
    no_show = Integer()
    cancelled = Integer()
    avg_wait_seconds = Float(allow_none=True)
    p90_wait_seconds = Float(allow_none=True)
    avg_service_seconds = Float(allow_none=True)
    p90_service_seconds = Float(allow_none=True)
    rated = Integer()
    coverage = Float(allow_none=True)
    levels = Dict(keys=String(), values=Integer())
    official = Dict(keys=String(), values=Integer())
    official_share = Dict(keys=String(), values=Float(allow_none=True))


class SummaryOut(Schema):
    office_id = Integer()
    from_ = String(data_key="from")
    to = String()
    timezone = String()
    group_by = String()
    total = Nested(SummaryRow)
    rows = List(Nested(SummaryRow))
    misuse = Dict(keys=String(), values=Integer())


def _row(r: dict[str, Any]) -> dict[str, Any]:
    out = {k: r[k] for k in ("key", "label", "issued", "served", "no_show", "cancelled",
                             "rated", "coverage", "official", "official_share")}
    for k in ("avg_wait", "p90_wait", "avg_service", "p90_service"):
        out[f"{k}_seconds"] = None if r[k] is None else round(r[k], 3)
    out["levels"] = {str(v): n for v, n in r["levels"].items()}
    return out


@reports_api.get("/summary")
@reports_api.auth_required(auth, roles=["leader", "admin"])
@reports_api.input(SummaryQuery, location="query", arg_name="q")
@reports_api.output(SummaryOut)
@reports_api.doc(summary="Report figures for a period of local dates, grouped",
                 responses=errors(401, 403))
def summary(q: dict[str, Any]) -> dict[str, Any]:
    p = current_principal()
    db = current_app.extensions["motcua_db"]
    with db.read() as s:
        office = s.get(m.Office, p.office_id)
        first: dt.date | None = q["from_"]
        last: dt.date | None = q["to"]
        try:
            period = make_period("custom", office.timezone, first and first.isoformat(),
                                 (last or first) and (last or first).isoformat())
        except PeriodError:
            raise DomainError("invalid_period", "The data sent is not valid.", 400)
        sc = Scope(s, office, period, Filters(q["service_id"], q["counter_id"], q["staff_id"]),
                   bool(q["include_misuse"]))
        report = Report(sc, [q["group_by"]], p90_groups=[None, q["group_by"]])
        total = report.total()
        rows = report.rows(q["group_by"])
    return {"office_id": office.id, "from_": period.first.isoformat(),
            "to": period.last.isoformat(), "timezone": office.timezone,
            "group_by": q["group_by"], "total": _row(total), "rows": [_row(r) for r in rows],
            "misuse": total["misuse"]}
