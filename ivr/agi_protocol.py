"""FastAGI wire format as pure functions: environment, result lines, argument checks.

Nothing here touches a socket, so every rule can be tested with Hypothesis. Result lines
are parsed here rather than by ``panoramisk.utils.parse_agi_result``: that one raises a
bare ``ValueError`` on an empty or non-numeric line, drops the ``(timeout)`` marker of
``200 result= (timeout)``, reports 511 as an unknown error and accepts non-ASCII digits.

Every string that reaches a command line goes through a ``check_*``/``clean_*`` function
first, so no caller-controlled text can end a line and inject a command.
"""

from __future__ import annotations

import math
import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hotline.errors import AgiError

__all__ = [
    "DTMF",
    "MAX_ENV_BYTES",
    "MAX_ENV_LINES",
    "MAX_LINE_BYTES",
    "MAX_VALUE_CHARS",
    "AgiResult",
    "CommandStats",
    "check_app",
    "check_app_arg",
    "check_escape_digits",
    "check_prompt",
    "check_variable",
    "clean_caller",
    "clean_value",
    "cmd_exec",
    "cmd_get_data",
    "cmd_get_variable",
    "cmd_say_digits",
    "cmd_say_number",
    "cmd_set_variable",
    "cmd_set_variables",
    "cmd_stream_file",
    "cmd_verbose",
    "is_uniqueid",
    "key_from_code",
    "parse_agi_environment",
    "parse_result",
    "script_name",
]

MAX_ENV_LINES = 256
MAX_ENV_BYTES = 32 * 1024
MAX_LINE_BYTES = 16 * 1024
MAX_VALUE_CHARS = 512

_ENV_LINE = re.compile(r"(agi_[a-z0-9_]{1,64}):[ ]?(.*)", re.ASCII | re.IGNORECASE)
_STATUS = re.compile(r"([1-5][0-9]{2})([ -])(.*)", re.ASCII | re.DOTALL)
_OK_LINE = re.compile(
    r"result=(?P<result>\S*)(?:[ ]+\((?P<data>.*)\))?(?P<fields>(?:[ ]+[A-Za-z_]+=\S*)*)[ ]*",
    re.ASCII,
)
_FIELD = re.compile(r"([A-Za-z_]+)=(\S*)", re.ASCII)
_PROMPT = re.compile(r"[A-Za-z0-9_/-]{1,255}", re.ASCII)
_VARIABLE = re.compile(r"[A-Za-z0-9_()]{1,80}", re.ASCII)
_ESCAPE = re.compile(r"[0-9*#]{0,12}", re.ASCII)
_PLAIN_VARIABLE = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9_]{0,79}", re.ASCII)  # no functions
_MSET_SPLITTERS = re.compile(r"[,()\[\]]")
_APP = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}", re.ASCII)
_UNIQUEID = re.compile(r"[0-9]{1,20}\.[0-9]{1,10}", re.ASCII)
_SAY_DIGITS = re.compile(r"[0-9*#]{1,64}", re.ASCII)
DTMF = frozenset("0123456789*#ABCD")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\]")


@dataclass(frozen=True, slots=True)
class AgiResult:
    """One answer from Asterisk: ``200 result=49 endpos=1234``, ``511 ...``, ``HANGUP``."""

    code: int
    result: str = ""
    data: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    text: str = ""
    hangup: bool = False

    def as_int(self) -> int:
        """The result as a number; AgiError when it is not one (GET DATA may carry ``*``)."""
        if re.fullmatch(r"-?[0-9]{1,20}", self.result, re.ASCII) is None:
            raise AgiError(f"AGI result {self.result!r} is not a number")
        return int(self.result)


def parse_result(text: str) -> AgiResult:
    """Parse one result line, or a whole ``520-...`` block joined with newlines.

    Raises AgiError for anything that is not a well-formed AGI answer.
    """
    text = text.rstrip("\r\n")
    if text.strip() == "HANGUP":
        return AgiResult(code=0, text="HANGUP", hangup=True)
    match = _STATUS.fullmatch(text)
    if match is None:
        raise AgiError(f"malformed AGI result line: {text[:80]!r}")
    code, sep, rest = int(match[1]), match[2], match[3]
    if sep == "-":
        lines = text.split("\n")
        if code != 520 or not lines[-1].rstrip("\r").startswith("520 "):
            raise AgiError(f"unterminated multi-line AGI result: {text[:80]!r}")
        return AgiResult(code=520, text="\n".join(line.rstrip("\r") for line in lines))
    if "\n" in rest:
        raise AgiError(f"more than one AGI result line: {text[:80]!r}")
    if code != 200:
        return AgiResult(code=code, text=rest)
    ok = _OK_LINE.fullmatch(rest)
    if ok is None:
        raise AgiError(f"malformed AGI 200 line: {text[:80]!r}")
    fields = dict(_FIELD.findall(ok["fields"]))
    return AgiResult(code=200, result=ok["result"], data=ok["data"], fields=fields, text=rest)


def parse_agi_environment(lines: Iterable[bytes | str]) -> dict[str, str]:
    """Read ``agi_*: value`` lines up to the blank line into a dict.

    AgiError when the block is oversize, malformed, unterminated or has no
    ``agi_network_script``; bytes that are not UTF-8 are replaced, not rejected.
    """
    env: dict[str, str] = {}
    total = 0
    for count, raw in enumerate(lines, start=1):
        if count > MAX_ENV_LINES:
            raise AgiError(f"AGI environment has more than {MAX_ENV_LINES} lines")
        if isinstance(raw, bytes):
            total += len(raw)
            line = raw.decode("utf-8", errors="replace")
        else:
            total += len(raw.encode("utf-8", errors="replace"))
            line = raw
        if total > MAX_ENV_BYTES:
            raise AgiError(f"AGI environment is larger than {MAX_ENV_BYTES} bytes")
        line = line.rstrip("\r\n")
        if not line:
            if "agi_network_script" not in env:
                raise AgiError("AGI environment has no agi_network_script")
            return env
        match = _ENV_LINE.fullmatch(line)
        if match is None or "\n" in line or "\r" in line:
            raise AgiError(f"not an AGI environment line: {line[:80]!r}")
        env[match[1].lower()] = match[2]
    raise AgiError("AGI environment ended before the blank line")


def script_name(env: Mapping[str, str]) -> str:
    """Route name: ``agi_network_script`` without slashes and query (``/hotline?x=1``)."""
    return env.get("agi_network_script", "").split("?", 1)[0].strip("/")


def is_uniqueid(value: str) -> bool:
    """Whether a string looks like an Asterisk uniqueid/linkedid (``1700000000.12``)."""
    return _UNIQUEID.fullmatch(value) is not None


def clean_caller(callerid: str) -> str:
    """Digits of a caller id, with a leading ``+`` kept; ``unknown`` becomes ``""``."""
    text = callerid.strip()
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    return f"+{digits}" if text.startswith("+") and digits else digits


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ValueError(f"invalid {what} {value!r}: must match {pattern.pattern}")
    return value


def check_prompt(name: str) -> str:
    """A sound file name: letters, digits, ``_``, ``-`` and ``/``, never ``..``."""
    _check(_PROMPT, name, "prompt name")
    if ".." in name:
        raise ValueError(f"invalid prompt name {name!r}: '..' is not allowed")
    return name


def check_variable(name: str) -> str:
    """A channel variable or function name such as ``CALLERID(num)``."""
    return _check(_VARIABLE, name, "variable name")


def check_escape_digits(digits: str) -> str:
    """DTMF keys that may interrupt playback."""
    return _check(_ESCAPE, digits, "escape digits")


def check_app(app: str) -> str:
    """A dialplan application name for EXEC."""
    return _check(_APP, app, "application name")


def check_app_arg(arg: str) -> str:
    """One application argument: no quotes, backslashes, commas or control characters."""
    if not isinstance(arg, str) or _UNSAFE.search(arg) or "," in arg:
        raise ValueError(
            f"invalid application argument {arg!r}: quotes, backslashes, commas and "
            "control characters are not allowed (pass arguments separately)"
        )
    if len(arg) > MAX_VALUE_CHARS:
        raise ValueError(f"application argument longer than {MAX_VALUE_CHARS} characters")
    return arg


def clean_value(value: str) -> str:
    """A value for SET VARIABLE/VERBOSE: control characters, quotes, backslashes dropped."""
    return _UNSAFE.sub("", str(value))[:MAX_VALUE_CHARS]


class CommandStats:
    """Round-trip times of AGI commands, bounded, so a benchmark can read p50/p99."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self.samples: deque[float] = deque(maxlen=maxlen)
        self.counts: Counter[str] = Counter()

    def record(self, verb: str, seconds: float) -> None:
        self.samples.append(seconds)
        self.counts[verb] += 1

    def percentile(self, pct: float) -> float:
        """Nearest-rank percentile in seconds; 0.0 when nothing was recorded."""
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        rank = max(1, math.ceil(pct / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]

    def __len__(self) -> int:
        return len(self.samples)


def key_from_code(code: int) -> str:
    """STREAM FILE and SAY answer a pressed key as its ASCII code; 0 means none."""
    if code == 0:
        return ""
    if not 0 < code < 128 or chr(code) not in DTMF:
        raise AgiError(f"unexpected key code {code}")
    return chr(code)


# Command lines. Each checks its arguments, so these are the only way text reaches Asterisk.


def cmd_stream_file(prompt: str, escape_digits: str = "") -> str:
    return f'STREAM FILE {check_prompt(prompt)} "{check_escape_digits(escape_digits)}"'


def cmd_get_data(prompt: str, timeout: float, max_digits: int) -> str:
    if isinstance(timeout, bool) or not 0 < timeout <= 600:
        raise ValueError(f"read_digits timeout must be in (0, 600] seconds, got {timeout!r}")
    if isinstance(max_digits, bool) or not isinstance(max_digits, int) or not 0 < max_digits < 65:
        raise ValueError(f"max_digits must be an int from 1 to 64, got {max_digits!r}")
    return f"GET DATA {check_prompt(prompt)} {round(timeout * 1000)} {max_digits}"


def cmd_say_digits(digits: str, escape_digits: str = "") -> str:
    _check(_SAY_DIGITS, digits, "digits to say")
    return f'SAY DIGITS {digits} "{check_escape_digits(escape_digits)}"'


def cmd_say_number(n: int, escape_digits: str = "") -> str:
    if isinstance(n, bool) or not isinstance(n, int) or abs(n) >= 10**15:
        raise ValueError(f"say_number needs an int below 10**15 in size, got {n!r}")
    return f'SAY NUMBER {n} "{check_escape_digits(escape_digits)}"'


def cmd_get_variable(name: str) -> str:
    return f"GET VARIABLE {check_variable(name)}"


def cmd_set_variable(name: str, value: str) -> str:
    return f'SET VARIABLE {check_variable(name)} "{clean_value(value)}"'


def cmd_set_variables(values: Mapping[str, str]) -> str:
    """EXEC MSet: several plain variables in one command (one round trip instead of one
    each; Asterisk still sends a VarSet event per variable, in this order). MSet splits its
    argument at commas outside brackets, so a value holding a comma or a bracket is refused
    rather than cut."""
    if not values:
        raise ValueError("no variables to set")
    pairs = []
    for name, value in values.items():
        _check(_PLAIN_VARIABLE, name, "variable name")
        cleaned = clean_value(value)
        if _MSET_SPLITTERS.search(cleaned):  # a comma splits; an open ( or [ hides commas
            raise ValueError(f"value of {name} holds one of ,()[] which MSet misreads: {value!r}")
        pairs.append(f"{name}={cleaned}")
    return cmd_exec("MSet", pairs)


def cmd_verbose(msg: str) -> str:
    return f'VERBOSE "{clean_value(msg)}" 1'


def cmd_exec(app: str, args: Sequence[str]) -> str:
    return f'EXEC {check_app(app)} "{",".join(check_app_arg(arg) for arg in args)}"'
