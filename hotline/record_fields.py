"""Reading AMI headers for the call-record builder: times, numbers, states, safe text.

Pure helpers, kept apart from ``records`` so the builder reads as the call's story. Every
value copied from an event may come from a caller's SIP signalling, so each one is cut to
a known charset and length here, in one place, whatever the dialplan already filtered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "Clock",
    "agent_id",
    "channel_is_up",
    "channel_variables",
    "event_time",
    "is_local",
    "parse_duration",
    "parse_int",
    "safe_digits",
    "safe_number",
    "safe_path",
    "safe_text",
    "safe_token",
    "safe_word",
    "utc_now",
]

Clock = Callable[[], datetime]

MAX_NUMBER = 32
MAX_TEXT = 128
_TOKEN_CHARS = re.compile(r"[^A-Za-z0-9@._:+\-/~;=]")
_WORD_CUT = re.compile(r"[^A-Za-z0-9_]")
_TEXT_CUT = re.compile(r"[^\w .,'@:+\-/()]")
_PATH_CUT = re.compile(r"[^\w*#>/.:\-]")
_AGENT = re.compile(r"^[A-Za-z]+/agent-([0-9]{1,16})$")
_DURATION = re.compile(r"([0-9]{1,6}):([0-9]{1,2}):([0-9]{1,2})")
_UP_STATE = "6"  # AST_STATE_UP


def utc_now() -> datetime:
    """The default clock; injected so tests and reconciliation control time."""
    return datetime.now(UTC)


def event_time(event: Mapping[str, str], clock: Clock) -> datetime:
    """The event's own ``Timestamp`` (timestampevents=yes), else the clock's now.

    Asterisk's time is the truth: events can sit in buffers, and reconnects replay nothing.
    """
    raw = event.get("Timestamp", "")
    try:
        seconds = float(raw)
        if math.isfinite(seconds) and seconds > 0:
            return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return clock()


def safe_digits(value: str | None, limit: int = MAX_NUMBER) -> str:
    """Digits only: a called number or DID."""
    return "".join(ch for ch in (value or "") if "0" <= ch <= "9")[:limit]


def safe_number(value: str | None, limit: int = MAX_NUMBER) -> str:
    """Digits with one leading ``+`` kept: a calling number."""
    text = (value or "").strip()
    digits = safe_digits(text, limit)
    if text.startswith("+") and digits:
        return ("+" + digits)[:limit]
    return digits


def safe_token(value: str | None, limit: int = MAX_TEXT) -> str:
    """Identifier-like text (SIP Call-ID, flow name, channel name): ASCII punctuation only."""
    return _TOKEN_CHARS.sub("", value or "")[:limit]


def safe_word(value: str | None, limit: int = 64) -> str:
    """A name compared against a fixed set (variable, disposition, dial status)."""
    return _WORD_CUT.sub("", value or "")[:limit]


def safe_text(value: str | None, limit: int = 64) -> str:
    """Human text (caller name, cause text): letters of any script, no control characters."""
    if (value or "").strip() == "<unknown>":  # Asterisk's placeholder for an absent caller ID
        return ""
    return " ".join(_TEXT_CUT.sub("", value or "").split())[:limit]


def safe_path(value: str | None, limit: int = 128) -> str:
    """A menu path (keys or node names joined by ``>``): word characters and separators."""
    return _PATH_CUT.sub("", value or "")[:limit]


def agent_id(interface: str | None, member_name: str | None = None) -> str:
    """The agent's id from a queue member interface ``PJSIP/agent-<id>``.

    Members that are not one of our agent endpoints keep their (cut) member name, so a
    record still says who took the call.
    """
    match = _AGENT.fullmatch((interface or "").strip())
    if match:
        return match.group(1)
    return safe_token(member_name or interface, 64)


def parse_int(value: str | None) -> int | None:
    """A small non-negative integer header (hangup cause), or None when absent or odd."""
    text = (value or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 6:
        return int(text)
    return None


def parse_duration(value: str | None) -> timedelta:
    """CoreShowChannel ``Duration`` ``HH:MM:SS``; zero when absent or malformed."""
    match = _DURATION.fullmatch((value or "").strip())
    if match is None:
        return timedelta(0)
    hours, minutes, seconds = (int(part) for part in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def channel_is_up(event: Mapping[str, str], prefix: str = "") -> bool:
    """Whether the event's channel snapshot (``Dest``-prefixed for the dialled side) is Up."""
    state = event.get(prefix + "ChannelState", "")
    desc = event.get(prefix + "ChannelStateDesc", "")
    return state == _UP_STATE or desc.lower() == "up"


def is_local(channel: str) -> bool:
    """Local/ channels carry a call between dialplan parts; they are never a party."""
    return channel.startswith("Local/")


def channel_variables(row: Mapping[str, Any]) -> dict[str, str]:
    """``ChanVariable: NAME=value`` headers of a reconcile row (``hotline.ami_snapshot``)
    by bare name.

    AMI repeats the header once per variable: an ``AmiEvent`` gives them all through
    ``getall``; a plain mapping may hold one string or a list. Inheritance underscores
    are dropped from names (``__HOTLINE_X`` → ``HOTLINE_X``).
    """
    getall = getattr(row, "getall", None)
    raw: Any = getall("ChanVariable") if callable(getall) else row.get("ChanVariable", ())
    items = (raw,) if isinstance(raw, str) else tuple(raw)
    found: dict[str, str] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        if sep and name.strip("_"):
            found[name.lstrip("_")] = value
    return found
