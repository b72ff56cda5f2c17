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
    r = motcua(inst, "init")
    assert r.returncode == 0, r.stderr
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
