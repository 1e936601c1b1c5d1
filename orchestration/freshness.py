"""Freshness of the source deliveries: is a source late, and by how much?

Each entity declares its delivery cadence in the contracts (daily, monthly,
quarterly, yearly). A source is late when its last delivery (the newest
``ingested_at`` in ``raw.load_ledger`` among the files recognised as that
entity, loaded or duplicate) is older than the cadence plus a grace period.

Dagster's built-in freshness checks look at materialization times, but an
ingest asset materializes on every run even when nothing new arrived, so the
ledger is the honest clock here. Times are Asia/Shanghai wall-clock, like
``ingested_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from ingest.contracts import ENTITIES, SOURCE_TIME_ZONE, Entity

# Expected interval between deliveries, and the grace a source gets before it is late.
CADENCES: dict[str, tuple[timedelta, timedelta]] = {
    "daily": (timedelta(days=1), timedelta(hours=12)),
    "monthly": (timedelta(days=31), timedelta(days=5)),
    "quarterly": (timedelta(days=92), timedelta(days=15)),
    "yearly": (timedelta(days=366), timedelta(days=60)),
}


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


def local_now() -> datetime:
    """Now as naive Asia/Shanghai wall-clock time (the convention of every stored timestamp)."""
    return datetime.now(ZoneInfo(SOURCE_TIME_ZONE)).replace(tzinfo=None)


def evaluate(ent: Entity, last_delivery: datetime | None, now: datetime) -> Freshness:
    interval, grace = CADENCES[ent.cadence]
    allowed = interval + grace
    lateness = None if last_delivery is None else (now - last_delivery) - allowed
    return Freshness(ent.name, ent.cadence, last_delivery, allowed, lateness)


def last_deliveries(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Newest ``ingested_at`` per entity among files that were recognised (loaded or duplicate)."""
    rows = con.execute(
        """
        select entity, max(ingested_at)
        from raw.load_ledger
        where entity is not null and status in ('loaded', 'duplicate')
        group by entity
        """
    ).fetchall()
    return {str(name): ts for name, ts in rows if ts is not None}


def evaluate_all(
    con: duckdb.DuckDBPyConnection, now: datetime | None = None
) -> dict[str, Freshness]:
    now = now or local_now()
    last = last_deliveries(con)
    return {ent.name: evaluate(ent, last.get(ent.name), now) for ent in ENTITIES}
