"""What an operator does with a callback-survey campaign: import orders and draw the sample.

``import_orders`` parses a work-order file, draws the sample with the ``survey`` sampling
rules and a seed (given, or a fresh random one that is stored), and stores orders, sample,
picks and the campaign's new contacts in one transaction. The same seed and orders give
the same sample, which ``GET /api/v1/survey/samples/{id}`` shows with each pick's reason.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from dialer.contacts import Format, ImportRefused
from dialer.operations import OperationError, Operations
from dialer.states import CampaignStatus, CampaignType
from dialer.survey.orders import parse_orders
from dialer.survey.sampling import SamplingRule, sample
from dialer.survey.store import SurveyStore
from hotline.config_survey import SurveySettings
from hotline.record_fields import utc_now

__all__ = ["SurveyOps"]

_SEED = re.compile(r"^[\w.-]{1,64}$")


class SurveyOps:
    def __init__(self, settings: SurveySettings, ops: Operations, store: SurveyStore) -> None:
        self.settings = settings
        self.ops = ops
        self.store = store

    def rules(self) -> tuple[dict[str, SamplingRule], SamplingRule | None]:
        by_category = {
            name: SamplingRule(rule.rate, rule.min_per_technician)
            for name, rule in self.settings.sampling.items()
        }
        default = self.settings.sampling_default
        return by_category, (
            None if default is None else SamplingRule(default.rate, default.min_per_technician)
        )

    async def import_orders(
        self,
        ref: str,
        data: bytes,
        fmt: Format,
        seed: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        campaign = await self.ops.get(ref)
        if campaign.type is not CampaignType.CALLBACK_SURVEY:
            raise OperationError(
                409,
                "type",
                f"campaign {campaign.name} is {campaign.type.value}, not callback_survey",
            )
        if campaign.status is CampaignStatus.FINISHED:
            raise OperationError(409, "status", f"campaign {campaign.name} is finished")
        if seed is not None and not _SEED.fullmatch(seed):
            raise OperationError(400, "seed", "seed: 1-64 letters, digits, '.', '-' or '_'")
        try:
            parsed = parse_orders(data, fmt, self.ops.guard, campaign.timezone)
        except ImportRefused as exc:
            raise OperationError(400, "file", str(exc)) from exc
        seed = seed or secrets.token_hex(8)
        rules, default = self.rules()
        picks = sample(parsed.orders, rules, seed, default)
        stored = await self.store.add_sample(
            campaign.id,
            parsed.orders,
            picks,
            seed,
            {
                "default": None if default is None else vars_of(default),
                "categories": {name: vars_of(rule) for name, rule in rules.items()},
            },
            now or utc_now(),
        )
        return {
            "rows": parsed.rows,
            "orders": len(parsed.orders),
            "orders_new": stored.orders_new,
            "repeated": parsed.repeated,
            "rejected": [{"line": r.line, "reason": r.reason} for r in parsed.rejected],
            "sample": {
                "id": stored.sample_id,
                "seed": seed,
                "picked": len(picks),
                "by_rate": sum(p.reason == "rate" for p in picks),
                "by_minimum": sum(p.reason == "minimum" for p in picks),
                "contacts_added": stored.contacts_added,
                "already_in_campaign": stored.already_in_campaign,
            },
        }

    async def sample(self, sample_id: int) -> dict[str, Any]:
        found = await self.store.sample(sample_id)
        if found is None:
            raise OperationError(404, "sample", f"no sample {sample_id}")
        return found

    async def responses(self, ref: str) -> list[dict[str, Any]]:
        campaign = await self.ops.get(ref)
        return await self.store.responses(campaign.id)


def vars_of(rule: SamplingRule) -> dict[str, Any]:
    return {"rate": rule.rate, "min_per_technician": rule.min_per_technician}
