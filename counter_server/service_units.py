"""Start on boot: the files that make the server, the kiosk and the display
start by themselves and come back after a crash.

* Linux: systemd user units (``~/.config/systemd/user``): ``motcua-server``
  (``default.target``) and ``motcua-kiosk`` / ``motcua-display``
  (``graphical-session.target``, they need the desktop), all ``Restart=always``.
  ``loginctl enable-linger USER`` starts the server at boot without a login.
* Windows: one Task Scheduler task per program, started at logon, run by
  ``motcua service supervise`` (which starts the program again whenever it
  stops: Task Scheduler restarts only tasks that fail to start; and keeps the
  window-less program's output in ``<instance>/logs``).

This module only builds the files; ``motcua service install`` writes and
registers them.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
# Environment variables a unit carries over from the shell that installs it.
CARRIED_ENV = ("MOTCUA_DATABASE_URL", "MOTCUA_SECRET_KEY", "MOTCUA_LANG", "MOTCUA_BACKUP_DIR",
               "MOTCUA_BACKUP_TIME", "MOTCUA_BACKUP_KEEP_DAYS", "MOTCUA_SQLITE_SYNC", "MOTCUA_DATA_DIR")


@dataclass
class Program:
    """One program to keep running: ``name`` (server, kiosk, display) and its
    ``motcua`` arguments."""

    name: str
    args: list[str]
    description: str
    graphical: bool = False
    env: dict[str, str] = field(default_factory=dict)


def programs(instance: Path, host: str, port: int, server: bool, server_url: str,
             kiosk_token: str | None, kiosk_args: str, display_token: str | None,
             display_args: str) -> list[Program]:
    env = {k: os.environ[k] for k in CARRIED_ENV if os.environ.get(k)}
    out = []
    if server:
        out.append(Program("server", ["--instance", str(instance), "serve", "--host", host,
                                      "--port", str(port)], "motcua server", env=env))
    if kiosk_token:
        out.append(Program("kiosk", ["kiosk", "--server", server_url, "--token", kiosk_token,
                                     *shlex.split(kiosk_args)], "motcua lobby kiosk",
                           graphical=True, env={k: v for k, v in env.items() if k == "MOTCUA_DATA_DIR"}))
    if display_token:
        out.append(Program("display", ["display", "--server", server_url, "--token", display_token,
                                       *shlex.split(display_args)], "motcua lobby display",
                           graphical=True))
    return out


def _systemd_word(word: str) -> str:
    """One ExecStart argument: quoted like a shell word; % and $ doubled (systemd
    expands specifiers and variables in them)."""
    return shlex.quote(word).replace("%", "%%").replace("$", "$$")


def systemd_unit(p: Program, python: str, workdir: Path) -> str:
    command = " ".join(_systemd_word(w) for w in [python, "-m", "counter_server.cli", *p.args])
    if p.graphical:
        unit = ["After=graphical-session.target motcua-server.service",
                "PartOf=graphical-session.target"]
        install = "WantedBy=graphical-session.target"
    else:
        unit = ["After=network-online.target", "Wants=network-online.target"]
        install = "WantedBy=default.target"
    env = [f"Environment={_systemd_word(f'{k}={v}')}" for k, v in sorted(p.env.items())]
    return "\n".join([
        "[Unit]", f"Description={p.description}", *unit, "",
        "[Service]", "Type=simple", f"WorkingDirectory={_systemd_word(str(workdir))}", *env,
        f"ExecStart={command}", "Restart=always", "RestartSec=3", "",
        "[Install]", install, ""])


def windows_python(python: str) -> str:
    """``pythonw.exe`` beside ``python.exe`` when there is one (no console window)."""
    candidate = Path(python).with_name("pythonw.exe")
    return str(candidate) if candidate.exists() else python


def windows_task(p: Program, python: str, workdir: Path, instance: Path) -> bytes:
    """A Task Scheduler task (XML, UTF-16 as ``schtasks /Create /XML`` wants it):
    at logon, no time limit, never a second copy, restarted by ``supervise``."""
    ET.register_namespace("", TASK_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        el = ET.SubElement(parent, f"{{{TASK_NS}}}{tag}")
        if text is not None:
            el.text = text
        return el

    task = ET.Element(f"{{{TASK_NS}}}Task", {"version": "1.2"})
    sub(sub(task, "RegistrationInfo"), "Description", p.description)
    sub(sub(sub(task, "Triggers"), "LogonTrigger"), "Enabled", "true")
    principal = sub(sub(task, "Principals"), "Principal", None)
    principal.set("id", "Author")
    sub(principal, "LogonType", "InteractiveToken")
    sub(principal, "RunLevel", "LeastPrivilege")
    settings = sub(task, "Settings")
    for tag, value in (("MultipleInstancesPolicy", "IgnoreNew"),
                       ("DisallowStartIfOnBatteries", "false"), ("StopIfGoingOnBatteries", "false"),
                       ("ExecutionTimeLimit", "PT0S"), ("StartWhenAvailable", "true")):
        sub(settings, tag, value)
    restart = sub(settings, "RestartOnFailure")
    sub(restart, "Interval", "PT1M")
    sub(restart, "Count", "999")
    actions = sub(task, "Actions")
    actions.set("Context", "Author")
    exe = sub(actions, "Exec")
    sub(exe, "Command", windows_python(python))
    sub(exe, "Arguments", subprocess.list2cmdline(
        ["-m", "counter_server.cli", "--instance", str(instance), "service", "supervise", "--",
         *p.args]))
    sub(exe, "WorkingDirectory", str(workdir))
    body = ET.tostring(task, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-16"?>\n' + body).encode("utf-16")


def unit_name(p: Program) -> str:
    return f"motcua-{p.name}.service"


def task_name(p: Program) -> str:
    return f"motcua-{p.name}"


def user_unit_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def current_platform() -> str:
    return "windows" if sys.platform == "win32" else "linux"
