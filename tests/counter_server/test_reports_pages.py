"""The report pages as a leader uses them: the period picker, dates that cannot
be used, a long list of low ratings, long charts (office-day issue #15)."""
from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook

from counter_server import models as m
from counter_server.db import Database
from counter_server.reports import charts, excel

from . import reports_fixture

Q = "period=custom&from=2026-03-10&to=2026-03-10"


def _login(client, creds, who="lanhdao"):
    with client.session_transaction() as s:
        s["_user_id"] = str(creds["users"][who]["id"])
        s["sv"] = 0


def _issued(page: str) -> str:
    return re.search(r'id="f-issued">([^<]*)<', page).group(1)


def test_typed_dates_count_without_ticking_custom(client, creds, sqlite_url) -> None:
    """The picker sends the checked named period with the typed dates: the dates win."""
    reports_fixture.build(sqlite_url, creds)
    _login(client, creds)
    page = client.get("/reports/?period=month&from=2026-03-10&to=2026-03-10").get_data(as_text=True)
    assert _issued(page) == "7"
    assert re.search(r'value="custom"\s+checked', page)
    # a named period whose own dates come back with it stays that period
    today = client.get("/reports/?period=today").get_data(as_text=True)
    first = re.search(r'name="from" value="([^"]+)"', today).group(1)
    again = client.get(f"/reports/?period=today&from={first}&to={first}").get_data(as_text=True)
    assert re.search(r'value="today"\s+checked', again)


def test_unusable_dates_give_a_vietnamese_message_and_keep_the_form(client, creds, sqlite_url) -> None:
    reports_fixture.build(sqlite_url, creds)
    _login(client, creds)
    for query, words in (("from=2026-03-12&to=2026-03-10", "Ngày bắt đầu sau ngày kết thúc"),
                         ("from=2026-02-30&to=2026-03-10", "không phải là ngày hợp lệ"),
                         ("from=hôm-qua&to=2026-03-10", "không phải là ngày hợp lệ"),
                         ("from=2020-01-01&to=2026-03-10", "tối đa ba năm")):
        r = client.get("/reports/?period=custom&" + query)
        page = r.get_data(as_text=True)
        assert r.status_code == 400 and r.mimetype == "text/html", query
        assert "Bad Request" not in page and words in page, query
        assert 'id="period-error"' in page and 'id="rp-form"' in page, query
        typed = dict(x.split("=") for x in query.split("&"))
        assert f'name="from" value="{typed["from"]}"' in page, query
        assert 'value="custom"' in page and 'id="f-issued"' not in page, query
    r = client.get("/reports/export.xlsx?period=custom&from=2026-03-12&to=2026-03-10")
    assert r.status_code == 400 and "Ngày bắt đầu sau ngày kết thúc" in r.get_data(as_text=True)


def _many_low_ratings(url: str, creds: dict, n: int) -> None:
    db = Database(url, pool_size=1)
    try:
        with db.write() as s:
            t = s.query(m.Ticket).filter(m.Ticket.number == 1002).one()
            for i in range(n):
                s.add(m.Rating(office_id=t.office_id, ticket_id=None, level=1,
                               reasons=["attitude"], comment=f"góp ý {i:03d}", channel="kiosk",
                               service_id=t.service_id, counter_id=t.counter_id,
                               staff_id=t.staff_id,
                               created_at=dt.datetime(2026, 3, 10, 3, 0, 0) + dt.timedelta(seconds=i),
                               misuse=False, misuse_reason=""))
    finally:
        db.dispose()


def test_low_ratings_say_when_cut_and_page_on(client, creds, sqlite_url) -> None:
    reports_fixture.build(sqlite_url, creds)
    _many_low_ratings(sqlite_url, creds, 210)  # 212 low ratings with the fixture's two
    _login(client, creds)
    page = client.get("/reports/?" + Q).get_data(as_text=True)
    table = page[page.index('id="low-ratings"'):]
    assert table.count("<tr>") - 1 == 200
    note = page[page.index('id="low-note"'):]
    note = note[:note.index("</p>")]
    assert "(212)" in page and "1–200" in note and "212" in note
    assert "Đánh giá thấp" in note and "export.xlsx" in note
    nxt = re.search(r'href="([^"]+)#low" id="low-next"', page).group(1).replace("&amp;", "&")
    rest = client.get(nxt).get_data(as_text=True)
    assert rest[rest.index('id="low-ratings"'):].count("<tr>") - 1 == 12
    assert "201–212" in rest and 'id="low-prev"' in rest and 'id="low-next"' not in rest
    assert "Chờ lâu quá" in rest  # the oldest ones come last
    wb = load_workbook(io.BytesIO(client.get("/reports/export.xlsx?" + Q).data))
    assert wb["Đánh giá thấp"].max_row == 214  # count line + header + every low rating


def test_excel_lists_the_newest_low_ratings_and_says_how_many(client, creds, sqlite_url) -> None:
    reports_fixture.build(sqlite_url, creds)
    _many_low_ratings(sqlite_url, creds, excel.LOW_SHEET_LIMIT + 10)  # with the fixture's two
    _login(client, creds)
    page = client.get("/reports/?" + Q).get_data(as_text=True)
    note = page[page.index('id="low-note"'):]
    assert "Tệp Excel liệt kê 1.000 đánh giá mới nhất" in note[:note.index("</p>")]
    sheet = load_workbook(io.BytesIO(client.get("/reports/export.xlsx?" + Q).data))["Đánh giá thấp"]
    assert sheet["A1"].value.startswith("1.012 đánh giá thấp trong kỳ; dưới đây là 1.000 "
                                        "đánh giá mới nhất.")
    assert sheet.max_row == 2 + excel.LOW_SHEET_LIMIT
    comments = [row[4].value for row in sheet.iter_rows(min_row=3)]
    assert comments[0] == "góp ý 1009" and comments[-1] == "góp ý 010"  # newest first


def test_long_charts_put_the_year_on_their_labels() -> None:
    def labels(first: dt.date, days: int) -> list[str]:
        rows = [((first + dt.timedelta(days=i)).isoformat(), 1, 1, None) for i in range(days)]
        svg = charts.daily_trend("t", rows)
        return re.findall(r'font-size="9"[^>]*>([^<]+)<', svg)

    short = labels(dt.date(2026, 3, 1), 10)
    assert short[0] == "01/03" and len(short) == 10
    across = labels(dt.date(2025, 12, 25), 14)  # spans two years
    assert "25/12/2025" in across and any(x.endswith("/2026") for x in across)
    year = labels(dt.date(2026, 1, 1), 200)  # long, in one year
    assert all(re.fullmatch(r"\d\d/\d\d/2026", x) for x in year) and 8 <= len(year) <= 13


def test_csv_by_hour_and_weekday(client, creds, sqlite_url) -> None:
    reports_fixture.build(sqlite_url, creds)
    _login(client, creds)
    page = client.get("/reports/?" + Q).get_data(as_text=True)
    assert "group_by=weekday" in page and "group_by=hour" in page
    by_day = client.get("/reports/export.csv?group_by=weekday&" + Q).get_data(as_text=True)
    assert by_day.startswith("\ufeffThứ,") and "\nThứ Ba,7,5,1,1," in by_day.replace("\r\n", "\n")
    by_hour = client.get("/reports/export.csv?group_by=hour&" + Q).get_data(as_text=True)
    assert "\n08:00,1,1,0,0," in by_hour.replace("\r\n", "\n")
