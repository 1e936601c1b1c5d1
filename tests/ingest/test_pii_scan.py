"""No clear ID number or mobile number from the sample reaches any warehouse text column."""

from __future__ import annotations

from pathlib import Path

import duckdb

from contracts.settings import Settings
from ingest.load import discover
from ingest.pii import digit_runs, personal_numbers
from ingest.readers import FileRejected, read_export


def clear_values_in(landing: Path) -> set[str]:
    """Every ID and phone number written in the delivered files, in any form (digits only).

    Found by the recogniser ingest masks with (ingest/pii.py), in every column.
    """
    found: set[str] = set()
    for path in discover([landing]):
        try:
            records = read_export(path)
        except FileRejected:
            continue
        for column in records.frame.columns:
            found |= personal_numbers(records.frame[column])
    return found


def digit_runs_in_warehouse(warehouse: Path) -> set[str]:
    """Every digit run (any separators, full-width folded) in the warehouse's text columns."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON')"
        ).fetchall()
        runs: set[str] = set()
        for schema, table, column in columns:
            values = con.sql(
                f'select distinct "{column}"::varchar as v from "{schema}"."{table}" '
                f"where regexp_matches(\"{column}\"::varchar, '[0-9０-９]')"
            ).pl()["v"]
            runs |= digit_runs(values)
        return runs
    finally:
        con.close()


def leaked(clear: set[str], runs: set[str]) -> set[str]:
    """The clear values that some run holds (a run may hold several numbers in a row)."""
    return {c for c in clear if any(c in r for r in runs if len(r) >= len(c))}


def test_sample_has_personal_numbers_and_none_reach_the_warehouse(
    sample_root: Path, raw_warehouse: Settings
) -> None:
    clear = clear_values_in(sample_root / "landing")
    assert len(clear) > 100  # the scan has something to find
    leaks = leaked(clear, digit_runs_in_warehouse(raw_warehouse.warehouse))
    assert not leaks, f"{len(leaks)} clear values in the warehouse, e.g. {sorted(leaks)[:3]}"


def test_the_scan_finds_a_planted_leak(
    sample_root: Path, raw_warehouse: Settings, tmp_path: Path
) -> None:
    clear = sorted(clear_values_in(sample_root / "landing"))
    leaky = tmp_path / "leaky.duckdb"
    con = duckdb.connect(str(leaky))
    con.execute("create table t (note varchar)")
    spaced = " ".join(clear[0])  # written with a space between every digit
    con.execute("insert into t values (?)", [f"回电 {spaced}"])
    con.close()
    assert leaked({clear[0]}, digit_runs_in_warehouse(leaky)) == {clear[0]}
