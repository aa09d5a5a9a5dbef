"""Live supervision's configuration: what each mode asks of ChanSpy, the supervisors'
phones rendered as endpoints, and the spy context that takes nothing but an agent's
channel."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline.render import render_instance
from hotline.supervision.config import SupervisionSettings
from hotline.supervision.modes import Mode, spy_options
from tests.unit.test_render import Conf, dirs, make_settings, priorities


def test_each_mode_asks_chanspy_for_its_options() -> None:
    assert spy_options(Mode.LISTEN) == "qES"  # the supervisor hears, nobody hears them
    assert spy_options(Mode.WHISPER) == "qESw"  # the agent only
    assert spy_options(Mode.BARGE) == "qESB"  # both parties


def test_supervisor_phones_are_endpoints_of_their_own(tmp_path: Path) -> None:
    supervision = SupervisionSettings.model_validate(
        {
            "supervisors": [
                {"id": "2001", "name": "王班长"},
                {"id": "2002", "contact": "sip:2002@10.0.0.9"},
            ]
        }
    )
    settings = make_settings().model_copy(update={"supervision": supervision})
    out = tmp_path / "hotline"
    render_instance(settings, "hotline", dirs(tmp_path), out)
    pjsip = Conf(out / "pjsip.conf")
    assert pjsip.value("supervisor-2001", "context", "endpoint") == "hotline-agent-phone"
    assert pjsip.value("supervisor-2001", "contact", "aor") == "sip:supervisor-2001@127.0.0.2:5080"
    assert pjsip.value("supervisor-2002", "contact", "aor") == "sip:2002@10.0.0.9"
    spy = priorities(Conf(out / "dialplan-inbound.conf").section("hotline-supervise"))
    assert 'GotoIf($["${SPY_TARGET:0:12}" != "PJSIP/agent-"]?done)' in spy
    assert "ChanSpy(${SPY_TARGET},${FILTER(qESwB,${SPY_OPTIONS:0:5})})" in spy


@pytest.mark.parametrize(
    "phones",
    [
        [{"id": "2001"}, {"id": "2001"}],
        [{"id": "20a1"}],
        [{"id": "2001", "contact": "sip:x y@host"}],
    ],
)
def test_bad_phones_are_refused(phones: list[dict[str, str]]) -> None:
    with pytest.raises(ValidationError):
        SupervisionSettings.model_validate({"supervisors": phones})
