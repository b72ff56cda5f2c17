"""``motcua kiosk``: command line of the lobby kiosk (ticket mode) and the counter tablet.

Parses the options, sets up Kivy's window *before* Kivy is imported (size,
full screen, no Kivy argument parsing), then starts the ticket kiosk
(:mod:`kiosk.lobby`) or hands over to the rating app (``kiosk.rating_app``).
"""
from __future__ import annotations

import argparse
import json
import importlib
import sys
import threading
from pathlib import Path
from typing import Any

from kiosk.strings import _


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua kiosk", description=_("Lobby kiosk of the one-stop office"))
    p.add_argument("--server", required=True, help="server base URL, e.g. http://192.168.1.10:8080")
    p.add_argument("--token", required=True, help="device token (motcua device add ...)")
    p.add_argument("--mode", choices=("ticket", "rating"), default="ticket")
    p.add_argument("--counter", type=int, default=None, help="counter number (rating mode)")
    p.add_argument("--printer", default="preview",
                   help='printer kind ("preview", "dummy", ...) or JSON settings, e.g. '
                        '\'{"kind": "network", "host": "192.168.1.50"}\'')
    p.add_argument("--preview-dir", default=None, help="folder for preview tickets (PNG)")
    p.add_argument("--size", default=None, help="window size WxH, e.g. 1024x600 (with --windowed)")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument("--priority-step", choices=("server", "on", "off"), default="server",
                   help="ask for a priority class after the service (default: office setting)")
    p.add_argument("--speech", choices=("server", "on", "off"), default="server",
                   help="read aloud what is touched at start (default: office setting)")
    p.add_argument("--voice-engine", default=None,
                   help="overrides the office's voice engine for reading aloud")
    p.add_argument("--ticket-seconds", type=float, default=8.0, help="ticket screen time")
    p.add_argument("--fault-ticket-seconds", type=float, default=30.0,
                   help="ticket screen time when the printer failed")
    p.add_argument("--priority-seconds", type=float, default=30.0, help="priority step time-out")
    p.add_argument("--refresh-seconds", type=float, default=30.0,
                   help="services refresh period besides live events (opening hours)")
    p.add_argument("--printer-check-seconds", type=float, default=10.0,
                   help="how often a faulty printer is probed")
    p.add_argument("--data-dir", default=None,
                   help="folder for the rating queue (default: MOTCUA_DATA_DIR, else Kivy's "
                        "user-data folder)")
    p.add_argument("--verbose", "-v", action="store_true", help="Kivy's debug log on the console")
    return p


def _join_values(argv: list[str]) -> list[str]:
    """``--token -abc`` -> ``--token=-abc``: device tokens may start with "-", which
    argparse would otherwise take for an option."""
    out: list[str] = []
    items = iter(argv)
    for item in items:
        if item in ("--token", "--server", "--printer"):
            value = next(items, None)
            out.append(item if value is None else f"{item}={value}")
        else:
            out.append(item)
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_join_values(argv))
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise SystemExit(_("--size must look like 1024x600")) from None
        args.size = (w, h)
    return args


def printer_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``--printer`` as a kind name or a JSON object; preview tickets go to ``--preview-dir``."""
    raw = (args.printer or "preview").strip()
    if raw.startswith("{"):
        try:
            settings = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SystemExit(_("--printer is not valid JSON: {error}").format(error=exc)) from None
    else:
        settings = {"kind": raw}
    if settings.get("kind", "preview") == "preview" and args.preview_dir:
        settings.setdefault("folder", str(Path(args.preview_dir)))
    return settings


def configure_kivy(args: argparse.Namespace) -> None:
    """Window settings that Kivy reads once, when it is first imported."""
    from counter_server import kivy_logging
    from counter_server.kivy_window import no_multisampling

    kivy_logging.configure(getattr(args, "verbose", False))
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")
    no_multisampling()  # software OpenGL: see counter_server/kivy_window.py
    if args.windowed:
        Config.set("graphics", "fullscreen", "0")
        if args.size:
            Config.set("graphics", "width", str(args.size[0]))
            Config.set("graphics", "height", str(args.size[1]))
    else:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")


def create_app(args: argparse.Namespace) -> Any:
    """The ticket-mode App, ready to ``run()`` (Kivy must be configured already)."""
    from kiosk.lobby import LobbyKioskApp

    try:
        settings = printer_settings(args)
        app = LobbyKioskApp(args, settings)
        app.data_dir = args.data_dir  # the lobby's rating queue folder (--data-dir)
        return app
    except ValueError as exc:  # settings that can never work: say so at start-up
        raise SystemExit(_("Invalid printer settings: {error}").format(error=exc)) from None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.mode == "rating":
        from counter_server import kivy_logging

        kivy_logging.configure(args.verbose)  # before rating_app imports Kivy
        try:
            from kiosk.rating_app import run_rating
        except ModuleNotFoundError as exc:
            if exc.name not in ("kiosk.rating_app",):
                raise
            sys.stderr.write(_("The rating mode is not installed in this version.") + "\n")
            raise SystemExit(2) from None
        run_rating(args)
        return
    # python-escpos loads its printer-profile database on import (~0.3 s):
    # do it on a side thread while Kivy starts, not in front of the first frame.
    threading.Thread(target=importlib.import_module, args=("kiosk.printers",),
                     name="preload-printers", daemon=True).start()
    configure_kivy(args)
    create_app(args).run()


if __name__ == "__main__":
    main()
