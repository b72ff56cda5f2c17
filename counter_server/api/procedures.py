"""The procedure guide for devices and staff: list/search and one procedure."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import Length

from .. import engine as e, models as m, procedures
from ..security import auth, current_principal
from . import bp, errors, get_db
from .schemas import Id

GUIDE_ROLES = ["kiosk", "display", "staff", "leader", "admin"]


class ProceduresQuery(Schema):
    q = String(load_default="", validate=Length(0, 200), metadata={
        "description": "Words to find in the name, code or papers; diacritics and case are "
                       "ignored (\"dang ky tam tru\" finds \"Đăng ký tạm trú\")"})
    service_id = Id(load_default=None, allow_none=True, metadata={
        "description": "Only this service's procedures"})


class PaperOut(Schema):
    name = String()
    copies = Integer()
    kind = String(metadata={"description": "original, copy or either"})


class ProcedureOut(Schema):
    id = Integer()
    service_id = Integer()
    service_code = String()
    service_name = String()
    code = String()
    name = String()
    papers = List(Nested(PaperOut))
    fee_vnd = Integer(metadata={"description": "VND; 0 when free of charge"})
    free = Boolean()
    fee_note = String()
    time_limit = String()
    result_place = String()
    legal_basis = String()
    checked_on = String(allow_none=True, metadata={"description": "ISO date, or null"})
    sample = Boolean(metadata={"description": "Sample data: to be checked against the "
                                              "province's list"})


class ProcedureItem(ProcedureOut):
    """A procedure in the list (its own name: APIFlask registers each output schema by
    name, and a nested ProcedureOut would be registered a second time)."""


class ProceduresOut(Schema):
    procedures = List(Nested(ProcedureItem))


@bp.get("/procedures/<int:procedure_id>")
@bp.auth_required(auth, roles=GUIDE_ROLES)
@bp.output(ProcedureOut)
@bp.doc(summary="One procedure of the guide", responses=errors(401, 403, 404,
                                                               e404="procedure_not_found"))
def procedure_detail(procedure_id: int):
    p = current_principal()
    with get_db().read() as s:
        row = s.get(m.Procedure, procedure_id)
        svc = s.get(m.Service, row.service_id) if row is not None else None
        if row is None or row.office_id != p.office_id or svc is None or not svc.active:
            raise e.not_found("procedure")
        return procedures.view(row, svc)


@bp.get("/procedures")
@bp.auth_required(auth, roles=GUIDE_ROLES)
@bp.input(ProceduresQuery, location="query")
@bp.output(ProceduresOut)
@bp.doc(summary="The procedure guide: what to bring, fee, time limit (search ignores "
                "diacritics and case)", responses=errors(401, 403))
def procedure_list(query_data):
    p = current_principal()
    with get_db().read() as s:
        return {"procedures": procedures.find(s, p.office_id, query_data["q"],
                                              query_data.get("service_id"))}
