"""Where the service is in Asterisk's call log (migration 0011).

One row per log file the service follows (keyed by its path): the file's identity
(device and inode, so a rotated file is told from its successor) and the byte offset
before which every call is accounted for. It survives restarts, so a call the service
never saw is rebuilt exactly once, whenever the service comes back.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base, _Timestamps

__all__ = ["CallLogPositionRow"]


class CallLogPositionRow(_Timestamps, Base):
    __tablename__ = "call_log_positions"

    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(64), default="")  # "<st_dev>:<st_ino>"
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
