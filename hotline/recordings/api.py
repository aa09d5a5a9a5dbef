"""Playback over HTTP: supervisors and admins only, every request audited.

``GET /api/v1/calls/{linkedid}/recording`` serves the WAV with range requests (aiohttp's
``FileResponse``: 206 and ``Content-Range`` for a ``Range`` header), so the console's
player can scrub a long call; ``GET /api/v1/recordings/{linkedid}`` says what became of a
call's recording; ``GET /api/v1/recordings/playbacks`` is the audit, newest first.
Agent tokens are refused by the role rules (``hotline.web.roles``) and again here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from hotline.errors import DatabaseError
from hotline.recordings.files import RecordingStatus, recording_path
from hotline.recordings.store import Playback, RecordingStore
from hotline.web.app import CALLER, client_address, for_supervisors_only

__all__ = ["install_routes"]

log = logging.getLogger(__name__)

STORE = web.AppKey("recording_store", RecordingStore)
FOLDER = web.AppKey("recording_folder", Path)
_LINKEDID = r"{linkedid:[\w.-]{1,150}}"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _refused(request: web.Request) -> web.Response | None:
    return (
        _error(403, "recordings are for supervisors and admins")
        if for_supervisors_only(request)
        else None
    )


async def _recording(request: web.Request) -> tuple[str, dict[str, Any]] | web.Response:
    """The path's call and its recording, or the answer that refuses the request."""
    if (refusal := _refused(request)) is not None:
        return refusal
    linkedid = request.match_info["linkedid"]
    try:
        found = (await request.app[STORE].of_calls([linkedid])).get(linkedid)
    except DatabaseError as exc:
        return _error(503, f"database unavailable: {exc}")
    if found is None:
        return _error(404, f"call {linkedid} has no recording")
    return linkedid, found


async def _play(request: web.Request) -> web.StreamResponse:
    looked_up = await _recording(request)
    if isinstance(looked_up, web.Response):
        return looked_up
    linkedid, found = looked_up
    status = RecordingStatus(found["status"])
    if status is RecordingStatus.DELETED:
        return _error(410, f"the recording of call {linkedid} was deleted (retention)")
    if status is RecordingStatus.PENDING:
        return _error(409, f"the recording of call {linkedid} is not ready yet")
    if status is RecordingStatus.FAILED:
        return _error(404, f"the recording of call {linkedid} failed: {found['error']}")
    path = recording_path(request.app[FOLDER], str(found["file"]))
    if path is None or not path.is_file():
        return _error(404, f"the recording file of call {linkedid} is gone")
    caller = request[CALLER]
    playback = Playback(
        linkedid,
        caller.name,
        caller.role.value,
        request.headers.get("Range", "")[:64],
        client_address(request),
    )
    try:
        await request.app[STORE].audit(playback)  # no audit, no playback
    except DatabaseError as exc:
        return _error(503, f"database unavailable, playback not audited: {exc}")
    log.info("recording of call %s played by %s (%s)", linkedid, caller.name, playback.byte_range)
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


async def _status(request: web.Request) -> web.Response:
    looked_up = await _recording(request)
    if isinstance(looked_up, web.Response):
        return looked_up
    linkedid, found = looked_up
    return web.json_response({"linkedid": linkedid, **found})


async def _playbacks(request: web.Request) -> web.Response:
    if (refusal := _refused(request)) is not None:
        return refusal
    linkedid = request.query.get("linkedid") or None
    try:
        rows = await request.app[STORE].playbacks(linkedid)
    except DatabaseError as exc:
        return _error(503, f"database unavailable: {exc}")
    return web.json_response({"playbacks": rows})


def install_routes(app: web.Application, store: RecordingStore, folder: Path) -> None:
    app[STORE] = store
    app[FOLDER] = folder
    app.router.add_get(f"/api/v1/calls/{_LINKEDID}/recording", _play)
    app.router.add_get("/api/v1/recordings/playbacks", _playbacks)
    app.router.add_get(f"/api/v1/recordings/{_LINKEDID}", _status)
