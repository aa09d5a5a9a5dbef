"""The ``supervision`` section: the supervisors' phones the service rings to listen in."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["SupervisionSettings", "SupervisorPhone"]


class SupervisorPhone(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[0-9]{3,8}$")  # also the PJSIP endpoint supervisor-<id>
    name: str = ""
    # Where the phone is reached (a SIP URI). Empty: the carrier simulator's phone for it.
    contact: str = Field("", pattern=r"^(sips?:[A-Za-z0-9._~@:;=+-]{1,200})?$")

    @property
    def endpoint(self) -> str:
        return f"supervisor-{self.id}"


class SupervisionSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    supervisors: tuple[SupervisorPhone, ...] = ()
    #: How long the supervisor's phone rings before the session is given up.
    ring_seconds: int = Field(20, ge=5, le=120)

    @field_validator("supervisors")
    @classmethod
    def _unique(cls, value: tuple[SupervisorPhone, ...]) -> tuple[SupervisorPhone, ...]:
        ids = [phone.id for phone in value]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"supervisor ids must be unique: {repeated}")
        return value

    def phone(self, supervisor_id: str) -> SupervisorPhone | None:
        return next((p for p in self.supervisors if p.id == supervisor_id), None)
