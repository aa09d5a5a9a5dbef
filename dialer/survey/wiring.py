"""The survey's parts built once for the dialer feature: store, operations, the flow route.

The prompts of the configured items are checked here, so a survey item without a
``survey-item-<key>`` prompt stops the service at start (``ConfigError``) instead of
playing a missing file to customers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.operations import Operations
from dialer.survey.operations import SurveyOps
from dialer.survey.store import SurveyStore
from hotline.config import Settings
from hotline.errors import ConfigError
from hotline.prompts import load_prompt_texts
from ivr.agi import Flow
from ivr.flows.survey import SurveyDeps, survey_flow
from ivr.menu import project_path

__all__ = ["SURVEY_PROMPTS", "Survey", "check_survey_prompts"]

SURVEY_PROMPTS = (
    "survey-intro",
    "survey-identity",
    "survey-identity-confirm",
    "survey-wrong-party",
    "survey-consent",
    "survey-refused",
    "survey-optout",
    "survey-no-input",
    "survey-later",
    "survey-comment",
    "survey-thanks",
)


def check_survey_prompts(settings: Settings) -> None:
    names = {p.name for p in load_prompt_texts(project_path(settings.prompts.source_file))}
    wanted = list(SURVEY_PROMPTS) + [f"survey-item-{i.key}" for i in settings.survey.items]
    missing = [name for name in wanted if name not in names]
    if missing:
        raise ConfigError(
            [
                f"survey: prompt {name!r} is not in {settings.prompts.source_file}"
                for name in missing
            ]
        )


class Survey:
    def __init__(
        self,
        settings: Settings,
        ops: Operations,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
    ) -> None:
        check_survey_prompts(settings)
        self.settings = settings.survey
        self.store = SurveyStore(sessions)
        self.ops = SurveyOps(settings.survey, ops, self.store)
        self.deps = SurveyDeps(settings.survey, self.store, clock)

    def agi_routes(self) -> dict[str, Flow]:
        return {self.settings.agi_route: partial(survey_flow, deps=self.deps)}
