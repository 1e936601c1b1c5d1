"""Write a handful of raw rows into a real warehouse, the way ingest leaves them.

Tests that need precise assertions build a tiny warehouse from these rows instead of
the simulated city: every raw table is created by ``ensure_raw_schema``; rows name
only the columns they care about (the rest stay NULL) and get lineage columns.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from contracts.entities import entity
from contracts.support_tables import ensure_raw_schema, raw_table_columns


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: list[dict[str, Any]],
    *,
    delivery_seq: int = 1,
) -> None:
    """Insert ``rows`` into ``raw.<table>`` as one delivery (``delivery_seq``)."""
    known = {name for name, _, _ in raw_table_columns(entity(table))}
    # rows naming the same columns go in as one Arrow table: a hand-built city of tens of
    # thousands of rows took over a minute as one statement (or executemany) per row
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for i, row in enumerate(rows, start=1):
        unknown = set(row) - known
        if unknown:
            raise KeyError(f"raw.{table} has no column(s) {sorted(unknown)}")
        values = {
            **row,
            "_extra": json.dumps({}),
            "_file_sha256": f"sha-{table}-{delivery_seq}",
            "_row_number": row.get("_row_number", i),
            "_ingested_at": datetime(2026, 11, 1, 8, 0, 0),
            "_delivery_seq": delivery_seq,
        }
        by_columns.setdefault(tuple(values), []).append(values)
    for columns, batch in by_columns.items():
        cols = ", ".join(f'"{c}"' for c in columns)
        batch_table = pa.Table.from_pylist(batch)  # noqa: F841 (read by the SQL below)
        con.execute(f"insert into raw.{table} ({cols}) select {cols} from batch_table")


def make_warehouse(
    path: Path, deliveries: dict[str, list[tuple[int, list[dict[str, Any]]]]]
) -> None:
    """Create ``path`` with the raw schema and the given deliveries per table."""
    con = duckdb.connect(str(path))
    try:
        ensure_raw_schema(con)
        for table, batches in deliveries.items():
            for seq, rows in batches:
                insert_rows(con, table, rows, delivery_seq=seq)
    finally:
        con.close()
