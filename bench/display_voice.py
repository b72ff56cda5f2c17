"""Benchmark (not a test): how long one announcement WAV takes to render, per engine.

The display renders each announcement right before playing it, so rendering
time is dead air between the button press and the chime.  Target: <= 1 s.

    .venv/bin/python bench/display_voice.py [--runs 10]

``bench_synthesis()`` returns the figures for ``bench/display.py``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path[:1]:  # run as a script: the repository, not bench/, comes first
    sys.path.insert(0, str(ROOT))

from display.voice import VoiceError, VoiceSettings, synthesize, wav_duration  # noqa: E402
from display.voice.engines.clips import required_clips, write_starter_clips  # noqa: E402
from display.voice.engines.espeak import find_espeak  # noqa: E402

TARGET_SECONDS = 1.0
# A typical morning: block numbers, a letter prefix, counters 1-12.
ANNOUNCEMENTS = [("1005", 3), ("2015", 1), ("A024", 12), ("1021", 2), ("3101", 4)]


def _time(settings: VoiceSettings, runs: int) -> dict:
    times: list[float] = []
    audio = 0.0
    for i in range(runs):
        number, counter = ANNOUNCEMENTS[i % len(ANNOUNCEMENTS)]
        start = time.perf_counter()
        wav = synthesize(settings, number, counter)
        times.append(time.perf_counter() - start)
        audio = max(audio, wav_duration(wav))
    return {
        "runs": runs,
        "first_s": times[0],
        "p50_s": statistics.median(times),
        "max_s": max(times),
        "audio_s": audio,
        "ok": max(times) <= TARGET_SECONDS,
        "error": None,
    }


def bench_synthesis(runs: int = 10) -> dict:
    """Render a typical announcement ``runs`` times per engine; seconds per render.

    Returns ``{"target_s": 1.0, "engines": {name: {runs, first_s, p50_s,
    max_s, audio_s, ok, error}}}``.  An engine that cannot run here (no
    espeak-ng) gets ``error`` instead of figures.
    """
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="motcua-bench-voice-") as tmp:
        clips = Path(tmp) / "clips"
        candidates = {
            "espeak-ng": VoiceSettings(),
            "clips": VoiceSettings(engine="clips", clips_dir=str(clips)),
            "none": VoiceSettings(engine="none"),
        }
        for name, settings in candidates.items():
            try:
                if name == "clips":
                    if find_espeak() is None:
                        raise VoiceError("espeak-ng is needed to make the benchmark's clips")
                    write_starter_clips(clips, settings, required_clips(settings, letters="A"))
                results[name] = _time(settings, runs)
            except VoiceError as exc:
                results[name] = {"runs": 0, "ok": False, "error": str(exc)}
    return {"target_s": TARGET_SECONDS, "engines": results}


def _print(report: dict) -> None:
    print(f"voice synthesis per announcement (target <= {report['target_s']:.1f} s)")
    print(f"{'engine':<10} {'runs':>4} {'first':>9} {'p50':>9} {'max':>9} {'audio':>7}  ok")
    for name, r in report["engines"].items():
        if r.get("error"):
            print(f"{name:<10} skipped: {r['error']}")
            continue
        print(f"{name:<10} {r['runs']:>4} {r['first_s'] * 1000:>7.1f}ms {r['p50_s'] * 1000:>7.1f}ms "
              f"{r['max_s'] * 1000:>7.1f}ms {r['audio_s']:>6.1f}s  {'yes' if r['ok'] else 'NO'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    _print(bench_synthesis(parser.parse_args().runs))
