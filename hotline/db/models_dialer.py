"""Tables of the outbound dialer (campaigns, contacts, attempts, DNC)."""

from __future__ import annotations

__all__: list[str] = []
