"""FastAGI wire format: result lines, the environment block and command-line safety."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from panoramisk.utils import parse_agi_result

from hotline.errors import AgiError, AgiHangup
from ivr import agi_protocol as p
from ivr.scripted import ScriptedSession, ScriptError, expect

# --- result lines -------------------------------------------------------------------------


@given(st.text())
def test_parse_result_only_raises_agi_error(text: str) -> None:
    try:
        result = p.parse_result(text)
    except (AgiError, ValueError):
        return
    assert result.hangup or 100 <= result.code <= 599


results = st.one_of(
    st.integers(-1, 10**12).map(str), st.text("0123456789*#", max_size=20), st.just("-1")
)
data = st.none() | st.text(
    st.characters(exclude_characters="()\r\n", exclude_categories=["Cs"]), max_size=40
)
fields = st.dictionaries(
    st.from_regex(r"[a-z_]{1,10}", fullmatch=True).filter(lambda k: k != "result"),
    st.from_regex(r"[0-9a-z]{0,10}", fullmatch=True),
    max_size=3,
)


@given(results, data, fields)
def test_200_line_round_trip(result: str, datum: str | None, extra: dict[str, str]) -> None:
    line = f"200 result={result}"
    if datum is not None:
        line += f" ({datum})"
    line += "".join(f" {k}={v}" for k, v in extra.items())
    parsed = p.parse_result(line + "\n")
    assert (parsed.code, parsed.result, parsed.data, dict(parsed.fields)) == (
        200,
        result,
        datum,
        extra,
    )


@given(st.integers(0, 10**9), st.integers(0, 10**6))
def test_agrees_with_panoramisk_on_well_formed_lines(value: int, endpos: int) -> None:
    line = f"200 result={value} endpos={endpos}"
    ours, theirs = p.parse_result(line), parse_agi_result(line)
    assert (ours.result, ours.fields["endpos"]) == (theirs["result"][0], theirs["endpos"][0])


@pytest.mark.parametrize(
    ("line", "code", "result", "datum"),
    [
        ("200 result=0 endpos=8000", 200, "0", None),
        ("200 result=49 endpos=1234", 200, "49", None),
        ("200 result= (timeout)", 200, "", "timeout"),
        ("200 result=12 (timeout)", 200, "12", "timeout"),
        ("200 result=1 (a (b) c) endpos=3)", 200, "1", "a (b) c) endpos=3"),
        ("200 result=-1\r", 200, "-1", None),
        ("510 Invalid or unknown command", 510, "", None),
        ("511 Command Not Permitted on a dead channel or intercepted channel", 511, "", None),
        ("520 Invalid command syntax.  Proper usage not available.", 520, "", None),
    ],
)
def test_known_lines(line: str, code: int, result: str, datum: str | None) -> None:
    parsed = p.parse_result(line)
    assert (parsed.code, parsed.result, parsed.data) == (code, result, datum)


def test_usage_block_and_hangup() -> None:
    block = (
        "520-Invalid command syntax.  Proper usage follows:\n"
        " Usage: GET DATA\n"
        "520 End of proper usage."
    )
    parsed = p.parse_result(block)
    assert parsed.code == 520 and "Usage: GET DATA" in parsed.text
    with pytest.raises(AgiError):
        p.parse_result("520-Invalid command syntax.  Proper usage follows:")
    assert p.parse_result("HANGUP\n").hangup


@pytest.mark.parametrize(
    "line", ["", "abc", "200", "200 result", "2000 result=1", "٢٠٠ result=1", "200 x=1"]
)
def test_malformed_lines(line: str) -> None:
    with pytest.raises(AgiError):
        p.parse_result(line)


def test_as_int_and_keys() -> None:
    assert p.parse_result("200 result=-2").as_int() == -2
    with pytest.raises(AgiError):
        p.parse_result("200 result=1*").as_int()
    assert p.key_from_code(0) == "" and p.key_from_code(ord("#")) == "#"
    with pytest.raises(AgiError):
        p.key_from_code(ord("x"))


# --- environment -----------------------------------------------------------------------------

ENV = [b"agi_network: yes\n", b"agi_network_script: hotline?x=1\n", b"agi_arg_1: 1.2\n", b"\n"]


def test_environment() -> None:
    env = p.parse_agi_environment([*ENV[:-1], b"agi_callerid: \xff13800\n", b"\n"])
    assert env["agi_network_script"] == "hotline?x=1" and env["agi_arg_1"] == "1.2"
    assert env["agi_callerid"] == "\ufffd13800"
    assert p.script_name(env) == "hotline"
    assert p.script_name({"agi_network_script": "/survey/?a=b"}) == "survey"


@pytest.mark.parametrize(
    "lines",
    [
        ENV[:-1],  # no blank line
        [b"agi_network: yes\n", b"\n"],  # no agi_network_script
        [b"GET / HTTP/1.0\r\n", b"\r\n"],
        [*ENV[:1], b"agi_x: " + b"a" * p.MAX_ENV_BYTES + b"\n", *ENV[1:]],
        [*ENV[:1], *[b"agi_x: 1\n"] * p.MAX_ENV_LINES, *ENV[1:]],
    ],
)
def test_environment_rejected(lines: list[bytes]) -> None:
    with pytest.raises(AgiError):
        p.parse_agi_environment(lines)


@given(st.lists(st.binary(max_size=200), max_size=30))
def test_environment_on_arbitrary_bytes(lines: list[bytes]) -> None:
    try:
        env = p.parse_agi_environment(lines)
    except AgiError:
        return
    assert "agi_network_script" in env and all(k.startswith("agi_") for k in env)


@given(st.dictionaries(st.from_regex(r"agi_[a-z_]{1,12}", fullmatch=True), st.text(max_size=50)))
def test_environment_round_trip(extra: dict[str, str]) -> None:
    extra = {k: v.replace("\n", "").replace("\r", "").strip() for k, v in extra.items()}
    extra["agi_network_script"] = "hotline"
    lines = [f"{k}: {v}\n".encode() for k, v in extra.items()] + [b"\n"]
    assert p.parse_agi_environment(lines) == extra


# --- identity helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("13800138000", "13800138000"), ("+86 138-0013", "+861380013"), ("unknown", "")],
)
def test_clean_caller(raw: str, clean: str) -> None:
    assert p.clean_caller(raw) == clean


def test_uniqueid() -> None:
    assert p.is_uniqueid("1700000000.12")
    assert not p.is_uniqueid("1700000000") and not p.is_uniqueid("1.2\n")


# --- command injection ----------------------------------------------------------------------

LINE_BREAKERS = ['x"\nHANGUP', "a\rEXEC System rm", "a\x00b", 'a" "b']
BAD_NAMES = [*LINE_BREAKERS, "../../etc/passwd", "x y", "", "é", "a;b"]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_bad_names_rejected(bad: str) -> None:
    builders: list[Callable[[], str]] = [
        lambda: p.cmd_stream_file(bad),
        lambda: p.cmd_stream_file("hello", bad or "x"),
        lambda: p.cmd_get_data(bad, 5, 4),
        lambda: p.cmd_get_variable(bad),
        lambda: p.cmd_set_variable(bad, "v"),
        lambda: p.cmd_exec(bad, []),
        lambda: p.cmd_say_digits(bad),
        lambda: p.cmd_say_number(3, bad or "x"),
    ]
    for build in builders:
        with pytest.raises(ValueError):
            build()


@pytest.mark.parametrize("bad", [*LINE_BREAKERS, "a,b", "a\\b"])
def test_bad_app_arguments_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        p.cmd_exec("Playback", ["ok", bad])


@given(st.text(), st.text())
def test_any_text_gives_one_safe_line(a: str, b: str) -> None:
    builders: list[Callable[[], str]] = [
        lambda: p.cmd_stream_file(a, b),
        lambda: p.cmd_get_data(a, 5, 4),
        lambda: p.cmd_say_digits(a, b),
        lambda: p.cmd_get_variable(a),
        lambda: p.cmd_set_variable("NAME", a + b),
        lambda: p.cmd_set_variables({"NAME": a, "OTHER": b}),
        lambda: p.cmd_set_variables({a: b}),
        lambda: p.cmd_verbose(a),
        lambda: p.cmd_exec("Playback", [a, b]),
    ]
    for build in builders:
        try:
            line = build()
        except ValueError:
            continue
        assert not any(ch in line for ch in "\r\n\x00")
        assert line.count('"') in (0, 2), line  # quotes only as the wrapper we add


def test_set_variable_value_is_cleaned_and_capped() -> None:
    line = p.cmd_set_variable("CALLER_NOTE", 'say "hi"\\\r\nHANGUP' + "x" * 2000)
    assert line.startswith('SET VARIABLE CALLER_NOTE "say hiHANGUPxx')
    assert len(line) < p.MAX_VALUE_CHARS + 40


def test_set_variables_is_one_mset_in_order() -> None:
    line = p.cmd_set_variables({"__HOTLINE_A": "4>2", "HOTLINE_B": 'say "hi"\r\n'})
    assert line == 'EXEC MSet "__HOTLINE_A=4>2,HOTLINE_B=say hi"'


@pytest.mark.parametrize(
    "bad",
    [
        {},  # nothing to set
        {"HOTLINE_A": "one,two"},  # MSet would split it into a second pair
        {"HOTLINE_A": "a(b", "HOTLINE_B": "q"},  # an open bracket swallows the next pair
        {"HOTLINE_A": "a[b"},
        {"HOTLINE_A": "a)b"},
        {"CALLERID(num)": "1"},  # MSet writes no functions
        {"A=B": "1"},
        {"HOTLINE_A\n": "1"},
        {"٣": "1"},
    ],
)
def test_set_variables_refuses_what_mset_would_misread(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        p.cmd_set_variables(bad)


@pytest.mark.parametrize("bad", [(0, 4), (5, 0), (5, 65), (601, 4), (True, 4)])
def test_get_data_bounds(bad: tuple[float, int]) -> None:
    with pytest.raises(ValueError):
        p.cmd_get_data("menu", *bad)
    assert p.cmd_get_data("menu", 2.5, 4) == "GET DATA menu 2500 4"


def test_command_stats() -> None:
    stats = p.CommandStats()
    assert stats.percentile(50) == 0.0
    for ms in range(1, 101):
        stats.record("ANSWER", ms / 1000)
    assert stats.percentile(50) == 0.05 and stats.percentile(99) == 0.099
    assert len(stats) == 100 and stats.counts["ANSWER"] == 100


# --- the scripted fake validates like the real session --------------------------------------


async def test_scripted_session() -> None:
    session = ScriptedSession(
        [
            expect("answer"),
            expect("read_digits", "menu", returns="2"),
            expect("play", raises=AgiHangup),
        ],
        args=["1700000000.7"],
        caller="+86 138",
    )
    assert (session.linkedid, session.caller, session.script) == (
        "1700000000.7",
        "+86138",
        "hotline",
    )
    await session.answer()
    await session.verbose("unscripted calls are recorded only")
    assert await session.read_digits("menu", 5, 1) == "2"
    with pytest.raises(AgiHangup):
        await session.play("goodbye")
    with pytest.raises(AgiHangup):
        await session.say_number(3)
    session.assert_done()
    assert [c.method for c in session.calls][:4] == ["answer", "verbose", "read_digits", "play"]
    assert session.calls[2].command == "GET DATA menu 5000 1"


async def test_scripted_session_mismatch_and_validation() -> None:
    session = ScriptedSession([expect("play", "welcome")])
    with pytest.raises(ValueError):
        await session.play("../secret")
    with pytest.raises(ScriptError):
        await session.play("other")
    with pytest.raises(ScriptError):
        await session.answer()
    with pytest.raises(ScriptError):
        ScriptedSession([expect("answer")]).assert_done()
