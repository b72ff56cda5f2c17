"""A stand-in for the espeak-ng program (the voice engine's process, nothing else).

Installed by the kiosk speech tests as ``espeak-ng`` on the PATH of the kiosk
process.  Called like the real one (``-b 1 -v vi -s 145 -w OUT.wav --stdin``):
it notes the sentence it was given (one JSON line in ``$FAKE_ESPEAK_LOG``) and
writes ``$FAKE_ESPEAK_SECONDS`` of quiet 22,050 Hz speech-shaped WAV, so the
real engine module, speaker, player and kiosk run unchanged around it.
"""
from __future__ import annotations

import json
import math
import os
import struct
import sys
import time
import wave


def main(argv: list[str]) -> int:
    out = argv[argv.index("-w") + 1]
    text = sys.stdin.buffer.read().decode("utf-8")
    seconds = float(os.environ.get("FAKE_ESPEAK_SECONDS", "1.0"))
    rate = 22050
    frames = b"".join(struct.pack("<h", int(2000 * math.sin(2 * math.pi * 220 * i / rate)))
                      for i in range(int(rate * seconds)))
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    with open(os.environ["FAKE_ESPEAK_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"text": text, "args": argv, "at": time.time()},
                             ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
