"""The supervision log: every session asked for, sent or refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from hotline.db.models_supervision import SupervisionRow
from hotline.db.transaction import Sessions, transaction

__all__ = ["Session", "SupervisionStore"]


@dataclass(frozen=True)
class Session:
    linkedid: str
    mode: str
    supervisor: str
    who: str
    role: str
    agent_channel: str
    outcome: str


class SupervisionStore:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def log(self, session: Session) -> int:
        """The session's row, written before the phone rings: no log, no listening."""
        async with transaction(self._sessions, "supervision log") as db:
            row = SupervisionRow(
                linkedid=session.linkedid[:150],
                mode=session.mode[:16],
                supervisor=session.supervisor[:16],
                who=session.who[:128],
                role=session.role[:16],
                agent_channel=session.agent_channel[:96],
                outcome=session.outcome[:64],
            )
            db.add(row)
            await db.flush()
            return row.id

    async def outcome(self, session_id: int, outcome: str) -> None:
        """What Asterisk made of the Originate (sent, refused: …)."""
        async with transaction(self._sessions, "supervision outcome") as db:
            await db.execute(
                update(SupervisionRow)
                .where(SupervisionRow.id == session_id)
                .values(outcome=outcome[:64])
            )

    async def sessions(self, linkedid: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        query = select(SupervisionRow).order_by(SupervisionRow.at.desc(), SupervisionRow.id.desc())
        if linkedid is not None:
            query = query.where(SupervisionRow.linkedid == linkedid)
        async with transaction(self._sessions, "supervision sessions") as db:
            rows = (await db.scalars(query.limit(limit))).all()
        return [
            {
                "linkedid": r.linkedid,
                "at": r.at.isoformat(),
                "mode": r.mode,
                "supervisor": r.supervisor,
                "who": r.who,
                "role": r.role,
                "agent_channel": r.agent_channel,
                "outcome": r.outcome,
            }
            for r in rows
        ]
