"""Settings of the callback survey (电话回访, the ``survey`` section).

The items are asked in the order given; each has a key (stored with its score and used in
reports) and a prompt ``survey-item-<key>`` in ``prompts/prompts.yaml``, which the survey
feature checks at start. The sampling rules pick which completed work orders are called:
per category a rate and a minimum per technician, ``default`` for other categories.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_ITEMS", "SamplingSettings", "SurveyItem", "SurveySettings"]


class SurveyItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: str = Field(min_length=1, max_length=64)  # how reports name it


DEFAULT_ITEMS = (
    SurveyItem(key="attitude", label="服务态度"),
    SurveyItem(key="competence", label="专业能力"),
    SurveyItem(key="punctuality", label="准时守约"),
    SurveyItem(key="appearance", label="仪容仪表"),
)


class SamplingSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: float = Field(0.3, ge=0.0, le=1.0)
    min_per_technician: int = Field(1, ge=0, le=1000)


class SurveySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agi_route: str = Field("survey", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    items: tuple[SurveyItem, ...] = DEFAULT_ITEMS
    digit_timeout_seconds: float = Field(6.0, ge=1.0, le=30.0)
    comment: bool = True  # offer a spoken comment after the items
    comment_max_seconds: int = Field(60, ge=5, le=60)
    comment_silence_seconds: int = Field(5, ge=1, le=30)  # this long silent ends it
    # Record()'s folder on the Asterisk host (in the sandbox: inside its chroot)
    comment_dir: str = Field("/var/spool/asterisk/survey", pattern=r"^/[A-Za-z0-9_./-]{0,200}$")
    sampling_default: SamplingSettings | None = SamplingSettings()
    sampling: dict[str, SamplingSettings] = Field(default_factory=dict)

    @field_validator("items")
    @classmethod
    def _unique_items(cls, value: tuple[SurveyItem, ...]) -> tuple[SurveyItem, ...]:
        if not value:
            raise ValueError("at least one survey item")
        keys = [item.key for item in value]
        doubled = sorted({k for k in keys if keys.count(k) > 1})
        if doubled:
            raise ValueError(f"item keys must be unique: {doubled}")
        return value

    @field_validator("comment_dir")
    @classmethod
    def _no_parent(cls, value: str) -> str:
        if ".." in value.split("/"):
            raise ValueError("must not contain '..'")
        return value
