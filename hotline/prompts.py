"""Build the prompt sound files from ``prompts/prompts.yaml``.

espeak-ng speaks each text and sox makes it the 8 kHz, mono, 16-bit WAV that Asterisk plays
without transcoding. A recorded file of the same name, if an admin dropped one in, is
converted instead, so real recordings always win over synthesis.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hotline import yaml_strict
from hotline.errors import ConfigError, HotlineError

__all__ = ["LANGUAGES", "PromptBuildError", "PromptText", "build_prompts", "load_prompt_texts"]

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
_FORMAT = "-r 8000 -c 1 -b 16"  # sox: what Asterisk plays without transcoding
DEFAULT_RATE = 175  # espeak-ng's own
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class PromptBuildError(HotlineError):
    """A tool is missing or failed while making a prompt."""


@dataclass(frozen=True)
class PromptText:
    name: str
    texts: dict[str, str]


def load_prompt_texts(path: Path) -> list[PromptText]:
    """Read and check the prompt file; every problem is reported with its key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: {exc}"]) from exc
    data = yaml_strict.load(text, str(path))  # a prompt key given twice: refused by line
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: must map prompt names to texts"])
    problems: list[str] = []
    prompts = []
    for name, texts in data.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problems.append(f"{name}: prompt names are lower-case letters, digits and '-'")
            continue
        if not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
            problems.append(f"{name}: give the text per language, e.g. zh: ..., en: ...")
            continue
        for lang in LANGUAGES:
            if not str(texts.get(lang, "")).strip():
                problems.append(f"{name}.{lang}: text missing")
        unknown = set(texts) - set(LANGUAGES)
        if unknown:
            problems.append(f"{name}: unknown languages {sorted(unknown)}")
        prompts.append(PromptText(name, {k: str(v) for k, v in texts.items()}))
    if problems:
        raise ConfigError(problems)
    return prompts


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise PromptBuildError(f"{name} is missing: apt-get install -y {package}")
    return found


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise PromptBuildError(f"{' '.join(argv[:2])} failed: {done.stderr.strip()[-500:]}")


def _source_digest(text: str, voice: str, rate: int, recorded: Path) -> str:
    """What a prompt file is made from: its text, voice and rate, or the recording's bytes."""
    digest = hashlib.sha256(f"{_FORMAT}\0{voice}\0{rate}\0{text}".encode())
    if recorded.exists():
        digest.update(b"\0recorded\0" + recorded.read_bytes())
    return digest.hexdigest()


def build_prompts(
    source: Path,
    sound_dirs: Mapping[str, Path],
    recorded_dir: Path,
    voices: Mapping[str, str],
    rates: Mapping[str, int] | None = None,
) -> list[Path]:
    """Write ``<sound_dirs[lang]>/hotline/<name>.wav`` for every prompt and language.

    A file already made from the same text, voice (or recording) is kept: a sidecar
    ``.<name>.wav.source`` holds the digest of what it was made from. So every test
    session and every ``make run`` does not synthesise the whole set again, and
    processes that build at once never write the same file."""
    prompts = load_prompt_texts(source)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for prompt in prompts:
            for lang in LANGUAGES:
                target = sound_dirs[lang] / "hotline" / f"{prompt.name}.wav"
                recorded = recorded_dir / lang / f"{prompt.name}.wav"
                rate = (rates or {}).get(lang, DEFAULT_RATE)
                digest = _source_digest(prompt.texts[lang], voices[lang], rate, recorded)
                sidecar = target.with_name(f".{target.name}.source")
                if target.exists() and _read(sidecar) == digest:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                sox, espeak = _tool("sox", "sox"), _tool("espeak-ng", "espeak-ng")
                if recorded.exists():
                    raw = recorded
                else:
                    raw = Path(tmp) / f"{lang}-{prompt.name}.wav"
                    speak = [espeak, "-v", voices[lang], "-s", str(rate), "-w", str(raw)]
                    _run([*speak, prompt.texts[lang]])
                # Other instances may be playing the file: write aside, then swap it in.
                partial = target.with_name(f".{target.stem}.{os.getpid()}.partial.wav")
                _run([sox, str(raw), *_FORMAT.split(), str(partial)])
                os.replace(partial, target)
                sidecar.write_text(digest, encoding="ascii")
                written.append(target)
    log.info("built %d prompt files (the others were up to date)", len(written))
    return written


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
