"""SQLAlchemy models: the tables behind the repositories.

One ``Base`` with a naming convention, so constraint and index names are the same on
SQLite and PostgreSQL and Alembic can find them again. New features add their tables here
(or in a sibling module importing ``Base``) and a migration under ``migrations/versions``.

Column types are chosen so a ``CallRecord`` compares equal after a round trip on both
databases: ``UTCDateTime`` returns timezone-aware UTC (SQLite keeps naive text) and
``StrEnumType`` stores an enum's value and returns the enum.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hotline.callrecord import Direction, Disposition, RecordSource, ScoreStatus

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "CallEventRow",
    "CallRecordRow",
    "JsonDict",
    "StrEnumType",
    "UTCDateTime",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

E = TypeVar("E", bound=StrEnum)

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JsonDict = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite has no time zone: values are stored as naive UTC and tagged UTC on the way out.
    A naive datetime is refused rather than guessed, since its zone is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[E]):
    """A ``StrEnum`` stored as its value in a VARCHAR: new members need no migration."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int = 32) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: E | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_class(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class _Timestamps:
    """Row bookkeeping, separate from the call's own times."""

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


#: what the inbound reports read (``hotline.call_reports``): in one index, a month of
#: calls is counted from the index alone, without visiting the table's rows
REPORT_COLUMNS = (
    "started_at",
    "direction",
    "disposition",
    "queue",
    "agent",
    "wait_seconds",
    "score",
    "category",
)


class CallRecordRow(_Timestamps, Base):
    """One row per call; columns mirror ``hotline.callrecord.CallRecord`` field by field."""

    __tablename__ = "call_records"
    __table_args__ = (  # migration 0010: the calls list, the reports and the restart
        Index("ix_call_records_agent_started", "agent", "started_at"),
        Index("ix_call_records_report", *REPORT_COLUMNS),
        Index(
            "ix_call_records_unfinished",
            "started_at",
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(150), unique=True, index=True)
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction))
    started_at: Mapped[datetime] = mapped_column(index=True)
    caller: Mapped[str] = mapped_column(String(80), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(255), default="")
    called: Mapped[str] = mapped_column(String(80), default="", index=True)
    did: Mapped[str] = mapped_column(String(80), default="")
    channel: Mapped[str] = mapped_column(String(255), default="")
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    disposition: Mapped[Disposition] = mapped_column(
        StrEnumType(Disposition), default=Disposition.IN_PROGRESS
    )
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str] = mapped_column(String(255), default="")
    sip_call_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    flow: Mapped[str] = mapped_column(String(64), default="")
    end_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # inbound hotline (migration 0003)
    menu_path: Mapped[str] = mapped_column(String(128), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str] = mapped_column(String(32), default="", index=True)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    rings_before_answer: Mapped[int | None] = mapped_column(Integer)
    agent: Mapped[str] = mapped_column(String(64), default="", index=True)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    score: Mapped[int | None] = mapped_column(Integer)
    score_status: Mapped[ScoreStatus | None] = mapped_column(StrEnumType(ScoreStatus, 16))
    # hold and resume (migration 0005)
    hold_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # the dialplan fallback, and where the story came from (migration 0011)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    source: Mapped[RecordSource] = mapped_column(
        StrEnumType(RecordSource, 16), default=RecordSource.AMI, server_default="ami"
    )
    # the call's recording, by the name Asterisk gave it (migration 0014)
    recording_file: Mapped[str] = mapped_column(String(200), default="", server_default="")
    reason: Mapped[str] = mapped_column(String(128), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class CallEventRow(Base):
    """One timeline entry; ``(linkedid, seq)`` is unique so retried writes add nothing."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("linkedid", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("call_records.id", ondelete="CASCADE"), index=True
    )
    linkedid: Mapped[str] = mapped_column(String(150))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(255), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDict, default=dict)
