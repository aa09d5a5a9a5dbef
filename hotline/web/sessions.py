"""The console's logins: server-side session ids, and a limit on failed logins per address.

The session cookie used to be the bearer token itself: it outlived a logout and a stolen
cookie was the token. Now a login makes a random session id (256 bits) that stands for the
token in this process only; logging out revokes it, and it expires after ``SESSION_TTL``.
The token behind it is checked again on every request, so revoking the token (``hotline
token revoke``) ends its sessions too. Sessions live in memory: a restart of the service
logs everyone out, which is the safe side.

Failed console logins are counted per client address: after ``MAX_FAILURES`` in
``WINDOW`` that address's logins are refused (429) until the window has passed, whatever
is typed. Every failure is logged with the address, never with what was typed.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_FAILURES", "SESSION_TTL", "WINDOW", "LoginLimiter", "Sessions"]

log = logging.getLogger(__name__)

SESSION_TTL = 12 * 3600.0
MAX_FAILURES = 10
WINDOW = 600.0
_MAX_SESSIONS = 10_000


@dataclass(frozen=True, slots=True)
class _Session:
    token: str
    expires: float


class Sessions:
    """Session id → the token it stands for, until logout or expiry."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_id: dict[str, _Session] = {}

    def create(self, token: str) -> str:
        now = self._clock()
        if len(self._by_id) >= _MAX_SESSIONS:
            self._by_id = {k: v for k, v in self._by_id.items() if v.expires > now}
        session_id = secrets.token_urlsafe(32)
        self._by_id[_key(session_id)] = _Session(token, now + SESSION_TTL)
        return session_id

    def token_of(self, session_id: str) -> str | None:
        found = self._by_id.get(_key(session_id))
        if found is None:
            return None
        if found.expires <= self._clock():
            self._by_id.pop(_key(session_id), None)
            return None
        return found.token

    def revoke(self, session_id: str) -> None:
        self._by_id.pop(_key(session_id), None)


def _key(session_id: str) -> str:
    """Kept hashed, like the tokens: a memory dump gives no live cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class LoginLimiter:
    """Failed attempts per address in a sliding window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        window = self._failures.setdefault(address, deque())
        cutoff = self._clock() - WINDOW
        while window and window[0] <= cutoff:
            window.popleft()
        return window

    def blocked_for(self, address: str) -> float:
        """Seconds this address must still wait (0: it may try)."""
        window = self._recent(address)
        if len(window) < MAX_FAILURES:
            if not window:
                self._failures.pop(address, None)
            return 0.0
        return max(0.0, window[0] + WINDOW - self._clock())

    def failed(self, address: str, what: str) -> None:
        window = self._recent(address)
        window.append(self._clock())
        log.warning("%s refused from %s (%d in %.0f min)", what, address, len(window), WINDOW / 60)
