"""The console's quality pages: the day's review list and a call's page (its story, its
recording in a player, the review form).

``/ui/quality?day=`` lists the day's sample with a button to draw it; ``/ui/calls/{id}``
shows the call's record and timeline (menu, queue, agent answer, holds, score) beside the
recording, and the form that scores it; the form posts to ``/ui/calls/{id}/review``. While
the call is live the page offers listen, whisper and barge (``hotline.supervision``).
Supervisors and admins only (the console lets no agent in).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.db.repository import CallRecordRepository
from hotline.errors import DatabaseError
from hotline.quality.config import QualitySettings
from hotline.quality.form import MAX_ITEM_SCORE, ReviewError, check_scores, form_json, total
from hotline.quality.sampling import pick
from hotline.quality.store import QaStore, Review
from hotline.record_fields import utc_now
from hotline.recordings.store import RecordingStore
from hotline.supervision.config import SupervisorPhone
from hotline.supervision.modes import Mode
from hotline.web.app import CALLER
from hotline.web.dashboard import page

__all__ = ["QualityPages"]

_LINKEDID = r"{linkedid:[\w.-]{1,150}}"
#: the timeline kinds a reviewer follows the call by (the rest is channel plumbing)
_STORY = frozenset({"answer", "queue_join", "agent_connect", "agent_complete", "hangup", "var"})
_STORY_VARS = ("HOTLINE_MENU_PATH", "HOTLINE_CATEGORY", "HOTLINE_SCORE", "HOTLINE_HOLD")


class QualityPages:
    def __init__(
        self,
        settings: QualitySettings,
        store: QaStore,
        records: CallRecordRepository,
        recordings: RecordingStore,
        supervisors: Sequence[SupervisorPhone] = (),
    ) -> None:
        self.settings = settings
        self.supervisors = supervisors  # the live call's listen/whisper/barge buttons
        self.store = store
        self.records = records
        self.recordings = recordings

    def install(self, app: web.Application) -> None:
        app.router.add_get("/ui/quality", self.day)
        app.router.add_post("/ui/quality/sample", self.sample)
        app.router.add_get(f"/ui/calls/{_LINKEDID}", self.call)
        app.router.add_post(f"/ui/calls/{_LINKEDID}/review", self.review)

    def _today(self) -> date:
        return datetime.now(ZoneInfo(self.settings.timezone)).date()

    def _day(self, raw: str) -> date:
        try:
            return date.fromisoformat(raw) if raw else self._today()
        except ValueError:
            return self._today()

    async def day(self, request: web.Request) -> web.Response:
        day = self._day(request.query.get("day", ""))
        try:
            reviews = await self.store.reviews(day)
        except DatabaseError:
            return page(request, "unavailable.html")
        return page(request, "quality.html", day=day.isoformat(), reviews=reviews, added=None)

    async def sample(self, request: web.Request) -> web.Response:
        form = await request.post()
        day = self._day(str(form.get("day", "")))
        try:
            calls, drawn = await self.store.candidates(day)
            added = await self.store.add(day, pick(day, calls, self.settings, drawn))
            reviews = await self.store.reviews(day)
        except DatabaseError:
            return page(request, "unavailable.html")
        return page(request, "quality.html", day=day.isoformat(), reviews=reviews, added=added)

    async def _call_page(
        self, request: web.Request, error: str = "", saved: bool = False
    ) -> web.Response:
        linkedid = request.match_info["linkedid"]
        try:
            record = await self.records.get(linkedid)
            if record is None:
                raise web.HTTPNotFound(text=f"no call {linkedid}")
            timeline = await self.records.timeline(linkedid)
            recording = (await self.recordings.of_calls([linkedid])).get(linkedid)
            review = await self.store.get(linkedid)
        except DatabaseError:
            return page(request, "unavailable.html")
        story = [_story_line(entry.at, entry.kind, entry.detail) for entry in timeline]
        response = page(
            request,
            "call.html",
            record=record,
            story=[line for line in story if line is not None],
            recording=recording,
            review=review,
            form=form_json(self.settings.form),
            max_score=MAX_ITEM_SCORE,
            error=error,
            saved=saved,
            supervisors=self.supervisors if record.ended_at is None else (),
            supervised=_known(request.query.get("supervised", ""), {m.value for m in Mode}),
            supervise_error=_known(request.query.get("supervise_error", ""), _ERRORS),
        )
        if error:
            response.set_status(400)
        return response

    async def call(self, request: web.Request) -> web.Response:
        return await self._call_page(request)

    async def review(self, request: web.Request) -> web.Response:
        form = await request.post()
        scores: dict[str, Any] = {}
        for item in self.settings.form:
            raw = str(form.get(f"score-{item.key}", ""))
            scores[item.key] = int(raw) if raw.isdigit() else raw
        body = {"scores": scores, "comment": str(form.get("comment", ""))}
        try:
            checked, comment = check_scores(self.settings.form, body)
        except ReviewError as exc:
            return await self._call_page(request, error=str(exc))
        linkedid = request.match_info["linkedid"]
        caller = request[CALLER]
        review = Review(
            linkedid,
            checked,
            comment,
            total(self.settings.form, checked),
            caller.name,
            form_json(self.settings.form),
            utc_now(),
        )
        try:
            saved = await self.store.save(review)
        except DatabaseError:
            return page(request, "unavailable.html")
        if saved is None:
            return await self._call_page(request, error="not an agent's call: nothing to review")
        return await self._call_page(request, saved=True)


_ERRORS = frozenset({"400", "409", "502", "503", "bad request"})


def _known(value: str, allowed: Collection[str]) -> str:
    """A query value the page shows, if it is one it knows (else nothing)."""
    return value if value in allowed else ""


def _story_line(at: datetime, kind: str, detail: dict[str, Any]) -> dict[str, str] | None:
    if kind not in _STORY:
        return None
    what = kind
    if kind == "var":
        name = str(detail.get("name", ""))
        if name not in _STORY_VARS:
            return None
        what = f"{name.removeprefix('HOTLINE_').lower()} {detail.get('value', '')}"
    elif detail:
        shown = {k: v for k, v in detail.items() if k in ("queue", "agent", "cause")}
        what = " ".join([kind, *(f"{k}={v}" for k, v in shown.items())])
    return {"at": at.astimezone().strftime("%H:%M:%S"), "what": what}
