"""API tokens (issue 7, migration 0009): who may call the API, in which role.

Only a token's SHA-256 is stored: tokens are 32 random bytes, so a fast hash is enough
(nothing to brute-force), and a database dump gives no usable token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base

__all__ = ["ApiTokenRow"]


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # admin | supervisor | agent
    agent: Mapped[str] = mapped_column(String(16), default="")  # an agent token's own agent
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
