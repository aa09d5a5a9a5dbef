"""Allow-list patterns (the toll-fraud guard) that can only ever match a bounded run of
ASCII digits.

An admin's ``.*`` or ``[0-9]+`` would open the trunk to any destination, and ``\\d`` in
Python matches ``١`` (Arabic-Indic) or ``１`` (full-width) digits too. So a pattern is read
with the regular-expression parser itself and refused, with the reason, unless every part
of it is a digit, a digit class, a group, an alternation, an anchor or a bounded repeat,
and every string it matches is 3 to ``MAX_DIGITS`` long. The guard compiles the patterns
with ``re.ASCII`` and uses ``fullmatch``: a pattern is anchored whether or not it says so.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

__all__ = ["MAX_DIGITS", "MIN_DIGITS", "digit_pattern_problem"]

MIN_DIGITS = 3
MAX_DIGITS = 20
_parser: Any = importlib.import_module("re._parser")  # the parser re itself uses
_DIGITS = range(ord("0"), ord("9") + 1)
_ANCHORS = {"AT_BEGINNING", "AT_BEGINNING_STRING", "AT_END", "AT_END_STRING"}
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_OTHER = {
    "ANY": "any character",
    "NOT_LITERAL": "any character but one",
    "ASSERT": "a look-around",
    "ASSERT_NOT": "a look-around",
    "GROUPREF": "a back-reference",
    "GROUPREF_EXISTS": "a back-reference",
}


def _class_problem(items: list[tuple[Any, Any]]) -> str | None:
    for op, arg in items:
        kind = str(op)
        if kind == "LITERAL" and arg in _DIGITS:
            continue
        if kind == "RANGE" and arg[0] in _DIGITS and arg[1] in _DIGITS:
            continue
        if kind == "CATEGORY" and str(arg) == "CATEGORY_DIGIT":
            continue
        return "a character class with more than digits"
    return None


def _problem(items: Any) -> str | None:
    for op, arg in items:
        kind = str(op)
        if kind == "LITERAL":
            if arg not in _DIGITS:
                return f"the character {chr(arg)!r}"
        elif kind == "IN":
            found = _class_problem(arg)
            if found:
                return found
        elif kind in _REPEATS:
            found = _problem(arg[2])
            if found:
                return found
        elif kind == "SUBPATTERN":
            found = _problem(arg[3])
            if found:
                return found
        elif kind == "BRANCH":
            for branch in arg[1]:
                found = _problem(branch)
                if found:
                    return found
        elif kind == "AT":
            if str(arg) not in _ANCHORS:
                return f"the anchor {arg}"
        else:
            return _OTHER.get(kind, kind.lower())
    return None


def digit_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` may not guard the trunk, or None when it matches only bounded runs
    of ASCII digits."""
    try:
        re.compile(pattern, re.ASCII)
        parsed = _parser.parse(pattern, re.ASCII)
    except re.error as exc:
        return f"does not compile: {exc}"
    found = _problem(parsed)
    if found:
        return f"matches {found}: digits only, e.g. 1[3-9][0-9]{{9}}"
    low, high = parsed.getwidth()
    if high > MAX_DIGITS:
        return f"matches more than {MAX_DIGITS} digits: bound every repeat, e.g. [0-9]{{8,10}}"
    if low < MIN_DIGITS:
        return f"matches fewer than {MIN_DIGITS} digits"
    return None
