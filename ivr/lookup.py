"""Who is calling: the customer and bill lookup interface the IVR and agents use.

The default implementation (``DatabaseDirectory``, in this module once the inbound issue
fills it in) reads the project's own tables, seeded by ``hotline demo seed``; a site plugs
in its CRM by implementing ``CustomerDirectory``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

__all__ = ["Bill", "Customer", "CustomerDirectory"]


@dataclass(frozen=True)
class Customer:
    account: str  # digits
    name: str
    phone: str  # digits, the number the customer calls from
    address: str = ""


@dataclass(frozen=True)
class Bill:
    account: str
    period: str  # e.g. "2026-10"
    amount_due: Decimal
    due_date: date | None = None


class CustomerDirectory(Protocol):
    async def by_phone(self, phone: str) -> Customer | None: ...

    async def by_account(self, account: str) -> Customer | None: ...

    async def current_bill(self, account: str) -> Bill | None: ...
