"""Rendered Asterisk configuration, read back with pyst2's ``.conf`` parser.

pyst2's parser keeps the space after ``=`` in values (``bindaddr = x`` gives ``" x"``), so
values are stripped here; it refuses ``#include`` lines ("Item must be in name = value
pairs"), so those are taken out and checked on their own before the rest is parsed.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import pytest
from asterisk.config import Config
from pydantic import SecretStr

from hotline.config import (
    AgiSettings,
    AsteriskSettings,
    CarrierSettings,
    InboundSettings,
    Settings,
    WebSettings,
)
from hotline.config_queues import QueueSettings, QueuesSettings
from hotline.errors import ConfigError
from hotline.render import AMI_CLASSES, AMI_EVENTS, InstanceDirs, render_instance

AMI_SECRET = "ami-Secret-123"
CARRIER_SECRET = "carrier-Secret-456"
VARSET_FILTER = "eventfilter(action(include),name(VarSet),header(Variable),method(starts_with))"
# What the call-record builder and its reconciliation read from AMI.
RECORD_EVENTS = frozenset(
    {
        "Newchannel",
        "Newstate",
        "DialBegin",
        "DialEnd",
        "BridgeEnter",
        "BridgeLeave",
        "Hangup",
        "CoreShowChannel",
        "CoreShowChannelsComplete",
    }
)
# The least-privilege AMI classes of the hotline user (see render.AMI_CLASSES).
HOTLINE_READ = {"call", "dialplan", "user", "agent"}
HOTLINE_WRITE = {"call", "originate", "agent", "reporting"}

Section = dict[str, list[str]]


class Conf:
    """A rendered file as pyst2 parses it: sections in order, values stripped."""

    def __init__(self, path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        self.includes = re.findall(r'^#include\s+"([^"]+)"\s*$', text, re.MULTILINE)
        parsable = path.with_name(path.name + ".parsable")
        parsable.write_text(re.sub(r"^#include.*$", "", text, flags=re.MULTILINE), "utf-8")
        try:
            config = Config(str(parsable))
        finally:
            parsable.unlink()
        self.sections: list[tuple[str, Section]] = []
        for category in config.categories:
            items: Section = {}
            for item in category.items:
                items.setdefault(item.name, []).append(item.value.strip())
            self.sections.append((category.name, items))

    def names(self) -> list[str]:
        return [name for name, _ in self.sections]

    def section(self, name: str, type_: str | None = None) -> Section:
        """The one section of that name (and ``type =``, for pjsip's repeated names)."""
        found = [
            items
            for n, items in self.sections
            if n == name and (type_ is None or items.get("type") == [type_])
        ]
        assert len(found) == 1, f"{len(found)} sections [{name}] type={type_}"
        return found[0]

    def value(self, section: str, key: str, type_: str | None = None) -> str:
        values = self.section(section, type_)[key]
        assert len(values) == 1, f"[{section}] {key} set {len(values)} times"
        return values[0]


@pytest.fixture(autouse=True)
def no_hotline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings() reads HOTLINE_* variables; the developer's must not leak in."""
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)


def make_settings(rings: int = 3, cadence: int = 5) -> Settings:
    return Settings(
        asterisk=AsteriskSettings(
            ami_host="127.0.0.3",
            ami_port=5100,
            ami_user="hotline_ami",
            ami_secret=AMI_SECRET,  # pydantic makes it a SecretStr
            sip_bind="127.0.0.1",
            sip_port=5070,
            rtp_start=12000,
            rtp_end=12099,
        ),
        carrier=CarrierSettings(
            sip_bind="127.0.0.2",
            sip_port=5080,
            ami_host="127.0.0.1",
            ami_port=5101,
            ami_user="carrier_ami",
            ami_secret=CARRIER_SECRET,
            rtp_start=22000,
            rtp_end=22099,
        ),
        agi=AgiSettings(host="127.0.0.4", port=4600),
        web=WebSettings(token="web-token"),
        inbound=InboundSettings(
            number="95598",
            answer_after_rings=rings,
            ring_cadence_seconds=cadence,
            fallback_queue="gas-help",
            agi_route="hotline",
        ),
        queues=QueuesSettings(queues=(QueueSettings(name="gas-help"),)),
    )


def dirs(tmp_path: Path) -> InstanceDirs:
    return InstanceDirs(
        base=str(tmp_path / "instance"), modules="/usr/lib/asterisk/modules", data="/usr/share/x"
    )


@pytest.fixture
def hotline_dir(tmp_path: Path) -> Path:
    out = tmp_path / "hotline"
    render_instance(make_settings(), "hotline", dirs(tmp_path), out)
    return out


@pytest.fixture
def carrier_dir(tmp_path: Path) -> Path:
    out = tmp_path / "carrier"
    render_instance(make_settings(), "carrier", dirs(tmp_path), out)
    return out


def classes(value: str) -> set[str]:
    return {part.strip() for part in value.split(",")}


def rendered(folder: Path) -> Iterator[Path]:
    return iter(sorted(folder.iterdir()))


# every file


@pytest.mark.parametrize("role", ["hotline", "carrier"])
def test_files_are_private_complete_and_parse(tmp_path: Path, role: str) -> None:
    out = tmp_path / role
    written = render_instance(make_settings(), role, dirs(tmp_path), out)  # type: ignore[arg-type]
    assert sorted(written) == list(rendered(out))
    names = {path.name for path in written}
    assert {"asterisk.conf", "manager.conf", "pjsip.conf", "extensions.conf", "rtp.conf"} <= names
    assert ("dialplan-inbound.conf" in names) is (role == "hotline")
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        text = path.read_text(encoding="utf-8")
        assert "{{" not in text and "{%" not in text, path
        Conf(path)  # pyst2 reads every file (includes aside)


def test_files_are_made_private_again_when_rendered_over(tmp_path: Path) -> None:
    out = tmp_path / "hotline"
    out.mkdir()
    (out / "manager.conf").write_text("old", encoding="utf-8")
    (out / "manager.conf").chmod(0o644)
    render_instance(make_settings(), "hotline", dirs(tmp_path), out)
    assert stat.S_IMODE((out / "manager.conf").stat().st_mode) == 0o600


def test_secrets_only_in_manager_conf(hotline_dir: Path, carrier_dir: Path) -> None:
    # the simulator's ARI user (tests press desk phones' hold buttons) shares its AMI secret
    expected = [
        (hotline_dir, AMI_SECRET, ["manager.conf"]),
        (carrier_dir, CARRIER_SECRET, ["ari.conf", "manager.conf"]),
    ]
    for folder, secret, files in expected:
        holding = [p.name for p in rendered(folder) if secret in p.read_text(encoding="utf-8")]
        assert sorted(holding) == files
    for path in [*rendered(hotline_dir), *rendered(carrier_dir)]:
        assert "web-token" not in path.read_text(encoding="utf-8")


def test_only_the_simulator_serves_ari_and_only_on_its_own_address(
    hotline_dir: Path, carrier_dir: Path
) -> None:
    names = {p.name for p in rendered(hotline_dir)}
    assert not names & {"http.conf", "ari.conf"}  # no HTTP server on the hotline's Asterisk
    modules = (hotline_dir / "modules.conf").read_text(encoding="utf-8")
    assert "noload = res_ari.so" in modules and "noload = res_http_websocket.so" in modules
    assert Conf(carrier_dir / "http.conf").value("general", "bindaddr") == "127.0.0.2"
    assert "res_ari.so" not in (carrier_dir / "modules.conf").read_text(encoding="utf-8")


def test_asterisk_conf_uses_the_instance_folders(hotline_dir: Path, tmp_path: Path) -> None:
    conf = Conf(hotline_dir / "asterisk.conf")
    base = tmp_path / "instance"
    assert conf.value("directories", "astrundir") == f"{base}/run"
    assert conf.value("directories", "astspooldir") == f"{base}/spool"
    assert conf.value("directories", "astmoddir") == "/usr/lib/asterisk/modules"
    assert conf.value("options", "systemname") == "hotline"


# manager.conf


def test_ami_listens_on_loopback_only(hotline_dir: Path) -> None:
    conf = Conf(hotline_dir / "manager.conf")
    assert conf.value("general", "enabled") == "yes"
    assert conf.value("general", "bindaddr") == "127.0.0.3"
    assert conf.value("general", "port") == "5100"
    assert conf.value("general", "timestampevents") == "yes"  # records use event times


def test_ami_user_has_least_privilege_and_loopback_permit(hotline_dir: Path) -> None:
    conf = Conf(hotline_dir / "manager.conf")
    assert conf.names() == ["general", "hotline_ami"]
    user = conf.section("hotline_ami")
    assert user["secret"] == [AMI_SECRET]
    assert classes(conf.value("hotline_ami", "read")) == HOTLINE_READ
    assert classes(conf.value("hotline_ami", "write")) == HOTLINE_WRITE
    declared = dict(line.split(" = ") for line in AMI_CLASSES.splitlines())
    assert (classes(declared["read"]), classes(declared["write"])) == (HOTLINE_READ, HOTLINE_WRITE)
    assert user["deny"] == ["0.0.0.0/0.0.0.0"]
    assert user["permit"] == ["127.0.0.0/255.0.0.0"]
    assert all(ip_network(net).is_loopback for net in user["permit"])
    assert int(conf.value("hotline_ami", "writetimeout")) >= 100


def test_ami_event_filters_cover_every_event_used(hotline_dir: Path) -> None:
    user = Conf(hotline_dir / "manager.conf").section("hotline_ami")
    filters = {key: values for key, values in user.items() if key.startswith("eventfilter")}
    named = {
        match.group(1)
        for key in filters
        if (match := re.fullmatch(r"eventfilter\(action\(include\),name\((\w+)\)\)", key))
    }
    assert named == set(AMI_EVENTS)
    assert named >= RECORD_EVENTS
    assert filters[VARSET_FILTER] == ["HOTLINE_"]
    assert len(filters) == len(AMI_EVENTS) + 1  # nothing else let through


def test_no_event_carries_the_record_variables(hotline_dir: Path, carrier_dir: Path) -> None:
    """They are asked for with Status at reconciliation; on every event they were half of
    what the service parsed under load."""
    assert "channelvars" not in Conf(hotline_dir / "manager.conf").section("general")
    assert "channelvars" not in Conf(carrier_dir / "manager.conf").section("general")


def test_carrier_ami_is_its_own_user_without_filters(carrier_dir: Path) -> None:
    conf = Conf(carrier_dir / "manager.conf")
    assert conf.value("general", "bindaddr") == "127.0.0.1"
    assert conf.value("general", "port") == "5101"
    assert conf.names() == ["general", "carrier_ami"]
    user = conf.section("carrier_ami")
    assert user["secret"] == [CARRIER_SECRET]
    assert user["permit"] == ["127.0.0.0/255.0.0.0"]
    assert not [key for key in user if key.startswith("eventfilter")]


# pjsip.conf, rtp.conf


def test_pjsip_transport_and_carrier_trunk(hotline_dir: Path) -> None:
    conf = Conf(hotline_dir / "pjsip.conf")
    assert conf.value("transport-udp", "bind") == "127.0.0.1:5070"
    assert conf.value("transport-udp", "protocol") == "udp"
    assert conf.value("carrier", "dtmf_mode", "endpoint") == "rfc4733"
    assert conf.value("carrier", "context", "endpoint") == "from-carrier"
    assert conf.value("carrier", "contact", "aor") == "sip:127.0.0.2:5080"
    assert conf.value("carrier", "match", "identify") == "127.0.0.2"
    assert conf.value("carrier", "endpoint", "identify") == "carrier"


def test_carrier_pjsip_is_its_own(carrier_dir: Path) -> None:
    conf = Conf(carrier_dir / "pjsip.conf")
    assert conf.value("transport-udp", "bind") == "127.0.0.2:5080"
    assert "carrier" not in conf.names()
    assert conf.value("hotline", "dtmf_mode", "endpoint") == "rfc4733"
    assert conf.value("hotline", "context", "endpoint") == "customers"
    assert conf.value("hotline", "contact", "aor") == "sip:127.0.0.1:5070"
    assert conf.value("hotline", "match", "identify") == "127.0.0.1"


@pytest.mark.parametrize(
    ("folder", "start", "end"), [("hotline", "12000", "12099"), ("carrier", "22000", "22099")]
)
def test_rtp_range_and_no_ice(tmp_path: Path, folder: str, start: str, end: str) -> None:
    out = tmp_path / folder
    render_instance(make_settings(), folder, dirs(tmp_path), out)  # type: ignore[arg-type]
    conf = Conf(out / "rtp.conf")
    assert conf.value("general", "icesupport") == "no"
    assert (conf.value("general", "rtpstart"), conf.value("general", "rtpend")) == (start, end)


# the inbound dialplan


def priorities(section: Section) -> list[str]:
    """The context's applications in order: ``exten =>`` then ``same =>`` lines."""
    assert len(section["exten"]) == 1
    lines = [section["exten"][0].split(",", 2)[2]]
    lines += [value.split(",", 1)[1] for value in section.get("same", [])]
    return lines


def app_args(line: str, app: str) -> str:
    match = re.fullmatch(rf"{app}\((.*)\)", line)
    assert match is not None, line
    return match.group(1)


def test_extensions_conf_includes_the_inbound_dialplan_and_sets_the_agi_url(
    hotline_dir: Path,
) -> None:
    conf = Conf(hotline_dir / "extensions.conf")
    assert conf.includes == [
        "dialplan-inbound.conf",
        "dialplan-hold.conf",
        "dialplan-outbound.conf",
    ]
    for included in conf.includes:
        assert (hotline_dir / included).is_file()
    assert conf.value("globals", "HOTLINE_AGI") == "agi://127.0.0.4:4600"


def test_only_the_hotline_number_is_accepted_from_the_carrier(hotline_dir: Path) -> None:
    conf = Conf(hotline_dir / "dialplan-inbound.conf")
    context = conf.section("from-carrier")
    assert list(context) == ["exten"]
    assert context["exten"] == ["95598,1,Goto(hotline-inbound,s,1)"]


@pytest.mark.parametrize(("rings", "cadence"), [(2, 5), (3, 5), (5, 5), (2, 4), (4, 6)])
def test_answer_waits_into_the_configured_ring(tmp_path: Path, rings: int, cadence: int) -> None:
    out = tmp_path / "hotline"
    render_instance(make_settings(rings, cadence), "hotline", dirs(tmp_path), out)
    steps = priorities(Conf(out / "dialplan-inbound.conf").section("hotline-inbound"))
    waits = [line for line in steps if line.startswith("Wait(")]
    assert waits == [f"Wait({(rings - 1) * cadence + 1})"]
    assert steps.index(waits[0]) + 1 == steps.index("Answer()")  # ring, wait, then answer


def test_agi_call_and_caller_id_filtering(hotline_dir: Path) -> None:
    steps = priorities(Conf(hotline_dir / "dialplan-inbound.conf").section("hotline-inbound"))
    agi = [line for line in steps if line.startswith("AGI(")]
    assert len(agi) == 1
    assert app_args(agi[0], "AGI") == "${HOTLINE_AGI}/hotline,${CHANNEL(linkedid)}"

    # every read of a caller-controlled value is the argument of FILTER()
    raw_reads = r"\$\{(CALLERID\((?:num|name)\)|CHANNEL\(pjsip,call-id\))"
    reads = 0
    for line in steps:
        for match in re.finditer(raw_reads, line):
            reads += 1
            assert re.search(r"\$\{FILTER\([^,]+,$", line[: match.start()]), line
    assert reads == 3
    caller = steps.index("Set(HOTLINE_CALLER=${FILTER(0123456789+,${CALLERID(num):0:32})})")
    assert caller < steps.index("Set(CALLERID(num)=${HOTLINE_CALLER})") < steps.index(agi[0])
    assert "Set(HOTLINE_DID=95598)" in steps


def test_fallback_queue_is_the_configured_one(hotline_dir: Path) -> None:
    steps = priorities(Conf(hotline_dir / "dialplan-inbound.conf").section("hotline-fallback"))
    queues = [line for line in steps if line.startswith("Queue(")]
    assert len(queues) == 1 and app_args(queues[0], "Queue").split(",")[0] == "gas-help"
    assert Conf(hotline_dir / "queues.conf").section("gas-help")["strategy"] == ["rrmemory"]


def test_carrier_has_no_hotline_dialplan(carrier_dir: Path) -> None:
    conf = Conf(carrier_dir / "extensions.conf")
    assert conf.includes == ["carrier-customers.conf", "carrier-agents.conf"]
    for included in conf.includes:
        assert (carrier_dir / included).is_file()
    assert "caller" in conf.names()
    assert "customers" in Conf(carrier_dir / "carrier-customers.conf").names()
    for name in ("from-carrier", "hotline-inbound", "hotline-fallback", "globals"):
        assert name not in conf.names()
    assert not (carrier_dir / "dialplan-inbound.conf").exists()
    assert "HOTLINE_AGI" not in (carrier_dir / "extensions.conf").read_text(encoding="utf-8")


@pytest.mark.parametrize(("role", "key"), [("hotline", "asterisk"), ("carrier", "carrier")])
def test_an_empty_ami_secret_is_never_rendered(tmp_path: Path, role: str, key: str) -> None:
    base = make_settings()
    empty = getattr(base, key).model_copy(update={"ami_secret": SecretStr("")})
    settings = base.model_copy(update={key: empty})
    with pytest.raises(ConfigError) as caught:
        render_instance(settings, role, dirs(tmp_path), tmp_path / "etc")  # type: ignore[arg-type]
    assert caught.value.problems == [
        f"{key}.ami_secret: secret not set (environment or the secrets file)"
    ]
    assert not (tmp_path / "etc" / "manager.conf").exists()
