"""Settings of the agent queues and the agents (PJSIP endpoints) that serve them.

Queues are rendered into ``queues.conf``; the menu YAML routes categories to them by name.
A ring is one 5 s cadence, and an agent is never rung for more than 6 rings.

Agents are rendered as PJSIP endpoints ``agent-<id>`` but are *dynamic* queue members:
they join queues at login (AMI ``QueueAdd``), so an agent who is not working is never
rung and ``logout`` (``QueueRemove``) works; a static member could not be removed. An
agent's ``queues`` are the ones a login without ``--queue`` joins.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["AgentSettings", "QueueSettings", "QueuesSettings"]

_NAME = r"^[a-z][a-z0-9-]{0,31}$"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QueueSettings(_Section):
    name: str = Field(pattern=_NAME)
    title: str = ""
    priority: int = Field(1, ge=0, le=100)  # caller priority in app_queue; emergency highest
    strategy: str = Field(
        "rrmemory", pattern=r"^(ringall|leastrecent|fewestcalls|random|rrmemory|linear|wrandom)$"
    )
    agent_ring_seconds: int = Field(25, ge=5, le=30)  # at most 6 rings of 5 s per agent
    wrapup_seconds: int = Field(15, ge=0, le=600)
    announce_every_seconds: int = Field(60, ge=0, le=600)  # position and expected wait
    reassure_every_seconds: int = Field(30, ge=0, le=600)
    #: After this wait the caller may press 1 for a callback; 0: never offered (the
    #: emergency queue: a gas-leak caller stays in line for the next agent).
    callback_after_seconds: int = Field(90, ge=0, le=3600)
    retry_seconds: int = Field(2, ge=0, le=60)  # pause before the next round of agents
    #: Record this queue's calls from the agent's answer; empty: ``recording.enabled``.
    record: bool | None = None

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "general":
            raise ValueError("'general' is reserved in queues.conf; choose another name")
        return value

    @field_validator("callback_after_seconds")
    @classmethod
    def _never_or_ten(cls, value: int) -> int:
        if 0 < value < 10:
            raise ValueError("0 (never) or at least 10 seconds")
        return value


class AgentSettings(_Section):
    id: str = Field(pattern=r"^[0-9]{3,8}$")  # also the PJSIP endpoint agent-<id>
    name: str = ""
    queues: tuple[str, ...] = ()
    # Where the agent's phone is reached (a SIP URI). Empty: the carrier simulator's
    # phone for this agent (sip:agent-<id>@<carrier.sip_bind>:<carrier.sip_port>), which is
    # what the sandbox uses; a site sets its desk phone's address here.
    contact: str = Field("", pattern=r"^(sips?:[A-Za-z0-9._~@:;=+-]{1,200})?$")

    @property
    def endpoint(self) -> str:
        """The PJSIP endpoint and the queue member interface's resource."""
        return f"agent-{self.id}"

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.endpoint}"


def _default_queues() -> tuple[QueueSettings, ...]:
    return (
        QueueSettings(
            name="emergency", title="燃气泄漏/紧急抢修", priority=10, callback_after_seconds=0
        ),
        QueueSettings(name="repair", title="故障报修", priority=5),
        QueueSettings(name="billing", title="账单与缴费", priority=3),
        QueueSettings(name="appointments", title="预约服务", priority=3),
        QueueSettings(name="complaints", title="投诉建议表扬", priority=3),
        QueueSettings(name="reception", title="其他咨询/人工服务", priority=1),
    )


class QueuesSettings(_Section):
    """The ``queues`` section."""

    queues: tuple[QueueSettings, ...] = Field(default_factory=_default_queues)
    agents: tuple[AgentSettings, ...] = ()

    def names(self) -> set[str]:
        return {queue.name for queue in self.queues}

    def get(self, name: str) -> QueueSettings | None:
        return next((queue for queue in self.queues if queue.name == name), None)

    def agent(self, agent_id: str) -> AgentSettings | None:
        return next((agent for agent in self.agents if agent.id == agent_id), None)

    @model_validator(mode="after")
    def _consistent(self) -> QueuesSettings:
        names = [queue.name for queue in self.queues]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"queue names must be unique: {duplicates}")
        ids = [agent.id for agent in self.agents]
        repeated = sorted({agent_id for agent_id in ids if ids.count(agent_id) > 1})
        if repeated:
            raise ValueError(f"agent ids must be unique: {repeated}")
        for agent in self.agents:
            unknown = sorted(set(agent.queues) - set(names))
            if unknown:
                raise ValueError(f"agent {agent.id}: unknown queues {unknown}")
        return self
