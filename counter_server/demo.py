"""``motcua demo``: the whole system on one PC with demo data.

Server, kiosk and display run as separate processes, as they would in an
office, talking over HTTP on 127.0.0.1.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
import requests

from .i18n import _


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


def run_demo(port: int = 8080, windows: bool = True, fresh: bool = False) -> None:
    folder = Path.cwd() / "instance" / "demo"
    creds_file = folder / "demo-credentials.json"
    if fresh and folder.exists():
        shutil.rmtree(folder)
    py = [sys.executable, "-m", "counter_server.cli", "--instance", str(folder)]
    if not creds_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(py + ["init", "--demo", "--always-open", "--credentials-out",
                             str(creds_file)], check=True, stdout=subprocess.DEVNULL)
    creds = json.loads(creds_file.read_text(encoding="utf-8"))
    url = f"http://127.0.0.1:{port}"
    procs = [subprocess.Popen(py + ["serve", "--port", str(port)])]
    try:
        _wait_health(url, procs[0])
        click.echo(_("motcua demo is running at {url}").format(url=url))
        click.echo(_("Staff console: {url}/console").format(url=url))
        click.echo(_("Web display: {url}/display?token={token}").format(
            url=url, token=creds["devices"]["display"]["token"]))
        for name, u in creds["users"].items():
            click.echo(f"  {u['role']:7} {name:10} {u['password']}")
        if windows:
            preview = folder / "tickets"
            for module, args in (
                ("kiosk.app", ["--server", url, "--token", creds["devices"]["kiosk"]["token"],
                               "--mode", "ticket", "--printer", "preview", "--preview-dir",
                               str(preview), "--windowed", "--size", "1024x600"]),
                ("display.app", ["--server", url, "--token",
                                 creds["devices"]["display"]["token"]])):
                if importlib.util.find_spec(module) is not None:
                    procs.append(subprocess.Popen([sys.executable, "-m", module, *args]))
            click.echo(_("Printed tickets are saved as pictures in {folder}").format(folder=preview))
        click.echo(_("Press Ctrl+C to stop."))
        procs[0].wait()
    except KeyboardInterrupt:
        pass
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
