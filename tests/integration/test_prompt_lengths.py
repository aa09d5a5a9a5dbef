"""``hotline prompts check`` on the shipped prompts, as Asterisk plays them: every prompt
(built at the configured espeak rate, or recorded) is at most ``prompts.max_seconds`` long,
and one over the limit fails the check by name."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from hotline.config import Settings
from hotline.render import PROJECT_ROOT
from hotline.sandbox import Sandbox
from tests.integration.conftest import write_settings_files
from tests.integration.test_service_crash import HOTLINE


def check(settings: Settings, folder: Path) -> subprocess.CompletedProcess[str]:
    config, secrets = folder / "hotline.yaml", folder / "secrets.yaml"
    write_settings_files(settings, config, secrets)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_SECRETS_FILE"] = str(secrets)
    return subprocess.run(
        [str(HOTLINE), "--config", str(config), "prompts", "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=300,
    )


def test_every_shipped_prompt_plays_within_the_limit(
    sandbox: Sandbox, sandbox_settings: Settings, tmp_path: Path
) -> None:
    done = check(sandbox_settings, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    names = {prompt.name for prompt in sandbox.prompt_texts()}
    lengths = {
        (m["lang"], m["name"]): float(m["s"])
        for m in re.finditer(
            r"^ *(?P<s>[\d.]+) s  (?P<lang>zh|en)  (?P<name>\S+)$", done.stdout, re.M
        )
    }
    assert {name for _, name in lengths} == names  # every prompt in both languages, measured
    assert len(lengths) == 2 * len(names)
    assert max(lengths.values()) <= sandbox_settings.prompts.max_seconds
    assert lengths[("zh", "menu-main")] > 2  # measured from the file, not a placeholder


def test_a_prompt_over_the_limit_fails_the_check_by_name(
    sandbox: Sandbox, sandbox_settings: Settings, tmp_path: Path
) -> None:
    strict = sandbox_settings.model_copy(
        update={"prompts": sandbox_settings.prompts.model_copy(update={"max_seconds": 3.0})}
    )
    done = check(strict, tmp_path)
    assert done.returncode == 1
    assert "menu-main (zh):" in done.stderr and "longer than prompts.max_seconds 3 s" in done.stderr
    assert "<< too long" in done.stdout
