"""``motcua display --server URL --token T``: the lobby TV, full screen.

Arguments are read and Kivy's window configured *before* Kivy is imported
(the window is created on import), so the Kivy code lives in :mod:`display.ui`
and is imported only from :func:`build_app`.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ._i18n import _


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="motcua display", description=_("Lobby display"))
    p.add_argument("--server", required=True, help=_("Server address, e.g. http://192.168.1.10:8080"))
    p.add_argument("--token", default=os.environ.get("MOTCUA_DISPLAY_TOKEN"),
                   help=_("Display device token (or MOTCUA_DISPLAY_TOKEN)"))
    p.add_argument("--size", default=None, help=_("Window size WxH, e.g. 1920x1080"))
    p.add_argument("--windowed", action="store_true", help=_("A window instead of full screen"))
    p.add_argument("--no-voice", action="store_true", help=_("Do not announce calls"))
    p.add_argument("--voice-engine", default=None,
                   choices=("espeak-ng", "clips", "pyttsx3", "none"),
                   help=_("Overrides the office's voice engine"))
    p.add_argument("--clips-dir", default=None, help=_("Folder of recorded clips (clips engine)"))
    p.add_argument("--highlight-seconds", type=float, default=8.0,
                   help=_("How long a new call stays highlighted"))
    p.add_argument("--verbose", "-v", action="store_true", help=_("Kivy's debug log on the console"))
    args = p.parse_args(argv)
    if not args.token:
        p.error(_("A display token is required (--token)."))
    if args.size:
        try:
            w, h = (int(x) for x in args.size.lower().split("x"))
        except ValueError:
            p.error(_("--size must look like 1920x1080."))
        args.size = (w, h)
    return args


def configure_kivy(args: argparse.Namespace) -> None:
    """Window size and full screen, set before the window exists."""
    from counter_server import kivy_logging
    from counter_server.kivy_window import no_multisampling

    kivy_logging.configure(getattr(args, "verbose", False))
    from kivy.config import Config

    if args.size:
        Config.set("graphics", "width", str(args.size[0]))
        Config.set("graphics", "height", str(args.size[1]))
    Config.set("graphics", "fullscreen", "0" if (args.windowed or args.size) else "auto")
    no_multisampling()  # (software OpenGL: see counter_server/kivy_window.py)
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "1")


def build_app(argv: list[str] | None = None) -> Any:
    """The configured (not yet running) Kivy app; tests drive it before ``run()``."""
    args = parse_args(argv)
    configure_kivy(args)
    from .ui import DisplayApp

    return DisplayApp(args)


def main(argv: list[str] | None = None) -> None:
    build_app(sys.argv[1:] if argv is None else argv).run()


if __name__ == "__main__":
    main()
