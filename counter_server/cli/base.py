"""The ``motcua`` group and what every subcommand shares: the instance and its
database, the office, a password read safely, and failures shown as one line.

An administrator reads the output of these commands, often on an office PC
with nobody technical nearby: an expected failure (busy port, missing folder,
unknown user...) is one Vietnamese line on stderr and a non-zero exit code,
never a traceback (``--verbose`` shows the traceback of an unexpected error).
"""
from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from ..i18n import _


def _click_speaks_vietnamese() -> None:
    """Click's own words (Usage, Options, Show this message and exit, Missing
    option...) go through our catalog too: Click looks its ``_`` up in each
    module at call time."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.termui
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.termui, click.types):
        module._ = _  # type: ignore[attr-defined]


_click_speaks_vietnamese()
CONTEXT = {"show_default": True, "help_option_names": ["-h", "--help"], "max_content_width": 100}
MIN_PASSWORD = 8
_verbose = False


class Failure(click.ClickException):
    """An expected failure: one line on stderr, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(_("Error: {message}").format(message=self.format_message()), err=True)


def fail(message: str, **params: Any) -> NoReturn:
    """Stop with ``message`` (an English msgid, translated here, then formatted)."""
    text = _(message)
    raise Failure(text.format(**params) if params else text)


def _one_line(error: BaseException) -> str:
    """The first useful line of a library error (SQLAlchemy adds the SQL and a link)."""
    orig = getattr(error, "orig", None) or error
    if isinstance(orig, OSError) and orig.strerror:
        return f"{orig.strerror}: {orig.filename}" if orig.filename else orig.strerror
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


class MotcuaGroup(click.Group):
    """Click's group, but every way out is one line: usage errors, refusals,
    Ctrl-C, and the database or file errors an office PC can throw."""

    def main(self, args: Any = None, prog_name: str | None = "motcua", **extra: Any) -> NoReturn:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            rv = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.UsageError as err:
            hint = f"  ({err.ctx.command_path} --help)" if err.ctx else ""
            click.echo(_("Error: {message}").format(message=err.format_message()) + hint, err=True)
            sys.exit(2)
        except click.ClickException as err:
            err.show()
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo(_("Cancelled."), err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)
        except (OSError, SQLAlchemyError, sqlite3.Error) as err:
            if _verbose:
                raise
            click.echo(_("Error: {message}").format(message=_one_line(err)), err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=MotcuaGroup, context_settings=CONTEXT,
             help=_("motcua — queue tickets and satisfaction feedback for one-stop offices."))
@click.option("--instance", envvar="MOTCUA_INSTANCE", default=None, show_default="./instance",
              help=_("Instance folder (SQLite file, secret key, backups, logs)."))
@click.option("-v", "--verbose", is_flag=True, help=_("More output (debug logs, tracebacks)."))
@click.pass_context
def main(ctx: click.Context, instance: str | None, verbose: bool) -> None:
    global _verbose
    _verbose = verbose
    ctx.obj = {"instance": instance, "verbose": verbose}
    if instance:
        os.environ["MOTCUA_INSTANCE"] = instance


def instance_folder(obj: dict) -> Path:
    from ..app import instance_dir

    return instance_dir({"INSTANCE_DIR": obj["instance"]} if obj.get("instance") else None)


def db_url(obj: dict) -> str:
    from ..app import database_url

    return database_url({"INSTANCE_DIR": obj["instance"]} if obj.get("instance") else None)


def shown_url(url: str) -> str:
    """The database address without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None on PostgreSQL."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


def database(obj: dict):
    """The instance's database, migrated first (an old database is upgraded,
    after a backup) so every command sees the current schema."""
    from ..db import Database

    upgrade(obj)
    return Database(db_url(obj), pool_size=2)


def upgrade(obj: dict) -> None:
    from ..backup import BackupError
    from ..migrate import upgrade as alembic_upgrade

    try:
        alembic_upgrade(db_url(obj), backup_settings(obj))
    except BackupError as exc:  # the pre-migration backup could not be taken: no migration
        raise Failure(exc.text()) from None


def backup_settings(obj: dict):
    from ..backup import BackupError, BackupSettings

    try:
        return BackupSettings.from_env(instance_folder(obj))
    except BackupError as exc:
        raise Failure(exc.text()) from None


def office_of(s: Any) -> Any:
    """The office the command acts on (the first one; one office per PC)."""
    from sqlalchemy import select

    from .. import models as m

    office = s.scalar(select(m.Office).order_by(m.Office.id))
    if office is None:
        fail("No office yet: run 'motcua init' first.")
    return office


def read_password(from_stdin: bool, prompt: str | None = None) -> str:
    """A new password: one line of standard input (``--password-stdin``, or
    input that is not a terminal), else a hidden prompt asked twice."""
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(prompt or _("Password"), hide_input=True,
                                confirmation_prompt=_("Repeat the password"))
    if len(password) < MIN_PASSWORD:
        fail("The password must have at least 8 characters.")
    return password
