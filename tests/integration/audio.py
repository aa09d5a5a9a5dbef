"""What is in a recording: how much of its power lies at given frequencies (Goertzel).

A recording of a call where each party plays its own tone holds both tones; a party that
was not recorded leaves its tone's share near zero.
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Sequence
from pathlib import Path

__all__ = ["tone_shares"]


def _power(samples: Sequence[float], rate: int, freq: float) -> float:
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    # |X(f)|² · 2 / N²: a sine of amplitude A gives A²/2, its mean power
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) * 2 / len(samples) ** 2


def tone_shares(path: Path, freqs: Sequence[float], block: float = 0.1) -> dict[float, float]:
    """Each frequency's share of the file's power (0-1: a pure tone is 1), summed over
    blocks of ``block`` s."""
    with wave.open(str(path), "rb") as audio:
        rate, width, count = audio.getframerate(), audio.getsampwidth(), audio.getnframes()
        assert width == 2 and audio.getnchannels() == 1, "16-bit mono expected"
        samples = struct.unpack(f"<{count}h", audio.readframes(count))
    size = int(rate * block)
    totals = dict.fromkeys(freqs, 0.0)
    energy = 0.0
    for start in range(0, len(samples) - size + 1, size):
        chunk = samples[start : start + size]
        energy += sum(x * x for x in chunk) / size
        for freq in freqs:
            totals[freq] += _power(chunk, rate, freq)
    return {freq: (total / energy if energy else 0.0) for freq, total in totals.items()}
