"""The AMD report: what answering-machine detection said, per campaign, and what was done.

One row per campaign and verdict (``MACHINE:INITIALSILENCE:person`` …, as the attempts keep
it): how many attempts, and how many of them became ``answered_human`` (the flow ran) or
``answered_machine`` (hung up). A campaign whose silent answers are taken for people shows
them here, so an admin sees what the ``amd_silence_is_human`` policy changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from dialer.states import Disposition
from hotline.db.models_dialer import AttemptRow, CampaignRow
from hotline.db.transaction import Sessions, transaction

__all__ = ["AmdReport"]


class AmdReport:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def rows(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        attempt = AttemptRow
        query = (
            select(
                CampaignRow.name,
                CampaignRow.type,
                attempt.amd_status,
                attempt.disposition,
                func.count(),
            )
            .join(CampaignRow, CampaignRow.id == attempt.campaign_id)
            .where(
                attempt.amd_status != "",
                attempt.created_at >= since,
                attempt.created_at < until,
            )
            .group_by(CampaignRow.name, CampaignRow.type, attempt.amd_status, attempt.disposition)
        )
        async with transaction(self._sessions, "amd report") as session:
            found = (await session.execute(query)).all()
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for name, kind, verdict, disposition, count in found:
            status, _, rest = verdict.partition(":")
            cause, _, policy = rest.partition(":")
            row = rows.setdefault(
                (name, verdict),
                {
                    "campaign": name,
                    "type": str(kind),
                    "status": status,
                    "cause": cause,
                    "taken_for_person": policy == "person",
                    "attempts": 0,
                    "answered_human": 0,
                    "answered_machine": 0,
                },
            )
            row["attempts"] += count
            if disposition is Disposition.ANSWERED_HUMAN:
                row["answered_human"] += count
            elif disposition is Disposition.ANSWERED_MACHINE:
                row["answered_machine"] += count
        return [rows[key] for key in sorted(rows)]
