"""``hotline campaign orders``, ``hotline report survey`` and ``hotline report callbacks``
(SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hotline.cli import main

ORDERS = (
    "order_id,number,category,technician,completed_at\n"
    "WO-1,13900050001,repair,tech-1,2026-11-29T10:00\n"
    "WO-2,13900050002,repair,tech-2,2026-11-29T11:00\n"
    "WO-3,4008001234,repair,tech-2,2026-11-29T11:00\n"
)


def test_orders_are_imported_and_sampled_with_a_seed(runner: CliRunner, tmp_path: Path) -> None:
    made = runner.invoke(main, ["campaign", "create", "visit", "--type", "callback_survey"])
    assert made.exit_code == 0, made.output
    shown = runner.invoke(main, ["campaign", "status", "visit", "--json"])
    assert json.loads(shown.output)["agi_route"] == "survey"
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    result = runner.invoke(main, ["campaign", "orders", "visit", "orders.csv", "--seed", "s1"])
    assert result.exit_code == 3, result.output  # one row rejected
    assert "3 rows: 2 orders (2 new), 1 rejected; sample #1 seed s1:" in result.output
    assert "line 4: number 4008001234:" in result.output
    again = runner.invoke(main, ["campaign", "orders", "visit", "orders.csv", "--json"])
    report = json.loads(again.output)
    assert report["orders_new"] == 0 and len(report["sample"]["seed"]) == 16
    wrong = runner.invoke(main, ["campaign", "create", "plain"])
    assert wrong.exit_code == 0
    refused = runner.invoke(main, ["campaign", "orders", "plain", "orders.csv"])
    assert refused.exit_code == 1 and "not callback_survey" in refused.output


def test_reports_print_empty_tables_and_json(runner: CliRunner) -> None:
    survey = runner.invoke(main, ["report", "survey"])
    assert survey.exit_code == 0, survey.output
    assert "(no scores)" in survey.output and "attitude" in survey.output
    callbacks = runner.invoke(main, ["report", "callbacks", "--json"])
    assert callbacks.exit_code == 0, callbacks.output
    assert json.loads(callbacks.output)["groups"] == []
    apologies = runner.invoke(main, ["report", "apologies"])
    assert apologies.exit_code == 0 and "(no tickets)" in apologies.output
    bad = runner.invoke(
        main, ["report", "callbacks", "--since", "2026-11-30", "--until", "2026-11-29"]
    )
    assert bad.exit_code == 2 and "--until must be after --since" in bad.output


def test_tickets_are_imported_into_an_apology_campaign(runner: CliRunner, tmp_path: Path) -> None:
    made = runner.invoke(main, ["campaign", "create", "sorry", "--type", "apology"])
    assert made.exit_code == 0, made.output
    (tmp_path / "tickets.csv").write_text(
        "工单号,受理号,电话,来电日期,问题,类型,责任坐席\n"
        "T-1,A-1,13900050001,2026-11-28,燃气费,服务态度,1001\n"
        "T-2,A-2,13900050002,2026-11-28,燃气费,rude,1001\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["campaign", "tickets", "sorry", "tickets.csv"])
    assert result.exit_code == 3, result.output
    assert result.output.startswith("2 rows: 1 tickets added, 0 known")
    assert "line 3: kind rude:" in result.output
