"""Draw queue tickets as 1-bit images at the printer's dot width.

Thermal printers only know a few code pages and none of them reliably covers
Vietnamese, so nothing on the ticket is sent as text: the whole ticket is a
picture that :mod:`kiosk.printers` ships with ESC/POS raster commands.  This
module knows nothing about printers and must not import Kivy (importing it
opens a window); it only borrows the fonts that ship inside Kivy's wheel.

The result and error types of printing live here too, and the printer side
(``make_printer``, ``TicketPrinter``) is re-exported lazily, so the kiosk has
one import point and this module stays free of python-escpos.
"""
from __future__ import annotations

import importlib.util
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import qrcode
from PIL import Image, ImageDraw, ImageFont

from counter_server.i18n import translator

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_ = translator(LOCALE_DIR, "printing")

#: Printable dots across the paper at 203 dpi, by paper width in millimetres.
PAPER_DOTS: dict[int, int] = {80: 576, 58: 384}

#: Every Vietnamese letter (both cases): the 12 vowels with the 6 tones, plus đ/Đ.
VIETNAMESE_LETTERS: str = "".join(
    sorted(
        {
            unicodedata.normalize("NFC", vowel + tone)
            for vowel in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
            for tone in ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
        }
        | set("đĐ")
    )
)
# Punctuation that service and office names use besides ASCII.
_EXTRA_GLYPHS = "–—“”‘’…·"
# Code points no font has a real glyph for: what they draw is the .notdef box.
_NOTDEF_PROBES = ("\ue000", "\u0378")
# Preferred first: Roboto has a real bold; DejaVu Sans is the fallback.
_FONT_CANDIDATES = (("Roboto-Regular.ttf", "Roboto-Bold.ttf"), ("DejaVuSans.ttf", "DejaVuSans.ttf"))
_SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"))


@dataclass(frozen=True)
class TicketData:
    """What goes on one ticket; times are already in the office's local zone."""

    office_name: str
    display_number: str
    service_name: str
    counters: list[str]
    issued_at: datetime
    waiting_before: int
    estimated_wait_minutes: int | None
    status_url: str
    priority_label: str | None = None
    #: The office's short Wi-Fi line ("Wi-Fi: MotCua-Khach"), printed under the QR; "" none.
    wifi_hint: str = ""
    #: The short check code (the server's ``check_code``): with the number, the proof
    #: of holding this ticket at the lobby rating keypad; "" prints none.
    check_code: str = ""


@dataclass(frozen=True)
class TicketFonts:
    """The font files chosen for tickets; ``fake_bold`` when only a regular face exists."""

    regular: Path
    bold: Path
    fake_bold: bool = field(default=False)


ERROR_CODES = ("printer_missing", "printer_offline", "printer_timeout", "paper_out", "printer_error")


def _error_message(code: str) -> str:
    messages = {
        "printer_missing": _("The ticket printer was not found. Please ask the staff for help."),
        "printer_offline": _("The ticket printer is offline. Please ask the staff for help."),
        "printer_timeout": _("The ticket printer is not responding. Please ask the staff for help."),
        "paper_out": _("The ticket printer is out of paper. Please ask the staff for help."),
    }
    return messages.get(code) or _("The ticket could not be printed. Please ask the staff for help.")


class PrinterError(Exception):
    """A failed print or probe: ``code`` for the program, ``message`` for the citizen.

    ``detail`` keeps the technical cause (English) for the log and the staff.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown printer error code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    def __reduce__(self) -> tuple[type[PrinterError], tuple[str, str]]:
        return (type(self), (self.code, self.detail))  # survives pickling to a worker process

    @property
    def message(self) -> str:
        """Vietnamese text for the kiosk screen (in the language current at call time)."""
        return _error_message(self.code)


@dataclass(frozen=True)
class PrintResult:
    """A ticket that left for the printer; ``paper`` is "ok", "low" or "unknown".

    ``path`` is the PNG written by the preview printer; ``data`` holds the
    ESC/POS bytes when the printer is the in-memory ``dummy``.
    """

    kind: str
    width_dots: int
    paper: str = "unknown"
    path: Path | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class PrinterStatus:
    """Result of :meth:`TicketPrinter.check`: ``code`` is "ok", "paper_low" or an error code."""

    code: str
    message: str
    paper: str = "unknown"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.code in ("ok", "paper_low")


def _font_dirs() -> list[Path]:
    """Kivy's bundled fonts, found without importing kivy, then system fallbacks."""
    dirs: list[Path] = []
    spec = importlib.util.find_spec("kivy")
    if spec is not None and spec.submodule_search_locations:
        dirs += [Path(p) / "data" / "fonts" for p in spec.submodule_search_locations]
    return dirs + list(_SYSTEM_FONT_DIRS)


def _glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    image = Image.new("L", (3 * font.size, 3 * font.size), 0)
    ImageDraw.Draw(image).text((font.size, font.size), char, font=font, fill=255)
    return image.tobytes()


def missing_glyphs(font_path: Path | str, text: str) -> str:
    """Characters of ``text`` that ``font_path`` would draw as the .notdef box or as nothing.

    Pillow silently draws a box for a missing glyph, so this is the only way to
    be sure a font can print every Vietnamese tone mark before choosing it.
    """
    font = ImageFont.truetype(str(font_path), 24)
    notdefs = {_glyph_bitmap(font, probe) for probe in _NOTDEF_PROBES}
    blank = bytes(9 * 24 * 24)
    missing = []
    for char in dict.fromkeys(text):
        if char.isspace():
            continue
        bitmap = _glyph_bitmap(font, char)
        if bitmap in notdefs or bitmap == blank:
            missing.append(char)
    return "".join(missing)


@lru_cache(maxsize=1)
def ticket_fonts() -> TicketFonts:
    """Pick the first candidate font that has every Vietnamese letter."""
    wanted = VIETNAMESE_LETTERS + _EXTRA_GLYPHS
    for regular_name, bold_name in _FONT_CANDIDATES:
        for folder in _font_dirs():
            regular, bold = folder / regular_name, folder / bold_name
            if regular.is_file() and bold.is_file():
                if not missing_glyphs(regular, wanted) and not missing_glyphs(bold, wanted):
                    return TicketFonts(regular, bold, fake_bold=regular == bold)
    raise RuntimeError("no font with all Vietnamese letters found (is Kivy installed?)")


@lru_cache(maxsize=64)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Break ``text`` into lines no wider than ``max_width`` dots.

    Words move to the next line; a single word wider than the paper (a long
    code, a URL) is cut between characters, so nothing is ever clipped.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        if font.getlength(paragraph) <= max_width:  # the usual case: one measurement
            lines.append(" ".join(paragraph.split()))
            continue
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= max_width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while font.getlength(word) > max_width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and font.getlength(word[:cut]) > max_width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return [line for line in lines if line] or [""]


class _Column:
    """A vertical stack of centred blocks; heights are known before drawing."""

    def __init__(self, width: int, margin: int, fonts: TicketFonts) -> None:
        self.width, self.margin, self.fonts = width, margin, fonts
        self.inner = width - 2 * margin
        self.y = 0
        self._ops: list[Callable[[Image.Image, ImageDraw.ImageDraw], None]] = []

    def font(self, size: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        path = self.fonts.bold if bold else self.fonts.regular
        return _font(path, max(8, round(size)))

    def space(self, height: float) -> None:
        self.y += round(height)

    def text(self, text: str, size: float, bold: bool = False, invert: bool = False) -> None:
        """Wrapped, centred lines; line height from the tallest Vietnamese stacks."""
        font = self.font(size, bold)
        stroke = 1 if bold and self.fonts.fake_bold else 0
        pad = round(size * 0.25) if invert else 0
        _, top, _, bottom = font.getbbox("ỖỸẤÁgjpqy|", anchor="ls", stroke_width=stroke)
        line_h = bottom - top + round(size * 0.12)
        lines = wrap_text(unicodedata.normalize("NFC", text), font, self.inner - 2 * pad - 2 * stroke)
        y0, height = self.y, len(lines) * line_h + 2 * pad

        def draw(_: Image.Image, pen: ImageDraw.ImageDraw) -> None:
            ink = 0
            if invert:
                pen.rectangle((self.margin, y0, self.width - self.margin - 1, y0 + height - 1), fill=0)
                ink = 1
            for i, line in enumerate(lines):
                baseline = y0 + pad + i * line_h - top
                pen.text((self.width // 2, baseline), line, font=font, fill=ink, anchor="ms",
                         stroke_width=stroke, stroke_fill=ink)

        self._ops.append(draw)
        self.y += height

    def big(self, text: str, max_size: float) -> None:
        """One line as large as the paper allows, cropped to the ink so it sits tight."""
        path = self.fonts.bold
        size = round(max_size)
        length = _font(path, size).getlength(text) or 1.0
        if length > self.inner:
            size = max(8, int(size * self.inner / length))
        font = _font(path, size)
        left, top, right, bottom = font.getbbox(text, anchor="ls")
        y0 = self.y
        self._ops.append(lambda _, pen: pen.text(
            (self.width // 2, y0 - top), text, font=font, fill=0, anchor="ms"))
        self.y += bottom - top

    def rule(self, thickness: int = 2) -> None:
        y0 = self.y
        self._ops.append(lambda _, pen: pen.rectangle(
            (self.margin, y0, self.width - self.margin - 1, y0 + thickness - 1), fill=0))
        self.y += thickness

    def image(self, picture: Image.Image) -> None:
        y0, x0 = self.y, (self.width - picture.width) // 2
        self._ops.append(lambda canvas, _: canvas.paste(picture, (x0, y0)))
        self.y += picture.height

    def render(self) -> Image.Image:
        canvas = Image.new("1", (self.width, self.y), 1)
        pen = ImageDraw.Draw(canvas)
        for op in self._ops:
            op(canvas, pen)
        return canvas


def qr_image(data: str, target: int, max_width: int | None = None) -> Image.Image:
    """A QR code scaled by a whole number of dots per module, so every module prints square.

    Modules get at least 3 dots (0.375 mm at 203 dpi) for phone cameras, unless
    the code would then be wider than ``max_width``.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = len(matrix)
    small = Image.frombytes("L", (modules, modules),
                            bytes(0 if cell else 255 for row in matrix for cell in row))
    scale = max(3, target // modules)
    if max_width is not None:
        scale = max(1, min(scale, max_width // modules))
    return small.resize((modules * scale, modules * scale), Image.NEAREST).convert("1")


CHECK_CODE_SIZE = 36


def check_code_line(code: str) -> str:
    """The printed line that carries the check code (typed at the lobby keypad)."""
    return _("Check code: {code}").format(code=code)


def render_ticket(ticket: TicketData, width_dots: int = 576) -> Image.Image:
    """Draw ``ticket`` as a mode "1" image exactly ``width_dots`` wide (576: 80 mm, 384: 58 mm)."""
    if width_dots < 256:
        raise ValueError(f"width_dots={width_dots} is too narrow for a ticket")
    s = width_dots / 576
    # Text shrinks less than the paper so 58 mm tickets stay readable; it wraps instead.
    t = 0.5 + 0.5 * s if s < 1 else s
    col = _Column(width_dots, max(6, round(12 * s)), ticket_fonts())
    col.space(16 * s)
    col.text(ticket.office_name, 26 * t, bold=True)
    col.space(10 * s)
    col.rule(max(2, round(3 * s)))
    col.space(14 * s)
    col.text(_("QUEUE NUMBER"), 34 * t, bold=True)
    col.space(12 * s)
    col.big(unicodedata.normalize("NFC", ticket.display_number), 210 * s)
    col.space(18 * s)
    if ticket.priority_label:
        col.text(_("Priority: {label}").format(label=ticket.priority_label), 26 * t, bold=True,
                 invert=True)
        col.space(10 * s)
    col.text(ticket.service_name, 30 * t, bold=True)
    if ticket.counters:
        col.space(4 * s)
        col.text(_("Served at: {counters}").format(counters=", ".join(ticket.counters)), 24 * t)
    col.space(12 * s)
    col.rule(max(1, round(2 * s)))
    col.space(12 * s)
    when = ticket.issued_at.strftime("%d/%m/%Y %H:%M")
    col.text(_("Printed at: {when}").format(when=when), 22 * t)
    col.text(_("People waiting ahead: {count}").format(count=ticket.waiting_before), 22 * t)
    minutes = ticket.estimated_wait_minutes
    if minutes is not None:
        message = (_("Estimated wait: about {minutes} min").format(minutes=minutes) if minutes > 0
                   else _("Estimated wait: your turn is coming up"))
        col.text(message, 22 * t)
    col.space(14 * s)
    col.image(qr_image(ticket.status_url, round(250 * s), col.inner))
    col.text(_("Scan to follow your turn and rate our service"), 20 * t)
    if ticket.check_code:
        col.space(8 * s)
        col.text(check_code_line(ticket.check_code), CHECK_CODE_SIZE * t, bold=True)
        col.text(_("Type it with the number to rate us at the kiosk"), 20 * t)
    if ticket.wifi_hint:
        col.space(4 * s)
        col.text(ticket.wifi_hint, 22 * t, bold=True)
    col.space(12 * s)
    col.text(_("Thank you!"), 28 * t, bold=True)
    col.space(24 * s)
    return col.render()


_PRINTER_API = frozenset({"make_printer", "TicketPrinter", "encode_ticket", "build_escpos"})
__all__ = sorted({"TicketData", "TicketFonts", "render_ticket", "ticket_fonts", "wrap_text",
                  "missing_glyphs", "qr_image", "PAPER_DOTS", "VIETNAMESE_LETTERS", "ERROR_CODES",
                  "PrinterError", "PrintResult", "PrinterStatus"} | _PRINTER_API)


def __getattr__(name: str) -> Any:
    """Re-export the printer API lazily: kiosk.printers imports this module first."""
    if name in _PRINTER_API:
        from kiosk import printers

        return getattr(printers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
