"""Contact import: numbers normalised, bad rows reported by line, whole-file refusals."""

from __future__ import annotations

import json

import pytest

from dialer.contacts import ContactIn, ImportRefused, Rejected, parse_contacts
from dialer.numbers import NumberGuard, normalize
from hotline.config_dialer import DialerSettings

GUARD = NumberGuard(DialerSettings().allowed_patterns)
ZONE = "Asia/Shanghai"


@pytest.mark.parametrize(
    ("raw", "dialled"),
    [
        ("13900001234", "13900001234"),
        ("139 0000 1234", "13900001234"),
        ("+86 139-0000-1234", "13900001234"),
        ("0086 13900001234", "13900001234"),
        ("010-12345678", "01012345678"),
        ("(021) 1234 5678", "02112345678"),
        ("+86 755 8888 8888", "075588888888"),
    ],
)
def test_mainland_mobiles_and_landlines_normalise(raw: str, dialled: str) -> None:
    assert normalize(raw) == dialled
    assert GUARD.allowed(dialled)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("hello", "not a phone number"),
        ("1390000123", "not a valid number"),
        ("12345", "not a valid number"),
        ("4008123123", "neither a mobile nor a landline"),
        ("+1 650 253 0000", "not a mainland China number"),
        ("+852 9123 4567", "not a mainland China number"),
    ],
)
def test_other_numbers_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize(raw)


CSV = """number,name,account
13900001234,张三,A1
139 0000 1234,,A1-dup
not-a-number,x,y
010-12345678,李四,B7
4008123123,hotline,z
13900005678,王五
,nobody,q

13800138000,赵六,"multi
line"
+1 650 253 0000,foreign,f
"""


def test_csv_rows_are_validated_one_by_one() -> None:
    result = parse_contacts(CSV.encode(), "csv", GUARD, ZONE)
    assert result.contacts == [
        ContactIn(2, "13900001234", "张三", ZONE, {"account": "A1"}),
        ContactIn(5, "01012345678", "李四", ZONE, {"account": "B7"}),
    ]
    assert result.merged == 1  # line 3 is line 2's number in another format
    assert [r.line for r in result.rejected] == [4, 6, 7, 8, 10, 11, 12]
    reasons = dict((r.line, r.reason) for r in result.rejected)
    assert "not a phone number" in reasons[4]
    assert "neither a mobile nor a landline" in reasons[6]
    assert reasons[7] == "expected 3 fields, found 2"
    assert "empty number" in reasons[8]
    # a record never spans lines: a line break inside quotes is refused, line by line
    assert reasons[10] == "not CSV: a quoted field is not closed on its line"
    assert reasons[11] == "expected 3 fields, found 1"
    assert "mainland" in reasons[12]
    assert result.rows == 10  # the blank line is not a row


def test_an_unclosed_quote_costs_its_line_only() -> None:
    """It swallowed the rows after it: 9,001 rows imported 2,706 contacts, one rejection."""
    rows = [f"1390{i:07d},客户{i}" for i in range(9001)]
    rows[4] = '13900000004,"张三'  # the quote is never closed
    result = parse_contacts(("number,name\n" + "\n".join(rows)).encode(), "csv", GUARD, ZONE)
    assert len(result.contacts) == 9000
    assert result.rejected == [Rejected(6, "not CSV: a quoted field is not closed on its line")]
    assert result.contacts[4].line == 7 and result.contacts[4].name == "客户5"


def test_the_toll_fraud_guard_applies_at_import() -> None:
    mobiles_only = NumberGuard([r"1[3-9]\d{9}"])
    result = parse_contacts(b"phone\n13900001234\n01012345678\n", "csv", mobiles_only, ZONE)
    assert [c.number for c in result.contacts] == ["13900001234"]
    assert result.rejected == [
        Rejected(3, "number 01012345678: not an allowed destination (toll-fraud guard)")
    ]


def test_a_file_in_another_encoding_imports_nothing_and_says_why() -> None:
    data = "号码,姓名\n13900001234,张三\n".encode("gbk")
    with pytest.raises(ImportRefused, match=r"not UTF-8.*line 1.*GBK"):
        parse_contacts(data, "csv", GUARD, ZONE)


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("name,account\n", "no number column"),
        ("", "empty"),
        ("number,name,name\n", "repeated"),
    ],
)
def test_a_wrong_header_imports_nothing(header: str, why: str) -> None:
    with pytest.raises(ImportRefused, match=why):
        parse_contacts(
            (header + "13900001234,a,b\n").encode() if header else b"", "csv", GUARD, ZONE
        )


def test_chinese_headers_bom_and_time_zones() -> None:
    data = "\ufeff手机,姓名,timezone\n13900001234,张三,Asia/Urumqi\n13900001235,李四,Mars/Base\n"
    result = parse_contacts(data.encode(), "csv", GUARD, ZONE)
    assert result.contacts == [ContactIn(2, "13900001234", "张三", "Asia/Urumqi", {})]
    assert result.rejected[0].line == 3 and "time zone" in result.rejected[0].reason


def test_json_items_are_reported_by_their_line() -> None:
    data = json.dumps(
        [
            {"number": "13900001234", "name": "a", "account": 7},
            {"number": "123"},
            "not an object",
            {"name": "no number"},
        ],
        indent=1,
        ensure_ascii=False,
    ).encode()
    result = parse_contacts(data, "json", GUARD, ZONE)
    assert result.contacts == [ContactIn(2, "13900001234", "a", ZONE, {"account": "7"})]
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (7, "number 123"),
        (10, "not an object"),
        (11, "no number field"),
    ]
    wrapped = parse_contacts(b'{"contacts": [{"number": "13900001234"}]}', "json", GUARD, ZONE)
    assert [c.number for c in wrapped.contacts] == ["13900001234"]


@pytest.mark.parametrize("data", [b'{"number": "13900001234"}', b'[{"number": 1', b"[1, }"])
def test_malformed_json_imports_nothing(data: bytes) -> None:
    with pytest.raises(ImportRefused, match="nothing was imported"):
        parse_contacts(data, "json", GUARD, ZONE)


def test_large_files_report_progress() -> None:
    rows = "\n".join(f"1390{i:07d}" for i in range(5000))
    seen: list[tuple[int, int]] = []
    result = parse_contacts(
        f"number\n{rows}\n".encode(),
        "csv",
        GUARD,
        ZONE,
        lambda done, total: seen.append((done, total)),
    )
    assert len(result.contacts) == 5000 and not result.rejected
    assert len(seen) >= 5 and seen[-1][0] == seen[-1][1]
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
