"""The call log's place in the database: the position the service has accounted for."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.call_log.reader import Position
from hotline.db.models_call_log import CallLogPositionRow
from hotline.db.transaction import Sessions, dialect_insert, transaction

__all__ = ["PositionStore"]


class PositionStore:
    """The stored position of each followed log file, by its path."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def get(self, path: str) -> Position | None:
        query = select(CallLogPositionRow).where(CallLogPositionRow.path == path)
        async with transaction(self._sessions, "call log position") as session:
            row = (await session.scalars(query)).one_or_none()
            return None if row is None else Position(row.file_id, row.offset)

    async def put(self, path: str, position: Position) -> None:
        async with transaction(self._sessions, "call log position save") as session:
            insert = dialect_insert(session)(CallLogPositionRow)
            values = {"file_id": position.file_id, "offset": position.offset}
            await session.execute(
                insert.values(path=path, **values).on_conflict_do_update(
                    index_elements=["path"], set_=values | {"updated_at": func.now()}
                )
            )
