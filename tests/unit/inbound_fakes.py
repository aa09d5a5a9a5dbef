"""Fakes and script pieces for the inbound flow tests (a helper module, not a test file).

The deps use the real menu (``prompts/menu.yaml``) and real business hours, with a fixed
clock: ``OPEN_NOW`` is a Monday morning in Shanghai, ``CLOSED_NOW`` the same night.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hotline.config import Settings
from hotline.errors import DatabaseError
from ivr.callbacks import CallbackRequest, CallbackStatus, NewCallback
from ivr.flows.deps import InboundDeps
from ivr.hours import BusinessHours
from ivr.lookup import Bill, Customer
from ivr.menu import load_menu
from ivr.scripted import Step, expect

OPEN_NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Mon 10:00 Asia/Shanghai
CLOSED_NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Mon 22:00 Asia/Shanghai
CALLER = "13800138000"
ACCOUNT = "3101000010"  # Luhn-valid, see ivr.demo
TIMEOUT = 5.0  # ivr.digit_timeout_seconds default
SETTINGS = Settings()
MENU = load_menu(SETTINGS)


@dataclass
class FakeDirectory:
    customers: list[Customer] = field(default_factory=list)
    bills: dict[str, Bill] = field(default_factory=dict)
    fail: bool = False
    delay: float = 0.0

    async def _ready(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise DatabaseError("database by phone failed: boom")

    async def by_phone(self, phone: str) -> Customer | None:
        await self._ready()
        return next((c for c in self.customers if c.phone == phone), None)

    async def by_account(self, account: str) -> Customer | None:
        await self._ready()
        return next((c for c in self.customers if c.account == account), None)

    async def current_bill(self, account: str) -> Bill | None:
        await self._ready()
        return self.bills.get(account)


@dataclass
class FakeBlocklist:
    numbers: set[str] = field(default_factory=set)
    fail: bool = False
    asked: list[str] = field(default_factory=list)

    async def is_blocked(self, number: str) -> bool:
        self.asked.append(number)
        if self.fail:
            raise DatabaseError("database blocklist check failed: boom")
        return number in self.numbers


@dataclass
class FakeCallbacks:
    requests: list[NewCallback] = field(default_factory=list)
    fail: bool = False
    merge_count: int = 0

    async def request(self, new: NewCallback) -> CallbackRequest:
        if self.fail:
            raise DatabaseError("database callback request failed: boom")
        self.requests.append(new)
        assert new.requested_at is not None
        return CallbackRequest(
            id=41 + len(self.requests),
            number=new.number,
            linkedid=new.linkedid,
            queue=new.queue,
            category=new.category,
            requested_at=new.requested_at,
            status=CallbackStatus.PENDING,
            priority=new.priority,
            position=new.position,
            merge_count=self.merge_count,
            due_at=new.due_at,
        )


@dataclass
class Fakes:
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    blocklist: FakeBlocklist = field(default_factory=FakeBlocklist)
    callbacks: FakeCallbacks = field(default_factory=FakeCallbacks)


def make_deps(
    fakes: Fakes | None = None, now: datetime = OPEN_NOW, **ivr: Any
) -> tuple[InboundDeps, Fakes]:
    fakes = fakes or Fakes()
    settings = SETTINGS.ivr.model_copy(update=ivr) if ivr else SETTINGS.ivr
    deps = InboundDeps(
        ivr=settings,
        queues=SETTINGS.queues,
        menu=MENU,
        hours=BusinessHours(settings.hours),
        directory=fakes.directory,
        blocklist=fakes.blocklist,
        callbacks=fakes.callbacks,
        clock=lambda: now,
    )
    return deps, fakes


def customer(**changes: Any) -> Customer:
    return replace(Customer(ACCOUNT, "张伟", CALLER, "上海"), **changes)


def bill(amount: str = "128.50", **changes: Any) -> Bill:
    return replace(Bill(ACCOUNT, "2026-10", Decimal(amount), None), **changes)


# --- script pieces -------------------------------------------------------------------


def greeting(key: str = "", welcome: str = "welcome-morning") -> list[Step]:
    """The flow's start; the greeting of ``OPEN_NOW`` (``welcome-evening`` at ``CLOSED_NOW``)."""
    return [
        expect("set_variable", "HOTLINE_FLOW", "hotline"),
        expect("play", f"hotline/{welcome}", MENU.emergency.key, returns=key),
    ]


def menu(prompt: str, key: str) -> Step:
    return expect("read_digits", f"hotline/{prompt}", TIMEOUT, 1, returns=key)


def queued(queue: str, priority: int, category: str, path: str) -> list[Step]:
    route = {"HOTLINE_MENU_PATH": path} if path else {}
    route |= {
        "HOTLINE_CATEGORY": category,
        "HOTLINE_QUEUE": queue,
        "HOTLINE_QUEUE_PRIORITY": str(priority),
        "HOTLINE_FLOW_RESULT": "queue",
    }
    return [expect("set_variables", route)]


def path(value: str) -> Step:
    return expect("set_variable", "HOTLINE_MENU_PATH", value)


def play(name: str, escape: str = "", key: str = "") -> Step:
    return expect("play", f"hotline/{name}", escape, returns=key)


def done() -> Step:
    return expect("set_variable", "HOTLINE_FLOW_RESULT", "done")


def goodbye() -> list[Step]:
    return [play("goodbye"), done()]


def no_input_goodbye() -> list[Step]:
    return [expect("set_variable", "HOTLINE_DISPOSITION", "no_input"), play("no-input"), done()]
