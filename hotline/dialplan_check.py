"""``hotline dialplan check``: render, load into the sandbox Asterisk, report file:line errors.

Asterisk loads what it can and logs the rest, so a broken line is easy to miss; and it only
finds an unknown application or function when a call reaches it. This check does both:

1. renders ``asterisk-conf/`` + ``dialplans/`` into the sandbox hotline instance;
2. checks the rendered dialplan statically: every application and dialplan function must
   exist in that Asterisk (``core show applications`` / ``core show functions``);
3. loads it (``dialplan reload``, ``module reload`` of app_queue and res_pjsip, or a start
   when the instance is stopped) and collects the WARNING/ERROR lines those wrote to the
   instance's log, with the file and line Asterisk names (or the line of the object named);
4. checks the menu YAML with ``ivr.menu.load_menu`` when that module exists.

The parsing functions are pure and unit-tested; ``run_check`` does the I/O.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.config import Settings
from hotline.errors import ConfigError, HotlineError, SandboxError

if TYPE_CHECKING:
    from hotline.sandbox import AsteriskInstance

__all__ = [
    "Problem",
    "Report",
    "dialplan_files",
    "parse_log",
    "parse_names",
    "run_check",
    "static_problems",
]

log = logging.getLogger(__name__)

RELOADS = ("dialplan reload", "module reload app_queue.so", "module reload res_pjsip.so")
_LOG_LINE = re.compile(r"^\[[^\]]*\]\s+(WARNING|ERROR)\[\d+\](?:\[[^\]]*\])?:?\s+(\S+?):\s+(.*)$")
_CONFIG_SOURCES = re.compile(r"^(config|pbx_config|app_queue|res_sorcery_config|res_pjsip\w*)\.c$")
_AT_LINE = re.compile(r"line (\d+) of (\S+)")
_APP_ROW = re.compile(r"^\s*([A-Za-z]\w*):\s")  # core show applications
_FUNCTION_ROW = re.compile(r"^([A-Za-z]\w*)\s{2,}\S")  # core show functions
_QUOTED = re.compile(r"'([^']+)'")
# Modules log the absence of their optional files (pjsip_wizard.conf, geolocation.conf, …)
# at every load; a file we render being unloadable is a problem, another one missing is not.
_MISSING_FILE = re.compile(r"Unable to load config file '([^']+)'")
_DIALPLAN_LINE = re.compile(r"^\s*(exten|same)\s*=>\s*(.*)$")
_APP = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:\(|$)")
_FUNCTION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\(|\bSet\(([A-Z_][A-Z0-9_]*)\(")
_INCLUDE = re.compile(r'^#include\s+"?([^"\s]+)"?', re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Report:
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_names(listing: str) -> set[str]:
    """Names from ``core show applications`` (``Name: text``) or ``core show functions``."""
    names = set()
    for line in listing.splitlines():
        match = _APP_ROW.match(line) or _FUNCTION_ROW.match(line)
        if match is not None:
            names.add(match.group(1).upper())
    return names


def dialplan_files(etc: Path) -> dict[str, str]:
    """``extensions.conf`` and the files it includes, by name."""
    files: dict[str, str] = {}
    todo = ["extensions.conf"]
    while todo:
        name = todo.pop()
        path = etc / name
        if name in files or not path.is_file():
            continue
        files[name] = path.read_text(encoding="utf-8")
        todo += _INCLUDE.findall(files[name])
    return files


def _locate(text: str, name: str) -> int | None:
    """The line of section ``[name]`` in a config file."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(f"[{name}]"):
            return number
    return None


def static_problems(
    files: Mapping[str, str], applications: set[str], functions: set[str]
) -> list[Problem]:
    """Unknown applications and functions in dialplan lines, with their file and line."""
    problems = []
    for name, text in sorted(files.items()):
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split(";", 1)[0]
            match = _DIALPLAN_LINE.match(line)
            if match is None:
                continue
            fields = match.group(2).split(",", 2 if match.group(1) == "exten" else 1)
            app = _APP.match(fields[-1]) if len(fields) > 1 else None
            if app is not None and app.group(1).upper() not in applications:
                problems.append(Problem(name, number, f"unknown application {app.group(1)}"))
            for found in _FUNCTION.finditer(line):
                function = found.group(1) or found.group(2)
                if function.upper() not in functions:
                    problems.append(Problem(name, number, f"unknown function {function}()"))
    return problems


def parse_log(lines: Iterable[str], files: Mapping[str, str]) -> list[Problem]:
    """Configuration WARNING/ERROR lines, with the file and line they name.

    ``files`` (name → rendered text) lets a message that names an object but no line (e.g.
    pjsip's duplicate object) point at that object's section.
    """
    problems = []
    for raw in lines:
        match = _LOG_LINE.match(raw.strip())
        if match is None or _CONFIG_SOURCES.match(match.group(2)) is None:
            continue
        message = match.group(3).strip()
        missing = _MISSING_FILE.search(message)
        if missing is not None and missing.group(1) not in files:
            continue
        at = _AT_LINE.search(message)
        if at is not None:
            path = Path(at.group(2).rstrip(".,!:;"))
            problems.append(Problem(path.name, int(at.group(1)), message))
            continue
        quoted = _QUOTED.findall(message)
        named = [name for name in quoted if name in files]
        if not named:
            problems.append(Problem(f"({match.group(2)})", None, message))
            continue
        positions = (_locate(files[named[0]], name) for name in quoted)
        line = next((number for number in positions if number is not None), None)
        problems.append(Problem(named[0], line, message))
    return problems


def _menu_problems(settings: Settings) -> tuple[list[Problem], list[str]]:
    try:
        menu = importlib.import_module("ivr.menu")
    except ImportError:
        return [], ["menu: ivr.menu not available, menu YAML not checked"]
    try:
        menu.load_menu(settings)
    except ConfigError as exc:
        return [Problem("menu", None, problem) for problem in exc.problems], []
    return [], [f"menu: {settings.ivr.menu_file} OK"]


def run_check(settings: Settings, settle_seconds: float = 0.5) -> Report:
    """Render, load and check; starts (and afterwards stops) the instance if it is down."""
    from hotline.sandbox import Sandbox

    instance = Sandbox(settings).hotline
    etc = instance.base / "etc"
    instance.render(settings)
    rendered = {path.name: path.read_text(encoding="utf-8") for path in etc.glob("*.conf")}
    mark = instance.log_file.stat().st_size if instance.log_file.exists() else 0
    # Down means no process; a live one that is slow to answer the CLI (a busy machine) is
    # reloaded and left running, never stopped for a shared sandbox's other users.
    started = instance.pid() is None
    notes = [f"rendered into {etc}"]
    problems: list[Problem] = []
    known: tuple[set[str], set[str]] | None = None
    try:
        known = _load(instance, started, notes)
        time.sleep(settle_seconds)  # reloads log from their own threads
    except SandboxError as exc:  # it would not boot or answer: its log says why
        problems.append(Problem("(asterisk)", None, str(exc)))
    finally:
        if started:
            instance.stop()
    if instance.log_file.exists():
        with instance.log_file.open("r", encoding="utf-8", errors="replace") as handle:
            handle.seek(mark)
            problems += parse_log(handle.read().splitlines(), rendered)
    if known is not None:
        problems = static_problems(dialplan_files(etc), *known) + problems
    menu, menu_notes = _menu_problems(settings)
    log.info("dialplan check: %d problems", len(problems) + len(menu))
    return Report(tuple(problems + menu), tuple(notes + menu_notes))


def _load(instance: AsteriskInstance, started: bool, notes: list[str]) -> tuple[set[str], set[str]]:
    """Start or reload the instance; the applications and functions it knows."""
    if started:
        instance.start()
        notes.append("the sandbox hotline Asterisk was stopped: started it for the check")
    else:
        for command in RELOADS:
            instance.cli(command)
        notes.append("loaded: " + ", ".join(RELOADS))
    applications = parse_names(instance.cli("core show applications"))
    return applications, parse_names(instance.cli("core show functions"))


def check_or_raise(settings: Settings) -> Report:
    """``run_check`` with sandbox failures as HotlineError (for the CLI)."""
    try:
        return run_check(settings)
    except OSError as exc:
        raise HotlineError(f"dialplan check: {exc}") from exc
