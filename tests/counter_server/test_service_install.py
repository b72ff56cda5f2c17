"""``motcua service install --output DIR``: the systemd units and Windows
tasks it generates (written to a folder; the real systemd is never touched)."""
from __future__ import annotations

import configparser
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from counter_server.service_units import TASK_NS
from tests.counter_server.test_cli import motcua

TOKEN_K, TOKEN_D = "kiosk-token_abc", "display-token_xyz"


def install(inst: Path, out: Path, *extra: str):
    r = motcua(inst, "service", "install", "--output", str(out), "--port", "8090",
               "--kiosk-token", TOKEN_K, "--kiosk-args", "--printer '{\"kind\": \"network\", "
               "\"host\": \"192.168.1.50\"}' --data-dir /var/lib/motcua-kiosk",
               "--display-token", TOKEN_D, *extra,
               env={"MOTCUA_BACKUP_DIR": "/media/usb/sao luu 100%"})
    assert r.returncode == 0, r.stderr
    return r


def unit(path: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    cp.optionxform = str  # type: ignore[assignment]
    cp.read_string(path.read_text(encoding="utf-8"))
    return cp


def test_systemd_units(tmp_path: Path):
    inst, out = tmp_path / "inst", tmp_path / "units"
    install(inst, out, "--platform", "linux")
    assert sorted(p.name for p in out.iterdir()) == [
        "motcua-display.service", "motcua-kiosk.service", "motcua-server.service"]
    server = unit(out / "motcua-server.service")
    assert server["Service"]["Restart"] == "always"
    assert server["Install"]["WantedBy"] == "default.target"
    words = shlex.split(server["Service"]["ExecStart"])
    assert words[:3] == [sys.executable, "-m", "counter_server.cli"]
    assert words[3:] == ["--instance", str(inst.resolve()), "serve", "--host", "0.0.0.0",
                         "--port", "8090"]
    # systemd expands % and $: they are doubled in the file
    assert "\nEnvironment='MOTCUA_BACKUP_DIR=/media/usb/sao luu 100%%'\n" in \
        (out / "motcua-server.service").read_text(encoding="utf-8")
    kiosk = unit(out / "motcua-kiosk.service")
    assert kiosk["Service"]["Restart"] == "always"
    assert kiosk["Install"]["WantedBy"] == "graphical-session.target"
    kwords = shlex.split(kiosk["Service"]["ExecStart"])
    assert kwords[3:8] == ["kiosk", "--server", "http://127.0.0.1:8090", "--token", TOKEN_K]
    assert kwords[8:] == ["--printer", '{"kind": "network", "host": "192.168.1.50"}',
                          "--data-dir", "/var/lib/motcua-kiosk"]
    assert "--windowed" not in kwords  # the kiosk starts full screen
    display = unit(out / "motcua-display.service")
    assert shlex.split(display["Service"]["ExecStart"])[3:] == [
        "display", "--server", "http://127.0.0.1:8090", "--token", TOKEN_D]
    assert (out / "motcua-kiosk.service").stat().st_mode & 0o077 == 0  # tokens inside
    if Path("/usr/bin/systemd-analyze").exists():
        check = subprocess.run(["systemd-analyze", "verify", *map(str, out.iterdir())],
                               capture_output=True, text=True)
        assert "Unknown key" not in check.stderr and "Invalid" not in check.stderr, check.stderr


def test_windows_tasks(tmp_path: Path):
    inst, out = tmp_path / "inst", tmp_path / "tasks"
    install(inst, out, "--platform", "windows")
    files = sorted(p.name for p in out.iterdir())
    assert files == ["motcua-display.xml", "motcua-kiosk.xml", "motcua-server.xml"]
    raw = (out / "motcua-server.xml").read_bytes()
    assert raw[:2] == b"\xff\xfe"  # UTF-16 with its byte order mark, as schtasks reads it
    ns = {"t": TASK_NS}
    task = ET.fromstring(raw.decode("utf-16").split("\n", 1)[1])
    assert task.find("t:Triggers/t:LogonTrigger/t:Enabled", ns).text == "true"
    assert task.find("t:Settings/t:ExecutionTimeLimit", ns).text == "PT0S"
    assert task.find("t:Settings/t:MultipleInstancesPolicy", ns).text == "IgnoreNew"
    assert task.find("t:Settings/t:RestartOnFailure/t:Count", ns) is not None
    args = task.find("t:Actions/t:Exec/t:Arguments", ns).text
    assert args.startswith(f"-m counter_server.cli --instance {inst.resolve()} service supervise "
                           "-- --instance ")
    assert args.endswith("serve --host 0.0.0.0 --port 8090")
    kiosk = ET.fromstring((out / "motcua-kiosk.xml").read_bytes().decode("utf-16").split("\n", 1)[1])
    kargs = kiosk.find("t:Actions/t:Exec/t:Arguments", ns).text
    assert f"kiosk --server http://127.0.0.1:8090 --token {TOKEN_K}" in kargs
    assert '"{\\"kind\\": \\"network\\", \\"host\\": \\"192.168.1.50\\"}"' in kargs  # Windows quoting


def test_dry_run_writes_nothing(tmp_path: Path):
    r = motcua(tmp_path / "inst", "service", "install", "--dry-run", "--platform", "linux")
    assert r.returncode == 0, r.stderr
    assert "# motcua-server.service" in r.stdout and "Restart=always" in r.stdout
    assert not (tmp_path / "inst").exists()


def test_supervise_starts_a_stopped_program_again(tmp_path: Path):
    """What a Windows task runs: the program is started again after it stops,
    and what it printed is kept in the instance's log folder."""
    inst = tmp_path / "inst"
    r = subprocess.run([sys.executable, "-m", "counter_server.cli", "--instance", str(inst),
                        "service", "supervise", "--delay", "0", "--max-restarts", "2", "--",
                        "khong-co-lenh"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2  # the program's own exit code (a usage error) after two restarts
    assert r.stderr.count("khong-co-lenh") >= 2
    kept = (inst / "logs" / "khong-co-lenh.log").read_text(encoding="utf-8")
    assert kept.count("khong-co-lenh") >= 3 and "Traceback" not in kept
