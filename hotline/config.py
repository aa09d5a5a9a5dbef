"""Settings: one frozen, typed object read once at start.

Sources, lowest to highest priority: built-in defaults, ``hotline.yaml`` (path from
``HOTLINE_CONFIG``), the uncommitted secrets file (``var/secrets.yaml`` unless
``HOTLINE_SECRETS_FILE`` says otherwise), then ``HOTLINE_*`` environment variables with
``__`` between levels (``HOTLINE_ASTERISK__AMI_PORT=5039``).

Secrets (fields typed ``SecretStr``) are refused in ``hotline.yaml`` so that the committed
example and an admin's copy never carry one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from hotline import yaml_strict
from hotline.call_log.config import CallLogSettings
from hotline.config_apology import ApologySettings
from hotline.config_callbacks import CallbackSettings
from hotline.config_dialer import DialerSettings
from hotline.config_hold import HoldSettings
from hotline.config_inbound import IvrSettings
from hotline.config_queues import QueuesSettings
from hotline.config_survey import SurveySettings
from hotline.errors import ConfigError
from hotline.event_loop import EventLoopName
from hotline.quality.config import QualitySettings
from hotline.recordings.config import RecordingSettings
from hotline.supervision.config import SupervisionSettings

__all__ = [
    "AgiSettings",
    "AsteriskSettings",
    "CarrierSettings",
    "DatabaseSettings",
    "InboundSettings",
    "Settings",
    "WebSettings",
    "load_settings",
    "secret_fields",
]

DEFAULT_CONFIG_FILE = "hotline.yaml"
DEFAULT_SECRETS_FILE = "var/secrets.yaml"
_DIALPLAN_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
_DIGITS = re.compile(r"^[0-9]{3,20}$")


#: Secrets a site may leave empty (kept out of hotline.yaml all the same).
OPTIONAL_SECRETS = frozenset({"apology.sms.token"})


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _printable_secret(value: SecretStr) -> SecretStr:
    """A secret is written into AMI's Login and manager.conf: no line break, no control."""
    plain = value.get_secret_value()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in plain):
        raise ValueError("must not hold line breaks or other control characters")
    return value


def _loopback(value: str) -> str:
    """AMI, FastAGI and the API are control planes: they must not face the network."""
    if not ip_address(value).is_loopback:
        raise ValueError(f"must be a loopback address (127.0.0.0/8 or ::1), got {value!r}")
    return value


class AsteriskSettings(_Section):
    """The hotline's Asterisk: where its AMI and SIP listen."""

    ami_host: str = "127.0.0.1"
    ami_port: int = Field(5038, ge=1, le=65535)
    ami_user: str = Field("hotline", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    ami_secret: SecretStr = SecretStr("")
    ami_ping_seconds: float = Field(10.0, gt=0, le=300)
    ami_reconnect_max_seconds: float = Field(30.0, gt=0, le=600)
    sip_bind: str = "127.0.0.1"
    sip_port: int = Field(5060, ge=1, le=65535)
    rtp_start: int = Field(10000, ge=1024, le=65535)
    rtp_end: int = Field(10999, ge=1024, le=65535)
    required_major: int = Field(22, ge=16)

    _check_ami_host = field_validator("ami_host")(_loopback)
    _check_secret = field_validator("ami_secret")(_printable_secret)

    @model_validator(mode="after")
    def _rtp_range(self) -> AsteriskSettings:
        if self.rtp_end <= self.rtp_start:
            raise ValueError("rtp_end must be greater than rtp_start")
        return self


class CarrierSettings(_Section):
    """The carrier simulator: a second Asterisk that plays callers and customers."""

    sip_bind: str = "127.0.0.2"
    sip_port: int = Field(5060, ge=1, le=65535)
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(5039, ge=1, le=65535)
    ami_user: str = Field("carrier", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    ami_secret: SecretStr = SecretStr("")
    rtp_start: int = Field(20000, ge=1024, le=65535)
    rtp_end: int = Field(20999, ge=1024, le=65535)
    caller_number: str = Field("13800138000", pattern=_DIGITS.pattern)
    # ARI (HTTP) of the simulator only, on its SIP address: tests drive a desk phone's
    # hold button with it (a hold re-INVITE); the hotline's own Asterisk loads no ARI
    ari_port: int = Field(8088, ge=1, le=65535)

    _check_ami_host = field_validator("ami_host")(_loopback)
    _check_secret = field_validator("ami_secret")(_printable_secret)


class AgiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(4573, ge=1, le=65535)
    command_timeout_seconds: float = Field(30.0, gt=0, le=3600)

    _check_host = field_validator("host")(_loopback)


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/hotline.db"
    spool_dir: Path = Path("var/spool")
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers)"
            )
        return value


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    token: SecretStr = SecretStr("")
    #: Reverse proxies (their addresses) whose X-Forwarded-Proto and X-Forwarded-For are
    #: believed: behind a TLS proxy the console's cookie is then Secure and its writes pass
    #: the same-origin check. Nobody else's headers are.
    trusted_proxies: tuple[str, ...] = ()

    _check_host = field_validator("host")(_loopback)

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, address in enumerate(value):
            try:
                ip_address(address)
            except ValueError:
                raise ValueError(f"[{index}] {address!r} is not an IP address") from None
        return value

    _check_token = field_validator("token")(_printable_secret)


class InboundSettings(_Section):
    """The hotline number and what happens before the IVR takes the call."""

    number: str = Field("95007", pattern=_DIGITS.pattern)
    #: The standard: answer between the 2nd and the 5th ring, never at the first.
    answer_after_rings: int = Field(2, ge=2, le=5)
    # the service level: the share of queued callers an agent answered within this wait
    service_level_seconds: int = Field(20, ge=1, le=600)
    ring_cadence_seconds: int = Field(5, ge=1, le=10)
    fallback_queue: str = Field("reception", pattern=_DIALPLAN_TOKEN.pattern)
    agi_route: str = Field("hotline", pattern=_DIALPLAN_TOKEN.pattern)

    @field_validator("fallback_queue")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() == "general":
            raise ValueError("'general' is reserved in queues.conf; choose another name")
        return value


class SandboxSettings(_Section):
    """The embedded Asterisk: a Debian chroot unless the host has Asterisk of its own."""

    mode: Literal["auto", "chroot", "host"] = "auto"
    root: Path = Path("/var/lib/hotline/sandbox")
    suite: str = Field("sid", pattern=r"^[a-z]+$")
    mirror: str = ""
    instance: str = Field("default", pattern=_DIALPLAN_TOKEN.pattern)


class PromptSettings(_Section):
    language: Literal["zh", "en"] = "zh"
    espeak_voice_zh: str = "cmn"
    espeak_voice_en: str = "en"
    #: espeak-ng's speed (-s, words a minute; its own default 175 drags in Chinese)
    espeak_rate_zh: int = Field(240, ge=80, le=450)
    espeak_rate_en: int = Field(190, ge=80, le=450)
    source_file: Path = Path("prompts/prompts.yaml")
    #: `hotline prompts check` fails any prompt (synthesised or recorded) longer than this
    max_seconds: float = Field(6.0, gt=0, le=120)


class Settings(BaseSettings):
    """Everything the service needs, validated once."""

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", env_prefix="HOTLINE_", env_nested_delimiter="__"
    )

    site_name: str = "燃气客服热线"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    event_loop: EventLoopName = "uvloop"  # asyncio: the standard loop (hotline/event_loop.py)
    var_dir: Path = Path("var")
    asterisk: AsteriskSettings = AsteriskSettings()
    carrier: CarrierSettings = CarrierSettings()
    agi: AgiSettings = AgiSettings()
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    inbound: InboundSettings = InboundSettings()
    sandbox: SandboxSettings = SandboxSettings()
    prompts: PromptSettings = PromptSettings()
    ivr: IvrSettings = IvrSettings()
    queues: QueuesSettings = QueuesSettings()
    dialer: DialerSettings = DialerSettings()
    hold: HoldSettings = HoldSettings()
    survey: SurveySettings = SurveySettings()
    callbacks: CallbackSettings = CallbackSettings()
    apology: ApologySettings = ApologySettings()
    call_log: CallLogSettings = CallLogSettings()
    recording: RecordingSettings = RecordingSettings()
    quality: QualitySettings = QualitySettings()
    supervision: SupervisionSettings = SupervisionSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings

    @model_validator(mode="after")
    def _emergency_callers_get_no_callback(self) -> Settings:
        """A gas-leak caller is never asked to hang up and wait for a callback."""
        queue = self.queues.get(self.ivr.emergency_queue)
        if queue is not None and queue.callback_after_seconds:
            raise ValueError(
                f"queues: the emergency queue {queue.name!r} (ivr.emergency_queue) offers no "
                f"callback: set its callback_after_seconds to 0, not {queue.callback_after_seconds}"
            )
        return self

    @model_validator(mode="after")
    def _overflow_is_dialable(self) -> Settings:
        """The on-call list goes out through a known trunk, to allowed numbers only."""
        overflow = self.ivr.emergency_overflow
        where = "ivr.emergency_overflow"
        if not overflow.after_seconds:
            return self
        if not overflow.numbers:
            raise ValueError(f"{where}.numbers: the on-call list is empty (or after_seconds: 0)")
        if overflow.trunk not in self.dialer.trunks:
            raise ValueError(
                f"{where}.trunk {overflow.trunk!r} is not one of dialer.trunks "
                f"{sorted(self.dialer.trunks)}"
            )
        guard = [re.compile(pattern, re.ASCII) for pattern in self.dialer.allowed_patterns]
        refused = [n for n in overflow.numbers if not any(p.fullmatch(n) for p in guard)]
        if refused:
            raise ValueError(f"{where}.numbers: {refused} match no dialer.allowed_patterns")
        return self

    @model_validator(mode="after")
    def _fallback_queue_exists(self) -> Settings:
        if self.inbound.fallback_queue not in self.queues.names():
            raise ValueError(
                f"inbound.fallback_queue {self.inbound.fallback_queue!r} is not one of the "
                f"configured queues {sorted(self.queues.names())}"
            )
        return self

    def missing_secrets(self) -> list[str]:
        """Key paths of secrets that are still empty (the service refuses to start)."""
        missing = []
        for path in secret_fields(type(self)):
            if path in OPTIONAL_SECRETS:
                continue
            value: Any = self
            for part in path.split("."):
                value = getattr(value, part)
            if isinstance(value, SecretStr) and not value.get_secret_value():
                missing.append(path)
        return missing


def secret_fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every SecretStr field, found from the type annotations."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if annotation is SecretStr:
            yield f"{prefix}{name}"
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from secret_fields(annotation, f"{prefix}{name}.")


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read {what}: {exc}"]) from exc
    data = yaml_strict.load(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of sections"])
    return data


def _walk(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in data.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from _walk(value, f"{path}.")


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _format_errors(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"{path}: {error['msg']}")
    return lines


def load_settings(
    config_file: Path | str | None = None,
    secrets_file: Path | str | None = None,
) -> Settings:
    """Read and validate the settings; every problem is reported with its key path."""
    env = os.environ
    explicit = config_file or env.get("HOTLINE_CONFIG")
    config_path = Path(explicit or DEFAULT_CONFIG_FILE)
    if explicit and not config_path.is_file():
        raise ConfigError([f"{config_path}: settings file not found"])
    secrets_path = Path(secrets_file or env.get("HOTLINE_SECRETS_FILE", DEFAULT_SECRETS_FILE))
    config = _read_yaml(config_path, "settings")
    secrets = _read_yaml(secrets_path, "secrets")

    secret_paths = set(secret_fields(Settings))
    errors = [
        f"{path}: secrets must come from the environment or {secrets_path}, not {config_path}"
        for path in _walk(config)
        if path in secret_paths
    ]
    errors += [
        f"{path}: {secrets_path} may only hold secrets ({', '.join(sorted(secret_paths))})"
        for path in _walk(secrets)
        if path not in secret_paths and not any(p.startswith(f"{path}.") for p in secret_paths)
    ]
    if errors:
        raise ConfigError(errors)

    try:
        return Settings(**_merge(config, secrets))
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from exc
    except SettingsError as exc:  # an environment variable that is not valid JSON
        raise ConfigError([f"environment (HOTLINE_*): {exc}"]) from exc
