"""What each supervision mode asks of ChanSpy on the agent's channel.

``q``: no beep or channel name to the supervisor; ``E``: the session ends when the agent's
channel hangs up; ``S``: it ends too when that channel was gone before the supervisor's
phone was answered (else ChanSpy would wait in silence); ``w``: whisper, the supervisor
talks to the agent only; ``B``: barge, the supervisor talks to both parties. Listening
adds nothing: the supervisor hears both sides and nobody hears the supervisor.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Mode", "spy_options"]


class Mode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


_EXTRA = {Mode.LISTEN: "", Mode.WHISPER: "w", Mode.BARGE: "B"}


def spy_options(mode: Mode) -> str:
    return "qES" + _EXTRA[mode]
