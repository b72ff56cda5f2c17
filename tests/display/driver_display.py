"""Runs the real display app in its own process and obeys commands on stdin.

Kivy's window is a per-process singleton sized before import, so each
scenario is one process.  The pytest side writes one JSON command per line
(``state``, ``counts``, ``shot``, ``hold``, ``drop``, ``shorten_highlights``, ``quit``); each answer is one JSON
line prefixed with ``@@`` on stdout (Kivy may log there too).  Commands run
on the Kivy thread, like a person looking at the screen.

    python tests/display/driver_display.py --server URL --token T --size 1366x768 [app args]
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="motcua-kivy-"))

from display.app import build_app  # noqa: E402


def screenshot(path: str) -> bool:
    """The window as a PNG, read as RGBA.

    ``Window.screenshot`` reads RGB rows, which GL pads to 4 bytes: at a width
    like 1366 the picture comes out skewed.  RGBA rows never need padding.
    """
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    # Draw the current frame into the back buffer and read it before any flip:
    # the display draws only when something changes, so after a flip the back
    # buffer holds an older frame.
    Window.dispatch("on_draw")
    w, h = Window.size
    data = glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE)
    img = Image.frombytes("RGBA", (w, h), data).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    img.convert("RGB").save(path)
    return True


def main() -> None:
    app = build_app(["--windowed", *sys.argv[1:]])

    def state() -> dict:
        from kivy.core.window import Window

        cards = {str(n): {"number": c.number, "highlighted": c.highlighted, "status": c.status,
                          "font_size": c.ids.number.font_size, "band": c.ids.band.text,
                          "band_font": c.ids.band.font_size, "band_size": list(c.ids.band.size),
                          "label_font": c.children[-1].font_size,
                          "size": list(c.size)}
                 for n, c in app._cards.items()}
        return {"connected": app.connected, "status_visible": app.root.ids.status.opacity > 0,
                "status_text": app.status_text, "cards": cards, "texts": app.visible_texts(),
                "announced": [[c.display_number, c.counter_number] for c in app.controller.announced],
                "missed_calls": app.controller.missed_calls, "played": app.player.played,
                "voice_error": app.voice_error, "reconnects": app.feed.reconnects,
                "window": list(Window.size), "last_event_id": app.state.last_event_id}

    def run(cmd: dict) -> dict:
        from kivy.core.window import Window

        name = cmd["cmd"]
        if name == "state":
            return state()
        if name == "counts":  # what a leak per call would grow
            import gc

            from kivy.graphics.texture import Texture
            from kivy.uix.widget import Widget

            gc.collect()
            objs = gc.get_objects()
            return {"widgets": sum(issubclass(type(o), Widget) for o in objs),
                    "textures": sum(issubclass(type(o), Texture) for o in objs),
                    "sizes": sorted(tuple(o.size) for o in objs if issubclass(type(o), Texture)),
                    "last_event_id": app.state.last_event_id, "frames": app.frames.drawn}
        if name == "shot":
            return {"ok": screenshot(cmd["path"])}
        if name == "hold":
            app.feed.hold(bool(cmd["on"]))
            return {"ok": True}
        if name == "shorten_highlights":  # time passes faster; the clearing is the app's own
            soon = app.state.clock() + float(cmd.get("seconds", 0.2))
            app.state.highlights = {k: min(v, soon) for k, v in app.state.highlights.items()}
            return {"ok": True}
        if name == "drop":
            app.feed.drop()
            return {"ok": True}
        if name == "quit":
            app.stop()
            return {"ok": True}
        return {"error": "unknown command"}

    def control() -> None:
        from kivy.clock import Clock

        for line in sys.stdin:
            cmd = json.loads(line)
            done = threading.Event()
            out: dict = {}

            def job(_dt: float, cmd: dict = cmd, out: dict = out, done: threading.Event = done) -> None:
                try:
                    out.update(run(cmd))
                except Exception as exc:  # report, do not hang the test
                    out["error"] = repr(exc)
                done.set()

            Clock.schedule_once(job)
            done.wait(30)
            print("@@" + json.dumps(out, ensure_ascii=False), flush=True)
            if cmd["cmd"] == "quit":
                return

    threading.Thread(target=control, daemon=True).start()
    app.run()


if __name__ == "__main__":
    main()
