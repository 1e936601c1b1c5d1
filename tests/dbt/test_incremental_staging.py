"""Incremental models equal a full refresh after every kind of delivery.

The staging models of entities whose key columns are all required are incremental
(macros/staging.sql, ingest/dbt_sources.py): a build ranks again only the keys with a
raw row delivered since the model's high-water mark. The address standardisation
(int_addresses) is incremental too: it parses only addresses it has not parsed under the
current code and region reference, and drops those no record names any more; and so is
the hotline fact, which replaces the tickets delivered since its high-water mark and
those whose address link changed. Starting
from the session's built warehouse, exports are delivered through the real ingest, one at
a time, and those models are built incrementally after each; a copy of that warehouse is
then rebuilt with ``--full-refresh`` and every table compared with it (``EXCEPT ALL``
both ways). The deliveries are what a command centre receives: a correction that moves a
ticket to another district, month and address (its old address named by no record any
more), an older version delivered late and on an earlier day's file (it must not win), a
version tying the current one (the later delivery wins), a new ticket, the same bytes
delivered again under another name, a population reference naming a street that was
unknown, which changes how the moved ticket's address parses, and a house registered at
the address of a ticket no dwelling was linked to (the ticket is not delivered again, its
fact row must change). Last, a table built before its contract gained a column is
refused with what to run.

Everything after these models is a table rebuilt from them, so equal tables here mean
equal marts; when more models become incremental, this comparison extends to them.
"""

from __future__ import annotations

import csv
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from contracts.entities import DUPLICATE, LOADED, entity
from contracts.settings import Settings
from ingest.dbt_sources import staging_is_incremental, staging_model_name
from ingest.load import ingest_paths
from orchestration.defs.dbt.build import dbt_build
from orchestration.defs.dbt.runner import STAGING_SELECT, target_dir
from tests.conftest import settings_for

pytestmark = pytest.mark.slow

TICKETS = entity("hotline_tickets")
STAGED = f"staging.{staging_model_name(TICKETS)}"
ADDRESSES = "int_addresses"
FACT = "fct_hotline_tickets"
# staging, the address standardisation and the hotline fact, with what they read and the
# dimensions the fact's relationship tests look up (a house delivered must be in both)
INCREMENTAL_SELECT = f"{STAGING_SELECT} +{ADDRESSES} +{FACT} dim_dwelling dim_region"
INCREMENTAL = (staging_model_name(TICKETS), ADDRESSES, FACT)
NEW_STREET = "增量测试街道"  # named by no reference until the population export below
# columns a delivery cannot carry back (personal data is stored only as pseudonyms)
PERSONAL = {c.canonical for c in TICKETS.columns if c.kind in ("name", "phone", "id_number")}
COLUMNS = [c for c in TICKETS.columns if c.canonical not in PERSONAL]


def _staged(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    names = [c.canonical for c in COLUMNS]
    cols = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in ids)
    rows = con.execute(f"select {cols} from {STAGED} where ticket_id in ({marks})", ids).fetchall()
    return {r[0]: dict(zip(names, r, strict=True)) for r in rows}


def _write_export(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A hotline export with the contract's headers (UTF-8 CSV; csv quotes the texts'
    commas, which tests/ingest/conftest.py's write_csv does not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([c.header for c in COLUMNS])
        out.writerows([_cell(row.get(c.canonical)) for c in COLUMNS] for row in rows)
    return path


def _cell(value: Any) -> str:
    """A staged value as an export writes it (timestamps to the second, NULL empty)."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else str(value)


def _compared_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every staging table, the address standardisation and the fact, as schema.table."""
    return [
        f"{r[0]}.{r[1]}"
        for r in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() and (schema_name = 'staging' "
            "or (schema_name = 'intermediate' and table_name = ?) "
            "or (schema_name = 'marts' and table_name = ?)) "
            "order by 1, 2",
            [ADDRESSES, FACT],
        ).fetchall()
    ]


def _differences(incremental: Settings, full: Settings) -> dict[str, tuple[int, int]]:
    """Per table compared: rows only in the incremental build, rows only in the full one."""
    con = duckdb.connect(str(incremental.warehouse), read_only=True)
    try:
        con.execute(f"attach '{full.warehouse}' as full_refresh (read_only)")
        out = {}
        for table in _compared_tables(con):
            a = table
            b = f"full_refresh.{table}"
            only_inc = con.execute(
                f"select count(*) from (from {a} except all from {b})"
            ).fetchone()
            only_full = con.execute(
                f"select count(*) from (from {b} except all from {a})"
            ).fetchone()
            out[table] = (only_inc[0], only_full[0])  # type: ignore[index]
        return out
    finally:
        con.close()


def _last_statement(settings: Settings, model: str) -> str:
    """The SQL dbt last ran for a model (target/run)."""
    [path] = (target_dir(settings) / "run").rglob(f"{model}.sql")
    return path.read_text(encoding="utf-8").lower()


def _write_population(path: Path, district: str, street: str) -> Path:
    """A statistics-bureau population export of one street (CSV, the contract's headers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["年份", "所属区县", "所属街道", "常住人口"])
        out.writerow([2026, district, street, 12000])
    return path


def _write_house(path: Path, house_id: str, address: str, district: str) -> Path:
    """A rental-registry export of one house (CSV; the optional columns left out)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["房屋编号", "房屋地址", "所属区县", "更新时间"])
        out.writerow([house_id, address, district, "2026-11-07 09:00:00"])
    return path


def _link(settings: Settings, ticket_id: str) -> tuple[str | None, str]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        [row] = con.execute(
            f"select house_id, link_method from marts.{FACT} where ticket_id = ?", [ticket_id]
        ).fetchall()
        return row
    finally:
        con.close()


def _parsed_street(settings: Settings, address_norm: str) -> tuple[str | None] | None:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(
            f"select address_street from intermediate.{ADDRESSES} where address_norm = ?",
            [address_norm],
        ).fetchone()
    finally:
        con.close()


def test_incremental_staging_equals_a_full_refresh_after_every_delivery(
    built_warehouse: Settings, copy_warehouse, tmp_path: Path
) -> None:
    assert staging_is_incremental(TICKETS)
    settings = copy_warehouse(built_warehouse)
    full = settings_for(tmp_path / "full_refresh")  # one data dir: dbt's parse stays warm
    full.data_dir.mkdir()
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        usable = (
            f"from {STAGED} where updated_at is not null "
            "and received_at is not null and district is not null"
        )
        # the ticket to move names an address that no other record and no house names
        [(moved, moved_address)] = con.execute(
            f"select ticket_id, address_norm {usable} and address_norm in ("
            "  select address_norm from intermediate.int_address_records"
            "  group by 1 having count(*) = 1"
            ") and address_norm not in ("
            "  select address_norm from staging.stg_rental__houses where address_norm is not null"
            ") order by ticket_id limit 1"
        ).fetchall()
        ids = [
            moved,
            *(
                r[0]
                for r in con.execute(
                    f"select ticket_id {usable} and ticket_id <> ? order by ticket_id limit 3",
                    [moved],
                ).fetchall()
            ),
        ]
        # a ticket linked to no dwelling whose address parses whole: a house registered
        # there later links it without the ticket being delivered again
        [(unlinked,)] = con.execute(
            f"select f.ticket_id from marts.{FACT} as f "
            f"inner join intermediate.{ADDRESSES} as a on f.address_norm = a.address_norm "
            "where f.link_method = 'none' and f.district is not null and a.room is not null "
            "and f.ticket_id not in (?, ?, ?, ?) order by f.ticket_id limit 1",
            ids,
        ).fetchall()
        ids[3] = unlinked
        before = _staged(con, ids)
        other = con.execute(
            f"select district, street from {STAGED} where district <> ? limit 1",
            [before[ids[0]]["district"]],
        ).fetchone()
    finally:
        con.close()
    assert len(ids) == 4 and other is not None
    _, late, tied, _ = ids
    landing = tmp_path / "landing"

    correction = dict(before[moved])  # another district, address and 40 days earlier
    correction.update(
        district=other[0],
        street=other[1],
        address=f"{other[0]}{NEW_STREET}人民路88号3幢201室",
        received_at=before[moved]["received_at"] - timedelta(days=40),
        updated_at=before[moved]["updated_at"] + timedelta(days=1),
    )
    older = dict(correction)  # delivered after the correction, but an older version
    older.update(
        district=before[moved]["district"], updated_at=correction["updated_at"] - timedelta(hours=1)
    )
    tie = dict(before[tied])  # same version as staged: the later delivery wins the tie
    tie["department"] = "增量测试承办单位"
    late_month = dict(before[late])
    late_month.update(
        received_at=before[late]["received_at"] + timedelta(days=35),
        updated_at=before[late]["updated_at"] + timedelta(days=2),
    )
    new = dict(before[moved])
    new.update(
        ticket_id=f"{moved}X", address=correction["address"], updated_at=before[moved]["updated_at"]
    )

    first = _write_export(landing / "12345_工单_20261105.csv", [correction, new])
    deliveries = [
        first,
        _write_export(landing / "12345_工单_20261102.csv", [older, tie]),  # an earlier day, late
        shutil.copyfile(first, landing / "副本-12345_工单_20261105.csv"),  # the same bytes again
        _write_export(landing / "12345_工单_20261106.csv", [late_month]),
        _write_population(landing / "参考_常住人口_2026.csv", other[0], NEW_STREET),
        _write_house(
            landing / "出租房屋登记_20261107.csv",
            "HZENG0001",
            before[unlinked]["address"],
            before[unlinked]["district"],
        ),
    ]
    statuses = []
    streets = []  # the moved ticket's address as parsed after each delivery
    for path in deliveries:
        [result] = ingest_paths([path], settings)
        statuses.append(result.status)
        assert dbt_build(settings, select=INCREMENTAL_SELECT).success
        for model in INCREMENTAL:
            assert "delete from" in _last_statement(settings, model)  # built incrementally

        shutil.copyfile(settings.warehouse, full.warehouse)
        assert dbt_build(full, select=INCREMENTAL_SELECT, full_refresh=True).success
        for model in INCREMENTAL:
            assert "delete from" not in _last_statement(full, model)  # rebuilt from all of raw
        differences = _differences(settings, full)
        assert {f"intermediate.{ADDRESSES}", f"marts.{FACT}"} <= set(differences)
        assert len(differences) > 2
        differing = {t: d for t, d in differences.items() if d != (0, 0)}
        assert not differing, f"after {path.name}: (only incremental, only full) {differing}"
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            [(moved_norm,)] = con.execute(
                f"select address_norm from {STAGED} where ticket_id = ?", [moved]
            ).fetchall()
        finally:
            con.close()
        streets.append(_parsed_street(settings, moved_norm))

    assert statuses == [LOADED, LOADED, DUPLICATE, LOADED, LOADED, LOADED]
    # parsed without the street until the reference named it, then parsed again
    assert streets[:4] == [(None,)] * 4 and streets[4:] == [(NEW_STREET,)] * 2
    # linked by the house registered at its address, though not delivered again
    assert _link(settings, unlinked) == ("HZENG0001", "exact")
    assert _parsed_street(settings, moved_address) is None  # named by no record any more
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        after = _staged(con, [*ids, new["ticket_id"]])
    finally:
        con.close()
    assert after[moved]["district"] == other[0]  # the correction, not the older version
    assert after[moved]["received_at"] == correction["received_at"]
    assert after[tied]["department"] == "增量测试承办单位"
    assert after[late]["received_at"] == late_month["received_at"]
    assert new["ticket_id"] in after

    # A table built before its contract gained a column (here: as if `department` were
    # new): the incremental build refuses, since old rows would hold NULL where a
    # rebuild has values, and says what to run; --full-refresh rebuilds it.
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(f'alter table {STAGED} drop column "department"')
    finally:
        con.close()
    refused = dbt_build(settings, select=staging_model_name(TICKETS))
    [failure] = refused.failures
    assert "--full-refresh" in failure.message and "contract changed" in failure.message
    assert dbt_build(settings, select=staging_model_name(TICKETS), full_refresh=True).success
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert "department" in {r[0] for r in con.execute(f"describe {STAGED}").fetchall()}
    finally:
        con.close()
