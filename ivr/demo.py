"""Demo customers and bills for ``hotline demo seed``: enough to try the bill self-service.

Account numbers carry their Luhn check digit (``ivr.lookup.valid_account``). The first
customer's phone is the carrier simulator's default caller, so ``hotline call`` is
recognised. Seeding is idempotent: rows are upserted by account and by (account, period).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

from hotline.db.models_inbound import BillRow, CustomerRow
from hotline.db.transaction import Sessions, dialect_insert, transaction
from ivr.lookup import Bill, Customer, luhn_digit

__all__ = ["DEMO_BILLS", "DEMO_CUSTOMERS", "seed_demo"]


def _account(body: str) -> str:
    return body + luhn_digit(body)


DEMO_CUSTOMERS = (
    Customer(_account("310100001"), "张伟", "13800138000", "上海市浦东新区世纪大道100号"),
    Customer(_account("310100002"), "王芳", "13900139000", "上海市徐汇区漕溪北路200号"),
    Customer(_account("310100003"), "李娜", "02161234567", "上海市静安区南京西路300号"),
    Customer(_account("310100004"), "刘洋", "13700137000", "上海市闵行区莘庄镇400号"),
)

DEMO_BILLS = (
    Bill(DEMO_CUSTOMERS[0].account, "2026-09", Decimal("98.60"), date(2026, 10, 25)),
    Bill(DEMO_CUSTOMERS[0].account, "2026-10", Decimal("128.50"), date(2026, 11, 25)),
    Bill(DEMO_CUSTOMERS[1].account, "2026-10", Decimal("0.00"), date(2026, 11, 25)),
    Bill(DEMO_CUSTOMERS[2].account, "2026-10", Decimal("1056.05"), date(2026, 11, 25)),
)


async def seed_demo(sessions: Sessions) -> tuple[int, int]:
    """Upsert the demo customers and bills; how many of each are in the data set."""
    customers = [asdict(customer) for customer in DEMO_CUSTOMERS]
    bills = [asdict(bill) for bill in DEMO_BILLS]
    async with transaction(sessions, "demo seed") as session:
        insert = dialect_insert(session)
        stmt = insert(CustomerRow)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["account"],
                set_={name: stmt.excluded[name] for name in ("name", "phone", "address")},
            ),
            customers,
        )
        stmt = insert(BillRow)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["account", "period"],
                set_={name: stmt.excluded[name] for name in ("amount_due", "due_date")},
            ),
            bills,
        )
    return len(customers), len(bills)
