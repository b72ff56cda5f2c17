"""The motcua command line, run as a real process on a real SQLite file."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import LiveServer, bearer


def motcua(inst: Path, *args: str, stdin: str | None = None, env: dict | None = None):
    e = {**os.environ, **(env or {})}
    e.pop("MOTCUA_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "counter_server.cli", "--instance", str(inst), *args],
                          input=stdin, capture_output=True, text=True, env=e, timeout=120)


def test_init_user_device_backup(tmp_path: Path):
    inst = tmp_path / "inst"
    r = motcua(inst, "init", "--office-name", "UBND xã Thử")
    assert r.returncode == 0, r.stderr
    assert "UBND xã Thử" in r.stdout and "user add" in r.stdout  # says the admin is still missing
    assert (inst / "motcua.sqlite3").exists()
    assert motcua(inst, "init").returncode == 0  # migrating again is a no-op
    with sqlite3.connect(inst / "motcua.sqlite3") as db:
        assert db.execute("select count(*) from user").fetchone()[0] == 0  # no default account
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"

    short = motcua(inst, "user", "add", "admin", "--role", "admin", "--password-stdin", stdin="short\n")
    assert short.returncode != 0 and "8" in short.stderr
    ok = motcua(inst, "user", "add", "admin", "--role", "admin", "--password-stdin",
                stdin="a-long-secret\n")
    assert ok.returncode == 0, ok.stderr
    dup = motcua(inst, "user", "add", "admin", "--role", "admin", "--password-stdin",
                 stdin="a-long-secret\n")
    assert dup.returncode != 0
    with sqlite3.connect(inst / "motcua.sqlite3") as db:
        (hashed,) = db.execute("select password_hash from user").fetchone()
    assert hashed.startswith("$argon2") and "a-long-secret" not in hashed

    dev = motcua(inst, "device", "add", "Kiosk sảnh", "--kind", "kiosk")
    assert dev.returncode == 0, dev.stderr
    token = dev.stdout.strip().splitlines()[-1]
    assert len(token) >= 40
    with sqlite3.connect(inst / "motcua.sqlite3") as db:
        (th,) = db.execute("select token_hash from device").fetchone()
    assert token not in th and len(th) == 64  # SHA-256 at rest
    bad = motcua(inst, "device", "add", "Tablet", "--kind", "rating")
    assert bad.returncode != 0
    listed = motcua(inst, "device", "list")
    assert listed.returncode == 0 and "Kiosk sảnh" in listed.stdout and token not in listed.stdout

    backup = tmp_path / "backup.sqlite3"
    b = motcua(inst, "backup", str(backup))
    assert b.returncode == 0, b.stderr
    with sqlite3.connect(backup) as db:
        assert db.execute("select username from user").fetchone()[0] == "admin"
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert motcua(inst, "backup", str(backup)).returncode != 0  # never overwrites


def test_demo_credentials_work_against_a_served_database(tmp_path: Path):
    inst = tmp_path / "inst"
    creds_file = tmp_path / "creds.json"
    r = motcua(inst, "init", "--demo", "--always-open", "--credentials-out", str(creds_file))
    assert r.returncode == 0, r.stderr
    creds = json.loads(creds_file.read_text(encoding="utf-8"))
    for name, u in creds["users"].items():  # printed once, on the console
        assert name in r.stdout and u["password"] in r.stdout
    assert motcua(inst, "init", "--demo").returncode == 0  # not seeded twice
    url = f"sqlite:///{(inst / 'motcua.sqlite3').as_posix()}"
    server = LiveServer(url, inst, creds).start()
    try:
        services = requests.get(server.url + "/api/v1/services", timeout=10,
                                headers=bearer(creds["devices"]["kiosk"]["token"])).json()
        assert [s["code"] for s in services["services"]] == ["HT", "CT", "BHYT", "CU", "DD", "LDXH"]
        assert services["services"][0]["name"] == "Tư pháp – Hộ tịch"
        assert server.staff_token(1)
    finally:
        server.stop()


def test_tokens_and_passwords_never_start_with_a_dash():
    """They go on command lines (`motcua kiosk --token ...`); a leading dash
    would read as an option.  One random token in 64 starts with one."""
    import argparse

    from counter_server.security import new_token
    from counter_server.seed import new_password

    made = [new_token() for _ in range(2000)] + [new_password() for _ in range(2000)]
    assert not [t for t in made if t.startswith("-")]
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    assert all(parser.parse_args(["--token", t]).token == t for t in made[:200])


def test_init_creates_the_office_and_first_admin(tmp_path: Path):
    """A new database: office, time zone and first administrator in one command;
    on an existing office a different name is refused, saying what to do."""
    inst = tmp_path / "inst"
    r = motcua(inst, "init", "--office-name", "UBND xã Quảng Khê", "--timezone", "Asia/Bangkok",
               "--admin", "quantri", "--password-stdin", stdin="mat-khau-dau-tien\n")
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(inst / "motcua.sqlite3") as db:
        assert db.execute("select name, timezone from office").fetchall() == [
            ("UBND xã Quảng Khê", "Asia/Bangkok")]
        assert db.execute("select username, role from user").fetchall() == [("quantri", "admin")]
    again = motcua(inst, "init", "--office-name", "UBND xã Quảng Khê")
    assert again.returncode == 0, again.stderr  # the same name: nothing to do
    other = motcua(inst, "init", "--office-name", "Xã khác", env={"MOTCUA_LANG": "vi"})
    assert other.returncode == 1
    assert "UBND xã Quảng Khê" in other.stderr and "motcua office set --name" in other.stderr
    renamed = motcua(inst, "office", "set", "--name", "Xã khác")
    assert renamed.returncode == 0, renamed.stderr
    shown = motcua(inst, "office", "show")
    assert "Xã khác (Asia/Bangkok)" in shown.stdout

    fresh = tmp_path / "fresh"
    assert motcua(fresh, "user", "add", "quantri", "--role", "admin", "--password-stdin",
                  stdin="mat-khau-dau-tien\n").returncode == 1  # no office made silently
    with sqlite3.connect(fresh / "motcua.sqlite3") as db:
        assert db.execute("select count(*) from office").fetchone()[0] == 0


def test_accounts_list_passwd_unlock_deactivate(tmp_path: Path):
    from counter_server.security import verify_password

    inst = tmp_path / "inst"
    assert motcua(inst, "init", "--office-name", "UBND xã Thử", "--admin", "quantri",
                  "--password-stdin", stdin="mat-khau-dau-tien\n").returncode == 0
    assert motcua(inst, "user", "add", "canbo1", "--role", "staff", "--full-name", "Nguyễn Thị Hoa",
                  "--password-stdin", stdin="mat-khau-can-bo\n").returncode == 0
    db_file = inst / "motcua.sqlite3"
    with sqlite3.connect(db_file) as db:  # five wrong passwords locked the admin out
        db.execute("update user set failed_logins = 5, locked_until = '2999-01-01 00:00:00' "
                   "where username = 'quantri'")
    listed = motcua(inst, "user", "list", env={"MOTCUA_LANG": "vi"})
    assert listed.returncode == 0
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "đang bị khóa" in lines["quantri"] and "Nguyễn Thị Hoa" in lines["canbo1"]

    assert motcua(inst, "user", "unlock", "quantri").returncode == 0
    with sqlite3.connect(db_file) as db:
        assert db.execute("select failed_logins, locked_until from user "
                          "where username = 'quantri'").fetchone() == (0, None)

    with sqlite3.connect(db_file) as db:
        db.execute("insert into api_token (user_id, token_hash, created_at, expires_at, revoked) "
                   "select id, 'x', '2026-01-01', '2999-01-01', 0 from user where username = 'canbo1'")
    assert motcua(inst, "user", "passwd", "canbo1", "--password-stdin",
                  stdin="mat-khau-moi-1\n").returncode == 0
    with sqlite3.connect(db_file) as db:
        hashed, version = db.execute("select password_hash, session_version from user "
                                     "where username = 'canbo1'").fetchone()
        assert db.execute("select revoked from api_token").fetchone() == (1,)
    assert verify_password(hashed, "mat-khau-moi-1") and version == 1

    assert motcua(inst, "user", "deactivate", "canbo1").returncode == 0
    only = motcua(inst, "user", "deactivate", "quantri")
    assert only.returncode == 1  # the last administrator stays
    with sqlite3.connect(db_file) as db:
        assert db.execute("select username, active from user order by username").fetchall() == [
            ("canbo1", 0), ("quantri", 1)]


def test_device_revoke_by_name_or_id(tmp_path: Path):
    inst = tmp_path / "inst"
    assert motcua(inst, "init", "--office-name", "UBND xã Thử").returncode == 0
    for name in ("Kiosk sảnh", "Màn hình sảnh"):
        assert motcua(inst, "device", "add", name, "--kind", "kiosk" if "Kiosk" in name
                      else "display").returncode == 0
    assert motcua(inst, "device", "revoke", "Kiosk sảnh").returncode == 0
    assert motcua(inst, "device", "revoke", "2").returncode == 0
    with sqlite3.connect(inst / "motcua.sqlite3") as db:
        assert db.execute("select name, revoked from device order by id").fetchall() == [
            ("Kiosk sảnh", 1), ("Màn hình sảnh", 1)]
    assert "Kiosk sảnh" not in motcua(inst, "device", "list").stdout
    assert "Kiosk sảnh" in motcua(inst, "device", "list", "--all").stdout


def test_help_is_vietnamese_with_defaults():
    r = subprocess.run([sys.executable, "-m", "counter_server.cli", "serve", "--help"],
                       capture_output=True, text=True, env={**os.environ, "MOTCUA_LANG": "vi"})
    assert r.returncode == 0
    assert "Cách dùng:" in r.stdout and "Cổng lắng nghe." in r.stdout
    assert "mặc định: 8080" in r.stdout


def test_check_database_backups_and_printers(tmp_path: Path):
    import socket

    inst = tmp_path / "inst"
    assert motcua(inst, "init", "--office-name", "UBND xã Thử").returncode == 0
    with socket.socket() as printer, socket.socket() as gone:
        printer.bind(("127.0.0.1", 0))
        printer.listen()
        gone.bind(("127.0.0.1", 0))  # bound, not listening: refuses connections
        up = json.dumps({"kind": "network", "host": "127.0.0.1", "port": printer.getsockname()[1]})
        down = json.dumps({"kind": "network", "host": "127.0.0.1", "port": gone.getsockname()[1]})
        ok = motcua(inst, "check", "--printer", up, env={"MOTCUA_LANG": "vi"})
        bad = motcua(inst, "check", "--printer", down, env={"MOTCUA_LANG": "vi"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = ok.stdout.splitlines()
    assert any(line.startswith("[OK  ] Cơ sở dữ liệu") for line in lines)
    assert any(line.startswith("[OK  ] Máy in") and "kết nối được" in line for line in lines)
    assert any("Sao lưu" in line and "chưa có bản nào" in line for line in lines)
    assert bad.returncode == 1 and any(line.startswith("[LỖI] Máy in") for line in bad.stdout.splitlines())
    with sqlite3.connect(inst / "motcua.sqlite3") as db:
        db.execute("update office set timezone = 'Sao/Hoa'")
    broken = motcua(inst, "check", env={"MOTCUA_LANG": "vi"})
    assert broken.returncode == 1 and "[LỖI] Cơ quan" in broken.stdout and "Traceback" not in broken.stderr
