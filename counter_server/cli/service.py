"""``motcua service install``: start on boot and after a crash (systemd on
Linux, Task Scheduler on Windows); ``motcua service supervise``: keeps one
program running (what a Windows task runs)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click

from .. import service_units as su
from ..i18n import _
from .base import CONTEXT, fail, instance_folder, main


@main.group("service", context_settings=CONTEXT, help=_("Start motcua when the PC starts."))
def service_grp() -> None:
    pass


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        fail("{program} not found: use --output DIR to only write the files.", program=cmd[0])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        fail("{command} failed: {detail}", command=" ".join(cmd[:3]),
             detail=((done.stderr or done.stdout).strip().splitlines() or ["?"])[-1])


@service_grp.command("install", context_settings=CONTEXT,
                     help=_("Write and enable the start-up files: systemd user units on Linux, "
                            "scheduled tasks at logon on Windows. The server always; the kiosk and "
                            "the display when their token is given. Each is restarted after a crash."))
@click.option("--host", default="0.0.0.0", help=_("Address the server listens on."))
@click.option("--port", default=8080, type=click.IntRange(1, 65535), help=_("Port of the server."))
@click.option("--no-server", is_flag=True, help=_("No server here (a kiosk or TV PC)."))
@click.option("--server-url", default=None, show_default="http://127.0.0.1:PORT",
              help=_("Server address the kiosk and the display use."))
@click.option("--kiosk-token", default=None, help=_("Device token of this PC's kiosk (adds the kiosk)."))
@click.option("--kiosk-args", default="", help=_("More kiosk options, e.g. \"--printer '{...}'\"."))
@click.option("--display-token", default=None, help=_("Device token of this PC's display (adds the display)."))
@click.option("--display-args", default="", help=_("More display options."))
@click.option("--platform", "target", type=click.Choice(["linux", "windows"]),
              default=su.current_platform(), help=_("Which kind of files to write."))
@click.option("--output", type=click.Path(file_okay=False), default=None,
              help=_("Write the files into this folder only (nothing is enabled)."))
@click.option("--dry-run", is_flag=True, help=_("Print the files instead of writing them."))
@click.pass_obj
def install_cmd(obj: dict, host: str, port: int, no_server: bool, server_url: str | None,
                kiosk_token: str | None, kiosk_args: str, display_token: str | None,
                display_args: str, target: str, output: str | None, dry_run: bool) -> None:
    instance = instance_folder(obj).resolve()
    progs = su.programs(instance, host, port, not no_server,
                        server_url or f"http://127.0.0.1:{port}", kiosk_token, kiosk_args,
                        display_token, display_args)
    if not progs:
        fail("Nothing to install: give --kiosk-token or --display-token with --no-server.")
    python, workdir = sys.executable, Path.cwd()
    if target == "linux":
        files = {su.unit_name(p): su.systemd_unit(p, python, workdir).encode("utf-8") for p in progs}
    else:
        files = {su.task_name(p) + ".xml": su.windows_task(p, python, workdir, instance)
                 for p in progs}
    if dry_run:
        for name, body in files.items():
            click.echo(f"# {name}")
            click.echo(body.decode("utf-16" if target == "windows" else "utf-8"))
        return
    enable = output is None
    folder = Path(output) if output else (su.user_unit_dir() if target == "linux"
                                          else instance / "tasks")
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        path = folder / name
        path.write_bytes(body)
        if os.name != "nt":
            path.chmod(0o600)  # tokens and the database address are inside
        click.echo(_("Written: {file}").format(file=path))
    if not enable:
        return
    if target == "linux":
        _run(["systemctl", "--user", "daemon-reload"])
        _run(["systemctl", "--user", "enable", "--now", *files])
        click.echo(_("Enabled: {units}").format(units=", ".join(files)))
        click.echo(_("To start the server at boot without anyone signing in: "
                     "loginctl enable-linger {user}").format(user=os.environ.get("USER", "$USER")))
    else:
        for name in files:
            _run(["schtasks", "/Create", "/F", "/TN", name[:-4], "/XML", str(folder / name)])
        click.echo(_("Scheduled at logon: {tasks}").format(tasks=", ".join(n[:-4] for n in files)))


@service_grp.command("supervise", context_settings={**CONTEXT, "ignore_unknown_options": True},
                     help=_("Run a motcua command and start it again whenever it stops "
                            "(what the Windows tasks run); its output goes to a rotating log "
                            "in the instance folder."))
@click.option("--delay", default=3.0, type=click.FloatRange(0, 600), help=_("Seconds before a restart."))
@click.option("--max-restarts", default=0, type=click.IntRange(0), help=_("Stop after this many restarts (0: never)."))
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def supervise_cmd(obj: dict, delay: float, max_restarts: int, args: tuple[str, ...]) -> None:
    import logging

    from .. import logs

    program = next((a for a in args if a in ("serve", "kiosk", "display")), args[0])
    log_file = logs.setup(instance_folder(obj), program if program != "serve" else "server-output",
                          obj.get("verbose", False))
    log = logging.getLogger(f"motcua.{program}")
    restarts = 0
    command = [sys.executable, "-m", "counter_server.cli", *args]
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, encoding="utf-8", errors="replace")
        assert child.stdout is not None
        for line in child.stdout:  # a window-less task has no console: keep what it says
            log.info("%s", line.rstrip())
        code = child.wait()
        if max_restarts and restarts >= max_restarts:
            raise SystemExit(code)
        restarts += 1
        # A program that dies at once again and again waits longer (up to a minute).
        wait = delay if time.monotonic() - started > 30 else min(60.0, delay * min(restarts, 20))
        log.warning("%s stopped with code %s; starting again in %.0f s (log: %s)",
                    program, code, wait, log_file)
        click.echo(_("{program} stopped (code {code}); starting again in {seconds:.0f} s.").format(
            program=program, code=code, seconds=wait), err=True)
        time.sleep(wait)
