"""Create or upgrade the schema with Alembic (``motcua init``, ``motcua serve``).

An existing SQLite database is backed up before any migration runs on it
(``motcua-...-pre-migrate.sqlite3`` in the backup folder): an upgrade that goes
wrong can be undone with ``motcua restore``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from .backup import BackupSettings

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _heads(url: str) -> tuple[set[str], set[str]]:
    """(the database's revisions, the code's heads)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return current, set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def pending(url: str) -> bool:
    """True when the database holds a schema older than the code's (a fresh,
    empty database is not pending: there is nothing to back up)."""
    current, heads = _heads(url)
    return bool(current) and current != heads


def upgrade(url: str, backup: "BackupSettings | None" = None) -> Path | None:
    """Migrate to the newest schema; returns the pre-migration backup, if one was taken.

    ``backup`` (the backup settings) defaults to the environment's, with the
    instance folder taken to be the SQLite file's folder."""
    u = make_url(url)
    db_file = Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
    current, heads = _heads(url)
    if current == heads:
        return None
    taken = None
    if db_file is not None and current and db_file.stat().st_size:
        from .backup import BackupSettings, office_now, take_backup

        settings = backup or BackupSettings.from_env(db_file.parent)
        taken = take_backup(db_file, settings, office_now(db_file), "pre-migrate")
    command.upgrade(alembic_config(url), "heads")
    return taken


def revision(url: str, message: str) -> None:  # developer helper
    command.revision(alembic_config(url), message=message, autogenerate=True)
