"""The embedded Asterisk: the hotline instance and the carrier simulator, side by side."""

from __future__ import annotations

import logging
from pathlib import Path

from hotline.config import Settings
from hotline.errors import SandboxError
from hotline.prompts import LANGUAGES, PromptText, build_prompts, load_prompt_texts
from hotline.render import PROJECT_ROOT
from hotline.sandbox.install import AsteriskHost, detect, install_chroot
from hotline.sandbox.instance import AsteriskInstance

__all__ = ["AsteriskHost", "AsteriskInstance", "Sandbox"]

log = logging.getLogger(__name__)


class Sandbox:
    """Installs, renders, starts and stops both instances from one settings object."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._host: AsteriskHost | None = None

    @property
    def host(self) -> AsteriskHost:
        if self._host is None:
            found = detect(self.settings.sandbox, self.settings.asterisk.required_major)
            if found is None:
                raise SandboxError(
                    f"no Asterisk {self.settings.asterisk.required_major} yet: "
                    "run `hotline sandbox install`"
                )
            self._check_major(found)
            self._host = found
        return self._host

    def _check_major(self, host: AsteriskHost) -> None:
        required = self.settings.asterisk.required_major
        if host.major != required:
            raise SandboxError(
                f"Asterisk {host.version} found in {host.root}, but {required} is required "
                f"(sandbox.suite={self.settings.sandbox.suite} moved on? rebuild it)"
            )

    def install(self) -> AsteriskHost:
        """Use the host's Asterisk or build the chroot once; returns what will run."""
        found = detect(self.settings.sandbox, self.settings.asterisk.required_major)
        if found is None:
            install_chroot(self.settings.sandbox)
            found = detect(self.settings.sandbox, self.settings.asterisk.required_major)
            if found is None:
                raise SandboxError("the chroot was built but holds no asterisk")
        self._check_major(found)
        self._host = found
        log.info(
            "Asterisk %s in %s",
            found.version,
            "chroot " + str(found.root) if found.chroot else "the host",
        )
        return found

    @property
    def hotline(self) -> AsteriskInstance:
        return AsteriskInstance(
            self.host, "hotline", self.settings.sandbox.instance, self.settings.var_dir
        )

    @property
    def carrier(self) -> AsteriskInstance:
        return AsteriskInstance(
            self.host, "carrier", self.settings.sandbox.instance, self.settings.var_dir
        )

    def instances(self) -> tuple[AsteriskInstance, AsteriskInstance]:
        return self.hotline, self.carrier

    def start(self) -> None:
        """Render and start both; an instance whose configuration changed is restarted."""
        for instance in self.instances():
            instance.render(self.settings)
            if instance.running() and instance.config_digest() != instance.booted_digest():
                log.info("%s configuration changed: restarting", instance.role)
                instance.stop()
            instance.start()

    def stop(self) -> None:
        for instance in self.instances():
            instance.stop()

    def sound_dirs(self) -> dict[str, Path]:
        """Per language, the host folder Asterisk reads ``<lang>/…`` sounds from."""
        data = self.host.data_dir
        return {lang: self.host.host_path(f"{data}/sounds/{lang}") for lang in LANGUAGES}

    def prompt_source(self) -> Path:
        source = self.settings.prompts.source_file
        return source if source.is_absolute() else PROJECT_ROOT / source

    def prompt_texts(self) -> list[PromptText]:
        return load_prompt_texts(self.prompt_source())

    def build_prompts(self) -> list[Path]:
        prompts = self.settings.prompts
        return build_prompts(
            self.prompt_source(),
            self.sound_dirs(),
            self.settings.var_dir / "prompts" / "recorded",
            {"zh": prompts.espeak_voice_zh, "en": prompts.espeak_voice_en},
            {"zh": prompts.espeak_rate_zh, "en": prompts.espeak_rate_en},
        )

    def status(self) -> dict[str, bool]:
        return {instance.role: instance.running() for instance in self.instances()}
