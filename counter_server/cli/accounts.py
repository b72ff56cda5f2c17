"""First run and people: ``init`` (the database, the office, the first
administrator), ``user add | list | passwd | unlock | deactivate`` and
``office show | set``."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import models as m
from ..i18n import _
from .base import CONTEXT, database, db_url, fail, main, office_of, read_password, shown_url

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


def print_credentials(creds: dict[str, Any]) -> None:
    click.echo(_("Sign-in accounts (shown once, write them down):"))
    for name, u in creds["users"].items():
        extra = "  (" + _("counter {number}").format(number=u["counter"]) + ")" if u.get("counter") else ""
        click.echo(f"  {u['role']:7} {name:10} {u['password']}{extra}")
    click.echo(_("Device tokens (shown once):"))
    for key, d in creds["devices"].items():
        click.echo(f"  {key:9} {d['name']:22} {d['token']}")


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        fail("Unknown time zone “{tz}” (for example Asia/Ho_Chi_Minh).", tz=name)
    return name


def _interactive() -> bool:
    """Someone at a terminal (a script or a test pipes its output: no prompt there)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _ask(value: str | None, prompt: str, flag: str, default: str | None = None) -> str:
    """A flag's value, else a prompt on a terminal, else a refusal naming the flag."""
    if value:
        return value.strip()
    if not _interactive():
        if default is not None:
            return default
        fail("{flag} is required when the input is not a terminal.", flag=flag)
    return click.prompt(prompt, default=default).strip()


def _check_username(name: str) -> None:
    from ..admin.people import USERNAME

    if not USERNAME.match(name):
        fail("The username may only hold lower-case letters, digits and . _ - (2 to 80).")


def _user(s: Session, username: str) -> m.User:
    u = s.scalar(select(m.User).where(m.User.username == username))
    if u is None:
        fail("No account named {name}.", name=username)
    return u


def _end_sessions(s: Session, u: m.User) -> None:
    """Signed-in browsers and API tokens of ``u`` stop working at once."""
    u.session_version += 1
    s.execute(update(m.ApiToken).where(m.ApiToken.user_id == u.id).values(revoked=True))


def _audit(s: Session, office_id: int, action: str, **payload: Any) -> None:
    from ..engine import append_event

    append_event(s, office_id, f"admin.{action}", payload={"admin": {"via": "cli", **payload}})


@main.command("init", context_settings=CONTEXT,
              help=_("Create or upgrade the database; on a new database also the office and its "
                     "first administrator (asked for, or given as options). --demo seeds a demo "
                     "commune office instead."))
@click.option("--office-name", default=None, help=_("Name of the office (new database)."))
@click.option("--timezone", "tz", default=None, show_default="Asia/Ho_Chi_Minh",
              help=_("Time zone of the office."))
@click.option("--admin", "admin_name", default=None, help=_("Username of the first administrator."))
@click.option("--admin-full-name", default="", help=_("Full name of the first administrator."))
@click.option("--password-stdin", is_flag=True, help=_("Read the administrator's password from standard input."))
@click.option("--demo", is_flag=True, help=_("Seed a demo commune office with random passwords and tokens."))
@click.option("--always-open", is_flag=True, help=_("Demo office open 24/7 (for demos and tests)."))
@click.option("--credentials-out", type=click.Path(dir_okay=False), default=None,
              help=_("Also write the demo credentials as JSON to this file."))
@click.pass_obj
def init_cmd(obj: dict, office_name: str | None, tz: str, admin_name: str | None,
             admin_full_name: str, password_stdin: bool, demo: bool, always_open: bool,
             credentials_out: str | None) -> None:
    from ..defaults import DEFAULT_HOURS
    from ..seed import add_user, seed_demo

    if tz:
        _zone(tz)
    db = database(obj)
    click.echo(_("Database ready: {url}").format(url=shown_url(db_url(obj))))
    try:
        with db.read() as s:
            office = s.scalar(select(m.Office).order_by(m.Office.id))
            has_admin = s.scalar(select(m.User.id).where(m.User.role == "admin")) is not None
            existing = (office.name, office.timezone) if office else None
        if demo:
            if existing:
                click.echo(_("The database already has an office; demo data not added."))
                return
            with db.write() as s:
                creds = seed_demo(s, always_open=always_open)
            print_credentials(creds)
            if credentials_out:
                Path(credentials_out).write_text(json.dumps(creds, ensure_ascii=False, indent=2),
                                                 encoding="utf-8")
            return
        if existing:
            name, zone = existing
            if office_name and office_name.strip() != name:
                fail("The office “{name}” already exists; nothing changed. To rename it: "
                     "motcua office set --name \"{new}\"", name=name, new=office_name.strip())
            if tz and tz != zone:
                fail("The office “{name}” already uses the time zone {tz}; nothing changed. To "
                     "change it: motcua office set --timezone {new}", name=name, tz=zone, new=tz)
            click.echo(_("Office: {name} ({tz})").format(name=name, tz=zone))
            if has_admin:
                return
        else:
            office_name = _ask(office_name, _("Office name"), "--office-name")
            if not office_name:
                fail("The office name is required.")
        if not has_admin and (admin_name or _interactive()):
            admin_name = _ask(admin_name, _("Username of the first administrator"), "--admin")
            _check_username(admin_name)
            password = read_password(password_stdin, _("Password of {name}").format(name=admin_name))
        with db.write() as s:
            if not existing:
                office = m.Office(name=office_name[:200], timezone=tz or DEFAULT_TZ,
                                  opening_hours=DEFAULT_HOURS, settings={})
                s.add(office)
                s.flush()
                click.echo(_("Office created: {name} ({tz})").format(name=office.name,
                                                                     tz=office.timezone))
            else:
                office = office_of(s)
            if not has_admin and admin_name:
                if s.scalar(select(m.User.id).where(m.User.username == admin_name)) is not None:
                    fail("User {name} already exists.", name=admin_name)
                add_user(s, office.id, admin_name, "admin", password, admin_full_name)
                click.echo(_("Administrator {name} created.").format(name=admin_name))
        if not has_admin and not admin_name:
            click.echo(_("No administrator yet: motcua user add NAME --role admin"))
        else:
            click.echo(_("Next: motcua serve, then sign in at /admin/ and follow the set-up checklist."))
    finally:
        db.dispose()


@main.group("user", context_settings=CONTEXT, help=_("Staff, leader and admin accounts."))
def user_grp() -> None:
    pass


@user_grp.command("add", context_settings=CONTEXT,
                  help=_("Create an account; the password is asked twice (or read from standard input)."))
@click.argument("name")
@click.option("--role", type=click.Choice(m.ROLES), required=True, help=_("What the account may do."))
@click.option("--full-name", default="", help=_("Full name shown on screens (default: the username)."))
@click.option("--password-stdin", is_flag=True, help=_("Read the password from standard input."))
@click.pass_obj
def user_add(obj: dict, name: str, role: str, full_name: str, password_stdin: bool) -> None:
    from ..seed import add_user

    _check_username(name)
    db = database(obj)
    try:
        with db.read() as s:
            office_of(s)
            if s.scalar(select(m.User.id).where(m.User.username == name)) is not None:
                fail("User {name} already exists.", name=name)
        password = read_password(password_stdin)
        with db.write() as s:
            add_user(s, office_of(s).id, name, role, password, full_name)
        click.echo(_("User {name} ({role}) created.").format(name=name, role=role))
    finally:
        db.dispose()


@user_grp.command("list", context_settings=CONTEXT, help=_("List the accounts."))
@click.pass_obj
def user_list(obj: dict) -> None:
    from ..engine import utcnow

    db = database(obj)
    try:
        with db.read() as s:
            now = utcnow()
            rows = list(s.scalars(select(m.User).order_by(m.User.role, m.User.username)))
            click.echo(f"{_('Username'):16} {_('Role'):7} {_('State'):14} {_('Full name')}")
            for u in rows:
                state = _("active") if u.active else _("deactivated")
                if u.active and u.locked_until and u.locked_until > now:
                    state = _("locked")
                click.echo(f"{u.username:16} {u.role:7} {state:14} {u.full_name}")
            if not rows:
                click.echo(_("No accounts yet: motcua user add NAME --role admin"))
    finally:
        db.dispose()


@user_grp.command("passwd", context_settings=CONTEXT,
                  help=_("Set a new password; the account's sessions and tokens end at once."))
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=_("Read the password from standard input."))
@click.pass_obj
def user_passwd(obj: dict, name: str, password_stdin: bool) -> None:
    from ..security import hash_password

    db = database(obj)
    try:
        with db.read() as s:
            _user(s, name)
        password = read_password(password_stdin)
        with db.write() as s:
            u = _user(s, name)
            u.password_hash = hash_password(password)
            u.failed_logins, u.locked_until = 0, None
            _end_sessions(s, u)
            _audit(s, u.office_id, "user_password_reset", user_id=u.id, username=u.username)
        click.echo(_("Password of {name} changed.").format(name=name))
    finally:
        db.dispose()


@user_grp.command("unlock", context_settings=CONTEXT,
                  help=_("Lift the lock after too many wrong passwords."))
@click.argument("name")
@click.pass_obj
def user_unlock(obj: dict, name: str) -> None:
    db = database(obj)
    try:
        with db.write() as s:
            u = _user(s, name)
            u.failed_logins, u.locked_until = 0, None
            _audit(s, u.office_id, "user_unlocked", user_id=u.id, username=u.username)
        click.echo(_("{name} can sign in again.").format(name=name))
    finally:
        db.dispose()


@user_grp.command("deactivate", context_settings=CONTEXT,
                  help=_("Stop an account from signing in (its history stays); ends its sessions."))
@click.argument("name")
@click.pass_obj
def user_deactivate(obj: dict, name: str) -> None:
    from .. import engine as e

    db = database(obj)
    try:
        with db.write() as s:
            u = _user(s, name)
            if u.role == "admin" and u.active and s.scalar(
                    select(func.count()).select_from(m.User).where(
                        m.User.role == "admin", m.User.active.is_(True))) == 1:
                fail("{name} is the only active administrator; create another one first.", name=name)
            u.active = False
            _end_sessions(s, u)
            for c in s.scalars(select(m.Counter).where(m.Counter.staff_id == u.id)):
                e.sign_out_counter(s, c.id, None, ticket="requeue")
            _audit(s, u.office_id, "user_deactivated", user_id=u.id, username=u.username)
        click.echo(_("{name} is deactivated.").format(name=name))
    finally:
        db.dispose()


@main.group("office", context_settings=CONTEXT, help=_("The office: name, time zone, what is set up."))
def office_grp() -> None:
    pass


@office_grp.command("show", context_settings=CONTEXT, help=_("What is set up in the office."))
@click.pass_obj
def office_show(obj: dict) -> None:
    db = database(obj)
    try:
        with db.read() as s:
            office = office_of(s)

            def count(model: Any, *where: Any) -> int:
                return s.scalar(select(func.count()).select_from(model).where(
                    model.office_id == office.id, *where)) or 0

            click.echo(_("Office: {name} ({tz})").format(name=office.name, tz=office.timezone))
            if office.address:
                click.echo(_("Address: {address}").format(address=office.address))
            click.echo(_("Database: {url}").format(url=shown_url(db_url(obj))))
            for label, n in ((_("Services"), count(m.Service, m.Service.active.is_(True))),
                             (_("Counters"), count(m.Counter, m.Counter.active.is_(True))),
                             (_("Accounts"), count(m.User, m.User.active.is_(True))),
                             (_("Devices"), count(m.Device, m.Device.revoked.is_(False))),
                             (_("Tickets"), count(m.Ticket))):
                click.echo(f"  {label:12} {n}")
    finally:
        db.dispose()


@office_grp.command("set", context_settings=CONTEXT, help=_("Rename the office or change its time zone."))
@click.option("--name", default=None, help=_("New name of the office."))
@click.option("--timezone", "tz", default=None, help=_("New time zone of the office."))
@click.pass_obj
def office_set(obj: dict, name: str | None, tz: str | None) -> None:
    if not name and not tz:
        fail("Give --name and/or --timezone.")
    db = database(obj)
    try:
        with db.write() as s:
            office = office_of(s)
            old = (office.name, office.timezone)
            if name:
                office.name = name.strip()[:200]
            if tz:
                office.timezone = _zone(tz)
            _audit(s, office.id, "settings_updated", name=office.name)
            click.echo(_("Office: {old} → {name} ({tz})").format(old=old[0], name=office.name,
                                                                tz=office.timezone))
    finally:
        db.dispose()
