"""The screens started from the same command: ``kiosk``, ``display`` and ``demo``."""
from __future__ import annotations

import importlib

import click

from ..i18n import _
from .base import CONTEXT, main


def _client_command(module: str, args: tuple[str, ...], verbose: bool) -> None:
    """Hand the arguments to the app's own parser; Ctrl-C ends it quietly."""
    argv = list(args) + (["--verbose"] if verbose and "--verbose" not in args else [])
    try:
        importlib.import_module(module).main(argv)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


PASS_THROUGH = {"ignore_unknown_options": True, "help_option_names": []}


@main.command("kiosk", context_settings=PASS_THROUGH, add_help_option=False,
              help=_("Lobby kiosk or counter rating tablet: --server URL --token T "
                     "[--mode ticket|rating --counter N] [--data-dir DIR] [--windowed --size WxH] "
                     "(motcua kiosk --help lists every option)."))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def kiosk_cmd(obj: dict, args: tuple[str, ...]) -> None:
    _client_command("kiosk.app", args, obj.get("verbose", False))


@main.command("display", context_settings=PASS_THROUGH, add_help_option=False,
              help=_("Lobby display (TV): --server URL --token T [--windowed --size WxH] "
                     "(motcua display --help lists every option)."))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def display_cmd(obj: dict, args: tuple[str, ...]) -> None:
    _client_command("display.app", args, obj.get("verbose", False))


@main.command("demo", context_settings=CONTEXT,
              help=_("Everything on one machine: demo database, server, kiosk and display windows."))
@click.option("--port", default=8080, type=click.IntRange(1, 65535), help=_("Port of the demo server."))
@click.option("--no-windows", is_flag=True, help=_("Only the server (no kiosk/display windows)."))
@click.option("--fresh", is_flag=True, help=_("Start from a new demo database."))
@click.pass_obj
def demo_cmd(obj: dict, port: int, no_windows: bool, fresh: bool) -> None:
    from ..demo import run_demo

    run_demo(port=port, windows=not no_windows, fresh=fresh, verbose=obj.get("verbose", False))
