"""Tables of the inbound hotline (customers, bills, callback requests, blocklist, agents)."""

from __future__ import annotations

__all__: list[str] = []
