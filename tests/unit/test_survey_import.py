"""Work orders in, a stored and auditable sample out; the flow's answers stored (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.campaigns import build_spec
from dialer.numbers import NumberGuard
from dialer.operations import OperationError, Operations
from dialer.repository import DialerRepository
from dialer.states import CampaignType
from dialer.survey.operations import SurveyOps
from dialer.survey.orders import parse_orders
from dialer.survey.store import SurveyStore
from hotline.config_dialer import DialerSettings
from hotline.config_survey import SurveySettings
from hotline.db import session_factory

SETTINGS = DialerSettings()
GUARD = NumberGuard(SETTINGS.allowed_patterns)
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
HEADER = "order_id,number,category,technician,completed_at\n"


def orders_csv(count: int, technicians: int = 3, category: str = "repair") -> bytes:
    rows = [
        f"WO-{i},139{i:08d},{category},tech-{i % technicians},2026-11-29T1{i % 10}:00"
        for i in range(1, count + 1)
    ]
    return (HEADER + "\n".join(rows) + "\n").encode()


def test_bad_rows_are_named_by_line_and_field() -> None:
    data = (
        HEADER + "WO-1,13900000001,repair,tech-1,2026-11-29T10:00\n"
        "WO-2,4008001234,repair,tech-1,2026-11-29T10:00\n"
        "WO-3,13900000003,repair,,2026-11-29T10:00\n"
        "WO-4,13900000004,repair,tech-1,yesterday\n"
        "WO-1,13900000001,repair,tech-1,2026-11-29T10:00\n"
        "WO-1,13900000009,repair,tech-1,2026-11-29T10:00\n"
        "bad id!,13900000005,repair,tech-1,2026-11-29T10:00\n"
    ).encode()
    parsed = parse_orders(data, "csv", GUARD, "Asia/Shanghai")
    assert [o.order_id for o in parsed.orders] == ["WO-1"]
    assert parsed.orders[0].completed_at == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    assert parsed.repeated == 1
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert sorted(reasons) == [3, 4, 5, 7, 8]
    assert reasons[3].startswith("number 4008001234:")
    assert reasons[4].startswith("technician:")
    assert reasons[5].startswith("completed_at yesterday:")
    assert reasons[7] == "order_id WO-1: given earlier with other data"
    assert reasons[8].startswith("order_id:")


def test_an_unclosed_quote_in_work_orders_costs_its_line_only() -> None:
    rows = orders_csv(300).decode().splitlines()
    rows[10] = rows[10].replace(",repair,", ',"repair,')  # the quote is never closed
    parsed = parse_orders("\n".join(rows).encode(), "csv", GUARD, "Asia/Shanghai")
    assert len(parsed.orders) == 299
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (11, "not CSV: a quoted field is not closed on its line")
    ]


def test_chinese_headers_and_json_are_read() -> None:
    csv_data = (
        "工单号,电话,类别,师傅,完成时间\nWO-1,+86 139 0000 0001,安装,王师傅,2026-11-29 10:00\n"
    )
    parsed = parse_orders(csv_data.encode(), "csv", GUARD, "Asia/Shanghai")
    assert parsed.orders[0].customer == "13900000001"
    assert parsed.orders[0].technician == "王师傅"
    json_data = b'[{"order_id": "WO-2", "number": "13900000002", "category": "repair",\n'
    json_data += b'"technician": "t1", "completed_at": "2026-11-29T10:00:00+08:00"}, {"x": 1}]'
    parsed = parse_orders(json_data, "json", GUARD, "Asia/Shanghai")
    assert [o.order_id for o in parsed.orders] == ["WO-2"]
    assert parsed.rejected[0].line == 2 and "no column order_id" in parsed.rejected[0].reason


@pytest.fixture
def survey(engine: AsyncEngine) -> SurveyOps:
    sessions = session_factory(engine)
    ops = Operations(SETTINGS, DialerRepository(sessions), {CampaignType.CALLBACK_SURVEY: "survey"})
    rules = SurveySettings.model_validate(
        {
            "sampling_default": None,
            "sampling": {"repair": {"rate": 0.2, "min_per_technician": 2}},
        }
    )
    return SurveyOps(rules, ops, SurveyStore(sessions))


async def test_a_survey_campaign_gets_the_flow_amd_and_retries(survey: SurveyOps) -> None:
    campaign = await survey.ops.create({"name": "visit", "type": "callback_survey"}, T0)
    assert campaign.agi_route == "survey"
    assert campaign.amd
    assert campaign.retry["answered_machine"] == 3600
    assert campaign.retry["later"] == 3600
    plain = await survey.ops.create({"name": "plain"}, T0)
    assert (plain.agi_route, plain.amd) == ("", False)
    with pytest.raises(OperationError) as refused:
        await survey.import_orders("plain", orders_csv(3), "csv")
    assert (refused.value.status, refused.value.field) == (409, "type")


async def test_the_sample_is_stored_and_reproducible_with_its_seed(survey: SurveyOps) -> None:
    await survey.ops.create({"name": "a", "type": "callback_survey"}, T0)
    await survey.ops.create({"name": "b", "type": "callback_survey"}, T0)
    data = orders_csv(60) + b"WO-99,13900000099,other,tech-1,2026-11-29T10:00\n"
    first = await survey.import_orders("a", data, "csv", "seed-1", T0)
    # the same orders in another order, into another campaign: the same picks
    lines = data.decode().splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:])]).encode()
    again = await survey.import_orders("b", shuffled, "csv", "seed-1", T0)
    assert first["orders"] == 61 and first["orders_new"] == 61 and again["orders_new"] == 0
    audit_a = await survey.sample(first["sample"]["id"])
    audit_b = await survey.sample(again["sample"]["id"])
    strip = [{k: v for k, v in p.items() if k != "contact_id"} for p in audit_a["picks"]]
    assert strip == [{k: v for k, v in p.items() if k != "contact_id"} for p in audit_b["picks"]]
    assert audit_a["seed"] == "seed-1"
    assert audit_a["rules"] == {
        "default": None,
        "categories": {"repair": {"rate": 0.2, "min_per_technician": 2}},
    }
    # category "other" has no rule and no default: never sampled
    assert all(p["category"] == "repair" for p in audit_a["picks"])
    per_tech: dict[str, int] = {}
    for pick in audit_a["picks"]:
        per_tech[pick["technician"]] = per_tech.get(pick["technician"], 0) + 1
        assert pick["reason"] in ("rate", "minimum")
    assert per_tech and min(per_tech.values()) >= 2
    assert first["sample"]["picked"] == len(audit_a["picks"]) == first["sample"]["contacts_added"]
    contacts = await survey.ops.repo.contacts_of((await survey.ops.get("a")).id)
    assert {c["number"] for c in contacts} == {p["number"] for p in audit_a["picks"]}
    assert all(p["contact_id"] is not None for p in audit_a["picks"])
    assert all(p["contact_id"] is not None for p in audit_b["picks"])  # b has its own contacts
    other = await survey.import_orders("a", orders_csv(60), "csv", "seed-2", T0)
    assert other["sample"]["seed"] == "seed-2"  # a new seed: another sample, stored apart
    # a customer already in the campaign is not added twice; the pick says so
    assert other["sample"]["picked"] == (
        other["sample"]["contacts_added"] + other["sample"]["already_in_campaign"]
    )


async def test_a_seed_is_made_when_none_is_given_and_bad_ones_are_refused(
    survey: SurveyOps,
) -> None:
    await survey.ops.create({"name": "a", "type": "callback_survey"}, T0)
    report = await survey.import_orders("a", orders_csv(5), "csv")
    assert len(report["sample"]["seed"]) == 16
    with pytest.raises(OperationError) as refused:
        await survey.import_orders("a", orders_csv(5), "csv", "bad seed!")
    assert refused.value.field == "seed"
    with pytest.raises(OperationError) as refused:
        await survey.import_orders("a", b"number\n13900000001\n", "csv")
    assert refused.value.field == "file"
    assert "no column order_id" in str(refused.value)
    with pytest.raises(OperationError) as missing:
        await survey.sample(999)
    assert missing.value.status == 404


async def test_answers_are_stored_once_per_attempt_and_item(survey: SurveyOps) -> None:
    campaign = await survey.ops.create({"name": "a", "type": "callback_survey"}, T0)
    await survey.import_orders("a", orders_csv(2, technicians=2), "csv", "s", T0)
    repo = survey.ops.repo
    running = await survey.ops.transition("a", "start")
    claims = await repo.claim(
        running, 1, ("Asia/Shanghai",), "n1", T0 + timedelta(seconds=1), GUARD
    )
    code = claims[0].code
    store = survey.store
    facts = await store.begin(code, T0)
    assert facts is not None and facts.order_id.startswith("WO-")
    assert await store.begin(code, T0) == facts  # a second look-up opens nothing new
    await store.score(facts, "attitude", 9, T0)
    await store.score(facts, "attitude", 3, T0)  # repeated: the first answer stands
    await store.score(facts, "competence", 10, T0)
    await store.finish(code, "completed", "/x.wav", T0)
    [response] = await survey.responses(str(campaign.id))
    assert response["scores"] == {"attitude": 9, "competence": 10}
    assert (response["outcome"], response["comment_file"]) == ("completed", "/x.wav")
    assert response["technician"].startswith("tech-")
    assert await store.begin("dl-unknown", T0) is None
    assert build_spec({"name": "x"}, SETTINGS).agi_route == ""
