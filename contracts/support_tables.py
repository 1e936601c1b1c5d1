"""DDL of the raw layer, derived from the entity contracts.

``raw.<entity>``      one table per entity, append-only, with lineage columns
``raw.load_ledger``   one row per delivered file and what became of it
``raw.rejected_rows`` rows that were not loaded, with the reason
``raw.row_warnings``  values that could not be parsed in rows that were loaded
"""

from __future__ import annotations

import duckdb

from contracts.entities import ENTITIES, LINEAGE_COLUMNS, Entity

LEDGER_DDL = """
create table if not exists raw.load_ledger (
    file_name     varchar not null,
    file_path     varchar,
    file_sha256   varchar,            -- null only for a file that vanished unread
    file_bytes    bigint,
    entity        varchar,
    status        varchar not null,   -- loaded | duplicate | rejected | missing
    rows_read     bigint not null,
    rows_loaded   bigint not null,
    rows_rejected bigint not null,
    rows_warned   bigint not null default 0,
    reason        varchar,
    ingested_at   timestamp not null, -- Asia/Shanghai local time
    delivery_seq  bigint not null     -- order of deliveries; later wins ties
)
"""

REJECTED_DDL = """
create table if not exists raw.rejected_rows (
    file_sha256 varchar not null,
    entity      varchar,
    _row_number bigint,
    reason      varchar not null,
    row_json    json                  -- the row as delivered, personal data masked
)
"""

WARNINGS_DDL = """
create table if not exists raw.row_warnings (
    file_sha256 varchar not null,
    entity      varchar not null,
    _row_number bigint not null,
    column_name varchar not null,
    reason      varchar not null,
    value       varchar               -- the offending value, personal data masked
)
"""


def raw_table_columns(ent: Entity) -> list[tuple[str, str, str]]:
    """(name, type, description) of every column of ``raw.<entity>``."""
    return [*ent.stored_columns(), *LINEAGE_COLUMNS]


def raw_table_ddl(ent: Entity) -> str:
    cols = ",\n    ".join(f'"{name}" {typ}' for name, typ, _ in raw_table_columns(ent))
    return f"create table if not exists raw.{ent.name} (\n    {cols}\n)"


def _allow_missing_files(con: duckdb.DuckDBPyConnection) -> None:
    """Warehouses created before the ``missing`` status required a file hash in every
    ledger row; a file that vanished before it could be read has none."""
    required = con.execute(
        "select is_nullable = 'NO' from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'load_ledger' and column_name = 'file_sha256'"
    ).fetchall()
    if required and required[0][0]:
        con.execute("alter table raw.load_ledger alter column file_sha256 drop not null")


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and every raw table if missing (idempotent)."""
    con.execute("create schema if not exists raw")
    con.execute(LEDGER_DDL)
    _allow_missing_files(con)
    con.execute(REJECTED_DDL)
    con.execute(WARNINGS_DDL)
    for ent in ENTITIES:
        con.execute(raw_table_ddl(ent))
