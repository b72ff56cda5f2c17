"""Shared fixtures: real SQLite files, a real PostgreSQL, a real running server.

* ``app`` / ``client`` / ``runner`` — the flaskr trio on a fresh SQLite file
  seeded with the demo office (open 24/7); ``creds`` holds its accounts.
* ``live_server`` — ``motcua serve`` in a subprocess on a free port (SQLite);
  ``live_server_pg`` — the same on a fresh PostgreSQL database;
  ``any_live_server`` — parametrised over both.

PostgreSQL comes from ``MOTCUA_TEST_PG`` (an admin DSN; ``.ci/run`` starts a
throw-away cluster and sets it).  Without it PostgreSQL tests are skipped,
unless ``MOTCUA_REQUIRE_PG=1`` (CI) makes that a failure.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

os.environ.setdefault("MOTCUA_LANG", "vi")
os.environ.setdefault("MOTCUA_SECRET_KEY", "test-secret-" + uuid.uuid4().hex)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def artifact_path(*parts: str) -> Path:
    p = ARTIFACTS.joinpath(*parts)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------- databases
def _pg_admin() -> str | None:
    dsn = os.environ.get("MOTCUA_TEST_PG")
    if not dsn:
        if os.environ.get("MOTCUA_REQUIRE_PG") == "1":
            pytest.fail("MOTCUA_REQUIRE_PG=1 but MOTCUA_TEST_PG is not set")
        pytest.skip("PostgreSQL not available (set MOTCUA_TEST_PG)")
    return dsn


def create_pg_database() -> tuple[str, callable]:
    """A fresh empty database; returns (url, drop)."""
    import psycopg

    admin = _pg_admin()
    name = "motcua_test_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _db = admin.rpartition("/")
    url = f"{base}/{name}"

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def _seed_fresh(url: str, always_open: bool) -> dict[str, Any]:
    from counter_server.db import Database
    from counter_server.migrate import upgrade
    from counter_server.seed import seed_demo

    upgrade(url)
    db = Database(url, pool_size=1)
    try:
        with db.write() as s:
            return json.loads(json.dumps(seed_demo(s, always_open=always_open)))
    finally:
        db.dispose()


_templates: dict[str, tuple[str, dict[str, Any]]] = {}


def _sqlite_template() -> tuple[str, dict[str, Any]]:
    if "sqlite" not in _templates:
        import sqlite3
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="motcua-tmpl-")) / "template.sqlite3"
        creds = _seed_fresh(f"sqlite:///{path.as_posix()}", True)
        with sqlite3.connect(path) as conn:  # fold the WAL in: one file to copy
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _templates["sqlite"] = (str(path), creds)
    return _templates["sqlite"]


def _pg_template() -> tuple[str, dict[str, Any]]:
    if "pg" not in _templates:
        url, _drop = create_pg_database()
        creds = _seed_fresh(url, True)
        _templates["pg"] = (url.rpartition("/")[2], creds)
    return _templates["pg"]


def seed_database(url: str, *, always_open: bool = True) -> dict[str, Any]:
    """Migrate and seed the demo office (open 24/7) into a new database.

    The first call per kind builds a template (migrations + argon2 hashing
    take about a second); later calls copy it: a file copy on SQLite,
    CREATE DATABASE ... TEMPLATE on PostgreSQL."""
    if not always_open:
        return _seed_fresh(url, always_open)
    if url.startswith("sqlite:///"):
        target = Path(url[len("sqlite:///"):])
        if not target.exists():
            import shutil

            src, creds = _sqlite_template()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            return json.loads(json.dumps(creds))
        return _seed_fresh(url, always_open)
    import psycopg

    tmpl, creds = _pg_template()
    name = url.rpartition("/")[2]
    with psycopg.connect(_pg_admin(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"')
    return json.loads(json.dumps(creds))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'motcua.sqlite3').as_posix()}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    url, drop = create_pg_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'motcua.sqlite3').as_posix()}"
    else:
        yield request.getfixturevalue("pg_url")


# --------------------------------------------------------------------- flask trio
@pytest.fixture
def creds(sqlite_url: str) -> dict[str, Any]:
    return seed_database(sqlite_url)


@pytest.fixture
def app(sqlite_url: str, creds: dict[str, Any], tmp_path: Path):
    from counter_server.app import create_app

    application = create_app({"DATABASE_URL": sqlite_url, "INSTANCE_DIR": str(tmp_path),
                              "TESTING": True, "SECRET_KEY": "test",
                              "SSE_KEEPALIVE_SECONDS": 0.5})
    application.config["CREDS"] = creds
    yield application
    application.extensions["motcua_db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------- live server
class LiveServer:
    """``motcua serve`` in its own process, as in an office."""

    def __init__(self, db_url: str, folder: Path, creds: dict[str, Any],
                 env: dict[str, str] | None = None, threads: int = 16,
                 args: tuple[str, ...] = ()) -> None:
        self.db_url, self.folder, self.creds = db_url, folder, creds
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.threads, self.args = threads, args
        self.env = {**os.environ, "MOTCUA_DATABASE_URL": db_url, "MOTCUA_SSE_KEEPALIVE": "1",
                    **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log = folder / f"server-{self.port}.log"

    def start(self, timeout: float = 90.0) -> "LiveServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "counter_server.cli", "--instance", str(self.folder), "serve",
             "--port", str(self.port), "--threads", str(self.threads), *self.args],
            env=self.env, stdout=self._logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server died:\n" + self.log.read_text(errors="replace"))
            try:
                if requests.get(self.url + "/api/v1/health", timeout=5).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log.read_text(errors="replace"))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_logf", None):
            self._logf.close()

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush — like a pulled power cable for the process."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(5)
        self._logf.close()

    def restart(self) -> "LiveServer":
        self.stop()
        return self.start()

    # convenience
    def token(self, key: str) -> str:
        return self.creds["devices"][key]["token"]

    def staff_token(self, counter: int) -> str:
        name = f"canbo{counter}"
        r = requests.post(self.url + "/api/v1/auth/token", json={
            "username": name, "password": self.creds["users"][name]["password"],
            "counter_id": self.creds["counters"][str(counter)]}, timeout=10)
        r.raise_for_status()
        return r.json()["token"]

    def login(self, username: str) -> str:
        r = requests.post(self.url + "/api/v1/auth/token", json={
            "username": username, "password": self.creds["users"][username]["password"]}, timeout=10)
        r.raise_for_status()
        return r.json()["token"]


def _live(db: str, tmp_path: Path, **kw: Any) -> Iterator[LiveServer]:
    creds = seed_database(db)
    server = LiveServer(db, tmp_path / "instance", creds, **kw).start()
    try:
        yield server
    finally:
        server.stop()


def module_live_server(kind: str, folder: Path, threads: int = 8) -> Iterator[LiveServer]:
    """A live server on a fresh "sqlite" or "postgres" database for a whole
    module (module-scoped fixtures parametrised over both kinds)."""
    drop = None
    if kind == "sqlite":
        url = f"sqlite:///{(folder / 'motcua.sqlite3').as_posix()}"
    else:
        url, drop = create_pg_database()
    try:
        yield from _live(url, folder, threads=threads)
    finally:
        if drop:
            drop()


@pytest.fixture
def live_server(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    yield from _live(sqlite_url, tmp_path)


@pytest.fixture
def live_server_pg(pg_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    yield from _live(pg_url, tmp_path)


@pytest.fixture
def any_live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    yield from _live(db_url, tmp_path)
