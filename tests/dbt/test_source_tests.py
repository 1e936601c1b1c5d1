"""The dbt tests fail on crafted bad batches: enumerations on raw, keys on staging.

Enumerations are tested on the raw sources (``out_of_contract_share``), where values
outside the contract are still visible: staging turns them into NULL, after which
no value test can see them. Keys are tested on the raw sources (not null) and on the
staging models (unique and not null, after the newest version per key is chosen).
Each test runs real ``dbt build``/``dbt test`` on a tiny warehouse written by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from contracts.entities import ENTITIES, entity
from contracts.settings import Settings
from orchestration.defs.dbt.build import dbt_build
from orchestration.defs.dbt.runner import dbt_args, run_quietly, run_results, target_dir
from tests.dbt.raw_rows import make_warehouse

pytestmark = pytest.mark.slow

OUTSIDE = "不在约定内"


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")


def _tests_by_id(settings: Settings) -> dict[str, dict[str, Any]]:
    """Test unique id -> (test name, table, column) from the run's manifest."""
    manifest = json.loads((target_dir(settings) / "manifest.json").read_text("utf-8"))
    out = {}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            parents = node["depends_on"]["nodes"]
            out[uid] = {
                "test": node["test_metadata"]["name"],
                "table": parents[0].rsplit(".", 1)[-1] if parents else None,
                "column": node.get("column_name"),
                "file": Path(node["path"]).name,
            }
    return out


def _key_value(ent_name: str, key: str, i: int) -> object:
    typ = dict((n, t) for n, t, _ in entity(ent_name).stored_columns())[key]
    return 2026 if typ == "BIGINT" else f"K{i}"


def _row(ent_name: str, i: int, **values: object) -> dict[str, object]:
    ent = entity(ent_name)
    row: dict[str, object] = {k: _key_value(ent_name, k, i) for k in ent.key}
    if len(ent.key) > 1:  # composite keys: vary the text part
        row[next(k for k in ent.key if isinstance(row[k], str))] = f"K{i}"
    row.update(values)
    return row


# ---------------------------------------------------------------- every suite fails


@pytest.fixture(scope="module")
def every_source_bad(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Any]:
    """Every entity: every enumeration outside its contract, and one row without its key."""
    settings = _settings(tmp_path_factory.mktemp("bad_sources"))
    deliveries = {}
    for ent in ENTITIES:
        enums = {c.canonical: OUTSIDE for c in ent.columns if c.kind == "enum"}
        rows = [_row(ent.name, i, **enums) for i in range(10)]
        rows.append({**rows[0], **{k: None for k in ent.key if ent.column(k).required}})
        deliveries[ent.name] = [(1, rows)]
    make_warehouse(settings.warehouse, deliveries)
    return settings, dbt_build(settings, select="source:*")


def test_every_source_test_fails_on_a_crafted_bad_batch(every_source_bad) -> None:
    settings, result = every_source_bad
    assert not result.success
    tests = _tests_by_id(settings)
    failed = {f.node for f in result.failures if f.resource_type == "test"}
    expected = set()
    for ent in ENTITIES:
        for col in ent.columns:
            if col.kind == "enum":
                expected.add((ent.name, col.canonical, "out_of_contract_share"))
        for k in ent.key:
            if ent.column(k).required:
                expected.add((ent.name, k, "not_null"))
    source_tests = {
        (t["table"], t["column"], t["test"]): uid
        for uid, t in tests.items()
        if t["test"] in ("out_of_contract_share", "not_null")
        and uid.split(".")[2].startswith("source_")
    }
    assert expected <= set(source_tests), expected - set(source_tests)
    not_failed = sorted(e for e in expected if source_tests[e] not in failed)
    assert not_failed == [], f"source tests that passed a bad batch: {not_failed}"


# ---------------------------------------------------------------- tolerated share


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Any]:
    """200 tickets: 1 unknown channel (0.5 %), 50 unknown statuses (25 %), a null key."""
    settings = _settings(tmp_path_factory.mktemp("hotline_sources"))
    rows = [
        _row(
            "hotline_tickets",
            i,
            channel="传真" if i == 7 else "电话",
            status="办结" if i < 50 else "已办结",
            request_type="投诉",
        )
        for i in range(200)
    ]
    rows.append({"ticket_id": None, "channel": "电话", "status": "已办结"})
    make_warehouse(settings.warehouse, {"hotline_tickets": [(1, rows)]})
    return settings, dbt_build(settings, select="source:hotline.hotline_tickets")


def _outcome(settings: Settings, result, column: str, test: str) -> str:
    tests = _tests_by_id(settings)
    uid = next(
        u
        for u, t in tests.items()
        if (t["table"], t["column"], t["test"]) == ("hotline_tickets", column, test)
    )
    if any(f.node == uid for f in result.failures):
        return "error"
    if any(w.startswith(f"WARN {uid}:") for w in result.warnings):
        return "warn"
    return "pass"


def _rows_of_test(settings: Settings, column: str) -> list[tuple]:
    """Run the compiled SQL of the column's out_of_contract_share test on the warehouse."""
    name = next(
        t["file"]
        for t in _tests_by_id(settings).values()
        if (t["table"], t["column"], t["test"])
        == ("hotline_tickets", column, "out_of_contract_share")
    )
    (path,) = (target_dir(settings) / "compiled").rglob(name)
    sql = path.read_text(encoding="utf-8")
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(f"select value, occurrences, failure_level from ({sql})").fetchall()
    finally:
        con.close()


def test_an_unknown_value_within_the_tolerated_share_warns_and_names_it(hotline) -> None:
    settings, result = hotline
    assert _outcome(settings, result, "channel", "out_of_contract_share") == "warn"
    assert _rows_of_test(settings, "channel") == [("传真", 1, 1)]


def test_unknown_values_beyond_the_tolerated_share_fail_the_build(hotline) -> None:
    settings, result = hotline
    assert not result.success
    assert _outcome(settings, result, "status", "out_of_contract_share") == "error"
    assert _rows_of_test(settings, "status") == [("办结", 50, 2)]


def test_values_within_the_contract_pass(hotline) -> None:
    settings, result = hotline
    assert _outcome(settings, result, "request_type", "out_of_contract_share") == "pass"


def test_a_raw_row_without_its_key_fails_the_source_key_test(hotline) -> None:
    settings, result = hotline
    assert _outcome(settings, result, "ticket_id", "not_null") == "error"


# ---------------------------------------------------------------- keys on staging


def _dbt_test(settings: Settings, select: str) -> list[tuple[str, str]]:
    """``dbt test`` on ``select``: (test name, status) of every test run."""
    run_quietly(settings, dbt_args(settings, "test", select=select))
    results = run_results(settings)
    assert results is not None, f"dbt test did not run: see {settings.data_dir}/dbt/logs"
    tests = _tests_by_id(settings)
    return [(tests[r["unique_id"]]["test"], str(r["status"])) for r in results["results"]]


def test_null_and_duplicate_keys_fail_the_staging_key_tests(hotline) -> None:
    settings, _ = hotline
    built = dbt_build(settings, select="stg_hotline__tickets")
    # the raw row without its key survives as its own "newest version"
    assert not built.success
    assert "not_null" in built.summary and "stg_hotline__tickets" in built.summary
    con = duckdb.connect(str(settings.warehouse))
    try:  # a staging relation that lost its newest-version step: every row twice
        con.execute(
            "create or replace table staging.stg_hotline__tickets as "
            "select * from staging.stg_hotline__tickets where ticket_id is not null "
            "union all select * from staging.stg_hotline__tickets where ticket_id is not null"
        )
    finally:
        con.close()
    statuses = dict(_dbt_test(settings, "stg_hotline__tickets"))
    assert statuses["unique"] == "fail"
    assert statuses["not_null"] == "pass"
