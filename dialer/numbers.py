"""Phone numbers: normalising what operators import, and the toll-fraud guard.

Numbers are stored the way the trunk dials them inside mainland China: mobiles as their
11 digits (``13900001234``), landlines with the trunk prefix and area code
(``01012345678``). ``phonenumbers`` decides what is valid, so ``+86 139 0000 1234``,
``0086…`` and ``010-1234 5678`` all normalise, while service numbers (400, 95xxx),
foreign numbers and short codes are refused with a reason.

The guard is the last word on what may be dialled: a number must fully match one of the
configured patterns. It runs at import and again right before each Originate, so a row
that reached the table another way (an edited database, a changed allow-list) is still
never dialled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

__all__ = ["NumberGuard", "normalize"]

_DIALABLE = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline",
}


def normalize(raw: str, region: str = "CN") -> str:
    """The dial form of a mainland mobile or landline; ``ValueError`` says what is wrong."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("empty number")
    if len(text) > 32:
        raise ValueError("number too long")
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc})") from exc
    if phonenumbers.region_code_for_number(parsed) != region:
        raise ValueError(f"not a mainland China number (+{parsed.country_code})")
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid number (length or prefix)")
    kind = phonenumbers.number_type(parsed)
    if kind not in _DIALABLE:
        raise ValueError("neither a mobile nor a landline (e.g. a 400/95xxx service number)")
    national = str(parsed.national_number)
    return national if _DIALABLE[kind] == "mobile" else "0" + national


class NumberGuard:
    """Only numbers fully matching an allowed pattern are ever dialled."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = tuple(re.compile(pattern) for pattern in patterns)

    def allowed(self, number: str) -> bool:
        return any(pattern.fullmatch(number) for pattern in self._patterns)
