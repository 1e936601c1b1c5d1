"""Freshness of the source deliveries: is a source late, and by how much?

The rule (cadences and grace from the contracts, the one ``evaluate``) is in
``ingest.freshness``; this module reads the last deliveries from ``raw.load_ledger`` of
the working warehouse. The check records each outcome (``quality.check_results``), which
is what the dashboards' 数据质量 page and the bulletin show.

Dagster's built-in freshness checks look at materialization times, but an
ingest asset materializes on every run even when nothing new arrived, so the
ledger is the honest clock here. Times are Asia/Shanghai wall-clock, like
``ingested_at``.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from contracts.entities import DELIVERED_STATUSES, ENTITIES
from ingest.freshness import Freshness, evaluate
from ingest.load import shanghai_now

__all__ = ["Freshness", "evaluate", "evaluate_all", "last_deliveries"]


def last_deliveries(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """Newest ``ingested_at`` per entity among files that were recognised (loaded or duplicate)."""
    rows = con.execute(
        """
        select entity, max(ingested_at)
        from raw.load_ledger
        where entity is not null and list_contains(?, status)
        group by entity
        """,
        [list(DELIVERED_STATUSES)],
    ).fetchall()
    return {str(name): ts for name, ts in rows if ts is not None}


def evaluate_all(
    con: duckdb.DuckDBPyConnection, now: datetime | None = None
) -> dict[str, Freshness]:
    now = now or shanghai_now()
    last = last_deliveries(con)
    return {ent.name: evaluate(ent, last.get(ent.name), now) for ent in ENTITIES}
