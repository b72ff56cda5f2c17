"""Every expected failure of the ``motcua`` command is one line on stderr and a
non-zero exit code, never a traceback (real processes, real files, a real
busy port)."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.counter_server.test_cli import motcua

VI = {"MOTCUA_LANG": "vi"}


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inst = tmp_path_factory.mktemp("cli-failures") / "inst"
    r = motcua(inst, "init", "--office-name", "UBND xã Thử", "--admin", "quantri",
               "--password-stdin", stdin="mat-khau-dau-tien\n")
    assert r.returncode == 0, r.stderr
    return inst


def one_line_failure(r, *expected: str) -> str:
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr + r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("Lỗi:"), lines[0]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("args,expected", [
    (("user", "passwd", "khong-co", "--password-stdin"), ("khong-co",)),
    (("user", "unlock", "khong-co"), ("khong-co",)),
    (("user", "deactivate", "khong-co"), ("khong-co",)),
    (("device", "revoke", "Không có"), ("Không có",)),
    (("device", "revoke", "999"), ("999",)),
    (("device", "add", "Máy đánh giá", "--kind", "rating", "--counter", "7"), ("quầy 7",)),
    (("device", "add", "Máy đánh giá", "--kind", "rating"), ("--counter",)),
    (("user", "add", "quantri", "--role", "admin", "--password-stdin"), ("quantri",)),
    (("user", "add", "Tên Có Dấu", "--role", "staff"), ("Tên đăng nhập",)),
    (("init", "--office-name", "Xã khác"), ("UBND xã Thử",)),
    (("init", "--timezone", "Sao/Hoa"), ("Sao/Hoa",)),
    (("office", "set"), ("--name",)),
    (("user", "add"), ("NAME",)),
    (("khong-co-lenh",), ("khong-co-lenh",)),
])
def test_refusals(office: Path, args: tuple[str, ...], expected: tuple[str, ...]):
    one_line_failure(motcua(office, *args, stdin="mat-khau-dau-tien\n", env=VI), *expected)


def test_backup_into_a_missing_folder(office: Path, tmp_path: Path):
    target = tmp_path / "khong-co" / "sao-luu.sqlite3"
    one_line_failure(motcua(office, "backup", str(target), env=VI), str(target.parent))
    assert not target.parent.exists()


def test_backup_folder_from_the_environment_is_never_created(office: Path, tmp_path: Path):
    usb = tmp_path / "usb"
    one_line_failure(motcua(office, "backup", env={**VI, "MOTCUA_BACKUP_DIR": str(usb)}), str(usb))
    assert not usb.exists()


def test_restore_of_a_file_that_is_not_a_database(office: Path, tmp_path: Path):
    junk = tmp_path / "ghi-chu.txt"
    junk.write_text("không phải cơ sở dữ liệu\n" * 200, encoding="utf-8")
    one_line_failure(motcua(office, "restore", str(junk), "--yes", env=VI), str(junk))
    one_line_failure(motcua(office, "restore", str(tmp_path / "khong-co.sqlite3"), "--yes", env=VI))


def test_restore_unconfirmed_changes_nothing(office: Path, tmp_path: Path):
    copy = tmp_path / "copy.sqlite3"
    assert motcua(office, "backup", str(copy)).returncode == 0
    r = motcua(office, "restore", str(copy), stdin="n\n", env=VI)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "Đã hủy" in r.stderr


def test_commands_on_a_missing_instance_say_init_first(tmp_path: Path):
    one_line_failure(motcua(tmp_path / "none", "device", "add", "K", "--kind", "kiosk", env=VI),
                     "motcua init")


def test_serve_on_a_busy_port(office: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = motcua(office, "serve", "--port", str(port), env=VI)
    line = one_line_failure(r, str(port))
    assert "đang chạy" not in r.stdout + line  # never claims to run before it listens


def test_bad_backup_settings(office: Path):
    one_line_failure(motcua(office, "backup", env={**VI, "MOTCUA_BACKUP_KEEP_DAYS": "mười"}),
                     "MOTCUA_BACKUP_KEEP_DAYS")
