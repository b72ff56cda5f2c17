"""The office's data: ``backup``, ``restore`` and ``check``."""
from __future__ import annotations

from pathlib import Path

import click

from .. import backup as b
from ..i18n import _
from .base import CONTEXT, Failure, backup_settings, db_url, fail, main, sqlite_path, upgrade

PG_ROUTINE = _("On PostgreSQL, back up with pg_dump and restore with pg_restore, for example: "
               "pg_dump -Fc -f motcua.dump \"$MOTCUA_DATABASE_URL\" (see docs/operations.md).")


def _sqlite_file(obj: dict) -> Path:
    path = sqlite_path(db_url(obj))
    if path is None:
        raise Failure(PG_ROUTINE)
    return path


def _raise(exc: b.BackupError) -> None:
    fail(exc.message, **exc.params)


@main.command("backup", context_settings=CONTEXT,
              help=_("Copy the SQLite database safely while the server runs, and check the copy. "
                     "Without FILE the copy goes to the backup folder (MOTCUA_BACKUP_DIR)."))
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.pass_obj
def backup_cmd(obj: dict, file: str | None) -> None:
    db_file = _sqlite_file(obj)
    try:
        if file:
            dest = Path(file)
            counts = b.backup_file(db_file, dest)
        else:
            dest = b.take_backup(db_file, backup_settings(obj), b.office_now(db_file), "manual")
            counts = b.read_counts(dest)
    except b.BackupError as exc:
        _raise(exc)
    click.echo(_("Backup written to {file} ({tickets} tickets, {ratings} ratings; checked).").format(
        file=dest, tickets=counts["ticket"], ratings=counts["rating"]))


@main.command("restore", context_settings=CONTEXT,
              help=_("Replace the database with a backup. The current database is backed up first; "
                     "stop the server before (and start it again after)."))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help=_("Do not ask for confirmation."))
@click.pass_obj
def restore_cmd(obj: dict, file: str, yes: bool) -> None:
    db_file = _sqlite_file(obj)
    source = Path(file)
    try:
        counts = b.read_counts(source)
    except b.BackupError as exc:
        _raise(exc)
    click.echo(_("{file}: {offices} office(s), {tickets} tickets, {ratings} ratings.").format(
        file=source, offices=counts["office"], tickets=counts["ticket"], ratings=counts["rating"]))
    if not yes:
        click.confirm(_("Replace the database {db} with this backup?").format(db=db_file),
                      abort=True)
    settings = backup_settings(obj)
    try:
        if db_file.exists():
            saved = b.take_backup(db_file, settings, b.office_now(db_file), "pre-restore")
            click.echo(_("The current database was saved first to {file}").format(file=saved))
        b.restore_file(source, db_file)
    except b.BackupError as exc:
        _raise(exc)
    upgrade(obj)  # a backup from an older version gets the current schema
    click.echo(_("Database restored from {file}.").format(file=source))


@main.command("check", context_settings=CONTEXT,
              help=_("Check the installation: database, office and clock, backups, disk space, "
                     "voice engine, network printers. Exit code 1 when something must be fixed."))
@click.option("--printer", "printers", multiple=True, metavar="JSON",
              help=_("Also check a kiosk's printer, given as for motcua kiosk --printer "
                     "(e.g. '{\"kind\": \"network\", \"host\": \"192.168.1.50\"}'); repeatable."))
@click.pass_obj
def check_cmd(obj: dict, printers: tuple[str, ...]) -> None:
    import json

    from ..checks import run_checks

    try:
        parsed = tuple(json.loads(p) for p in printers)
    except ValueError as exc:
        fail("--printer is not valid JSON: {error}", error=exc)
    if any(not isinstance(p, dict) for p in parsed):
        fail("--printer is not valid JSON: {error}", error="{...}")
    failed = False
    for result in run_checks(db_url(obj), backup_settings(obj), printers=parsed):
        mark = {"ok": "OK  ", "warn": _("WARN"), "fail": _("FAIL")}[result.level]
        click.echo(f"[{mark}] {result.name}: {result.detail}")
        failed |= result.level == "fail"
    if failed:
        raise SystemExit(1)
    click.echo(_("Everything needed works."))

