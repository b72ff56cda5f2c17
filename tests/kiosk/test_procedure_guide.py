"""The kiosk's procedure guide in a real Kivy window against a real running server: open
it from home, search with the on-screen Vietnamese keyboard, read a procedure, print its
checklist, take a ticket for its service, browse by service (1920x1080 and 1280x800)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from kiosk.procedure_search import ProcedureIndex
from tests.conftest import LiveServer
from tests.kiosk import test_kiosk_app as kiosk_tests

pytestmark = pytest.mark.slow
DRIVER = Path(__file__).with_name("procedure_driver.py")


@pytest.mark.parametrize("size", ["1920x1080", "1280x800"])
def test_guide_search_page_checklist_and_ticket(live_server: LiveServer, tmp_path: Path,
                                                size: str, monkeypatch) -> None:
    monkeypatch.setattr(kiosk_tests, "DRIVER", DRIVER)
    preview = tmp_path / "tickets"
    data = kiosk_tests.run_driver(tmp_path, "guide", [
        "--server", live_server.url, "--token", live_server.token("kiosk"), "--windowed",
        "--size", size, "--priority-step", "off", "--printer", "preview",
        "--preview-dir", str(preview)], steps={}, extra={"browse_service": "Cư trú"})
    assert data["all_count"] >= 17
    assert data["tam_tru"][0] == "Đăng ký tạm trú"
    assert data["khai_sinh"][0] == "Đăng ký khai sinh"
    typed, found = data["tone_typed"]
    assert typed == "tạm" and "Đăng ký tạm trú" in found
    page = data["page"]
    assert page["title"] == "Đăng ký khai sinh"
    assert "1. Tờ khai đăng ký khai sinh (theo mẫu): 1 bản chính" in page["papers"]
    assert "Lệ phí: miễn phí" in page["facts"] and "Luật Hộ tịch 2014" in page["facts"]
    assert page["sample"] == "Thông tin mẫu: ông/bà vui lòng hỏi lại cán bộ"
    assert data["print_text"] == "Mời ông/bà nhận phiếu danh mục giấy tờ bên dưới."
    checklists = sorted(preview.glob("checklist-*.png"))
    assert len(checklists) == 1 and Image.open(checklists[0]).width == 576
    assert data["ticket"]["service_id"] == page["service_id"] == live_server.creds["services"]["HT"]
    assert len(sorted(preview.glob("ticket-*.png"))) == 1
    assert data["search_after"] == ""
    assert "Đăng ký tạm trú" in data["browsed"] and "Đăng ký khai sinh" not in data["browsed"]


def test_local_search_matches_the_server_rules() -> None:
    procs = [{"id": 1, "service_id": 1, "service_name": "Hộ tịch", "name": "Đăng ký khai sinh",
              "code": "", "papers": [{"name": "Giấy chứng sinh"}]},
             {"id": 2, "service_id": 2, "service_name": "Cư trú", "name": "Đăng ký tạm trú",
              "code": "", "papers": [{"name": "Tờ khai CT01"}]},
             {"id": 3, "service_id": 1, "service_name": "Hộ tịch", "name": "Trích lục khai sinh",
              "code": "", "papers": []}]
    index = ProcedureIndex(procs)
    ids = lambda q, sid=None: [p["id"] for p in index.search(q, sid)]  # noqa: E731
    assert ids("dang ky tam tru") == [2]
    assert ids("KHAI SINH") == [1, 3]
    assert ids("chung sinh") == [1]  # found by its papers
    assert ids("ct01") == [2]
    assert ids("đăng ký", 2) == [2]
    assert ids("", 1) == [1, 3]
    assert ids("tam trus") == []
    assert index.services == [(1, "Hộ tịch"), (2, "Cư trú")]
