# ruff: noqa: E501  (Asterisk's log and CLI lines are quoted whole)
"""``hotline dialplan check``'s parsing, and the queues, agents and dialplan it checks.

Log lines are as Asterisk 22 wrote them when loading broken files in the sandbox; the
rendered configuration is read back with pyst2's parser (see ``test_render``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from hotline.config import Settings
from hotline.config_queues import AgentSettings, QueueSettings, QueuesSettings
from hotline.dialplan_check import Problem, dialplan_files, parse_log, parse_names, static_problems
from hotline.render import REASSURE_PROMPT, InstanceDirs, render_instance
from tests.unit.test_render import Conf, priorities

LOG = """\
[2026-11-23 18:53:57.903] WARNING[12073] config.c: No '=' (equal sign) in line 108 of /hotline/x/hotline/etc/dialplan-inbound.conf
[2026-11-23 18:53:57.903] VERBOSE[12073] pbx_variables.c: Setting global variable 'HOTLINE_AGI' to 'agi://127.0.0.1:53179'
[2026-11-23 18:53:57.903] WARNING[12073] pbx_config.c: No closing parenthesis found? 'NoOp(x' at line 103 of /hotline/x/hotline/etc/dialplan-inbound.conf
[2026-11-23 18:53:57.903] NOTICE[12073] pbx.c: Cannot find extension 't' in context 'broken'
[2026-11-23 18:53:57.903] WARNING[12073] pbx_config.c: Invalid priority/label 'foo' at line 105 of /hotline/x/hotline/etc/dialplan-inbound.conf
[2026-11-23 18:53:58.257] WARNING[12077] app_queue.c: Unknown keyword in queue 'reception': bogus-key at line 149 of queues.conf
[2026-11-23 18:53:58.621] ERROR[4358] res_pjsip_config_wizard.c: Unable to load config file 'pjsip_wizard.conf'
[2026-11-23 18:53:58.621] ERROR[4358] res_sorcery_config.c: Unable to load config file 'stir_shaken.conf'
[2026-11-23 18:53:58.621] ERROR[4358] res_sorcery_config.c: Unable to load config file 'pjsip.conf'
[2026-11-23 18:53:58.622] ERROR[4358] res_sorcery_config.c: Config file 'pjsip.conf' could not be loaded; configuration contains a duplicate object: 'agent-1001' of type 'endpoint'
[2026-11-23 18:53:58.700] WARNING[4400][C-00000003] chan_pjsip.c: not about configuration
[2026-11-23 18:53:58.701] ERROR[4358] loader.c: app_stasis.so declined to load.
"""
PJSIP = "[global]\ntype = global\n\n[agent-1001]\ntype = endpoint\n\n[agent-1001]\ntype = aor\n"


def test_log_problems_with_file_and_line() -> None:
    problems = parse_log(LOG.splitlines(), {"pjsip.conf": PJSIP})
    assert [(p.file, p.line) for p in problems] == [
        ("dialplan-inbound.conf", 108),
        ("dialplan-inbound.conf", 103),
        ("dialplan-inbound.conf", 105),
        ("queues.conf", 149),
        ("pjsip.conf", None),  # ours, and unloadable; others' optional files are not news
        ("pjsip.conf", 4),  # the object it names
    ]
    assert str(problems[1]).startswith("dialplan-inbound.conf:103: No closing parenthesis")
    assert "duplicate object" in problems[-1].message


def test_a_message_naming_no_known_file_keeps_its_module() -> None:
    line = "[x] ERROR[1] res_pjsip.c: Transport 'udp' could not be started"
    assert parse_log([line], {}) == [Problem("(res_pjsip.c)", None, line.split(": ", 1)[1])]


APPLICATIONS = """\
    -= Registered Asterisk Applications =-
        AddQueueMember: Dynamically adds queue members.
                   AGI: Executes an AGI compliant application.
                  Goto: Jump to a particular priority, extension, or context.
                GotoIf: Conditional goto.
                  NoOp: Do Nothing (No Operation).
                 Queue: Queue a call for a call queue.
                   Set: Set channel variable or function value.
    -= 7 Applications Registered =-
"""
FUNCTIONS = """\
Installed Custom Functions:
--------------------------------------------------------------------------------
CHANNEL               CHANNEL(item)                        Gets/sets various pieces of information
FILTER                FILTER(allowed-chars,string)         Filter the string to include only the
PJSIP_HEADER          PJSIP_HEADER(action,name[,number])   Gets headers from an inbound PJSIP channel.
3 custom functions installed.
"""


def test_names_from_the_cli_listings() -> None:
    assert parse_names(APPLICATIONS) == {
        "ADDQUEUEMEMBER",
        "AGI",
        "GOTO",
        "GOTOIF",
        "NOOP",
        "QUEUE",
        "SET",
    }
    assert parse_names(FUNCTIONS) == {"CHANNEL", "FILTER", "PJSIP_HEADER"}


def test_unknown_applications_and_functions_with_their_line() -> None:
    text = """\
[ctx]
exten => s,1,NoOp(${CHANNEL(linkedid)})
 same => n(x),Sett(A=${FILTER(0-9,${B})})   ; a typo
 same => n,Set(PJSIP_HEADER(add,X-A)=${NOPE(1)})
 same => n,Set(PJSIPHEADER(add,X-A)=1)
exten => _X.,1,Goto(ctx,s,x)
; same => n,Bogus() in a comment is fine
"""
    apps, functions = parse_names(APPLICATIONS), parse_names(FUNCTIONS)
    assert [str(p) for p in static_problems({"d.conf": text}, apps, functions)] == [
        "d.conf:3: unknown application Sett",
        "d.conf:4: unknown function NOPE()",
        "d.conf:5: unknown function PJSIPHEADER()",
    ]


# the rendered queues, agents and dialplan


@pytest.fixture(autouse=True)
def no_hotline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)


def settings(**queue: Any) -> Settings:
    return Settings(
        asterisk={"ami_secret": "a"},
        carrier={"ami_secret": "c", "sip_bind": "127.0.0.2", "sip_port": 5080},
        queues=QueuesSettings(
            queues=(
                QueueSettings(name="emergency", priority=10, callback_after_seconds=0),
                QueueSettings(name="reception", **queue),
            ),
            agents=(
                AgentSettings(id="1001", queues=("reception",)),
                AgentSettings(id="2002", contact="sip:2002@10.0.0.21:5060"),
            ),
        ),
    )


def render(tmp_path: Path, config: Settings) -> Path:
    out = tmp_path / "etc"
    dirs = InstanceDirs(str(tmp_path / "i"), "/usr/lib/asterisk/modules", "/usr/share/asterisk")
    render_instance(config, "hotline", dirs, out)
    return out


def test_every_queue_is_rendered_with_its_settings(tmp_path: Path) -> None:
    conf = Conf(
        render(
            tmp_path,
            settings(
                strategy="linear",
                agent_ring_seconds=30,
                wrapup_seconds=20,
                retry_seconds=3,
                announce_every_seconds=45,
                reassure_every_seconds=25,
            ),
        )
        / "queues.conf"
    )
    assert conf.names() == ["general", "emergency", "reception"]
    assert conf.value("general", "persistentmembers") == "yes"
    expected = {
        "strategy": "linear",
        "timeout": "30",
        "retry": "3",
        "wrapuptime": "20",
        "joinempty": "yes",
        "leavewhenempty": "no",
        "ringinuse": "no",
        "musicclass": "default",
        "announce-frequency": "45",
        "announce-position": "yes",
        "announce-holdtime": "yes",
        "periodic-announce": REASSURE_PROMPT,
        "periodic-announce-frequency": "25",
        "setinterfacevar": "yes",
    }
    assert {key: conf.value("reception", key) for key in expected} == expected
    # an agent in both takes the emergency caller first, however long reception's waited
    assert (conf.value("emergency", "weight"), conf.value("reception", "weight")) == ("10", "1")


def test_announcements_off_when_their_interval_is_zero(tmp_path: Path) -> None:
    conf = Conf(
        render(tmp_path, settings(announce_every_seconds=0, reassure_every_seconds=0))
        / "queues.conf"
    )
    section = conf.section("reception")
    assert section["announce-position"] == ["no"] and section["announce-holdtime"] == ["no"]
    assert "periodic-announce" not in section


def test_agents_are_endpoints_with_the_simulator_or_their_own_phone(tmp_path: Path) -> None:
    conf = Conf(render(tmp_path, settings()) / "pjsip.conf")
    assert conf.value("agent-1001", "contact", "aor") == "sip:agent-1001@127.0.0.2:5080"
    assert conf.value("agent-2002", "contact", "aor") == "sip:2002@10.0.0.21:5060"
    assert conf.value("agent-1001", "dtmf_mode", "endpoint") == "rfc4733"
    assert conf.value("agent-1001", "context", "endpoint") == "hotline-agent-phone"
    assert not [
        name
        for name, items in conf.sections
        if items.get("type") == ["identify"] and name.startswith("agent-")
    ]


def test_the_flow_result_routes_to_queue_or_fallback(tmp_path: Path) -> None:
    conf = Conf(render(tmp_path, settings()) / "dialplan-inbound.conf")
    steps = priorities(conf.section("hotline-inbound"))
    agi = next(i for i, line in enumerate(steps) if line.startswith("AGI("))
    assert "Playback(hotline/welcome)" not in steps[:agi]  # the flow greets, with barge-in
    assert steps[steps.index("Answer()") + 1] == "Set(HOTLINE_RINGS=2)"
    assert 'GotoIf($["${HOTLINE_FLOW_RESULT}" = "queue"]?hotline-queue,s,1)' in steps
    queue = priorities(conf.section("hotline-queue"))
    join = next(line for line in queue if line.startswith("Queue("))
    args = join[len("Queue(") : -1].split(",")
    assert args[0] == "${QNAME}" and "c" in args[1]  # continue after the agent hangs up
    assert (args[4], args[6], args[8]) == ("${QLIMIT}", "hotline-agent-connect", "${QPOS}")
    assert any("hotline-score" in line for line in queue)
    assert any("hotline-queue-timeout" in line for line in queue)
    limits = conf.section("hotline-queue-limits")["exten"]
    # the emergency queue has no wait limit: no callback offer, the caller stays in line
    assert "emergency,1,Set(QLIMIT=)" in limits and "reception,1,Set(QLIMIT=90)" in limits
    fallback = priorities(conf.section("hotline-fallback"))
    assert fallback[:2] == ["Set(HOTLINE_DISPOSITION=fallback)", CEL_FALLBACK]
    assert fallback[2] == 'ExecIf($["${HOTLINE_FLOW}" = ""]?Playback(hotline/welcome))'


CEL_FALLBACK = "CELGenUserEvent(HOTLINE_VARS,HOTLINE_DISPOSITION=fallback)"


def test_what_rebuilds_a_record_is_in_asterisks_call_log(tmp_path: Path) -> None:
    """The call log has the variables a record needs when the service saw nothing, set
    once their values are filtered, and CEL is on with the events the rebuild reads."""
    out = render(tmp_path, settings())
    conf = Conf(out / "dialplan-inbound.conf")
    steps = priorities(conf.section("hotline-inbound"))
    sip = next(i for i, line in enumerate(steps) if line.startswith("Set(HOTLINE_SIP_CALLID="))
    assert steps[sip + 1].startswith("CELGenUserEvent(HOTLINE_VARS,HOTLINE_DIRECTION=inbound&")
    assert steps[sip + 1].endswith("&HOTLINE_SIP_CALLID=${HOTLINE_SIP_CALLID})")
    rings = steps.index("Set(HOTLINE_RINGS=2)")
    assert steps[rings + 1] == "CELGenUserEvent(HOTLINE_VARS,HOTLINE_RINGS=2)"
    connect = priorities(conf.section("hotline-agent-connect"))
    assert any(line.startswith("CELGenUserEvent(HOTLINE_AGENT,") for line in connect)
    cel = (out / "cel.conf").read_text(encoding="utf-8")
    assert "enable = yes" in cel and "apps = queue" in cel and "LINKEDID_END" in cel
    custom = (out / "cel_custom.conf").read_text(encoding="utf-8")
    assert "[hotline-cel.jsonl]" in custom and "format = json" in custom


def test_the_check_reads_the_dialplan_and_its_includes(tmp_path: Path) -> None:
    files = dialplan_files(render(tmp_path, settings()))
    assert {"extensions.conf", "dialplan-inbound.conf", "dialplan-outbound.conf"} <= set(files)
    assert all(re.search(r"\{\{|\{%", text) is None for text in files.values())


def test_the_emergency_overflow_rings_the_on_call_list_in_turn(tmp_path: Path) -> None:
    base = settings()
    overflow = {"after_seconds": 45, "numbers": ["13800000001", "02112345678"], "ring_seconds": 15}
    on = base.model_copy(update={"ivr": base.ivr.model_validate({"emergency_overflow": overflow})})
    conf = Conf(render(tmp_path / "on", on) / "dialplan-inbound.conf")
    limits = conf.section("hotline-queue-limits")["exten"]
    assert "emergency,1,Set(QLIMIT=45)" in limits and "reception,1,Set(QLIMIT=90)" in limits
    queue = priorities(conf.section("hotline-queue"))
    timeout = queue.index("Set(HOTLINE_FLOW_RESULT=)")
    assert queue[timeout + 1] == (
        'GotoIf($["${QNAME}" = "emergency"]?hotline-emergency-overflow,s,1)'
    )
    steps = priorities(conf.section("hotline-emergency-overflow"))
    dials = [line for line in steps if line.startswith("Dial(")]
    assert dials == [
        "Dial(PJSIP/13800000001@carrier,15,U(hotline-overflow-answered^13800000001))",
        "Dial(PJSIP/02112345678@carrier,15,U(hotline-overflow-answered^02112345678))",
    ]
    assert steps[-3:] == ["Set(QPOS=1)", "Goto(hotline-queue,s,join)", "Hangup()"]
    off = Conf(render(tmp_path / "off", base) / "dialplan-inbound.conf")
    assert "emergency,1,Set(QLIMIT=)" in off.section("hotline-queue-limits")["exten"]
    assert not any(
        line.startswith("Dial(") for line in priorities(off.section("hotline-emergency-overflow"))
    )
