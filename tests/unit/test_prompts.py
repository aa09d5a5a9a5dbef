"""Prompt texts are checked, synthesised to 8 kHz mono WAVs, and recorded files win."""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from hotline.errors import ConfigError
from hotline.prompt_lengths import measure, report, too_long
from hotline.prompts import PromptBuildError, build_prompts, load_prompt_texts
from hotline.render import PROJECT_ROOT
from tests.support import missing

VOICES = {"zh": "cmn", "en": "en"}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_committed_prompt_file_is_complete() -> None:
    names = {p.name for p in load_prompt_texts(PROJECT_ROOT / "prompts" / "prompts.yaml")}
    assert {"welcome", "fallback", "no-input", "goodbye"} <= names


def _prompts_named_in_the_project() -> dict[str, set[str]]:
    """Prompt names the dialplans, Asterisk config and Python code play, by where."""
    found: dict[str, set[str]] = {}
    in_sound_path = r"hotline/([a-z0-9-]+)"
    patterns = {
        ".conf": [in_sound_path],
        ".py": [rf'"{in_sound_path}"', r'sound\("([a-z0-9-]+)"\)'],
    }
    folders = ["dialplans", "asterisk-conf", "ivr", "dialer", "hotline"]
    for folder in folders:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            text = path.read_text(encoding="utf-8") if path.suffix in patterns else ""
            for pattern in patterns.get(path.suffix, []):
                for name in re.findall(pattern, text):
                    found.setdefault(name, set()).add(str(path.relative_to(PROJECT_ROOT)))
    found.pop("sandbox", None)  # the Asterisk folder name in ``/var/lib/hotline/sandbox``
    return found


def test_every_prompt_the_project_plays_has_a_text() -> None:
    names = {p.name for p in load_prompt_texts(PROJECT_ROOT / "prompts" / "prompts.yaml")}
    used = _prompts_named_in_the_project()
    assert {"queue-reassure", "welcome", "score"} <= used.keys()  # the scan finds them
    missing = {name: sorted(where) for name, where in used.items() if name not in names}
    assert missing == {}


def test_every_problem_is_named(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "p.yaml",
        "welcome: {zh: 您好}\nBad_Name: {zh: x, en: y}\nodd: just text\n"
        "extra: {zh: x, en: y, fr: z}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_prompt_texts(source)
    assert caught.value.problems == [
        "welcome.en: text missing",
        "Bad_Name: prompt names are lower-case letters, digits and '-'",
        "odd: give the text per language, e.g. zh: ..., en: ...",
        "extra: unknown languages ['fr']",
    ]


def test_a_prompt_defined_twice_is_refused_by_line(tmp_path: Path) -> None:
    """``day-1`` was defined twice (周一 and 一日) and the last won: the hours said 一日至六日."""
    source = _write(
        tmp_path / "p.yaml",
        "weekday-1: {zh: 周一, en: Monday}\nwelcome: {zh: 您好, en: hi}\n"
        "weekday-1: {zh: 一日, en: the 1st}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_prompt_texts(source)
    [problem] = caught.value.problems
    assert "weekday-1: duplicate key (line 3; first at line 1)" in problem


def test_missing_tool_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write(tmp_path / "p.yaml", "hi: {zh: 你好, en: hi}\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PromptBuildError, match="apt-get install -y sox"):
        build_prompts(source, {"zh": tmp_path, "en": tmp_path}, tmp_path / "rec", VOICES)


def test_synthesised_and_recorded_prompts(tmp_path: Path) -> None:
    if not (shutil.which("sox") and shutil.which("espeak-ng")):
        missing("sox and espeak-ng are needed (make setup installs them)")
    source = _write(tmp_path / "p.yaml", "hi: {zh: 你好, en: hello}\n")
    recorded = tmp_path / "recorded" / "en" / "hi.wav"
    recorded.parent.mkdir(parents=True)
    # a "recording": one second of a 1 kHz tone at 44.1 kHz stereo
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", str(recorded), "synth", "1", "sine", "1000"],
        check=True,
    )
    dirs = {"zh": tmp_path / "zh", "en": tmp_path / "en"}
    written = build_prompts(source, dirs, tmp_path / "recorded", VOICES)
    assert sorted(written) == sorted([dirs["zh"] / "hotline/hi.wav", dirs["en"] / "hotline/hi.wav"])
    for path in written:
        with wave.open(str(path)) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
    with wave.open(str(dirs["en"] / "hotline/hi.wav")) as wav:
        assert wav.getnframes() == 8000  # the recording's one second, not speech
    with wave.open(str(dirs["zh"] / "hotline/hi.wav")) as wav:
        assert wav.getnframes() != 8000
    # built again: nothing changed, nothing made; a new text or recording is made again
    assert build_prompts(source, dirs, tmp_path / "recorded", VOICES) == []
    _write(source, "hi: {zh: 您好, en: hello}\n")
    assert build_prompts(source, dirs, tmp_path / "recorded", VOICES) == [
        dirs["zh"] / "hotline/hi.wav"
    ]
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", str(recorded), "synth", "2", "sine", "500"],
        check=True,
    )
    assert build_prompts(source, dirs, tmp_path / "recorded", VOICES) == [
        dirs["en"] / "hotline/hi.wav"
    ]
    with wave.open(str(dirs["en"] / "hotline/hi.wav")) as wav:
        assert wav.getnframes() == 16000


def _wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * int(8000 * seconds))


def test_lengths_are_read_from_the_files_and_the_long_ones_named(tmp_path: Path) -> None:
    dirs = {"zh": tmp_path / "zh", "en": tmp_path / "en"}
    _wav(dirs["zh"] / "hotline" / "menu-main.wav", 7.5)
    _wav(dirs["en"] / "hotline" / "menu-main.wav", 4.0)
    _wav(dirs["zh"] / "hotline" / "welcome.wav", 2.0)
    (dirs["en"] / "hotline" / "welcome.wav").write_bytes(b"not a wav")
    lengths = measure(["welcome", "menu-main"], dirs)
    assert [(p.name, p.language, p.seconds) for p in lengths] == [
        ("welcome", "en", None),  # unreadable first: it is the worst
        ("menu-main", "zh", 7.5),
        ("menu-main", "en", 4.0),
        ("welcome", "zh", 2.0),
    ]
    problems = too_long(lengths, 6.0)
    assert problems == [
        "welcome (en): no playable WAV (run `hotline prompts build`)",
        "menu-main (zh): 7.5 s, longer than prompts.max_seconds 6 s: shorten its text in "
        "prompts/prompts.yaml or the recording",
    ]
    table = report(lengths, 6.0)
    assert table[1] == " 7.5 s  zh  menu-main  << too long"
    assert table[2] == " 4.0 s  en  menu-main"


def test_a_faster_rate_makes_a_shorter_prompt_and_is_built_again(tmp_path: Path) -> None:
    if not (shutil.which("sox") and shutil.which("espeak-ng")):
        missing("sox and espeak-ng are needed (make setup installs them)")
    source = _write(tmp_path / "p.yaml", "m:\n  zh: 燃气泄漏按1,报修2,账单3\n  en: gas leak 1\n")
    dirs = {"zh": tmp_path / "zh", "en": tmp_path / "en"}
    build_prompts(source, dirs, tmp_path / "rec", VOICES, {"zh": 175, "en": 175})
    [slow] = [p.seconds for p in measure(["m"], {"zh": dirs["zh"]})]
    rebuilt = build_prompts(source, dirs, tmp_path / "rec", VOICES, {"zh": 260, "en": 175})
    assert rebuilt == [dirs["zh"] / "hotline/m.wav"]  # the rate is part of what it is made of
    [fast] = [p.seconds for p in measure(["m"], {"zh": dirs["zh"]})]
    assert slow is not None and fast is not None and fast < slow * 0.85
