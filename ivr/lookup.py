"""Who is calling: the customer and bill lookup interface the IVR and agents use.

The default implementation, ``DatabaseDirectory``, reads the project's own tables (seeded by
``hotline demo seed``); a site plugs in its CRM by implementing ``CustomerDirectory``.

Account numbers are 10 digits whose last digit is a Luhn check digit (the scheme bank cards
use): a caller's typo in any one digit, or two swapped neighbours, is caught before the
database is asked, so the IVR can say "that number is not valid" at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select

from hotline.db.models_inbound import BillRow, CustomerRow
from hotline.db.transaction import Sessions, transaction
from ivr.numbers import variants

__all__ = [
    "ACCOUNT_DIGITS",
    "Bill",
    "Customer",
    "CustomerDirectory",
    "DatabaseDirectory",
    "luhn_digit",
    "valid_account",
]

ACCOUNT_DIGITS = 10


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


def luhn_digit(body: str) -> str:
    """The Luhn check digit to append to ``body`` (digits)."""
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def valid_account(account: str) -> bool:
    """10 ASCII digits whose last is the Luhn check digit of the first nine."""
    return (
        len(account) == ACCOUNT_DIGITS
        and account.isascii()
        and account.isdigit()
        and luhn_digit(account[:-1]) == account[-1]
    )


def _customer(row: CustomerRow) -> Customer:
    return Customer(row.account, row.name, row.phone, row.address)


class DatabaseDirectory:
    """``CustomerDirectory`` on the ``customers`` and ``bills`` tables; raises DatabaseError."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def by_phone(self, phone: str) -> Customer | None:
        """The customer registered with this number in any of its usual forms."""
        if not phone:
            return None
        query = (
            select(CustomerRow)
            .where(CustomerRow.phone.in_(variants(phone)))
            .order_by(CustomerRow.account)
            .limit(1)
        )
        async with transaction(self._sessions, "customer by phone") as session:
            row = (await session.scalars(query)).one_or_none()
            return None if row is None else _customer(row)

    async def by_account(self, account: str) -> Customer | None:
        async with transaction(self._sessions, "customer by account") as session:
            row = await session.get(CustomerRow, account)
            return None if row is None else _customer(row)

    async def current_bill(self, account: str) -> Bill | None:
        """The bill of the latest period, or None if the account has none."""
        query = (
            select(BillRow)
            .where(BillRow.account == account)
            .order_by(BillRow.period.desc())
            .limit(1)
        )
        async with transaction(self._sessions, "current bill") as session:
            row = (await session.scalars(query)).one_or_none()
            if row is None:
                return None
            return Bill(row.account, row.period, Decimal(row.amount_due), row.due_date)
