"""How long each prompt plays, and which are too long (``hotline prompts check``).

A caller waits through every second of a prompt before the menu's timer starts, and a
silent caller waits through each one ``no_input_retries`` + 1 times: the limit keeps the
IVR brief whoever edits the texts or drops in a recording. The length is read from the
built WAV's header (what Asterisk plays), so recordings are held to it too.
"""

from __future__ import annotations

import wave
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PromptLength", "measure", "report", "too_long"]


@dataclass(frozen=True, slots=True)
class PromptLength:
    name: str
    language: str
    seconds: float | None  # None: the file is missing or not a WAV


def _seconds(path: Path) -> float | None:
    try:
        with wave.open(str(path), "rb") as audio:
            return audio.getnframes() / float(audio.getframerate())
    except (OSError, EOFError, wave.Error):
        return None


def measure(names: Iterable[str], sound_dirs: Mapping[str, Path]) -> list[PromptLength]:
    """Every prompt in every language, longest first."""
    lengths = [
        PromptLength(name, lang, _seconds(folder / "hotline" / f"{name}.wav"))
        for name in names
        for lang, folder in sound_dirs.items()
    ]
    return sorted(lengths, key=lambda p: (-(p.seconds or 1e9), p.name, p.language))


def too_long(lengths: Sequence[PromptLength], max_seconds: float) -> list[str]:
    """One line per prompt over the limit (or unreadable), naming it and its length."""
    problems = []
    for prompt in lengths:
        where = f"{prompt.name} ({prompt.language})"
        if prompt.seconds is None:
            problems.append(f"{where}: no playable WAV (run `hotline prompts build`)")
        elif prompt.seconds > max_seconds:
            problems.append(
                f"{where}: {prompt.seconds:.1f} s, longer than prompts.max_seconds "
                f"{max_seconds:g} s: shorten its text in prompts/prompts.yaml or the recording"
            )
    return problems


def report(lengths: Sequence[PromptLength], max_seconds: float) -> list[str]:
    """The table the check prints: seconds, language, name, and a mark on the long ones."""
    lines = []
    for prompt in lengths:
        shown = "   ?" if prompt.seconds is None else f"{prompt.seconds:4.1f}"
        over = prompt.seconds is None or prompt.seconds > max_seconds
        mark = "  << too long" if over else ""
        lines.append(f"{shown} s  {prompt.language}  {prompt.name}{mark}")
    return lines
