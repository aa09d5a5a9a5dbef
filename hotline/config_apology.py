"""Settings of apology calls (致歉外呼, the ``apology`` section) and their SMS fallback.

A verified complaint must be apologised for by the end of the day it was verified
(``deadline``, local time in the dialer's time zone); a ticket not reached by then gets
an apology SMS through the gateway (an HTTP webhook, ``sms``). The texts are templates with
``{date}`` (the original contact, e.g. 11月29日), ``{acceptance}`` and ``{site}``.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["ApologySettings", "SmsSettings"]

_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class SmsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # the gateway's webhook; empty: SMS are queued in the outbox and not sent
    url: str = Field("", pattern=r"^(https?://[^\s]{1,500})?$")
    token: SecretStr = SecretStr("")  # optional bearer token (secrets file only)
    timeout_seconds: float = Field(5.0, gt=0, le=60)
    max_attempts: int = Field(8, ge=1, le=50)
    retry_seconds: float = Field(10.0, gt=0, le=3600)  # doubled after each failure
    retry_max_seconds: float = Field(900.0, gt=0, le=86400)
    poll_seconds: float = Field(2.0, gt=0, le=60)


class ApologySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agi_route: str = Field("apology", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    deadline: str = "23:59"  # local time on the day the ticket was verified
    digit_timeout_seconds: float = Field(6.0, ge=1.0, le=30.0)
    sms: SmsSettings = SmsSettings()
    sms_text: dict[str, str] = Field(
        default_factory=lambda: {
            "service_error": (
                "【{site}】尊敬的客户:您于{date}反映的问题(受理号{acceptance}),因我们的服务差错"
                "给您带来不便,我们深表歉意,并已整改。如需帮助请致电客服热线。"
            ),
            "attitude": (
                "【{site}】尊敬的客户:您于{date}来电时(受理号{acceptance}),我们的服务态度"
                "不够好,给您带来不愉快,我们深表歉意,并已对相关人员进行教育。"
            ),
        }
    )

    @field_validator("deadline")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.fullmatch(value):
            raise ValueError("HH:MM, e.g. 23:59")
        return value

    @field_validator("sms_text")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        missing = {"service_error", "attitude"} - set(value)
        if missing:
            raise ValueError(f"a text for each kind; missing {sorted(missing)}")
        for kind, text in value.items():
            try:
                text.format(site="", date="", acceptance="")
            except (KeyError, IndexError, ValueError) as exc:
                fields = "{site}, {date}, {acceptance}"
                raise ValueError(f"{kind}: only {fields} may be used: {exc}") from None
        return value
