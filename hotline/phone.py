"""Telephone numbers as the dialer stores and dials them, in one place.

Numbers are kept the way the trunk dials them inside mainland China: mobiles as their 11
digits (``13900001234``), landlines with the trunk prefix and area code
(``01012345678``). ``phonenumbers`` decides what is valid, so ``+86 139 0000 1234``,
``0086…`` and ``010-1234 5678`` all normalise, while service numbers (400, 95xxx),
foreign numbers and short codes are refused with a reason. Only ASCII digits ever come
out: phonenumbers reads full-width and other scripts' digits, and turns them into these.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

__all__ = ["ascii_digits", "dialable", "dnc_number"]

_DIALABLE = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline",
}


def ascii_digits(text: str, low: int = 3, high: int = 20) -> bool:
    """``0-9`` only (``str.isdigit`` also takes ``١٢٣`` and ``１２３``), ``low``-``high`` long."""
    return text.isascii() and text.isdigit() and low <= len(text) <= high


def dialable(raw: str, region: str = "CN") -> str:
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


def dnc_number(raw: str) -> str:
    """A do-not-call entry: the dial form, so ``8613900001234`` and ``13900001234`` are one
    entry; digits that are no phone number (a short code) are kept as they are. The same
    rule for the settings' list and the API's. ``ValueError`` when it is neither."""
    try:
        return dialable(raw)
    except ValueError:
        text = (raw or "").strip()
        if not ascii_digits(text):
            raise ValueError(f"{raw!r}: not a phone number") from None
        return text
