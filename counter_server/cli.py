"""The ``motcua`` command line (DESIGN.md "Command line")."""
from __future__ import annotations

import gc
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from .i18n import _


def _db_url(instance: str | None) -> str:
    from .app import database_url

    return database_url({"INSTANCE_DIR": instance} if instance else None)


def _database(instance: str | None):
    from .db import Database

    return Database(_db_url(instance), pool_size=2)


@click.group(help="motcua — queue tickets and satisfaction feedback for one-stop offices.")
@click.option("--instance", envvar="MOTCUA_INSTANCE", default=None,
              help="Instance folder (SQLite file, secret key). Default: ./instance")
@click.pass_context
def main(ctx: click.Context, instance: str | None) -> None:
    ctx.obj = {"instance": instance}
    if instance:
        os.environ["MOTCUA_INSTANCE"] = instance


def print_credentials(creds: dict[str, Any]) -> None:
    click.echo(_("Sign-in accounts (shown once, write them down):"))
    for name, u in creds["users"].items():
        extra = f"  (counter {u['counter']})" if u.get("counter") else ""
        click.echo(f"  {u['role']:7} {name:10} {u['password']}{extra}")
    click.echo(_("Device tokens (shown once):"))
    for key, d in creds["devices"].items():
        click.echo(f"  {key:9} {d['name']:22} {d['token']}")


@main.command("init", help="Create or migrate the database; --demo seeds a commune office.")
@click.option("--demo", is_flag=True)
@click.option("--always-open", is_flag=True, help="Demo office open 24/7 (for demos and tests).")
@click.option("--office-name", default=None, help="Create the office with this name if none exists.")
@click.option("--credentials-out", type=click.Path(dir_okay=False), default=None,
              help="Also write the demo credentials as JSON to this file.")
@click.pass_obj
def init_cmd(obj: dict, demo: bool, always_open: bool, office_name: str | None,
             credentials_out: str | None) -> None:
    from . import models as m
    from .migrate import upgrade
    from .seed import seed_demo

    url = _db_url(obj["instance"])
    upgrade(url)
    click.echo(_("Database ready: {url}").format(url=url.split("@")[-1]))
    db = _database(obj["instance"])
    try:
        with db.write() as s:
            has_office = s.query(m.Office.id).first() is not None
            if demo and not has_office:
                creds = seed_demo(s, always_open=always_open)
            elif office_name and not has_office:
                s.add(m.Office(name=office_name, opening_hours={}, settings={}))
                creds = None
            else:
                creds = None
        if demo and creds is None:
            click.echo(_("The database already has an office; demo data not added."))
        if creds:
            print_credentials(creds)
            if credentials_out:
                Path(credentials_out).write_text(json.dumps(creds, ensure_ascii=False, indent=2),
                                                 encoding="utf-8")
    finally:
        db.dispose()


@main.command("serve", help="Run the server (waitress).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=48, show_default=True, type=int,
              help="One per open event stream (displays, consoles) plus headroom.")
@click.pass_obj
def serve_cmd(obj: dict, host: str, port: int, threads: int) -> None:
    from . import http_server
    from .app import create_app
    from .migrate import upgrade

    app = create_app({"INSTANCE_DIR": obj["instance"]} if obj["instance"] else None)
    upgrade(app.config["DATABASE_URL"])
    click.echo(_("motcua is serving on http://{host}:{port}").format(host=host, port=port))
    # The app, its models and the libraries live as long as the process: keep
    # them out of the garbage collector's full passes (pauses under load).
    gc.collect()
    gc.freeze()
    http_server.serve(app, host=host, port=port, threads=threads, ident="motcua",
                      channel_timeout=120, connection_limit=400, clear_untrusted_proxy_headers=True)


@main.group("user", help="Staff, leader and admin accounts.")
def user_grp() -> None:
    pass


@user_grp.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "leader", "staff"]), required=True)
@click.option("--full-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_add(obj: dict, name: str, role: str, full_name: str, password_stdin: bool) -> None:
    from sqlalchemy import select

    from . import models as m
    from .migrate import upgrade
    from .seed import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException(_("The password must have at least 8 characters."))
    upgrade(_db_url(obj["instance"]))
    db = _database(obj["instance"])
    try:
        with db.write() as s:
            if s.scalar(select(m.User.id).where(m.User.username == name)) is not None:
                raise click.ClickException(_("User {name} already exists.").format(name=name))
            office = s.scalar(select(m.Office).order_by(m.Office.id))
            if office is None:
                from .defaults import DEFAULT_HOURS

                office = m.Office(name="Trung tâm Phục vụ hành chính công", opening_hours=DEFAULT_HOURS,
                                  settings={})
                s.add(office)
                s.flush()
            add_user(s, office.id, name, role, password, full_name)
        click.echo(_("User {name} ({role}) created.").format(name=name, role=role))
    finally:
        db.dispose()


@main.group("device", help="Kiosks, displays and rating tablets.")
def device_grp() -> None:
    pass


@device_grp.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["kiosk", "display", "rating"]), required=True)
@click.option("--counter", "counter_number", type=int, default=None,
              help="Counter number (rating tablets).")
@click.pass_obj
def device_add(obj: dict, name: str, kind: str, counter_number: int | None) -> None:
    from sqlalchemy import select

    from . import models as m
    from .seed import add_device

    db = _database(obj["instance"])
    try:
        with db.write() as s:
            office = s.scalar(select(m.Office).order_by(m.Office.id))
            if office is None:
                raise click.ClickException(_("No office yet: run 'motcua init' first."))
            counter_id = None
            if kind == "rating":
                if counter_number is None:
                    raise click.ClickException(_("A rating tablet needs --counter."))
                c = s.scalar(select(m.Counter).where(m.Counter.office_id == office.id,
                                                     m.Counter.number == counter_number))
                if c is None:
                    raise click.ClickException(_("Counter not found."))
                counter_id = c.id
            _dev, token = add_device(s, office.id, name, kind, counter_id)
        click.echo(_("Device token (shown once):"))
        click.echo(token)
    finally:
        db.dispose()


@main.command("backup", help="Copy the SQLite database safely while the server runs.")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def backup_cmd(obj: dict, file: str) -> None:
    url = _db_url(obj["instance"])
    if not url.startswith("sqlite:///"):
        raise click.ClickException(_("On PostgreSQL use pg_dump for backups."))
    src_path = Path(url[len("sqlite:///"):])
    if not src_path.exists():
        raise click.ClickException(_("Database file not found."))
    dest = Path(file)
    if dest.exists():
        raise click.ClickException(_("{file} already exists.").format(file=file))
    src = sqlite3.connect(str(src_path), timeout=30)
    out = sqlite3.connect(str(dest))
    try:
        def progress(_status: int, remaining: int, total: int) -> None:
            click.echo(_("Backup: {done}/{total} pages").format(done=total - remaining, total=total))

        src.backup(out, pages=1024, progress=progress)
    finally:
        out.close()
        src.close()
    click.echo(_("Backup written to {file}").format(file=file))


def _client_command(module: str, argv: list[str]) -> None:
    import importlib

    importlib.import_module(module).main(argv)


@main.command("kiosk", context_settings={"ignore_unknown_options": True}, add_help_option=False,
              help="Lobby kiosk: --server URL --token T [--mode ticket|rating --counter N]")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def kiosk_cmd(args: tuple[str, ...]) -> None:
    _client_command("kiosk.app", list(args))


@main.command("display", context_settings={"ignore_unknown_options": True}, add_help_option=False,
              help="Lobby display: --server URL --token T")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def display_cmd(args: tuple[str, ...]) -> None:
    _client_command("display.app", list(args))


@main.command("demo", help="Everything on one machine: demo database, server, kiosk and display.")
@click.option("--port", default=8080, type=int)
@click.option("--no-windows", is_flag=True, help="Only the server (no kiosk/display windows).")
@click.option("--fresh", is_flag=True, help="Start from a new demo database.")
def demo_cmd(port: int, no_windows: bool, fresh: bool) -> None:
    from .demo import run_demo

    run_demo(port=port, windows=not no_windows, fresh=fresh)


if __name__ == "__main__":  # pragma: no cover
    main()
