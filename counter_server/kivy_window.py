"""What the Kivy screens (display, counter tablet, kiosk) need from OpenGL on
an office PC without a GPU driver, where OpenGL is software (Mesa llvmpipe)
and every frame redraws the whole window on the CPU.

* :func:`no_multisampling` - before the window exists: multisampling only
  smooths rounded corners, and with software OpenGL it doubles what every
  frame costs and holds its own buffers;
* :class:`FinishedFrames` - once the window exists: each frame is finished
  (``glFinish``) before the next is drawn.  Nothing else waits for the
  driver: Kivy submits frames faster than software OpenGL draws them, and the
  driver keeps every frame it has not drawn yet (about a megabyte at
  1920x1080), so an app that animates grows by hundreds of megabytes
  (issue #18).  Waiting bounds the driver's queue to one frame and makes the
  frame rate what the PC can afford.
"""
from __future__ import annotations

from typing import Any


def no_multisampling() -> None:
    """Call before the Kivy window is created."""
    from kivy.config import Config

    Config.set("graphics", "multisamples", "0")


class FinishedFrames:
    """Finish every frame the window flips; ``drawn`` counts them (the soak
    benchmarks read it)."""

    def __init__(self) -> None:
        from kivy.core.window import Window

        self.drawn = 0
        Window.bind(on_flip=self._finish)

    def _finish(self, *_args: Any) -> None:
        from kivy.graphics.opengl import glFinish

        glFinish()
        self.drawn += 1
