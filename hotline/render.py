"""Render ``asterisk-conf/`` and ``dialplans/`` from the settings.

The committed files are Jinja2 templates that read like Asterisk configuration; values that
differ per site (ports, secrets, the trunk, the hotline number) come from the settings, so
no hand-edited copy ever exists. The hotline and the carrier simulator share the common
files; the simulator's own ``pjsip.conf``/``extensions.conf`` live in ``hotline/sandbox/carrier``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import SecretStr

from hotline.config import AsteriskSettings, CarrierSettings, Settings
from hotline.errors import ConfigError

__all__ = [
    "AMI_EVENTS",
    "CALL_LOG_FILE",
    "PROJECT_ROOT",
    "REASSURE_PROMPT",
    "InstanceDirs",
    "Role",
    "render_instance",
    "template_dirs",
]

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CARRIER_TEMPLATES = Path(__file__).resolve().parent / "sandbox" / "carrier"
Role = Literal["hotline", "carrier"]

# The only AMI events the service reads; manager.conf filters the rest out at Asterisk so a
# busy system does not flood the reader (writetimeout would disconnect a slow one).
AMI_EVENTS: tuple[str, ...] = (
    "FullyBooted",
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "DialBegin",
    "DialEnd",
    "BridgeEnter",
    "BridgeLeave",
    "Hangup",
    "UserEvent",
    "OriginateResponse",
    "CoreShowChannel",
    "CoreShowChannelsComplete",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "QueueMemberStatus",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "AgentDump",
    "Hold",
    "Unhold",
)

# Least privilege, found by trying: events of the call/dialplan/user/agent classes;
# actions Originate (originate), Redirect/Bridge/Hangup/Getvar (call), queue member
# control (agent), CoreShowChannels and Status (reporting).
AMI_CLASSES = "read = call,dialplan,user,agent\nwrite = call,originate,agent,reporting"
CARRIER_AMI_CLASSES = "read = call,user\nwrite = originate,call,reporting,system"


# Asterisk's call log (cel_custom.conf), under <astlogdir>/cel-custom/.
CALL_LOG_FILE = "hotline-cel.jsonl"

# The sandbox Asterisk's recordings, under its instance folder (recording.folder unset).
RECORDINGS_SUBFOLDER = "recordings"

# Played to callers waiting in a queue every ``reassure_every_seconds`` (periodic-announce).
REASSURE_PROMPT = "hotline/queue-reassure"


@dataclass(frozen=True)
class InstanceDirs:
    """Where one Asterisk instance keeps its files, as Asterisk itself sees the paths."""

    base: str
    modules: str
    data: str


def template_dirs(role: Role) -> list[Path]:
    """Template folders for a role, lowest priority first."""
    common = [PROJECT_ROOT / "asterisk-conf"]
    if role == "hotline":
        return [*common, PROJECT_ROOT / "dialplans"]
    return [*common, CARRIER_TEMPLATES]


def _eventfilters() -> list[str]:
    rules = [f"eventfilter(action(include),name({name})) =" for name in AMI_EVENTS]
    rules.append(
        "eventfilter(action(include),name(VarSet),header(Variable),method(starts_with)) = HOTLINE_"
    )
    return rules


def ring_wait_seconds(settings: Settings) -> int:
    """Seconds of ringing before answer: into the configured ring, 1 s after it starts."""
    inbound = settings.inbound
    return (inbound.answer_after_rings - 1) * inbound.ring_cadence_seconds + 1


def _agents(settings: Settings) -> list[dict[str, str]]:
    """The agents' and supervisors' phone endpoints: each phone's contact, the carrier
    simulator's when none is set."""
    carrier = settings.carrier
    phones = [
        (f"Agent {agent.id}: rung by the queues while logged in", agent.endpoint, agent.contact)
        for agent in settings.queues.agents
    ] + [
        (
            f"Supervisor {phone.id}: rung to listen in (live supervision)",
            phone.endpoint,
            phone.contact,
        )
        for phone in settings.supervision.supervisors
    ]
    return [
        {
            "label": label,
            "endpoint": endpoint,
            "contact": contact or f"sip:{endpoint}@{carrier.sip_bind}:{carrier.sip_port}",
        }
        for label, endpoint, contact in phones
    ]


def _secret(value: SecretStr, key: str) -> str:
    """Asterisk would accept an empty AMI secret; we never render one."""
    plain = value.get_secret_value()
    if not plain:
        raise ConfigError([f"{key}: secret not set (environment or the secrets file)"])
    return plain


def _context(settings: Settings, role: Role, dirs: InstanceDirs) -> dict[str, Any]:
    local: AsteriskSettings | CarrierSettings
    remote: AsteriskSettings | CarrierSettings
    if role == "hotline":
        local, remote = settings.asterisk, settings.carrier
        classes, filters, language = AMI_CLASSES, _eventfilters(), settings.prompts.language
    else:
        local, remote = settings.carrier, settings.asterisk
        classes, filters, language = CARRIER_AMI_CLASSES, [], "en"
    return {
        "role": role,
        "dirs": dirs,
        "language": language,
        "ami": {
            "host": local.ami_host,
            "port": local.ami_port,
            "user": local.ami_user,
            "secret": _secret(
                local.ami_secret, f"{'asterisk' if role == 'hotline' else role}.ami_secret"
            ),
            "classes": classes,
            "eventfilters": filters,
            "writetimeout": 250,
        },
        "sip": {
            "bind": local.sip_bind,
            "port": local.sip_port,
            "rtp_start": local.rtp_start,
            "rtp_end": local.rtp_end,
        },
        "trunk": {"host": remote.sip_bind, "port": remote.sip_port},
        "ari": {"bind": settings.carrier.sip_bind, "port": settings.carrier.ari_port},
        "agi": settings.agi,
        "inbound": settings.inbound,
        "hold": settings.hold,
        "ring_wait_seconds": ring_wait_seconds(settings),
        "fallback_queue_seconds": 600,
        "site_name": settings.site_name,
        "queues": settings.queues.queues,
        "agents": _agents(settings),
        "reassure_prompt": REASSURE_PROMPT,
        "call_log_file": CALL_LOG_FILE,
        "emergency_queue": settings.ivr.emergency_queue,
        "overflow": _overflow(settings),
        "recording": _recording(settings, dirs),
    }


def _recording(settings: Settings, dirs: InstanceDirs) -> dict[str, Any]:
    """Where Asterisk writes recordings and which queues record (``queue.record`` wins
    over ``recording.enabled``)."""
    recording = settings.recording
    folder = recording.folder or f"{dirs.base}/{RECORDINGS_SUBFOLDER}"
    queues = [
        queue.name
        for queue in settings.queues.queues
        if (recording.enabled if queue.record is None else queue.record)
    ]
    return {
        "enabled": recording.enabled,
        "folder": str(folder),
        "announce": recording.announce,
        "queues": queues,
    }


def _overflow(settings: Settings) -> dict[str, Any]:
    """The emergency overflow's wait, ring time and dial strings (empty list: off)."""
    overflow = settings.ivr.emergency_overflow
    trunk = settings.dialer.trunks.get(overflow.trunk)
    if trunk is None or not overflow.after_seconds:
        return {"after_seconds": 0, "ring_seconds": overflow.ring_seconds, "dials": []}
    dials = [
        (number, trunk.dial_string.format(number=number, trunk=overflow.trunk))
        for number in overflow.numbers
    ]
    return {
        "after_seconds": overflow.after_seconds,
        "ring_seconds": overflow.ring_seconds,
        "dials": dials,
    }


def render_instance(
    settings: Settings, role: Role, dirs: InstanceDirs, out_dir: Path
) -> list[Path]:
    """Render every template of ``role`` into ``out_dir``; returns the files written."""
    context = _context(settings, role, dirs)
    sources: dict[str, Path] = {}
    for folder in template_dirs(role):
        for path in sorted(folder.glob("*.conf")):
            sources[path.name] = path
    out_dir.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    written = []
    for name, path in sorted(sources.items()):
        template = env.from_string(path.read_text(encoding="utf-8"))
        try:
            text = template.render(context)
        except jinja2.TemplateError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        target = out_dir / name
        target.write_text(text, encoding="utf-8")
        # Secrets live in manager.conf: readable by root (who runs Asterisk) only.
        target.chmod(0o600)
        written.append(target)
    log.info("rendered %d %s config files into %s", len(written), role, out_dir)
    return written
