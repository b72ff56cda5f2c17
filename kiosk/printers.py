"""Send rendered tickets to ESC/POS printers through python-escpos' own classes.

Transports (USB, network, serial, device file, CUPS, lp, Windows raw) are the
library's printer classes, built from a plain settings dict; its YAML loader is
available as kind ``escpos_config``.  What this module adds is what a kiosk
needs around them: the ticket goes out as one raster image (GS v 0) and a cut,
never as text through a code page; every failure becomes a
:class:`PrinterError` with a machine code and a Vietnamese message; and a job
never blocks its caller longer than the configured timeout, because a
citizen is standing in front of the screen waiting.
"""
from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from escpos.capabilities import get_profile
from escpos.config import Config
from escpos.escpos import Escpos
from escpos.printer import LP, CupsPrinter, Dummy, File, Network, Serial, Usb, Win32Raw
from PIL import Image

from kiosk.printer_errors import classify
from kiosk.printing import (PAPER_DOTS, PrinterError, PrinterStatus, PrintResult, TicketData, _,
                            render_ticket)

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PREVIEW_FOLDER = Path(tempfile.gettempdir()) / "motcua-tickets"

_COMMON_KEYS = {"kind", "paper_mm", "width_dots", "timeout", "profile", "cut", "paper_check",
                "status_timeout"}
# kind -> (python-escpos class or None, required keys, optional keys, pip extra it needs)
_KINDS: dict[str, tuple[type[Escpos] | None, set[str], set[str], str]] = {
    "network": (Network, {"host"}, {"port"}, ""),
    "usb": (Usb, {"vendor_id", "product_id"}, {"in_ep", "out_ep"}, "usb"),
    "serial": (Serial, {"devfile"}, {"baudrate", "bytesize", "parity", "stopbits", "xonxoff",
                                     "dsrdtr"}, "serial"),
    "file": (File, {"devfile"}, set(), ""),
    "cups": (CupsPrinter, set(), {"printer_name", "host", "port"}, "cups"),
    "lp": (LP, set(), {"printer_name"}, ""),
    "win32raw": (Win32Raw, set(), {"printer_name"}, "win32"),
    "dummy": (Dummy, set(), set(), ""),
    "escpos_config": (None, {"path"}, set(), ""),
    "preview": (None, set(), {"folder"}, ""),
}
# Only these read real ESC/POS status bytes back (CupsPrinter._read answers its queue state).
_STATUS_CAPABLE = (Network, Serial, Usb)
def _validated(settings: Mapping[str, Any]) -> dict[str, Any]:
    cfg = dict(settings)
    kind = cfg.setdefault("kind", "preview")
    if kind not in _KINDS:
        raise ValueError(f"unknown printer kind {kind!r}; expected one of {sorted(_KINDS)}")
    _cls, required, optional, _extra = _KINDS[kind]
    if missing := required - cfg.keys():
        raise ValueError(f"printer kind {kind!r} needs {sorted(missing)}")
    if unknown := cfg.keys() - required - optional - _COMMON_KEYS:
        raise ValueError(f"unknown printer settings for kind {kind!r}: {sorted(unknown)}")
    if cfg.get("cut", "full") not in ("full", "partial"):
        raise ValueError("cut must be 'full' or 'partial'")
    if float(cfg.get("timeout", 5)) <= 0:
        raise ValueError("timeout must be positive (seconds)")
    return cfg


def _width_dots(cfg: Mapping[str, Any]) -> int:
    """Explicit width_dots, else the python-escpos profile's width, else the paper's."""
    profile_px = None
    if cfg.get("profile"):
        try:
            profile_px = get_profile(cfg["profile"]).profile_data["media"]["width"].get("pixels")
        except KeyError as exc:
            raise ValueError(f"unknown python-escpos profile {cfg['profile']!r}") from exc
    if cfg.get("width_dots"):
        width = int(cfg["width_dots"])
        if isinstance(profile_px, int) and width > profile_px:
            raise ValueError(f"width_dots={width} is wider than profile's {profile_px} dots")
        return width
    if isinstance(profile_px, int):
        return profile_px
    paper = int(cfg.get("paper_mm", 80))
    if paper not in PAPER_DOTS:
        raise ValueError(f"paper_mm must be one of {sorted(PAPER_DOTS)} (or give width_dots)")
    return PAPER_DOTS[paper]


def _fit_profile(printer: Escpos, width_dots: int) -> Escpos:
    """Tell python-escpos the paper width when its profile does not know it.

    Otherwise ``image()`` prints a warning on stdout for every ticket and cannot
    refuse an image that is too wide.  The override lives on this instance
    only; the library's shared profile class is left alone.
    """
    data = printer.profile.profile_data
    media = data.get("media", {})
    if not isinstance(media.get("width", {}).get("pixels"), int):
        width = {**media.get("width", {}), "pixels": width_dots}
        printer.profile.profile_data = {**data, "media": {**media, "width": width}}
    return printer


def build_escpos(settings: Mapping[str, Any]) -> Escpos:
    """A fresh, unopened python-escpos printer for ``settings`` (not for kind "preview")."""
    cfg = _validated(settings)
    kind = cfg["kind"]
    cls, _required, _optional, extra = _KINDS[kind]
    timeout = float(cfg.get("timeout", 5))
    profile = cfg.get("profile")
    if kind == "escpos_config":
        config = Config()
        config.load(Path(cfg["path"]))
        return _fit_profile(config.printer(), _width_dots(cfg))
    if cls is None:
        raise ValueError(f"printer kind {kind!r} has no ESC/POS transport")
    if not cls.is_usable():
        raise PrinterError("printer_missing",
                           f"{cls.__name__} needs an optional package: python-escpos[{extra}]")
    if kind == "network":
        printer = Network(cfg["host"], int(cfg.get("port", 9100)), timeout, profile=profile)
    elif kind == "usb":
        ids = {k: int(cfg[k], 0) if isinstance(cfg[k], str) else int(cfg[k])
               for k in ("vendor_id", "product_id", "in_ep", "out_ep") if k in cfg}
        printer = Usb(ids["vendor_id"], ids["product_id"], timeout=int(timeout * 1000),
                      in_ep=ids.get("in_ep", 0x82), out_ep=ids.get("out_ep", 0x01), profile=profile)
    elif kind == "serial":
        options = {k: cfg[k] for k in _KINDS["serial"][2] if k in cfg}
        printer = Serial(cfg["devfile"], timeout=timeout, profile=profile, **options)
    elif kind == "file":
        printer = File(cfg["devfile"], profile=profile)
    elif kind == "cups":
        server = {k: cfg[k] for k in ("host", "port") if k in cfg}
        printer = CupsPrinter(cfg.get("printer_name", ""), profile=profile, **server)
    elif kind in ("lp", "win32raw"):
        printer = cls(cfg.get("printer_name", ""), profile=profile)
    else:
        printer = Dummy(profile=profile)
    return _fit_profile(printer, _width_dots(cfg))


def write_job(printer: Escpos, image: Image.Image, cut: str = "full") -> None:
    """The whole ticket: reset, one raster image (GS v 0), feed and cut. No text at all."""
    printer.hw("INIT")
    printer.image(image, impl="bitImageRaster")
    printer.cut(mode="PART" if cut == "partial" else "FULL")


def encode_ticket(ticket: TicketData, width_dots: int = 576, profile: str | None = None) -> bytes:
    """The ESC/POS bytes a printer would receive for ``ticket`` (for tests and benchmarks)."""
    printer = _fit_profile(Dummy(profile=profile), width_dots)
    write_job(printer, render_ticket(ticket, width_dots))
    return printer.output


def _close_quietly(printer: Escpos) -> None:
    if isinstance(printer, CupsPrinter):
        printer.pending_job = False  # never submit half a job from an error path
    try:
        printer.close()
    except Exception:  # noqa: BLE001 - already failing; the first error is the one to report
        log.debug("closing %s after an error failed", type(printer).__name__, exc_info=True)


def _drain(printer: Escpos) -> None:
    """Read a late status answer before closing: unread bytes make close() reset the link."""
    sock = printer._device if isinstance(printer, Network) else None
    if isinstance(sock, socket.socket):
        try:
            sock.setblocking(False)
            while sock.recv(256):
                pass
        except OSError:
            pass


class TicketPrinter:
    """One configured ticket printer of the kiosk; safe to call from worker threads.

    Each job builds a fresh python-escpos printer, so a printer that was
    unplugged or restarted is simply found again by the next job or probe.
    """

    def __init__(self, settings: Mapping[str, Any] | None = None, *,
                 escpos_factory: Callable[[], Escpos] | None = None) -> None:
        self.settings = _validated(settings or {"kind": "preview"})
        self.kind: str = self.settings["kind"]
        self.width_dots = _width_dots(self.settings)
        self.timeout = float(self.settings.get("timeout", 5))
        self.status_timeout = min(float(self.settings.get("status_timeout", 0.5)), self.timeout / 2)
        self.paper_check = bool(self.settings.get("paper_check", True))
        self.cut: str = self.settings.get("cut", "full")
        self.folder = Path(self.settings.get("folder") or DEFAULT_PREVIEW_FOLDER)
        self._factory = escpos_factory or partial(build_escpos, self.settings)
        self._lock = threading.Lock()
        self._current: Escpos | None = None

    def print_ticket(self, ticket: TicketData) -> PrintResult:
        """Draw and send one ticket; raises only :class:`PrinterError`, within ``timeout``."""
        try:
            image = render_ticket(ticket, self.width_dots)
        except Exception as exc:
            raise PrinterError("printer_error", f"could not draw the ticket: {exc!r}") from exc
        if self.kind == "preview":
            return self._bounded(partial(self._write_preview, ticket, image))
        return self._bounded(partial(self._send, image))

    def check(self) -> PrinterStatus:
        """Probe the printer without printing, so the kiosk can tell when it is back."""
        try:
            paper = self._bounded(self._probe, log_level=logging.DEBUG)  # polled: keep logs calm
        except PrinterError as err:
            return PrinterStatus(err.code, err.message, detail=err.detail)
        if paper == "low":
            return PrinterStatus("paper_low", _("The ticket printer is running low on paper."), paper)
        return PrinterStatus("ok", _("The ticket printer is ready."), paper)

    def _bounded(self, job: Callable[[], T], log_level: int = logging.WARNING) -> T:
        """Run ``job`` in a worker thread and give up after ``timeout`` seconds.

        Socket time-outs alone do not bound a job (each write gets its own, and
        USB, serial or lp can block without one), so the caller waits on the
        thread instead; a stuck device is closed to unblock it, and the lock
        keeps the next job from piling onto a printer that is still stuck.
        """
        deadline = time.monotonic() + self.timeout
        if not self._lock.acquire(timeout=self.timeout):
            raise PrinterError("printer_timeout", "the previous job is still stuck")
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["value"] = job()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome["error"] = exc
            finally:
                self._lock.release()

        worker = threading.Thread(target=work, name=f"ticket-printer-{self.kind}", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            stuck = self._current
            if stuck is not None:
                threading.Thread(target=_close_quietly, args=(stuck,), daemon=True).start()
            err = PrinterError("printer_timeout", f"no answer within {self.timeout:g} s")
        elif "error" in outcome:
            err = classify(outcome["error"])
        else:
            return outcome["value"]
        log.log(log_level, "ticket printer (%s): %s", self.kind, err)
        raise err

    def _paper(self, printer: Escpos) -> str:
        """Ask for the paper sensor where the transport can answer; "unknown" otherwise."""
        if not self.paper_check or not isinstance(printer, _STATUS_CAPABLE):
            return "unknown"
        device = printer._device
        restore: Callable[[], None] = lambda: None
        if isinstance(printer, Network) and isinstance(device, socket.socket):
            device.settimeout(self.status_timeout)
            restore = partial(device.settimeout, printer.timeout)
        elif isinstance(printer, Serial) and device:
            old = device.timeout
            device.timeout = self.status_timeout
            restore = partial(setattr, device, "timeout", old)
        try:
            status = printer.paper_status()
        except Exception:  # noqa: BLE001 - a printer that cannot report is still usable
            log.debug("paper status unavailable", exc_info=True)
            return "unknown"
        finally:
            restore()
        return {2: "ok", 1: "low", 0: "out"}.get(status, "unknown")

    def _send(self, image: Image.Image) -> PrintResult:
        printer = _fit_profile(self._factory(), self.width_dots)
        self._current = printer
        try:
            printer.open()
            paper = self._paper(printer)
            if paper == "out":
                raise PrinterError("paper_out", "the paper sensor reports no paper")
            write_job(printer, image, self.cut)
            data = printer.output if isinstance(printer, Dummy) else None
            _drain(printer)
            printer.close()  # CUPS and lp submit the job here, so its errors count
        except BaseException:
            _close_quietly(printer)
            raise
        finally:
            self._current = None
        return PrintResult(self.kind, self.width_dots, paper, data=data)

    def print_picture(self, draw: Callable[[int], Image.Image], stem: str) -> PrintResult:
        """Draw (at the paper's width) and send something other than a ticket, such as a
        procedure checklist, like a ticket; ``stem`` names the preview file."""
        try:
            image = draw(self.width_dots)
        except Exception as exc:
            raise PrinterError("printer_error", f"could not draw the picture: {exc!r}") from exc
        if self.kind == "preview":
            return self._bounded(partial(self._write_png, stem, image))
        return self._bounded(partial(self._send, image))

    def _write_preview(self, ticket: TicketData, image: Image.Image) -> PrintResult:
        number = "".join(c if c.isascii() and c.isalnum() else "_" for c in ticket.display_number)
        return self._write_png(f"ticket-{number}-{ticket.issued_at.strftime('%Y%m%d-%H%M%S')}",
                               image)

    def _write_png(self, stem: str, image: Image.Image) -> PrintResult:
        self.folder.mkdir(parents=True, exist_ok=True)
        path, n = self.folder / f"{stem}.png", 1
        while path.exists():
            n += 1
            path = self.folder / f"{stem}-{n}.png"
        partial_path = path.with_suffix(".part")
        image.save(partial_path, format="PNG")
        os.replace(partial_path, path)  # a viewer never sees half a file
        return PrintResult(self.kind, self.width_dots, "unknown", path=path)

    def _probe(self) -> str:
        if self.kind == "preview":
            self.folder.mkdir(parents=True, exist_ok=True)
            if not os.access(self.folder, os.W_OK):
                raise PrinterError("printer_error", f"cannot write to {self.folder}")
            return "unknown"
        if self.kind == "file":
            with open(self.settings["devfile"], "ab"):  # "wb" would truncate a plain file
                return "unknown"
        printer = self._factory()
        if isinstance(printer, (LP, Win32Raw)):  # open() would start an (empty) print job
            names = printer.printers
            if not names or (printer.printer_name and printer.printer_name not in names):
                raise PrinterError("printer_missing", f"no printer {printer.printer_name!r}")
            return "unknown"
        self._current = printer
        try:
            printer.open()
            paper = self._paper(printer)
            _drain(printer)
            printer.close()
        except BaseException:
            _close_quietly(printer)
            raise
        finally:
            self._current = None
        if paper == "out":
            raise PrinterError("paper_out", "the paper sensor reports no paper")
        return paper


def make_printer(settings: Mapping[str, Any] | None = None) -> TicketPrinter:
    """The kiosk's printer from its settings; ``{"kind": "preview"}`` when none are given.

    Raises ValueError for settings that can never work (unknown kind or key),
    so a typo shows at start-up rather than at the first citizen's ticket.
    """
    return TicketPrinter(settings)
