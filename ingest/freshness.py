"""Freshness of the source deliveries: is a source late, and by how much?

Each entity declares its delivery cadence in the contracts (``CADENCES``: daily,
monthly, quarterly, yearly, each with its grace). A source is late when its last
delivery (the newest ``ingested_at`` in the load ledger among the files recognised
as that entity, loaded or duplicate: ``DELIVERED_STATUSES``) is older than the
cadence plus its grace. Dagster's freshness checks call :func:`evaluate` and record
the outcome in ``quality.check_results``; the dashboards' 数据质量 page and the
bulletin show those recorded outcomes, so neither can disagree with Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.entities import CADENCES, Entity


@dataclass(frozen=True)
class Freshness:
    entity: str
    cadence: str
    last_delivery: datetime | None
    allowed: timedelta  # interval + grace
    lateness: timedelta | None  # positive when late; None when never delivered

    @property
    def passed(self) -> bool:
        return (
            self.last_delivery is not None
            and self.lateness is not None
            and (self.lateness <= timedelta(0))
        )

    @property
    def late_hours(self) -> float | None:
        if self.lateness is None:
            return None
        return round(max(self.lateness, timedelta(0)).total_seconds() / 3600, 1)

    @property
    def message(self) -> str:
        if self.last_delivery is None:
            return f"{self.entity}: no delivery recorded yet (expected {self.cadence})"
        if self.passed:
            return (
                f"{self.entity}: fresh; last delivery {self.last_delivery:%Y-%m-%d %H:%M}, "
                f"expected {self.cadence}"
            )
        assert self.lateness is not None
        return (
            f"{self.entity}: late by {_human(self.lateness)}; last delivery "
            f"{self.last_delivery:%Y-%m-%d %H:%M}, expected {self.cadence}"
        )


def _human(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def evaluate(ent: Entity, last_delivery: datetime | None, now: datetime) -> Freshness:
    allowed = CADENCES[ent.cadence].allowed
    lateness = None if last_delivery is None else (now - last_delivery) - allowed
    return Freshness(ent.name, ent.cadence, last_delivery, allowed, lateness)


def tolerance_text() -> str:
    """The limits in words, for the page that shows them (e.g. 日更数据36小时内)."""

    def span(delta: timedelta) -> str:
        hours = delta.total_seconds() / 3600
        return f"{hours:g}小时" if hours < 48 else f"{hours / 24:g}天"

    return "、".join(f"{c.label}数据{span(c.allowed)}内" for c in CADENCES.values())
