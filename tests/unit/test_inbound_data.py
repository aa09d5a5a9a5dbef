"""Inbound repositories on SQLite and PostgreSQL: customers and bills, callbacks, blocklist."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import create_engine, session_factory
from hotline.db.models_inbound import CallbackRequestRow
from hotline.db.transaction import Sessions
from hotline.errors import DatabaseError
from ivr.blocklist import Blocklist, BlockSource, ConfigEntryError
from ivr.callbacks import CallbackRepository, CallbackStatus, NewCallback
from ivr.demo import DEMO_BILLS, DEMO_CUSTOMERS, seed_demo
from ivr.lookup import Bill, DatabaseDirectory, luhn_digit, valid_account
from ivr.numbers import canonical_number, valid_number, variants

T0 = datetime(2026, 11, 23, 2, 0, 0, 123456, tzinfo=UTC)
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"


@pytest.fixture
def sessions(engine: AsyncEngine) -> Sessions:
    return session_factory(engine)


@pytest.fixture
async def dead() -> AsyncIterator[Sessions]:
    engine = create_engine(UNREACHABLE, connect_timeout=2)
    yield session_factory(engine)
    await engine.dispose()


# --- numbers and accounts -------------------------------------------------------------


def test_numbers_in_any_usual_form_are_one_number() -> None:
    forms = ["13800138000", "+8613800138000", "008613800138000"]
    assert {canonical_number(n) for n in forms} == {"+8613800138000"}
    assert canonical_number("95007") == "95007"  # a service number stays as it is
    assert canonical_number("+12025550123") == "+12025550123"
    assert variants("+862161234567") == ["+862161234567", "02161234567"]
    assert variants("123") == ["123"]


GOOD_NUMBERS = ["123", "+12", "1" * 20, "+" + "1" * 19]
BAD_NUMBERS = ["12", "1" * 21, "+" + "1" * 20, "+", "12a4", "", "++123", "１２３"]


@pytest.mark.parametrize(
    ("value", "ok"), [(n, True) for n in GOOD_NUMBERS] + [(n, False) for n in BAD_NUMBERS]
)
def test_number_rule(value: str, ok: bool) -> None:
    assert valid_number(value) is ok


def test_accounts_carry_a_luhn_check_digit() -> None:
    assert luhn_digit("7992739871") == "3"  # the textbook example
    assert all(valid_account(c.account) for c in DEMO_CUSTOMERS)
    assert not valid_account("3101000011")  # one digit off
    assert not valid_account("3101000001")  # two neighbours swapped (…10 → …01)
    assert not valid_account("310100001")  # too short
    assert not valid_account("３１０１０００００１０"[:10])  # full-width digits


# --- customers and bills --------------------------------------------------------------


async def test_demo_seed_is_idempotent_and_the_directory_reads_it(sessions: Sessions) -> None:
    assert await seed_demo(sessions) == (len(DEMO_CUSTOMERS), len(DEMO_BILLS))
    assert await seed_demo(sessions) == (len(DEMO_CUSTOMERS), len(DEMO_BILLS))
    directory = DatabaseDirectory(sessions)
    first = DEMO_CUSTOMERS[0]
    assert await directory.by_phone("+8613800138000") == first
    assert await directory.by_phone(first.phone) == first
    assert await directory.by_phone("+862161234567") == DEMO_CUSTOMERS[2]  # a landline
    assert await directory.by_phone("13000000000") is None
    assert await directory.by_phone("") is None
    assert await directory.by_account(first.account) == first
    assert await directory.by_account("0000000000") is None
    bill = await directory.current_bill(first.account)  # the latest of two periods
    assert bill == Bill(first.account, "2026-10", Decimal("128.50"), date(2026, 11, 25))
    assert await directory.current_bill(DEMO_CUSTOMERS[3].account) is None


async def test_directory_errors_are_database_errors(dead: Sessions) -> None:
    with pytest.raises(DatabaseError):
        await DatabaseDirectory(dead).by_phone("13800138000")


# --- callback requests ----------------------------------------------------------------


def new(number: str = "13800138000", **changes: object) -> NewCallback:
    fields: dict[str, object] = {"linkedid": "1700000000.1", "queue": "repair"}
    fields |= {"category": "repair", "priority": 5, "position": 4, "requested_at": T0}
    fields |= changes
    return NewCallback(number, **fields)  # type: ignore[arg-type]


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(CallbackRequestRow)
        return int((await conn.execute(query)).scalar_one())


async def test_a_request_is_stored_as_given(sessions: Sessions) -> None:
    repo = CallbackRepository(sessions)
    stored = await repo.request(new(due_at=T0 + timedelta(hours=8)))
    assert (stored.number, stored.queue, stored.priority, stored.position) == (
        "13800138000",
        "repair",
        5,
        4,
    )
    assert (stored.status, stored.merge_count) == (CallbackStatus.PENDING, 0)
    assert (stored.requested_at, stored.due_at) == (T0, T0 + timedelta(hours=8))
    assert await repo.get(stored.id) == stored


async def test_repeats_merge_into_one_open_request_keeping_the_best_claim(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    repo = CallbackRepository(sessions)
    later = T0 + timedelta(minutes=5)
    first = await repo.request(new(position=4, priority=3, due_at=T0 + timedelta(hours=1)))
    second = await repo.request(
        new(linkedid="1700000000.9", position=2, priority=5, requested_at=later, due_at=None)
    )
    third = await repo.request(new(position=None, priority=1, requested_at=later))
    assert first.id == second.id == third.id
    assert await count(engine) == 1
    assert third.merge_count == 2
    assert third.requested_at == T0  # the earliest
    assert third.position == 2  # the best place in the line
    assert third.priority == 5  # the highest
    assert third.due_at is None  # "as soon as possible" beats a later time
    assert third.linkedid == "1700000000.1"  # the first call stays the reference


async def test_merge_fills_what_the_first_request_lacked(sessions: Sessions) -> None:
    repo = CallbackRepository(sessions)
    await repo.request(new(queue="", category="", position=None, due_at=T0 + timedelta(hours=2)))
    merged = await repo.request(new(position=7, due_at=T0 + timedelta(hours=1)))
    assert (merged.queue, merged.category, merged.position) == ("repair", "repair", 7)
    assert merged.due_at == T0 + timedelta(hours=1)


async def test_a_closed_request_is_not_merged_into(sessions: Sessions, engine: AsyncEngine) -> None:
    repo = CallbackRepository(sessions)
    first = await repo.request(new())
    assert await repo.mark(first.id, CallbackStatus.DONE)
    second = await repo.request(new())
    assert second.id != first.id and second.merge_count == 0
    other = await repo.request(new("13900139000"))
    assert other.id not in {first.id, second.id}
    assert await count(engine) == 3


async def test_simultaneous_requests_make_one_row(sessions: Sessions, engine: AsyncEngine) -> None:
    repo = CallbackRepository(sessions)
    results = await asyncio.gather(*(repo.request(new(position=p)) for p in range(1, 9)))
    assert len({r.id for r in results}) == 1
    assert await count(engine) == 1
    [row] = await repo.list_open()
    assert (row.merge_count, row.position) == (7, 1)


async def test_list_open_is_in_dialling_order(sessions: Sessions) -> None:
    repo = CallbackRepository(sessions)
    a = await repo.request(new("111", priority=1, position=1))
    b = await repo.request(new("222", priority=5, position=None))
    c = await repo.request(new("333", priority=5, position=3))
    d = await repo.request(new("444", priority=5, position=3, requested_at=T0 - timedelta(1)))
    e = await repo.request(new("555", priority=9))
    assert await repo.mark(e.id, CallbackStatus.CANCELLED)
    assert [r.id for r in await repo.list_open()] == [d.id, c.id, b.id, a.id]
    assert [r.id for r in await repo.by_status([CallbackStatus.CANCELLED])] == [e.id]


async def test_mark_with_expected_status_is_a_compare_and_set(sessions: Sessions) -> None:
    repo = CallbackRepository(sessions)
    stored = await repo.request(new())
    pending = [CallbackStatus.PENDING]
    assert await repo.mark(stored.id, CallbackStatus.DIALLING, expect=pending)
    assert not await repo.mark(stored.id, CallbackStatus.DIALLING, expect=pending)
    assert not await repo.mark(9999, CallbackStatus.DONE)
    current = await repo.get(stored.id)
    assert current is not None and current.status is CallbackStatus.DIALLING
    merged = await repo.request(new())  # dialling is still open: merged
    assert (merged.id, merged.merge_count) == (stored.id, 1)


async def test_callback_errors_are_database_errors(dead: Sessions) -> None:
    with pytest.raises(DatabaseError):
        await CallbackRepository(dead).request(new())


# --- blocklist ------------------------------------------------------------------------


async def test_blocklist_add_check_remove(sessions: Sessions) -> None:
    blocklist = Blocklist(sessions)
    entry, created = await blocklist.add("008613900139000", "abusive", BlockSource.API)
    assert created and (entry.number, entry.reason, entry.source) == (
        "+8613900139000",
        "abusive",
        BlockSource.API,
    )
    again, created = await blocklist.add("13900139000", "other", BlockSource.CLI)
    assert not created and again == entry  # an existing entry keeps its data
    assert await blocklist.is_blocked("13900139000")
    assert await blocklist.is_blocked("+8613900139000")
    assert not await blocklist.is_blocked("13800138000")
    assert not await blocklist.is_blocked("")
    assert [e.number for e in await blocklist.entries()] == ["+8613900139000"]
    assert await blocklist.remove("13900139000")
    assert not await blocklist.remove("13900139000")
    assert not await blocklist.is_blocked("13900139000")


async def test_config_numbers_are_synced_and_protected(sessions: Sessions) -> None:
    await Blocklist(sessions).add("95007", "test", BlockSource.CLI)
    configured = Blocklist(sessions, ["13700137000", "+8613600136000"])
    await configured.sync_config()
    await configured.sync_config()  # idempotent
    sources = {e.number: e.source for e in await configured.entries()}
    assert sources == {
        "+8613700137000": BlockSource.CONFIG,
        "+8613600136000": BlockSource.CONFIG,
        "95007": BlockSource.CLI,
    }
    with pytest.raises(ConfigEntryError, match=r"ivr\.blocklist"):
        await configured.remove("13700137000")
    # a number dropped from the settings leaves the table; others' entries stay
    await Blocklist(sessions, ["13700137000"]).sync_config()
    assert {e.number for e in await configured.entries()} == {"+8613700137000", "95007"}
    await Blocklist(sessions).sync_config()
    assert {e.number for e in await configured.entries()} == {"95007"}


async def test_config_numbers_block_even_without_a_database(dead: Sessions) -> None:
    blocklist = Blocklist(dead, ["13700137000"])
    assert await blocklist.is_blocked("+8613700137000")
    with pytest.raises(DatabaseError):
        await blocklist.is_blocked("13800138000")
    with pytest.raises(DatabaseError):
        await blocklist.sync_config()


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _count_queries(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    return seen


async def _blocking(sessions: Sessions, **options: Any) -> tuple[_Clock, Blocklist]:
    """A service's blocklist whose copy holds 13900139000 (added over the API)."""
    clock = _Clock()
    blocklist = Blocklist(sessions, refresh_seconds=2.0, clock=clock, **options)
    await blocklist.add("13900139000", "abusive", BlockSource.API)
    assert await blocklist.is_blocked("13900139000")  # the first check reads the table
    return clock, blocklist


async def test_blocklist_checks_are_answered_from_memory(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    queries = _count_queries(engine)
    _, blocklist = await _blocking(sessions)
    read = len(queries)
    callers = [f"1390013{n:04d}" for n in range(8980, 9030)]  # 13900139000 among them
    results = await asyncio.gather(*(blocklist.is_blocked(number) for number in callers))
    assert sum(results) == 1 and len(queries) == read  # 50 callers, no query of their own


async def test_a_number_blocked_elsewhere_blocks_after_the_refresh(sessions: Sessions) -> None:
    clock = _Clock()
    service = Blocklist(sessions, refresh_seconds=2.0, clock=clock)
    assert not await service.is_blocked("13900139000")
    await Blocklist(sessions).add("13900139000", "abusive", BlockSource.CLI)  # the CLI
    clock.now = 1.9
    assert not await service.is_blocked("13900139000")  # the copy may be this stale
    await service.settle()
    assert not await service.is_blocked("13900139000")  # and nothing was read meanwhile
    clock.now = 2.0
    assert not await service.is_blocked("13900139000")  # stale: answered, read again behind
    await service.settle()
    assert await service.is_blocked("13900139000")
    assert await Blocklist(sessions).remove("13900139000")
    clock.now = 4.0
    await service.is_blocked("13900139000")
    await service.settle()
    assert not await service.is_blocked("13900139000")


async def test_the_services_own_edits_apply_at_once(sessions: Sessions) -> None:
    blocklist = Blocklist(sessions, refresh_seconds=3600.0, clock=_Clock())
    assert not await blocklist.is_blocked("13900139000")
    await blocklist.add("13900139000", "abusive", BlockSource.API)
    assert await blocklist.is_blocked("+8613900139000")
    assert await blocklist.remove("13900139000")
    assert not await blocklist.is_blocked("13900139000")


async def test_numbers_last_read_keep_blocking_while_the_database_is_down(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    clock, blocklist = await _blocking(sessions)
    await engine.dispose()
    async with engine.begin() as conn:  # the table gone: every read fails from now on
        await conn.exec_driver_sql("DROP TABLE blocklist")
    clock.now = 10.0
    assert await blocklist.is_blocked("13900139000")
    await blocklist.settle()  # the read failed: the copy is kept
    assert await blocklist.is_blocked("13900139000")
    assert not await blocklist.is_blocked("13800138000")


class _Hangable:
    """Sessions that can be made to hang, as a database that accepts and never answers."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions, self.hung = sessions, False

    def __call__(self) -> Any:
        return _HungSession() if self.hung else self.sessions()


class _HungSession:
    async def __aenter__(self) -> None:
        await asyncio.sleep(3600)

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_a_hung_database_never_holds_a_caller_and_keeps_the_copy(
    sessions: Sessions,
) -> None:
    database = _Hangable(sessions)
    clock, blocklist = await _blocking(cast(Sessions, database), read_timeout=0.2)
    database.hung = True
    clock.now = 10.0
    async with asyncio.timeout(0.1):  # answered from the copy, not after the read
        assert await blocklist.is_blocked("13900139000")
        assert not await blocklist.is_blocked("13800138000")
    await blocklist.settle()  # the read gave up after read_timeout
    assert await blocklist.is_blocked("13900139000")
    await blocklist.close()


async def test_callers_on_a_cold_copy_share_one_read(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await Blocklist(sessions).add("13900139000", "abusive", BlockSource.CLI)
    blocklist = Blocklist(sessions, clock=_Clock())
    queries = _count_queries(engine)
    results = await asyncio.gather(*(blocklist.is_blocked("13900139000") for _ in range(20)))
    assert all(results)
    assert sum("FROM blocklist" in query for query in queries) == 1


async def test_an_edit_during_a_read_is_kept(sessions: Sessions) -> None:
    clock = _Clock()
    blocklist = Blocklist(sessions, refresh_seconds=2.0, clock=clock)
    assert not await blocklist.is_blocked("13900139000")
    clock.now = 5.0
    reading = asyncio.create_task(blocklist.refresh())
    await asyncio.sleep(0)  # the read has begun
    await blocklist.add("13900139000", "abusive", BlockSource.API)
    await reading
    assert await blocklist.is_blocked("13900139000")
