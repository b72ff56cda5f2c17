"""``motcua demo``: the whole system on one PC with demo data.

Server, kiosk and display run as separate processes, as they would in an
office, talking over HTTP on 127.0.0.1.  They run in their own process
groups, so Ctrl-C reaches only this process, which stops them in turn: one
quiet stop instead of a traceback from each.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import requests

from .i18n import _

KIOSK_WINDOW = "1024x600"
DISPLAY_WINDOW = "1280x720"


def _wait_health(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(_("The server stopped while starting."))
        try:
            if requests.get(url + "/api/v1/health", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise click.ClickException(_("The server did not start in time."))


def _stop(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _own_group() -> dict[str, Any]:
    """Popen arguments that keep the terminal's Ctrl-C away from a child."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _prepare_kivy_home() -> None:
    """Let Kivy create its settings folder once, before two windows start.

    On a fresh PC the kiosk and the display would both create it at the same
    moment, and the slower one stops with "File exists".
    """
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    subprocess.run([sys.executable, "-c", "import kivy"], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_demo(port: int = 8080, windows: bool = True, fresh: bool = False,
             verbose: bool = False) -> None:
    from .cli.accounts import print_credentials

    folder = Path.cwd() / "instance" / "demo"
    creds_file = folder / "demo-credentials.json"
    if fresh and folder.exists():
        shutil.rmtree(folder)
    motcua = [sys.executable, "-m", "counter_server.cli"] + (["--verbose"] if verbose else [])
    py = motcua + ["--instance", str(folder)]
    if not creds_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(py + ["init", "--demo", "--always-open", "--credentials-out",
                             str(creds_file)], check=True, stdout=subprocess.DEVNULL)
    creds = json.loads(creds_file.read_text(encoding="utf-8"))
    url = f"http://127.0.0.1:{port}"
    procs = [subprocess.Popen(py + ["serve", "--port", str(port)], **_own_group())]
    signal.signal(signal.SIGTERM, _stop)  # `kill` stops the children too, like Ctrl+C
    try:
        _wait_health(url, procs[0])
        click.echo(_("motcua demo is running at {url}").format(url=url))
        click.echo(_("Staff console: {url}/console").format(url=url))
        click.echo(_("Web display: {url}/display?token={token}").format(
            url=url, token=creds["devices"]["display"]["token"]))
        print_credentials(creds)
        click.echo(_("(also kept in {file})").format(file=creds_file))
        if windows:
            _prepare_kivy_home()
            preview = folder / "tickets"
            for command in (
                    ["kiosk", "--server", url, "--token", creds["devices"]["kiosk"]["token"],
                     "--mode", "ticket", "--printer", "preview", "--preview-dir", str(preview),
                     "--windowed", "--size", KIOSK_WINDOW],
                    ["display", "--server", url, "--token", creds["devices"]["display"]["token"],
                     "--windowed", "--size", DISPLAY_WINDOW]):
                procs.append(subprocess.Popen(motcua + command, **_own_group()))
            click.echo(_("Printed tickets are saved as pictures in {folder}").format(folder=preview))
        click.echo(_("Press Ctrl+C to stop."))
        procs[0].wait()
    except KeyboardInterrupt:
        click.echo(_("Stopping the demo..."))
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
