"""The procedure guide's admin pages: list, form, delete, spreadsheet import and export.

Every row, from the form or from a file, goes through
:func:`counter_server.procedure_rows.check_row`; an import stores all its good
rows in one transaction and lists each refused row with its number and reason.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import models as m
from .. import procedure_rows as rows
from .. import procedures
from ..api import get_db, run_write
from ..console import t
from ..security import current_principal, require
from . import bp
from .common import FormError, audit, save

MAX_FILE = 2 * 1024 * 1024


def _form_error(err: rows.RowError) -> FormError:
    return FormError(err.message, **err.params)


def reason(err: rows.RowError) -> str:
    return t(err.message).format(**err.params) if err.params else t(err.message)


def _services(s: Session, office_id: int) -> list[m.Service]:
    return list(s.scalars(select(m.Service).where(m.Service.office_id == office_id)
                          .order_by(m.Service.sort_order, m.Service.id)))


def _page(office_id: int, edit: m.Procedure | None = None, report: Any = None,
          status: int = 200) -> tuple[str, int]:
    service_id = request.args.get("service_id", type=int)
    query = request.args.get("q", "")[:200]
    with get_db().read() as s:
        services = _services(s, office_id)
        found = procedures.find(s, office_id, query, service_id, active_services_only=False)
    codes = {sv.id: sv.code for sv in services}
    return render_template("admin/procedures.html", services=services, procedures=found,
                           edit=edit, edit_code=codes.get(edit.service_id) if edit else None,
                           papers_text=rows.papers_text, report=report, query=query,
                           service_id=service_id, kind_words=rows.KIND_WORDS,
                           reason=reason), status


def _save(office_id: int, procedure_id: int | None) -> bool:
    def do(s: Session) -> None:
        try:
            values = rows.check_row(request.form, rows.services_by_code(s, office_id))
        except rows.RowError as err:
            raise _form_error(err) from None
        clash = s.scalar(select(m.Procedure.id).where(
            m.Procedure.office_id == office_id, m.Procedure.service_id == values["service_id"],
            m.Procedure.name == values["name"]))
        if clash is not None and clash != procedure_id:
            raise FormError("This service already has a procedure with this name.")
        # A new one: store() adds it at the end of its service.
        proc = s.get(m.Procedure, procedure_id) if procedure_id else None
        row, _created = rows.store(s, office_id, values, proc)
        audit(s, "procedure_saved", procedure_id=row.id, name=row.name)
    return bool(save(do, "Procedure saved."))


@bp.route("/procedures", methods=["GET", "POST"], endpoint="procedures")
@require("admin", html=True)
def procedures_page():
    p = current_principal()
    if request.method == "POST" and _save(p.office_id, None):
        return redirect(url_for("admin.procedures"))
    return _page(p.office_id)


def _own(procedure_id: int, office_id: int) -> m.Procedure:
    with get_db().read() as s:
        proc = s.get(m.Procedure, procedure_id)
        if proc is None or proc.office_id != office_id:
            abort(404)
        return proc


@bp.route("/procedures/<int:procedure_id>", methods=["GET", "POST"])
@require("admin", html=True)
def procedures_edit(procedure_id: int):
    p = current_principal()
    proc = _own(procedure_id, p.office_id)
    if request.method == "POST" and _save(p.office_id, procedure_id):
        return redirect(url_for("admin.procedures"))
    return _page(p.office_id, edit=proc)


@bp.route("/procedures/<int:procedure_id>/delete", methods=["POST"])
@require("admin", html=True)
def procedures_delete(procedure_id: int):
    p = current_principal()
    _own(procedure_id, p.office_id)

    def do(s: Session) -> None:
        proc = s.get(m.Procedure, procedure_id)
        audit(s, "procedure_deleted", procedure_id=proc.id, name=proc.name)
        s.delete(proc)
    save(do, "Procedure deleted.")
    return redirect(url_for("admin.procedures"))


@bp.route("/procedures/export.xlsx", defaults={"fmt": "xlsx"})
@bp.route("/procedures/export.csv", defaults={"fmt": "csv"})
@require("admin", html=True)
def procedures_export(fmt: str):
    p = current_principal()
    with get_db().read() as s:
        table = rows.export_table(s, p.office_id)
    body = rows.table_xlsx(table) if fmt == "xlsx" else rows.table_csv(table)
    mime = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
            else "text/csv; charset=utf-8")
    name = f"motcua-thu-tuc-{dt.date.today().isoformat()}.{fmt}"
    return Response(body, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/procedures/import", methods=["POST"])
@require("admin", html=True)
def procedures_import():
    p = current_principal()
    upload = request.files.get("file")
    data = upload.read(MAX_FILE + 1) if upload else b""
    if not data:
        flash(t("Choose an .xlsx or .csv file."), "error")
        return _page(p.office_id, status=400)
    if len(data) > MAX_FILE:
        flash(t("The file is too large."), "error")
        return _page(p.office_id, status=413)
    try:
        table = rows.read_sheet(data, upload.filename or "")
    except rows.RowError as err:
        flash(reason(err), "error")
        return _page(p.office_id, status=400)

    def do(s: Session) -> rows.ImportReport:
        report = rows.import_rows(s, p.office_id, table)
        audit(s, "procedures_imported", created=report.created, updated=report.updated,
              refused=len(report.refused))
        return report

    report = run_write(do)
    flash(t("Spreadsheet imported: {created} new, {updated} updated, {refused} refused.").format(
        created=report.created, updated=report.updated, refused=len(report.refused)),
        "error" if report.refused else "info")
    return _page(p.office_id, report=report)
