"""Telephone numbers in one canonical form, so one subscriber is one blocklist entry.

Carriers send caller IDs as ``13800138000``, ``+8613800138000`` or ``008613800138000``;
valid numbers (mainland China by default) become E.164, anything else (short service
numbers such as 95007) stays as given. ``variants`` lists the forms a customer record may
hold, for look-ups in tables that store numbers as typed.
"""

from __future__ import annotations

import re

import phonenumbers

from hotline.config_inbound import NUMBER_PATTERN

__all__ = ["NUMBER", "canonical_number", "valid_number", "variants"]

NUMBER = re.compile(NUMBER_PATTERN)
_REGION = "CN"


def valid_number(value: str) -> bool:
    """Digits with an optional leading ``+``, 3 to 20 characters in all."""
    return NUMBER.fullmatch(value) is not None


def _parse(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(value, _REGION)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def canonical_number(value: str) -> str:
    """E.164 for a valid number, else the value unchanged."""
    parsed = _parse(value)
    if parsed is None:
        return value
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def variants(value: str) -> list[str]:
    """The value, its E.164 form and its national digits (with the trunk 0 for landlines)."""
    forms = [value]
    parsed = _parse(value)
    if parsed is not None:
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        forms.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
        forms.append(re.sub(r"[^0-9]", "", national))
    return list(dict.fromkeys(form for form in forms if form))
