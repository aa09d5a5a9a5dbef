"""The ``quality`` section: the review form and which calls are sampled each day."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hotline.config_dialer import check_timezone

__all__ = ["DEFAULT_FORM", "QualitySettings", "ReviewItem"]


class ReviewItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    title: str = Field(min_length=1, max_length=120)
    weight: int = Field(ge=1, le=100)  # its share of the call's total


#: From the service standards (DESIGN.md): what a reviewer listens for.
DEFAULT_FORM: tuple[ReviewItem, ...] = (
    ReviewItem(key="greeting", title="2 秒内问候: 您好,很高兴为您服务", weight=15),
    ReviewItem(key="hold_etiquette", title="征得同意再等待,返回时: 对不起,让您久等了", weight=15),
    ReviewItem(key="no_interrupting", title="不打断客户说话", weight=15),
    ReviewItem(key="confirm_understood", title="确认客户已听明白", weight=15),
    ReviewItem(key="closing", title="结束语: 感谢您的来电,并请客户评分", weight=15),
    ReviewItem(key="first_question", title="首问负责: 答不了的问题承诺时间并回电", weight=25),
)


class QualitySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    form: tuple[ReviewItem, ...] = DEFAULT_FORM
    #: Calls drawn at random for each agent and day, besides the ones always reviewed.
    sample_per_agent_per_day: int = Field(2, ge=0, le=100)
    #: Calls the caller scored this or lower are always reviewed (0: none by score).
    low_score_at_most: int = Field(5, ge=0, le=10)
    #: Menu categories of complaints: such calls are always reviewed.
    complaint_categories: tuple[str, ...] = ("complaints",)
    #: The zone whose days the sample is drawn for.
    timezone: str = "Asia/Shanghai"

    _check_timezone = field_validator("timezone")(check_timezone)

    @field_validator("form")
    @classmethod
    def _unique_keys(cls, value: tuple[ReviewItem, ...]) -> tuple[ReviewItem, ...]:
        if not value:
            raise ValueError("at least one item")
        keys = [item.key for item in value]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"item keys must be unique: {repeated}")
        return value
