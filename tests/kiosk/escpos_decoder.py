"""Decode the ESC/POS byte stream that python-escpos produces, for assertions in tests.

Only the commands the kiosk might emit are understood; anything else raises
:class:`UnknownCommand`, so a stray command (or text sneaking through a code
page) cannot hide in a passing test.  Code page numbers are resolved with
python-escpos' own printer profiles and encoding tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from escpos.capabilities import get_profile
from escpos.codepages import CodePages
from PIL import Image, ImageOps

ESC, GS, DLE = 0x1B, 0x1D, 0x10


class UnknownCommand(ValueError):
    """A byte sequence this decoder does not know (or a truncated command)."""


@dataclass
class Raster:
    """One GS v 0 image: pixels as printed (black ink is 0 in mode "1")."""

    image: Image.Image
    mode: int

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


@dataclass
class TextRun:
    """Printable bytes outside any command, with the code page active when they came."""

    data: bytes
    codepage: str
    text: str


@dataclass
class Decoded:
    inits: int = 0
    rasters: list[Raster] = field(default_factory=list)
    cuts: list[str] = field(default_factory=list)
    text: list[TextRun] = field(default_factory=list)
    codepages: list[str] = field(default_factory=list)
    alignments: list[str] = field(default_factory=list)
    feeds: int = 0
    status_queries: list[int] = field(default_factory=list)

    def stitched(self) -> Image.Image:
        """All raster fragments stacked top to bottom (python-escpos splits tall images)."""
        if not self.rasters:
            raise ValueError("no raster image in the stream")
        width = self.rasters[0].width
        if any(r.width != width for r in self.rasters):
            raise ValueError("raster fragments of different widths")
        out = Image.new("1", (width, sum(r.height for r in self.rasters)), 1)
        y = 0
        for raster in self.rasters:
            out.paste(raster.image, (0, y))
            y += raster.height
        return out


def _encoding_of(codepage: str) -> str | None:
    try:
        return CodePages.get_encoding(codepage).get("python_encode")
    except KeyError:
        return None


def decode(data: bytes, profile: str | None = None) -> Decoded:
    """Walk ``data`` command by command; see the module docstring."""
    codepages = get_profile(profile).codePages
    out = Decoded()
    active = codepages.get("0", "CP437")
    pending = bytearray()
    i = 0

    def need(n: int) -> bytes:
        if i + n > len(data):
            raise UnknownCommand(f"truncated command at offset {i}: {data[i:i + n]!r}")
        return data[i:i + n]

    def flush_text() -> None:
        if pending:
            encoding = _encoding_of(active)
            text = bytes(pending).decode(encoding or "latin-1", errors="replace")
            out.text.append(TextRun(bytes(pending), active, text))
            pending.clear()

    while i < len(data):
        byte = data[i]
        if byte == ESC:
            cmd = need(2)[1:2]
            if cmd == b"@":
                out.inits += 1
                i += 2
            elif cmd == b"t":
                flush_text()
                n = need(3)[2]
                if str(n) not in codepages:
                    raise UnknownCommand(f"ESC t {n}: no such code page in the profile")
                active = codepages[str(n)]
                out.codepages.append(active)
                i += 3
            elif cmd == b"a":
                out.alignments.append({0: "left", 1: "center", 2: "right", 48: "left",
                                       49: "center", 50: "right"}[need(3)[2]])
                i += 3
            elif cmd == b"d":
                flush_text()
                out.feeds += need(3)[2]
                i += 3
            elif cmd in (b"!", b"E", b"-", b"M", b"3", b"{", b"r"):  # text style, spacing
                need(3)
                i += 3
            elif cmd == b"2":
                i += 2
            else:
                raise UnknownCommand(f"ESC {cmd!r} at offset {i}")
        elif byte == GS:
            cmd = need(2)[1:2]
            if cmd == b"V":
                flush_text()
                m = need(3)[2]
                if m in (0, 48):
                    out.cuts.append("full")
                    i += 3
                elif m in (1, 49):
                    out.cuts.append("partial")
                    i += 3
                elif m in (65, 66):
                    out.cuts.append("full" if m == 65 else "partial")
                    i += 4
                else:
                    raise UnknownCommand(f"GS V {m} at offset {i}")
            elif cmd == b"v":
                flush_text()
                header = need(8)
                if header[2:3] != b"0":
                    raise UnknownCommand(f"GS v {header[2:3]!r} at offset {i}")
                width_bytes = header[4] | header[5] << 8
                height = header[6] | header[7] << 8
                i += 8
                raw = need(width_bytes * height)
                # In the stream a 1 bit is a burnt dot; PIL's "1" mode has 1 = white.
                inked = Image.frombytes("1", (width_bytes * 8, height), raw)
                image = ImageOps.invert(inked.convert("L")).convert("1")
                out.rasters.append(Raster(image, header[3]))
                i += width_bytes * height
            elif cmd in (b"!", b"B", b"b", b"|"):  # size, invert, smoothing, density
                need(3)
                i += 3
            else:
                raise UnknownCommand(f"GS {cmd!r} at offset {i}")
        elif byte == DLE:
            if need(2)[1] != 0x04:
                raise UnknownCommand(f"DLE {data[i + 1]:#x} at offset {i}")
            out.status_queries.append(need(3)[2])
            i += 3
        elif byte in (0x0A, 0x0D):
            flush_text()
            i += 1
        elif byte >= 0x20:
            pending.append(byte)
            i += 1
        else:
            raise UnknownCommand(f"control byte {byte:#04x} at offset {i}")
    flush_text()
    return out
