"""No clear ID number or mobile number from the sample reaches any warehouse text column."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from ingest.load import discover
from ingest.readers import FileRejected, read_export
from ingest.settings import Settings

ID_RE = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])|(?<![0-9])[1-9][0-9]{14}(?![0-9])")
MOBILE_RE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
JOINED_DIGITS = re.compile(r"(?<=[0-9])[ \-](?=[0-9])")


def clear_values_in(landing: Path) -> set[str]:
    """Every ID and mobile number written in the delivered files (separators removed)."""
    found: set[str] = set()
    for path in discover([landing]):
        try:
            records = read_export(path)
        except FileRejected:
            continue
        for column in records.frame.columns:
            for value in records.frame[column].drop_nulls().cast(str).to_list():
                text = JOINED_DIGITS.sub("", value).replace("+86", "")
                found.update(m.upper() for m in ID_RE.findall(text))
                found.update(MOBILE_RE.findall(text))
    return found


def digit_runs_in_warehouse(warehouse: Path) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON')"
        ).fetchall()
        runs: set[str] = set()
        for schema, table, column in columns:
            rows = con.execute(
                f"select distinct unnest(regexp_extract_all(replace(\"{column}\"::varchar, ' ', ''), "
                f'\'[0-9]{{11,}}[0-9Xx]?\')) from "{schema}"."{table}"'
            ).fetchall()
            runs.update(r[0].upper() for r in rows)
        return runs
    finally:
        con.close()


def test_sample_has_personal_numbers_and_none_reach_the_warehouse(
    sample_root: Path, raw_warehouse: Settings
) -> None:
    clear = clear_values_in(sample_root / "landing")
    assert len(clear) > 100  # the scan has something to find
    leaked = clear & digit_runs_in_warehouse(raw_warehouse.warehouse)
    assert not leaked, f"{len(leaked)} clear values in the warehouse, e.g. {sorted(leaked)[:3]}"


def test_the_scan_finds_a_planted_leak(
    sample_root: Path, raw_warehouse: Settings, tmp_path: Path
) -> None:
    clear = sorted(clear_values_in(sample_root / "landing"))
    leaky = tmp_path / "leaky.duckdb"
    con = duckdb.connect(str(leaky))
    con.execute("create table t (note varchar)")
    con.execute("insert into t values (?)", [f"回电 {clear[0]}"])
    con.close()
    assert clear[0] in digit_runs_in_warehouse(leaky)
