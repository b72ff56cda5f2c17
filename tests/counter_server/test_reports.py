"""Report figures against the hand-computed history in reports_fixture.py."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from counter_server import models as m
from counter_server.db import Database
from counter_server.reports import ratings as rt
from counter_server.reports.period import make_period
from counter_server.reports.scope import Filters, Scope
from counter_server.reports.tables import Report
from tests.conftest import seed_database

from . import reports_fixture

TZ = "Asia/Ho_Chi_Minh"


def _ctx(s, creds, first="2026-03-10", last=None, **kw):
    office = s.get(m.Office, creds["office_id"])
    period = make_period("custom", TZ, first, last or first)
    return Scope(s, office, period, kw.pop("filters", Filters()), **kw)


def _total(sc):
    return Report(sc, ()).total()


def _rows(sc, group):
    return Report(sc, [group], p90_groups=[group]).rows(group)


def test_figures_hand_computed_both_databases(db_url: str) -> None:
    creds = seed_database(db_url)
    reports_fixture.build(db_url, creds)
    db = Database(db_url, pool_size=1)
    try:
        with db.read() as s:
            t = _total(_ctx(s, creds))
            assert (t["issued"], t["served"], t["no_show"], t["cancelled"]) == (7, 5, 1, 1)
            assert t["avg_wait"] == pytest.approx(750)
            assert t["p90_wait"] == pytest.approx(1500)
            assert t["avg_service"] == pytest.approx(552)
            assert t["p90_service"] == pytest.approx(960)
            assert t["levels"] == {4: 1, 3: 1, 2: 1, 1: 1}
            assert t["official"] == {"very_satisfied": 1, "satisfied": 2, "unsatisfied": 1}
            assert t["official_share"]["satisfied"] == pytest.approx(0.5)
            assert t["coverage"] == pytest.approx(0.8)
            assert t["misuse"] == {"too_fast": 1}

            # misuse included on request: the extra level-1 press counts
            t2 = _total(_ctx(s, creds, include_misuse=True))
            assert t2["levels"][1] == 2 and t2["rated"] == 5

            by_staff = {r["label"]: r for r in _rows(_ctx(s, creds), "staff")}
            hoa, minh = by_staff["Nguyễn Thị Hoa"], by_staff["Trần Văn Minh"]
            assert (hoa["issued"], hoa["served"], hoa["rated"]) == (3, 3, 3)
            assert hoa["p90_wait"] == pytest.approx(540)  # [0, 300, 600]
            assert (minh["issued"], minh["served"], minh["no_show"]) == (3, 2, 1)
            assert minh["avg_wait"] == pytest.approx(1200)
            assert minh["p90_wait"] == pytest.approx(1680)  # [600, 1200, 1800]
            assert minh["coverage"] == pytest.approx(0.5)

            # filters: one officer
            only = _total(_ctx(s, creds, filters=Filters(staff_id=creds["users"]["canbo2"]["id"])))
            assert (only["issued"], only["levels"][1], only["rated"]) == (3, 1, 1)

            # across midnight: 10 and 11 March local hold t6 (00:30 on the 11th)
            days = {r["key"]: r for r in _rows(_ctx(s, creds, "2026-03-10", "2026-03-11"), "day")}
            assert days["2026-03-10"]["issued"] == 7 and days["2026-03-11"]["issued"] == 1
            assert days["2026-03-11"]["levels"][4] == 1
            prev = _total(_ctx(s, creds, "2026-03-09"))
            assert prev["issued"] == 1  # t7 at 23:59 local on the 9th

            hours = {r["key"]: r["issued"] for r in _rows(_ctx(s, creds), "hour")}
            assert hours == {0: 1, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1, 13: 1}
            heat = Report(_ctx(s, creds), [], heatmap=True).heatmap()
            assert heat == {(1, h): 1 for h in (0, 8, 9, 10, 11, 12, 13)}  # a Tuesday

            bands = rt.wait_bands(_ctx(s, creds))
            assert [b["rated"] for b in bands] == [1, 2, 1, 0, 0]
            assert bands[1]["low_share"] == pytest.approx(0.5) and bands[2]["low_share"] == 1.0

            low = rt.low_ratings(_ctx(s, creds))
            assert [(r["level"], r["reasons"], r["comment"]) for r in low] == [
                (1, ["Thái độ chưa đúng mực"], ""), (2, ["Thời gian chờ lâu"], "Chờ lâu quá")]
    finally:
        db.dispose()


def test_periods_follow_local_calendar() -> None:
    p = make_period("today", TZ, today=dt.date(2026, 3, 10))
    assert (p.start_utc, p.end_utc) == (dt.datetime(2026, 3, 9, 17), dt.datetime(2026, 3, 10, 17))
    q = make_period("quarter", TZ, today=dt.date(2026, 11, 26))
    assert (q.first, q.last) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    w = make_period("week", TZ, today=dt.date(2026, 11, 26))
    assert (w.first, w.last) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert make_period("month", TZ, today=dt.date(2026, 2, 10)).last == dt.date(2026, 2, 28)


def _login(client, creds, who="lanhdao"):
    with client.session_transaction() as s:
        s["_user_id"] = str(creds["users"][who]["id"])
        s["sv"] = 0


Q = "period=custom&from=2026-03-10&to=2026-03-10"


def test_pages_api_and_exports(app, client, creds, sqlite_url) -> None:
    reports_fixture.build(sqlite_url, creds)
    assert client.get("/reports/?" + Q).status_code == 302  # anonymous -> sign-in
    assert client.get("/api/v1/reports/summary").status_code == 401
    _login(client, creds, "canbo1")
    assert client.get("/reports/?" + Q).status_code == 403
    _login(client, creds)
    page = client.get("/reports/?" + Q).get_data(as_text=True)
    for text in ("Số vé đã phát", 'id="f-issued">7<', 'id="f-p90-wait">25,0 phút<',
                 'id="f-coverage">80,0 %<', "Chờ lâu quá", "Thái độ chưa đúng mực", "<svg"):
        assert text in page
    staff_page = client.get(f"/reports/staff/{creds['users']['canbo2']['id']}?" + Q)
    assert 'id="f-issued">3<' in staff_page.get_data(as_text=True)

    r = client.get("/api/v1/reports/summary?from=2026-03-10&to=2026-03-10&group_by=service")
    body = r.get_json()
    assert r.status_code == 200 and body["total"]["issued"] == 7
    assert body["total"]["p90_service_seconds"] == pytest.approx(960)
    assert {row["label"]: row["issued"] for row in body["rows"]} == {
        "Tư pháp – Hộ tịch": 4, "Chứng thực": 3}
    assert client.get("/api/v1/reports/summary?group_by=nope").status_code == 400

    x = client.get("/reports/export.xlsx?" + Q)
    wb = load_workbook(io.BytesIO(x.data))
    assert wb.sheetnames == ["Tổng hợp", "Cán bộ", "Quầy", "Lĩnh vực", "Ngày", "Đánh giá thấp"]
    head = [c.value for c in wb["Tổng hợp"][2]]
    total = dict(zip(head, [c.value for c in wb["Tổng hợp"][3]]))
    assert total["Số vé phát"] == 7 and total["Vắng mặt"] == 1
    assert total["Chờ P90 (phút)"] == pytest.approx(25.0)
    assert total["Tỷ lệ hài lòng"] == pytest.approx(0.5)
    assert wb["Tổng hợp"].cell(row=3, column=head.index("Tỷ lệ hài lòng") + 1).number_format == "0.0%"
    staff = {row[0].value: row for row in wb["Cán bộ"].iter_rows(min_row=3)}
    assert staff["Trần Văn Minh"][head.index("Chờ TB (phút)")].value == pytest.approx(20.0)
    assert wb["Đánh giá thấp"].max_row == 4  # the count line, the header, two low ratings
    assert wb["Đánh giá thấp"]["A1"].value == "2 đánh giá thấp trong kỳ, mới nhất trước."
    assert wb["Đánh giá thấp"]["A3"].value == dt.datetime(2026, 3, 10, 9, 30)  # local time

    csv = client.get("/reports/export.csv?group_by=day&" + Q).get_data(as_text=True)
    assert csv.startswith("\ufeffNgày,") and "10/03/2026,7,5,1,1," in csv


def test_summary_in_openapi(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/reports/summary" in spec["paths"]
    params = {p["name"] for p in spec["paths"]["/api/v1/reports/summary"]["get"]["parameters"]}
    assert {"from", "to", "group_by"} <= params


def test_upgrade_drops_the_old_report_cache(db_url: str) -> None:
    """A database made before 0007 has the cache tables; `motcua init` upgrades it
    and they are gone, the rest of the schema stays."""
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from counter_server.migrate import alembic_config, upgrade

    command.upgrade(alembic_config(db_url), "0006_queue_heads")
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    assert {"report_day", "report_cache_state"} <= set(inspect(engine).get_table_names())
    upgrade(db_url)
    tables = set(inspect(engine).get_table_names())
    assert not {"report_day", "report_cache_state"} & tables and {"ticket", "rating"} <= tables
    engine.dispose()
