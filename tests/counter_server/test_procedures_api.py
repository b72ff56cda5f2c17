"""GET /api/v1/procedures and /procedures/{id} over HTTP against the running server, on
SQLite and PostgreSQL: who may read, diacritic-insensitive search, JSON errors in
Vietnamese, the OpenAPI document."""
from __future__ import annotations

from typing import Iterator

import pytest
import requests

from counter_server.search_text import fold, matches, terms
from tests.conftest import LiveServer, bearer, module_live_server


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveServer]:
    yield from module_live_server(request.param, tmp_path_factory.mktemp(f"proc-{request.param}"))


def get(server: LiveServer, path: str, token: str | None, **params: object) -> requests.Response:
    return requests.get(server.url + "/api/v1" + path, params=params,
                        headers=bearer(token) if token else {}, timeout=10)


def names(r: requests.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [p["name"] for p in r.json()["procedures"]]


@pytest.mark.parametrize("query,expected", [
    ("dang ky tam tru", "Đăng ký tạm trú"),
    ("khai sinh", "Đăng ký khai sinh"),
    ("KHAI SINH", "Đăng ký khai sinh"),
    ("Đăng Ký Kết Hôn", "Đăng ký kết hôn"),
    ("đăng ky ket hon", "Đăng ký kết hôn"),
    ("chung thuc ban sao", "Chứng thực bản sao từ bản chính"),
    ("the bhyt", None),  # "bhyt" is in the papers' names, not in the procedure's name
    ("tam tru dang ky", "Đăng ký tạm trú"),  # word order does not matter
])
def test_search_ignores_diacritics_and_case(server: LiveServer, query: str, expected: str | None):
    found = names(get(server, "/procedures", server.token("kiosk"), q=query))
    if expected is None:
        assert found and all("bảo hiểm y tế" in n.lower() for n in found), found
    else:
        assert found[0] == expected, found


def test_search_finds_nothing_for_unrelated_words_and_filters_by_service(server: LiveServer):
    kiosk = server.token("kiosk")
    assert names(get(server, "/procedures", kiosk, q="tàu vũ trụ")) == []
    assert names(get(server, "/procedures", kiosk, q="am")) == []  # whole-word starts only
    everything = get(server, "/procedures", kiosk).json()["procedures"]
    assert len(everything) >= 17 and all(p["sample"] for p in everything)
    cu = server.creds["services"]["CU"]
    only_cu = get(server, "/procedures", kiosk, service_id=cu).json()["procedures"]
    assert {p["service_id"] for p in only_cu} == {cu}
    assert "Đăng ký tạm trú" in [p["name"] for p in only_cu]
    assert names(get(server, "/procedures", kiosk, service_id=cu, q="khai sinh")) == []


def test_one_procedure_and_its_papers(server: LiveServer):
    token = server.token("display")
    first = next(p for p in get(server, "/procedures", token, q="tam tru").json()["procedures"])
    r = get(server, f"/procedures/{first['id']}", token)
    assert r.status_code == 200
    body = r.json()
    assert body == first
    assert body["service_code"] == "CU" and body["fee_vnd"] == 15000 and not body["free"]
    assert {"name": "Tờ khai thay đổi thông tin cư trú (mẫu CT01)", "copies": 1,
            "kind": "original"} in body["papers"]
    assert "Luật Cư trú 2020" in body["legal_basis"]
    birth = get(server, "/procedures", token, q="dang ky khai sinh").json()["procedures"][0]
    assert birth["free"] and birth["fee_vnd"] == 0


def test_who_may_read_and_errors_in_vietnamese(server: LiveServer):
    staff = server.staff_token(1)
    assert names(get(server, "/procedures", staff, q="khai tu"))[0] == "Đăng ký khai tử"
    assert names(get(server, "/procedures", server.login("lanhdao"), q="khai tu"))
    r = get(server, "/procedures", None)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = get(server, "/procedures", server.token("rating1"))
    assert r.status_code == 403 and r.json()["error"] == {
        "code": "forbidden", "message": "Bạn không có quyền thực hiện thao tác này."}
    r = get(server, "/procedures/999999", server.token("kiosk"))
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "procedure_not_found", "message": "Không tìm thấy thủ tục."}
    r = get(server, "/procedures", server.token("kiosk"), q="x" * 201)
    assert r.status_code == 400 and r.json()["error"]["message"]
    r = get(server, "/procedures", server.token("kiosk"), service_id="abc")
    assert r.status_code == 400


def test_the_openapi_document_declares_both_operations(server: LiveServer):
    doc = requests.get(server.url + "/api/v1/openapi.json", timeout=10).json()
    listing = doc["paths"]["/api/v1/procedures"]["get"]
    assert {"400", "401", "403", "200"} <= set(listing["responses"])
    assert {p["name"] for p in listing["parameters"]} >= {"q", "service_id"}
    detail = doc["paths"]["/api/v1/procedures/{procedure_id}"]["get"]
    assert {"200", "400", "401", "403", "404"} <= set(detail["responses"])


def test_fold_handles_d_with_stroke_and_tones():
    assert fold("ĐĂNG KÝ Đất đai – Xây dựng") == "dang ky dat dai xay dung"
    assert fold("Thủ tục\u00a0cần  giấy tờ gì?") == "thu tuc can giay to gi"
    # Decomposed input (NFD, as some keyboards send) folds the same as composed.
    import unicodedata

    assert fold(unicodedata.normalize("NFD", "Đăng ký tạm trú")) == "dang ky tam tru"
    assert matches(fold("Đăng ký khai sinh"), terms("khai sinh"))
    assert matches(fold("Đăng ký khai sinh"), terms("dang ky kh"))  # still typing "khai"
    assert not matches(fold("Đăng ký khai sinh"), terms("dang k khai"))  # only the last may be cut
    assert not matches(fold("Đăng ký khai sinh"), terms("dang ki"))  # "ki" is not "ky"
    assert not matches(fold("Đăng ký khai sinh"), terms("sinh tu"))
