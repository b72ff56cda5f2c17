"""Pictograms for the kiosk, drawn with Pillow from simple shapes.

Many citizens read Vietnamese with difficulty, so every service and priority
class gets a large, plain white pictogram on its coloured button.  They are
drawn in code (no third-party artwork to license) and cached as PNG files in
``kiosk/assets/icons``; :func:`icon_path` redraws a missing file on demand.
This module must not import Kivy: the benchmark and tests use it headless.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw

ICON_DIR = Path(__file__).resolve().parent / "assets" / "icons"
SIZE = 256
WHITE = (255, 255, 255, 255)
Pen = ImageDraw.ImageDraw


def _person(d: Pen, cx: float, top: float, h: float) -> None:
    """A standing figure whose head starts at ``top`` and which is ``h`` tall."""
    r = h * 0.13
    d.ellipse((cx - r, top, cx + r, top + 2 * r), fill=WHITE)
    body_top = top + 2.3 * r
    w = h * 0.17
    d.rounded_rectangle((cx - w, body_top, cx + w, top + h * 0.68), radius=w * 0.6, fill=WHITE)
    leg = w * 0.42
    d.rectangle((cx - w * 0.95, top + h * 0.6, cx - w * 0.95 + leg * 2, top + h), fill=WHITE)
    d.rectangle((cx + w * 0.95 - leg * 2, top + h * 0.6, cx + w * 0.95, top + h), fill=WHITE)


def _family(d: Pen) -> None:
    _person(d, 80, 40, 180)
    _person(d, 176, 40, 180)
    _person(d, 128, 120, 100)


def _stamp(d: Pen) -> None:
    d.rounded_rectangle((98, 30, 158, 130), radius=24, fill=WHITE)
    d.rectangle((116, 120, 140, 170), fill=WHITE)
    d.rounded_rectangle((56, 160, 200, 196), radius=8, fill=WHITE)
    d.rectangle((40, 212, 216, 226), fill=WHITE)


def _health(d: Pen) -> None:
    d.rounded_rectangle((28, 40, 228, 216), radius=28, outline=WHITE, width=14)
    d.rectangle((108, 70, 148, 186), fill=WHITE)
    d.rectangle((70, 108, 186, 148), fill=WHITE)


def _home(d: Pen) -> None:
    d.polygon([(128, 28), (236, 124), (20, 124)], fill=WHITE)
    d.rectangle((52, 116, 204, 228), fill=WHITE)
    d.rectangle((108, 156, 148, 228), fill=(0, 0, 0, 0))


def _land(d: Pen) -> None:
    d.polygon([(10, 200), (92, 70), (150, 160), (186, 110), (246, 200)], fill=WHITE)
    d.ellipse((170, 24, 214, 68), fill=WHITE)
    d.rectangle((10, 214, 246, 230), fill=WHITE)


def _people(d: Pen) -> None:
    _person(d, 72, 60, 160)
    _person(d, 184, 60, 160)
    d.ellipse((108, 22, 148, 62), outline=WHITE, width=8)
    d.line((128, 62, 128, 100), fill=WHITE, width=8)


def _elderly(d: Pen) -> None:
    d.ellipse((92, 20, 136, 64), fill=WHITE)
    d.polygon([(96, 72), (140, 72), (150, 150), (100, 150)], fill=WHITE)
    d.line((104, 148, 88, 236), fill=WHITE, width=20)
    d.line((140, 148, 150, 236), fill=WHITE, width=20)
    d.line((146, 96, 182, 130), fill=WHITE, width=14)
    d.line((182, 120, 190, 236), fill=WHITE, width=10)
    d.arc((176, 104, 206, 134), 180, 360, fill=WHITE, width=10)


def _disability(d: Pen) -> None:
    d.ellipse((100, 16, 140, 56), fill=WHITE)
    d.line((118, 64, 118, 140), fill=WHITE, width=22)
    d.line((118, 100, 170, 100), fill=WHITE, width=16)
    d.line((118, 138, 176, 138), fill=WHITE, width=18)
    d.line((176, 138, 206, 204), fill=WHITE, width=18)
    d.arc((40, 100, 176, 236), 60, 330, fill=WHITE, width=16)


def _pregnant(d: Pen) -> None:
    d.ellipse((100, 18, 144, 62), fill=WHITE)
    d.polygon([(104, 70), (138, 70), (146, 120), (100, 150)], fill=WHITE)
    d.ellipse((108, 96, 178, 166), fill=WHITE)
    d.polygon([(100, 140), (160, 150), (170, 236), (92, 236)], fill=WHITE)


def _child(d: Pen) -> None:
    _person(d, 96, 24, 210)
    _person(d, 176, 108, 124)
    d.line((116, 120, 160, 150), fill=WHITE, width=12)


def _merit(d: Pen) -> None:
    import math

    pts = []
    for i in range(10):
        r = 104 if i % 2 == 0 else 44
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((128 + r * math.cos(a), 132 + r * math.sin(a)))
    d.polygon(pts, fill=WHITE)


def _normal(d: Pen) -> None:
    _person(d, 128, 24, 210)


def _rate(d: Pen) -> None:
    d.ellipse((24, 24, 232, 232), outline=WHITE, width=16)
    d.ellipse((78, 82, 106, 110), fill=WHITE)
    d.ellipse((150, 82, 178, 110), fill=WHITE)
    d.arc((70, 96, 186, 190), 20, 160, fill=WHITE, width=16)


def _service(d: Pen) -> None:
    d.rounded_rectangle((52, 24, 204, 232), radius=14, outline=WHITE, width=14)
    for y in (80, 124, 168):
        d.rectangle((84, y, 172, y + 14), fill=WHITE)


def _back(d: Pen) -> None:
    d.polygon([(30, 128), (120, 40), (120, 96), (226, 96), (226, 160), (120, 160), (120, 216)],
              fill=WHITE)


def _loudspeaker(d: Pen) -> None:
    d.rectangle((22, 94, 74, 162), fill=WHITE)
    d.polygon([(74, 94), (138, 36), (138, 220), (74, 162)], fill=WHITE)


def _speaker(d: Pen) -> None:
    """A loudspeaker sending out sound: reading aloud is on."""
    _loudspeaker(d)
    for r in (40, 72, 104):
        d.arc((128 - r, 128 - r, 128 + r + 30, 128 + r), -45, 45, fill=WHITE, width=14)


def _speaker_off(d: Pen) -> None:
    """The loudspeaker crossed out: reading aloud is off."""
    _loudspeaker(d)
    d.line((164, 92, 232, 164), fill=WHITE, width=18)
    d.line((164, 164, 232, 92), fill=WHITE, width=18)


def _ticket(d: Pen) -> None:
    """A queue ticket: a slip with notched sides and lines of print."""
    d.rounded_rectangle((40, 20, 216, 236), radius=14, fill=WHITE)
    for cy in (92, 164):
        d.ellipse((24, cy - 16, 56, cy + 16), fill=(0, 0, 0, 0))
        d.ellipse((200, cy - 16, 232, cy + 16), fill=(0, 0, 0, 0))
    d.rectangle((76, 52, 180, 76), fill=(0, 0, 0, 0))
    d.rectangle((76, 112, 180, 148), fill=(0, 0, 0, 0))
    d.rectangle((76, 184, 150, 200), fill=(0, 0, 0, 0))


def _arrow(d: Pen) -> None:
    """A thick arrow pointing right: "go to"."""
    d.polygon([(16, 96), (140, 96), (140, 40), (240, 128), (140, 216), (140, 160), (16, 160)],
              fill=WHITE)


def _counter(d: Pen) -> None:
    """An officer behind a service counter (the desk with its number plate)."""
    _person(d, 128, 16, 150)
    d.rectangle((16, 138, 240, 160), fill=WHITE)
    d.rectangle((36, 160, 220, 240), fill=WHITE)
    d.rectangle((96, 180, 160, 222), fill=(0, 0, 0, 0))


DRAWERS: dict[str, Callable[[Pen], None]] = {
    "family": _family, "stamp": _stamp, "health": _health, "home": _home, "land": _land,
    "people": _people, "elderly": _elderly, "disability": _disability, "pregnant": _pregnant,
    "child": _child, "merit": _merit, "normal": _normal, "rate": _rate, "service": _service,
    "back": _back, "speaker": _speaker, "speaker_off": _speaker_off, "ticket": _ticket,
    "arrow": _arrow, "counter": _counter,
}


def draw_icon(name: str) -> Image.Image:
    """The pictogram ``name`` (unknown names get the generic document) as RGBA."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    DRAWERS.get(name, _service)(ImageDraw.Draw(image))
    return image


def icon_path(name: str) -> str:
    """Path of the cached PNG for ``name``, drawing it first when it is missing."""
    key = name if name in DRAWERS else "service"
    path = ICON_DIR / f"{key}.png"
    if not path.is_file():
        try:
            ICON_DIR.mkdir(parents=True, exist_ok=True)
            draw_icon(key).save(path)
        except OSError:  # read-only install: draw into the temp folder instead
            import tempfile

            path = Path(tempfile.gettempdir()) / f"motcua-icon-{key}.png"
            draw_icon(key).save(path)
    return str(path)


if __name__ == "__main__":  # redraw every icon: python -m kiosk.icons
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    for icon_name in DRAWERS:
        draw_icon(icon_name).save(ICON_DIR / f"{icon_name}.png")
