"""The procedure guide's admin pages: form, spreadsheet import and export (xlsx and CSV),
CSRF and role, on a real SQLite file through the Flask test client."""
from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from counter_server import models as m
from counter_server.procedure_rows import COLUMNS
from tests.counter_server.test_access_matrix import web_login

HEADERS = [label for _key, label in COLUMNS]
GOOD_1 = ["HT", "", "Đăng ký giám hộ", "Tờ khai đăng ký giám hộ | 1 | bản chính\n"
          "Văn bản cử người giám hộ | 1 | bản sao", "Miễn phí", "", "03 ngày làm việc",
          "Bộ phận một cửa", "Luật Hộ tịch 2014", "15/11/2025", "không"]
GOOD_2 = ["CT", "", "Chứng thực chữ ký người dịch", "Bản dịch | 1 | bản chính", "10.000 đồng",
          "10.000 đồng/trường hợp", "Trong ngày", "Bộ phận một cửa",
          "Nghị định 23/2015/NĐ-CP", "", "có"]
NO_NAME = ["HT", "", "", "Tờ khai | 1 | bản chính", "0", "", "", "", "", "", ""]
UNKNOWN_SERVICE = ["XYZ", "", "Thủ tục lạ", "", "0", "", "", "", "", "", ""]
BAD_FEE = ["CU", "", "Đăng ký lưu trú", "", "mười lăm nghìn", "", "", "", "", "", ""]
TABLE = [HEADERS, GOOD_1, NO_NAME, UNKNOWN_SERVICE, GOOD_2, BAD_FEE]


def admin(app, creds):
    c = app.test_client()
    return c, web_login(c, creds, "quantri")


def xlsx_bytes(table: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in table:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(table: list[list[object]], delimiter: str = ",") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter).writerows(table)
    return buf.getvalue().encode("utf-8-sig")


def count(app) -> int:
    with app.extensions["motcua_db"].read() as s:
        return s.scalar(select(func.count()).select_from(m.Procedure))


def stored(app, name: str) -> m.Procedure | None:
    with app.extensions["motcua_db"].read() as s:
        return s.scalar(select(m.Procedure).where(m.Procedure.name == name))


def refused_rows(html: str) -> list[tuple[str, str]]:
    section = html.split('id="import-report"', 1)[1].split("</section>", 1)[0]
    return [(num, why) for num, why in re.findall(
        r'<tr class="refused"><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td>', section)]


@pytest.mark.parametrize("kind", ["xlsx", "csv", "csv-semicolon"])
def test_import_stores_good_rows_and_reports_each_bad_one(app, creds, kind):
    client, tok = admin(app, creds)
    before = count(app)
    data, name = ((xlsx_bytes(TABLE), "tinh.xlsx") if kind == "xlsx" else
                  (csv_bytes(TABLE, ";" if kind == "csv-semicolon" else ","), "tinh.csv"))
    r = client.post("/admin/procedures/import", data={
        "csrf_token": tok, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert count(app) == before + 2
    one, two = stored(app, "Đăng ký giám hộ"), stored(app, "Chứng thực chữ ký người dịch")
    assert one.papers == [{"name": "Tờ khai đăng ký giám hộ", "copies": 1, "kind": "original"},
                          {"name": "Văn bản cử người giám hộ", "copies": 1, "kind": "copy"}]
    assert one.fee_vnd == 0 and one.checked_on.isoformat() == "2025-11-15" and not one.sample
    assert two.fee_vnd == 10000 and two.sample and two.service_id == creds["services"]["CT"]
    assert refused_rows(html) == [
        ("3", "Thiếu tên thủ tục."),
        ("4", "Không có lĩnh vực mã “XYZ”."),
        ("6", "Lệ phí “mười lăm nghìn” không phải là số tiền (đồng) hoặc “miễn phí”."),
    ]
    assert stored(app, "Thủ tục lạ") is None and stored(app, "Đăng ký lưu trú") is None
    assert "thêm 2, cập nhật 0, từ chối 3 dòng" in html
    # The same file again updates instead of adding twice.
    client.post("/admin/procedures/import", data={
        "csrf_token": tok, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert count(app) == before + 2


def test_a_failure_while_storing_leaves_nothing_half_written(app, creds, monkeypatch):
    """The good rows go in one transaction: if storing the second fails, the first is
    rolled back too."""
    from counter_server import procedure_rows

    client, tok = admin(app, creds)
    before = count(app)
    real = procedure_rows.store
    calls = []

    def store(s, office_id, values, proc=None):
        calls.append(values["name"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(s, office_id, values, proc)

    monkeypatch.setattr(procedure_rows, "store", store)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = client.post("/admin/procedures/import", data={
        "csrf_token": tok, "file": (io.BytesIO(csv_bytes(TABLE)), "tinh.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 500 and len(calls) == 2
    assert count(app) == before and stored(app, "Đăng ký giám hộ") is None


def test_unreadable_files_are_refused_with_a_reason(app, creds):
    client, tok = admin(app, creds)
    before = count(app)
    for data, name, reason in [
            (b"PK\x03\x04 not really a zip", "x.xlsx", "Không đọc được tệp bảng tính .xlsx"),
            (csv_bytes([["a", "b"], ["1", "2"]]), "x.csv", "Dòng đầu tiên phải là tên các cột"),
            (b"", "x.csv", "Hãy chọn một tệp .xlsx hoặc .csv."),
            (b"name\n", "x.ods", "Hãy chọn một tệp .xlsx hoặc .csv.")]:
        r = client.post("/admin/procedures/import", data={
            "csrf_token": tok, "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data")
        assert r.status_code == 400 and reason in r.get_data(as_text=True), name
    assert count(app) == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_round_trips(app, creds, fmt):
    client, tok = admin(app, creds)
    r = client.get(f"/admin/procedures/export.{fmt}")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    if fmt == "xlsx":
        rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    else:
        rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert list(rows[0]) == HEADERS
    names = {row[2] for row in rows[1:]}
    assert {"Đăng ký khai sinh", "Đăng ký tạm trú", "Chứng thực bản sao từ bản chính"} <= names
    before = count(app)
    r = client.post("/admin/procedures/import", data={
        "csrf_token": tok, "file": (io.BytesIO(r.data), f"again.{fmt}")},
        content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert f"thêm 0, cập nhật {before}, từ chối 0 dòng" in html
    assert count(app) == before


def test_form_creates_edits_and_deletes_with_vietnamese_reasons(app, creds):
    client, tok = admin(app, creds)
    form = {"csrf_token": tok, "service_code": "HT", "name": "Thay đổi, cải chính hộ tịch",
            "papers": "Tờ khai | 1 | bản chính\nGiấy khai sinh | 1 | bản sao",
            "fee": "15.000", "time_limit": "03 ngày làm việc", "checked_on": "2025-12-01",
            "sample": "on"}
    assert client.post("/admin/procedures", data=form).status_code == 302
    p = stored(app, "Thay đổi, cải chính hộ tịch")
    assert p.fee_vnd == 15000 and p.sample and len(p.papers) == 2
    r = client.post(f"/admin/procedures/{p.id}", data={**form, "fee": "abc"})
    assert "Lệ phí “abc” không phải là số tiền" in r.get_data(as_text=True)
    r = client.post(f"/admin/procedures/{p.id}", data={**form, "name": "Đăng ký khai sinh"})
    assert "Lĩnh vực này đã có một thủ tục cùng tên." in r.get_data(as_text=True)
    r = client.post(f"/admin/procedures/{p.id}", data={**form, "papers": "Tờ khai | 0 | bản chính"})
    assert "Số bản của “Tờ khai” phải từ 1 đến 20." in r.get_data(as_text=True)
    assert client.post(f"/admin/procedures/{p.id}", data={**form, "fee": "Miễn phí"}
                       ).status_code == 302
    assert stored(app, "Thay đổi, cải chính hộ tịch").fee_vnd == 0
    page = client.get("/admin/procedures?q=cai chinh").get_data(as_text=True)
    assert "Thay đổi, cải chính hộ tịch" in page and "Đăng ký khai sinh" not in page
    assert client.post(f"/admin/procedures/{p.id}/delete", data={"csrf_token": tok}
                       ).status_code == 302
    assert stored(app, "Thay đổi, cải chính hộ tịch") is None
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "Xóa thủ tục “Thay đổi, cải chính hộ tịch”." in audit


def test_csrf_and_role_are_enforced(app, creds):
    client, tok = admin(app, creds)
    p = stored(app, "Đăng ký khai sinh")
    for path, data in [("/admin/procedures", {"service_code": "HT", "name": "X", "fee": "0"}),
                       (f"/admin/procedures/{p.id}/delete", {}),
                       ("/admin/procedures/import", {"file": (io.BytesIO(b"x"), "x.csv")})]:
        r = client.post(path, data=data, content_type="multipart/form-data")
        assert r.status_code in (400, 403), path
    assert stored(app, "Đăng ký khai sinh") is not None and stored(app, "X") is None
    officer = app.test_client()
    web_login(officer, creds, "lanhdao")
    assert officer.get("/admin/procedures").status_code == 403
    assert officer.get("/admin/procedures/export.csv").status_code == 403
    anonymous = app.test_client().get("/admin/procedures")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
