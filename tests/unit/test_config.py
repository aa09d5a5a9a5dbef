"""Settings: defaults, the YAML file, the secrets file, the environment, and ``config check``."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from hotline.cli import main
from hotline.config import OPTIONAL_SECRETS, Settings, load_settings, secret_fields
from hotline.errors import ConfigError

SECRETS = {"asterisk.ami_secret", "carrier.ami_secret", "web.token"}
ALL_SECRETS_YAML = """
asterisk: {ami_secret: ami-pw}
carrier: {ami_secret: carrier-pw}
web: {token: web-token}
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No HOTLINE_* variable from the developer's shell, and no var/secrets.yaml in reach."""
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(config: Path, secrets: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(config, secrets)
    return info.value.problems


def test_secret_fields_are_the_three_secrets_and_the_optional_ones() -> None:
    assert set(secret_fields(Settings)) == SECRETS | OPTIONAL_SECRETS
    assert {"apology.sms.token"} == OPTIONAL_SECRETS  # the SMS gateway's, if it wants one
    assert "apology.sms.token" not in Settings().missing_secrets()


def test_defaults_load_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no hotline.yaml here; the default path may be absent
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    settings = load_settings(None, tmp_path / "absent-secrets.yaml")
    assert settings.asterisk.ami_port == 5038
    assert settings.asterisk.ami_host == "127.0.0.1"
    assert settings.agi.host == "127.0.0.1" and settings.agi.port == 4573
    assert settings.inbound.answer_after_rings == 2
    assert settings.inbound.fallback_queue == "reception"
    assert settings.database.url == "sqlite+aiosqlite:///var/hotline.db"
    assert sorted(settings.missing_secrets()) == sorted(SECRETS)


def test_default_paths_are_hotline_yaml_and_var_secrets_in_the_working_folder(
    tmp_path: Path,
) -> None:
    write(tmp_path / "hotline.yaml", "asterisk: {ami_port: 5100}\n")
    (tmp_path / "var").mkdir()
    write(tmp_path / "var" / "secrets.yaml", "web: {token: from-default-path}\n")
    settings = load_settings()
    assert settings.asterisk.ami_port == 5100
    assert settings.web.token.get_secret_value() == "from-default-path"


def test_yaml_override_is_applied_and_other_defaults_kept(tmp_path: Path) -> None:
    config = write(
        tmp_path / "hotline.yaml",
        "asterisk:\n  ami_port: 5100\n  sip_port: 5070\ninbound:\n  answer_after_rings: 3\n",
    )
    settings = load_settings(config, tmp_path / "none.yaml")
    assert settings.asterisk.ami_port == 5100
    assert settings.asterisk.sip_port == 5070
    assert settings.asterisk.ami_user == "hotline"  # untouched key of the same section
    assert settings.inbound.answer_after_rings == 3
    assert settings.inbound.number == "95007"


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "hotline.yaml", "asterisk:\n  ami_port: 5100\n  sip_port: 5070\n")
    monkeypatch.setenv("HOTLINE_ASTERISK__AMI_PORT", "5039")
    settings = load_settings(config, tmp_path / "none.yaml")
    assert settings.asterisk.ami_port == 5039
    assert settings.asterisk.sip_port == 5070  # the file's other keys of the section survive


def test_environment_value_is_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ASTERISK__AMI_PORT", "70000")
    problems = problems_of(write(tmp_path / "empty.yaml", ""), tmp_path / "none-secrets.yaml")
    assert len(problems) == 1 and problems[0].startswith("asterisk.ami_port: ")


def test_environment_section_that_is_not_json_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_ASTERISK", "not-json")
    config = write(tmp_path / "hotline.yaml", "")
    problems = problems_of(config, tmp_path / "none-secrets.yaml")
    assert len(problems) == 1 and "asterisk" in problems[0], problems


def test_an_explicit_settings_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "typo.yaml", tmp_path / "none-secrets.yaml")
    assert problems == [f"{tmp_path / 'typo.yaml'}: settings file not found"]


def test_secret_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_WEB__TOKEN", "env-token")
    settings = load_settings(write(tmp_path / "empty.yaml", ""), tmp_path / "none-secrets.yaml")
    assert settings.web.token.get_secret_value() == "env-token"
    assert "web.token" not in settings.missing_secrets()


def test_every_invalid_value_is_reported_with_its_key_path(tmp_path: Path) -> None:
    config = write(
        tmp_path / "hotline.yaml",
        """
asterisk:
  ami_port: 70000
  no_such_key: 1
agi:
  host: 0.0.0.0
inbound:
  answer_after_rings: 7
database:
  url: mysql://x
""",
    )
    problems = problems_of(config, tmp_path / "none.yaml")
    assert len(problems) == 5
    for problem in problems:
        assert "\n" not in problem
    paths = sorted(problem.split(": ", 1)[0] for problem in problems)
    assert paths == [
        "agi.host",
        "asterisk.ami_port",
        "asterisk.no_such_key",
        "database.url",
        "inbound.answer_after_rings",
    ]
    by_path = {p.split(": ", 1)[0]: p for p in problems}
    assert "loopback" in by_path["agi.host"]
    assert "65535" in by_path["asterisk.ami_port"]
    assert "5" in by_path["inbound.answer_after_rings"]
    assert "sqlite+aiosqlite://" in by_path["database.url"]
    assert "extra" in by_path["asterisk.no_such_key"].lower()


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    config = write(tmp_path / "hotline.yaml", "asterisks:\n  ami_port: 5100\n")
    assert [p.split(": ", 1)[0] for p in problems_of(config, tmp_path / "none.yaml")] == [
        "asterisks"
    ]


def test_answer_after_rings_allows_two_to_five(tmp_path: Path) -> None:
    """The standard: between the 2nd and the 5th ring, never at the first (default 2)."""
    for rings in (2, 5):
        config = write(tmp_path / "hotline.yaml", f"inbound:\n  answer_after_rings: {rings}\n")
        assert load_settings(config, tmp_path / "none.yaml").inbound.answer_after_rings == rings
    for rings in (1, 6):
        config = write(tmp_path / "hotline.yaml", f"inbound:\n  answer_after_rings: {rings}\n")
        problems = problems_of(config, tmp_path / "none.yaml")
        assert [p.split(": ", 1)[0] for p in problems] == ["inbound.answer_after_rings"]


def test_the_emergency_queue_offers_no_callback(tmp_path: Path) -> None:
    """A gas-leak caller was offered a callback after 90 s: now never (0), and a setting
    that would offer one is refused."""
    emergency = Settings().queues.get("emergency")
    assert emergency is not None and emergency.callback_after_seconds == 0
    config = write(
        tmp_path / "hotline.yaml",
        yaml.safe_dump(
            {
                "queues": {
                    "queues": [
                        {"name": "emergency", "callback_after_seconds": 90},
                        {"name": "reception"},
                    ]
                }
            }
        ),
    )
    [problem] = problems_of(config, tmp_path / "none.yaml")
    assert "the emergency queue 'emergency'" in problem and "callback_after_seconds to 0" in problem
    short = write(
        tmp_path / "short.yaml",
        yaml.safe_dump(
            {"queues": {"queues": [{"name": "reception", "callback_after_seconds": 5}]}}
        ),
    )
    [problem] = problems_of(short, tmp_path / "none.yaml")
    assert "0 (never) or at least 10 seconds" in problem


def test_hold_asks_for_consent_by_default() -> None:
    assert Settings().hold.consent == "ask"  # the standard: mute only after the caller agrees


@pytest.mark.parametrize("name", ["general", "General", "GENERAL"])
def test_fallback_queue_general_is_refused(tmp_path: Path, name: str) -> None:
    config = write(tmp_path / "hotline.yaml", f"inbound:\n  fallback_queue: {name}\n")
    problems = problems_of(config, tmp_path / "none.yaml")
    assert len(problems) == 1
    assert problems[0].startswith("inbound.fallback_queue: ")
    assert "reserved" in problems[0]


@pytest.mark.parametrize("path", sorted(SECRETS))
def test_secret_in_the_settings_file_is_refused(tmp_path: Path, path: str) -> None:
    section, key = path.split(".")
    config = write(tmp_path / "hotline.yaml", f"{section}:\n  {key}: leaked\n")
    secrets = tmp_path / "secrets.yaml"
    problems = problems_of(config, secrets)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: ")
    assert str(secrets) in problems[0] and str(config) in problems[0]
    assert "leaked" not in problems[0]


def test_non_secret_in_the_secrets_file_is_refused(tmp_path: Path) -> None:
    secrets = write(
        tmp_path / "secrets.yaml", "asterisk:\n  ami_secret: ok\n  ami_port: 5100\nsite_name: x\n"
    )
    problems = problems_of(write(tmp_path / "empty.yaml", ""), secrets)
    assert sorted(p.split(": ", 1)[0] for p in problems) == ["asterisk.ami_port", "site_name"]
    assert all("may only hold secrets" in p for p in problems)


def test_secrets_file_values_are_loaded(tmp_path: Path) -> None:
    secrets = write(tmp_path / "secrets.yaml", ALL_SECRETS_YAML)
    config = write(tmp_path / "hotline.yaml", "asterisk:\n  ami_port: 5100\n")
    settings = load_settings(config, secrets)
    assert settings.asterisk.ami_secret.get_secret_value() == "ami-pw"
    assert settings.asterisk.ami_port == 5100  # merged with, not replaced by, the secrets
    assert settings.carrier.ami_secret.get_secret_value() == "carrier-pw"
    assert settings.web.token.get_secret_value() == "web-token"
    assert settings.missing_secrets() == []


def test_missing_secrets_lists_only_the_empty_ones(tmp_path: Path) -> None:
    secrets = write(tmp_path / "secrets.yaml", "carrier: {ami_secret: carrier-pw}\n")
    settings = load_settings(write(tmp_path / "empty.yaml", ""), secrets)
    assert sorted(settings.missing_secrets()) == ["asterisk.ami_secret", "web.token"]


@pytest.mark.parametrize("which", ["config", "secrets"])
def test_invalid_yaml_names_the_file(tmp_path: Path, which: str) -> None:
    broken = write(tmp_path / f"{which}.yaml", "asterisk: [\n")
    config, secrets = (
        (broken, tmp_path / "absent.yaml")
        if which == "config"
        else (write(tmp_path / "empty.yaml", ""), broken)
    )
    problems = problems_of(config, secrets)
    assert len(problems) == 1
    assert problems[0].startswith(f"{broken}: not valid YAML")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    config = write(tmp_path / "hotline.yaml", text)
    assert problems_of(config, tmp_path / "none.yaml") == [
        f"{config}: the top level must be a mapping of sections"
    ]


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    config = write(tmp_path / "hotline.yaml", "# nothing set\n")
    assert load_settings(config, tmp_path / "none.yaml").asterisk.ami_port == 5038


# the command line


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_config_check_prints_every_problem_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path / "hotline.yaml",
        "asterisk: {ami_port: 70000}\nagi: {host: 0.0.0.0}\ninbound: {fallback_queue: general}\n",
    )
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(write(tmp_path / "s.yaml", ALL_SECRETS_YAML)))
    code, output = run_cli("--config", str(config), "config", "check")
    assert code == 1
    lines = output.splitlines()
    assert sorted(line.split(": ", 1)[0] for line in lines) == [
        "agi.host",
        "asterisk.ami_port",
        "inbound.fallback_queue",
    ]
    assert "settings OK" not in output


def test_config_check_reports_missing_secrets_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "hotline.yaml", "asterisk: {ami_port: 5100}\n")
    secrets = write(tmp_path / "s.yaml", "web: {token: web-token}\n")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(secrets))
    code, output = run_cli("--config", str(config), "config", "check")
    assert code == 1
    assert sorted(line.split(": ", 1)[0] for line in output.splitlines()) == [
        "asterisk.ami_secret",
        "carrier.ami_secret",
    ]
    assert "settings OK" not in output


def test_config_check_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "hotline.yaml", "asterisk: {ami_port: 5100}\n")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(write(tmp_path / "s.yaml", ALL_SECRETS_YAML)))
    code, output = run_cli("--config", str(config), "config", "check")
    assert (code, output.strip()) == (0, "settings OK")


def test_secrets_init_creates_a_private_file_and_keeps_existing_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "var" / "my-secrets.yaml"
    code, output = run_cli("secrets", "init", "--file", str(target))
    assert code == 0 and "3 secrets generated" in output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = yaml.safe_load(target.read_text(encoding="utf-8"))
    values = {path: first[path.split(".")[0]][path.split(".")[1]] for path in SECRETS}
    assert all(isinstance(v, str) and len(v) >= 24 for v in values.values())
    assert len(set(values.values())) == 3

    code, output = run_cli("secrets", "init", "--file", str(target))
    assert code == 0 and "0 secrets generated" in output
    assert yaml.safe_load(target.read_text(encoding="utf-8")) == first
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    # the generated file is a valid secrets file: config check passes with it
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(target))
    code, output = run_cli("--config", str(write(tmp_path / "empty.yaml", "")), "config", "check")
    assert (code, output.strip()) == (0, "settings OK")


def test_secrets_init_fills_only_the_missing_and_tightens_the_mode(tmp_path: Path) -> None:
    target = write(tmp_path / "s.yaml", "web: {token: mine}\n")
    target.chmod(0o644)
    code, output = run_cli("secrets", "init", "--file", str(target))
    assert code == 0 and "2 secrets generated" in output
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert data["web"]["token"] == "mine"
    assert data["asterisk"]["ami_secret"] and data["carrier"]["ami_secret"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_fallback_queue_must_be_a_configured_queue(tmp_path: Path) -> None:
    config = write(tmp_path / "hotline.yaml", "inbound:\n  fallback_queue: nowhere\n")
    problems = problems_of(config, tmp_path / "none.yaml")
    assert len(problems) == 1 and "'nowhere' is not one of the configured queues" in problems[0]


def test_a_section_given_twice_is_refused_by_line(tmp_path: Path) -> None:
    """PyYAML keeps the last: a second dialer section dropped the first's allow-list."""
    config = write(
        tmp_path / "hotline.yaml",
        "dialer:\n  allowed_patterns: ['1[3-9][0-9]{9}']\ninbound:\n  number: '95007'\n"
        "dialer:\n  max_attempts: 2\n",
    )
    assert problems_of(config, tmp_path / "none.yaml") == [
        f"{config}: dialer: duplicate key (line 5; first at line 1)"
    ]
    secrets = write(tmp_path / "s.yaml", "web: {token: a}\nweb: {token: b}\n")
    assert problems_of(write(tmp_path / "empty.yaml", ""), secrets) == [
        f"{secrets}: web: duplicate key (line 2; first at line 1)"
    ]


def test_a_yaml_error_says_where(tmp_path: Path) -> None:
    config = write(tmp_path / "hotline.yaml", "inbound:\n  number: [95007\n")
    [problem] = problems_of(config, tmp_path / "none.yaml")
    assert problem.startswith(f"{config}: not valid YAML: line 3, column 1")


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (".*", "any character"),
        ("[0-9]+", "more than 20 digits"),
        (r"\w{11}", "more than digits"),
        ("1[3-9].{9}", "any character"),
        ("(", "does not compile"),
        ("12", "fewer than 3"),
    ],
)
def test_the_allow_list_takes_bounded_digit_patterns_only(
    tmp_path: Path, pattern: str, why: str
) -> None:
    config = write(
        tmp_path / "hotline.yaml", yaml.safe_dump({"dialer": {"allowed_patterns": [pattern]}})
    )
    [problem] = problems_of(config, tmp_path / "none.yaml")
    assert problem.startswith("dialer.allowed_patterns: Value error, [0] ") and why in problem


def test_the_allow_list_matches_ascii_digits_only() -> None:
    from dialer.numbers import NumberGuard

    guard = NumberGuard(Settings().dialer.allowed_patterns)
    assert guard.allowed("13900001234")
    assert not guard.allowed("١٣٩٠٠٠٠١٢٣٤")  # Arabic-Indic digits: \d alone took them
    assert not guard.allowed("１３９００００１２３４")
    assert not guard.allowed("13900001234\n")


def test_dnc_numbers_in_the_settings_are_normalised_like_the_apis(tmp_path: Path) -> None:
    config = write(
        tmp_path / "hotline.yaml",
        yaml.safe_dump({"dialer": {"dnc": ["8613900001234", "+86 139 0000 1235", "95007"]}}),
    )
    settings = load_settings(config, tmp_path / "none.yaml")
    assert settings.dialer.dnc == ["13900001234", "13900001235", "95007"]
    bad = write(tmp_path / "bad.yaml", yaml.safe_dump({"dialer": {"dnc": ["１２３４５"]}}))
    [problem] = problems_of(bad, tmp_path / "none.yaml")
    assert problem.startswith("dialer.dnc: Value error, [0] ")


def test_a_secret_with_a_line_break_is_refused(tmp_path: Path) -> None:
    secrets = write(
        tmp_path / "s.yaml", yaml.safe_dump({"asterisk": {"ami_secret": "pw\r\nAction: X"}})
    )
    [problem] = problems_of(write(tmp_path / "empty.yaml", ""), secrets)
    assert problem.startswith("asterisk.ami_secret:") and "control characters" in problem


@pytest.mark.parametrize(
    ("overflow", "field", "says"),
    [
        ({"after_seconds": 5, "numbers": ["13800000001"]}, "after_seconds", "at least 10"),
        ({"after_seconds": 60}, "", "on-call list is empty"),
        ({"after_seconds": 60, "numbers": ["0085212345678"]}, "", "allowed_patterns"),
        ({"after_seconds": 60, "numbers": ["13800000001"], "trunk": "nope"}, "", "dialer.trunks"),
        ({"numbers": ["13800000001", "13800000001"]}, "numbers", "repeated"),
        ({"numbers": ["138 0000 0001"]}, "numbers.0", "pattern"),
    ],
)
def test_the_emergency_overflow_refuses_what_it_could_not_dial(
    tmp_path: Path, overflow: dict[str, Any], field: str, says: str
) -> None:
    config = write(
        tmp_path / "hotline.yaml", yaml.safe_dump({"ivr": {"emergency_overflow": overflow}})
    )
    [problem] = problems_of(config, tmp_path / "none.yaml")
    where = f"ivr.emergency_overflow.{field}".rstrip(".")
    assert problem.startswith(where if field else "") and says in problem, problem
    assert "ivr.emergency_overflow" in problem


def test_an_emergency_overflow_to_allowed_numbers_is_taken(tmp_path: Path) -> None:
    overflow = {"after_seconds": 60, "numbers": ["13800000001", "02112345678"]}
    config = write(
        tmp_path / "hotline.yaml", yaml.safe_dump({"ivr": {"emergency_overflow": overflow}})
    )
    taken = load_settings(config, tmp_path / "none.yaml").ivr.emergency_overflow
    assert (taken.after_seconds, taken.numbers, taken.ring_seconds) == (
        60,
        ("13800000001", "02112345678"),
        20,
    )
