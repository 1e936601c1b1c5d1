"""GX suites derived from the contracts, validated on small real DuckDB tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from contracts.entities import ENTITIES, entity
from orchestration.defs.quality import suites as quality


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> quality.Validator:
    return quality.Validator(tmp_path_factory.mktemp("gx"))


def _names(rules: list[quality.Rule]) -> dict[str, str]:
    return {r.name: r.severity for r in rules}


@pytest.mark.parametrize("ent", ENTITIES, ids=lambda e: e.name)
def test_every_entity_suite_derives_from_its_contract(ent) -> None:
    rules = _names(quality.staging_rules(ent, previous_rows=100))
    for col in ent.columns:
        if col.minimum is not None:
            assert rules[f"range:{col.canonical}"] == "warning"
    assert rules["row_count_change"] == "warning"
    assert quality.expected_types(ent) == {n: t for n, t, _ in ent.stored_columns()}
    # keys and enumerations are dbt tests (tests/dbt/test_dbt_sources.py), not GX rules
    assert not [r for r in rules if r.startswith(("not_null:", "unique_key:", "accepted_values:"))]


def test_business_rules_cover_time_order_and_floor_area() -> None:
    hotline = _names(quality.business_rules(entity("hotline_tickets")))
    assert hotline == {
        "closed_at_not_before_received_at": "critical",
        "dispatched_at_not_before_received_at": "warning",
    }
    houses = entity("rental_houses")
    assert _names(quality.business_rules(houses)) == {
        "lease_end_not_before_lease_start": "warning",
        "floor_area_sane": "warning",
    }


def test_every_business_rule_names_columns_of_its_entity_contract() -> None:
    for rule in quality.TIME_ORDER:
        stored = {n for n, _, _ in entity(rule.entity).stored_columns()}
        assert {rule.later, rule.earlier} <= stored, rule
    for sane in quality.SANE_RANGES:
        assert sane.column in {n for n, _, _ in entity(sane.entity).stored_columns()}, sane


def _staging(
    con: duckdb.DuckDBPyConnection, rows: str, closed_at: str = "received_at + interval 1 day"
) -> None:
    """A staging.stg table with the hotline contract's columns and types."""
    ent = entity("hotline_tickets")
    cols = ", ".join(f'cast(null as {t}) as "{n}"' for n, t, _ in ent.stored_columns())
    con.execute("create schema if not exists staging")
    con.execute(f"create or replace table staging.stg as select {cols} from range(0) where false")
    con.execute(f"insert into staging.stg by name select * from ({rows})")
    con.execute(f"update staging.stg set closed_at = {closed_at}")


def _run(validator, con) -> dict[str, quality.Outcome]:
    outcomes = quality.validate_staging(
        validator, con, entity("hotline_tickets"), "staging.stg", "r1"
    )
    return {o.check_name: o for o in outcomes}


def test_clean_table_passes_every_expectation(validator, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _staging(
        con,
        "select 'T' || i as ticket_id, timestamp '2026-10-01' + to_hours(i) as received_at, "
        "'电话' as channel, '已办结' as status from range(50) t(i)",
    )
    results = _run(validator, con)
    assert all(o.passed for o in results.values()), [o for o in results.values() if not o.passed]
    assert results["row_count_change"].observed_value == "50"


def test_systematic_closing_before_receiving_blocks(validator, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _staging(
        con,
        "select 'T' || i as ticket_id, timestamp '2026-10-02' as received_at from range(100) t(i)",
        closed_at="case when ticket_id in ('T1', 'T2') then received_at - interval 1 hour "
        "else received_at end",
    )
    results = _run(validator, con)
    rule = results["closed_at_not_before_received_at"]
    assert not rule.passed and rule.severity == "critical"  # 2 % is beyond the 1 % tolerance


def test_wrong_type_or_missing_column_fails_the_schema_check(validator, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _staging(con, "select 'T1' as ticket_id")
    con.execute("alter table staging.stg drop column channel")
    con.execute("alter table staging.stg alter column updated_at type varchar")
    results = _run(validator, con)
    schema = results["columns_and_types"]
    assert not schema.passed and schema.severity == "critical"
    assert "channel: expected VARCHAR, found (missing)" in schema.observed_value
    assert "updated_at: expected TIMESTAMP, found VARCHAR" in schema.observed_value


def test_shrinking_table_warns_against_the_previous_run(validator, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _staging(con, "select 'T' || i as ticket_id from range(100) t(i)")
    quality.record(
        con,
        "r0",
        quality.validate_staging(validator, con, entity("hotline_tickets"), "staging.stg", "r0"),
    )
    _staging(con, "select 'T' || i as ticket_id from range(50) t(i)")
    results = _run(validator, con)
    assert not results["row_count_change"].passed
    assert results["row_count_change"].severity == "warning"


def test_rates_outside_zero_one_are_critical(validator, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema marts")
    con.execute(
        "create table marts.m as select 0.5 as completion_rate, 1.2 as on_time_rate, 7 as items"
    )
    outcomes = {o.check_name: o for o in quality.validate_rates(validator, con, "m", "marts.m")}
    assert set(outcomes) == {"rate_within_0_1:completion_rate", "rate_within_0_1:on_time_rate"}
    assert outcomes["rate_within_0_1:completion_rate"].passed
    assert not outcomes["rate_within_0_1:on_time_rate"].passed


def test_results_are_stored_in_the_quality_schema(validator, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _staging(con, "select 'T1' as ticket_id")
    n = quality.record(con, "run-x", _run(validator, con).values())
    rows = con.execute(
        "select run_id, kind, entity, count(*), bool_and(passed) from quality.check_results "
        "group by all"
    ).fetchall()
    assert rows == [("run-x", "gx", "hotline_tickets", n, True)]
    validator.finish()
    # no Data Docs: they link CDNs and stay unstyled and empty offline (the 数据质量 page
    # shows these results instead; tests/dashboards/test_e2e.py renders it offline)
    assert not list(validator.root.rglob("*.html"))


def test_result_store_keeps_only_recent_results(tmp_path: Path) -> None:
    v = quality.Validator(tmp_path)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _staging(con, "select 'T1' as ticket_id")
    for _ in range(3):
        quality.validate_staging(v, con, entity("hotline_tickets"), "staging.stg", "r")
    store = tmp_path / "gx/uncommitted/validations/hotline_tickets"
    assert len(list(store.glob("*/*"))) == 3
    assert v.prune(keep=2) == 2  # the oldest of hotline_tickets and of its schema suite
    assert len(list(store.glob("*/*"))) == 2


def test_business_rule_whose_column_disappears_fails_instead_of_being_dropped(
    validator, tmp_path: Path
) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _staging(con, "select 'T' || i as ticket_id from range(5) t(i)")
    con.execute("alter table staging.stg drop column closed_at")
    results = _run(validator, con)
    rule = results["closed_at_not_before_received_at"]
    assert not rule.passed and rule.severity == "critical"
    assert "closed_at" in rule.observed_value
    critical_ok, _, _ = quality.summarise(list(results.values()))
    assert not critical_ok


def _bad_batch(con: duckdb.DuckDBPyConnection, ent, rows: int = 20) -> str:
    """staging.bad_<entity>: every rule of the entity's suite is violated on every row."""
    relation = f"staging.bad_{ent.name}"
    types = quality.expected_types(ent)
    values: dict[str, str] = {}
    for col in ent.columns:
        if col.minimum is not None or col.maximum is not None:
            beyond = col.maximum + 1 if col.maximum is not None else col.minimum - 1
            values[col.canonical] = str(beyond)
    for t in (t for t in quality.TIME_ORDER if t.entity == ent.name):
        values[t.earlier] = "timestamp '2026-10-10 08:00'"
        values[t.later] = "timestamp '2026-10-01 08:00'"
    for r in (r for r in quality.SANE_RANGES if r.entity == ent.name):
        assert float(values[r.column]) > r.high  # the contract's bound lies beyond the sane one
    cols = ", ".join(f'cast({values.get(n, "null")} as {t}) as "{n}"' for n, t in types.items())
    con.execute("create schema if not exists staging")
    con.execute(f"create or replace table {relation} as select {cols} from range({rows})")
    # the schema check: a contract column no rule reads goes missing
    used = {c for r in quality.staging_rules(ent, None) for c in r.columns}
    victim = next(n for n in types if n not in used)
    con.execute(f'alter table {relation} drop column "{victim}"')
    # the volume check: the previous run saw ten times as many rows
    quality.record(
        con,
        "before",
        [quality.Outcome(ent.name, "row_count_change", "warning", True, str(rows * 10))],
    )
    return relation


@pytest.mark.slow
@pytest.mark.parametrize("ent", ENTITIES, ids=lambda e: e.name)
def test_every_rule_of_each_suite_fails_on_a_crafted_bad_batch(
    ent, validator, tmp_path: Path
) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    relation = _bad_batch(con, ent)
    outcomes = quality.validate_staging(validator, con, ent, relation, "bad")
    names = {r.name for r in quality.staging_rules(ent, None)} | {"columns_and_types"}
    assert {o.check_name for o in outcomes} == names
    passed = [o.check_name for o in outcomes if o.passed]
    assert passed == [], f"{ent.name}: rules that did not fail on a bad batch: {passed}"
