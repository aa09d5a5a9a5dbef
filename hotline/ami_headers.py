"""The one gate every AMI action passes before a byte is written: no header can smuggle in a
second action.

AMI is a line protocol: a CR or LF inside a value ends the header, an empty line ends the
action, and what follows is read as a new one (``lunch\\r\\n\\r\\nAction: Hangup`` in a pause
reason hangs up every call). So whatever the callers validated, the client checks here:

* the action and header names are ASCII identifiers;
* no value holds a control character (C0, DEL, C1) or a Unicode line/paragraph separator;
* values are ASCII, except the few headers whose value is text for people (a pause
  reason, a variable's value, a caller name), which may be any printable Unicode;
* a value is at most ``MAX_VALUE`` bytes of UTF-8, a repeated header at most
  ``MAX_REPEAT`` times.

A refusal is ``UnsafeAmiHeader`` naming the header, raised before anything is sent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from hotline.errors import UnsafeAmiHeader

__all__ = ["MAX_REPEAT", "MAX_VALUE", "TEXT_HEADERS", "check_action", "unsafe_char"]

MAX_VALUE = 1024  # bytes; Asterisk's manager reads a header line into a buffer of this size
MAX_REPEAT = 64
#: headers whose values may be text for people, in any script (lower case)
TEXT_HEADERS = frozenset({"reason", "value", "variable", "callerid", "membername"})
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls, surrogates, separators


def unsafe_char(text: str) -> str | None:
    """The first character that may not reach AMI in any header (a control character, a
    surrogate, a line or paragraph separator), as ``U+XXXX``; None when there is none.
    API fields that reach AMI are checked with it, so a caller gets a 400 naming the field
    before the client's gate would refuse the action."""
    for char in text:
        if unicodedata.category(char) in _UNSAFE_CATEGORIES:
            return f"U+{ord(char):04X}"
    return None


def _check_value(header: str, value: object) -> None:
    if not isinstance(value, str):
        raise UnsafeAmiHeader(f"AMI header {header}: a string, not {type(value).__name__}")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_VALUE:
        raise UnsafeAmiHeader(f"AMI header {header}: longer than {MAX_VALUE} bytes")
    unsafe = unsafe_char(value)
    if unsafe:
        raise UnsafeAmiHeader(f"AMI header {header}: control character {unsafe} refused")
    if header.lower() not in TEXT_HEADERS and not value.isascii():
        first = next(char for char in value if not char.isascii())
        raise UnsafeAmiHeader(f"AMI header {header}: ASCII only, U+{ord(first):04X} refused")


def check_action(name: str, headers: Mapping[str, str | Sequence[str]]) -> None:
    """Refuse an action that could be read as anything but itself (see the module doc)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UnsafeAmiHeader(f"AMI action name {name!r} refused")
    for header, value in headers.items():
        if not isinstance(header, str) or not _NAME.fullmatch(header):
            raise UnsafeAmiHeader(f"AMI header name {header!r} refused")
        if isinstance(value, str):
            _check_value(header, value)
            continue
        if not isinstance(value, Sequence) or len(value) > MAX_REPEAT:
            raise UnsafeAmiHeader(f"AMI header {header}: a string or up to {MAX_REPEAT} strings")
        for item in value:
            _check_value(header, item)
