"""The data-access module: row-level security in the query, parameters, snapshot versions."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from contracts.settings import Settings
from dashboards import data
from orchestration.defs.publish.snapshot import publish
from tests.snapshots import copy_published

LEADER = data.Scope("leader")
# The officer of the district the snapshot alerts in its last month (tests/snapshots.py).
OFFICER = data.Scope("district", "通州区")
OTHER = "崇川区"


def _months() -> list[str]:
    return data.index_months()


def _only_own_district(df) -> None:
    assert not df.empty, "the check is vacuous on an empty result"
    assert set(df["district"].dropna()) == {OFFICER.district}


def test_officer_scope_limits_every_district_query_to_the_own_district(dash_settings):
    months = _months()
    month = months[-1]
    _only_own_district(data.index_units(OFFICER, month, "district"))
    _only_own_district(data.index_units(OFFICER, month, "street"))
    _only_own_district(data.completion_breakdown(OFFICER, months, "hotline", "street"))
    _only_own_district(data.overdue_items(OFFICER, "hotline", months))
    _only_own_district(data.leads(OFFICER))
    _only_own_district(data.alerts(OFFICER, months))
    assert data.districts(OFFICER) == [OFFICER.district]
    # the leader sees the other districts, so the checks above are not vacuous
    assert OTHER in set(data.leads(LEADER)["district"])
    assert OTHER in set(data.index_units(LEADER, month, "district")["district"])


def test_asking_for_another_district_returns_nothing_to_an_officer(dash_settings):
    months = _months()
    assert data.index_units(OFFICER, months[-1], "street", OTHER).empty
    assert data.completion_breakdown(OFFICER, months, "hotline", "street", OTHER).empty
    assert data.completion_breakdown(OFFICER, months, "hotline", "department", OTHER).empty
    assert data.overdue_items(OFFICER, "grid", months, OTHER).empty
    assert data.leads(OFFICER, OTHER).empty
    assert data.alerts(OFFICER, months, district=OTHER).empty
    assert data.streets(OFFICER, OTHER) == []
    assert data.unit_trend(OFFICER, OTHER).empty
    assert data.unit_components(OFFICER, OTHER, months[-1]).empty


def test_another_districts_lead_and_its_records_are_invisible_to_an_officer(dash_settings):
    lead = data.leads(LEADER, OTHER).iloc[0]
    assert data.lead(OFFICER, lead["lead_id"]).empty
    assert all(df.empty for df in data.lead_records(OFFICER, lead["house_id"]).values())
    assert not data.lead(LEADER, lead["lead_id"]).empty
    assert any(not df.empty for df in data.lead_records(LEADER, lead["house_id"]).values())


def test_officer_headline_index_is_the_own_districts_index(dash_settings):
    head = data.headline_index(OFFICER)
    own = data.unit_trend(LEADER, OFFICER.district)
    assert head["safety_index"].tolist() == pytest.approx(own["safety_index"].tolist())
    assert (head["districts"] == 1).all()


def test_city_headline_index_is_the_population_weighted_mean_of_districts(dash_settings):
    month = _months()[-1]
    units = data.index_units(LEADER, month, "district")
    expected = (units["safety_index"] * units["population"]).sum() / units["population"].sum()
    head = data.headline_index(LEADER)
    assert head.loc[head["month"] == month, "safety_index"].iloc[0] == pytest.approx(expected)


def test_completion_rates_sum_counts_before_dividing(dash_settings):
    """A district's rate over several months is its summed closed items over its summed
    due items (not a mean of monthly rates), as an independent query of the mart's
    monthly rows gives it; the city's likewise."""
    months = _months()
    by_district = data.completion_breakdown(LEADER, months, "hotline", "district")
    con = duckdb.connect(str(dash_settings.published_warehouse), read_only=True)
    try:
        monthly = con.execute(
            "select region_level, region_key, month, items_due, items_closed, completion_rate "
            "from marts.mart_completion_rates where stream = 'hotline' and breakdown = 'all' "
            "and region_level in ('city', 'district') and list_contains(?, month)",
            [months],
        ).df()
    finally:
        con.close()
    sums = monthly.groupby(["region_level", "region_key"])[["items_due", "items_closed"]].sum()
    district = sums.loc["district"]
    expected = (district["items_closed"] / district["items_due"]).to_dict()
    assert by_district.set_index("region_key")["completion_rate"].to_dict() == pytest.approx(
        expected
    )
    # the months' rates differ, so a mean of them would not do
    assert monthly.query("region_level == 'city'")["completion_rate"].nunique() > 1
    city = data.completion_period_by_stream(LEADER, months).set_index("stream")
    due, closed = sums.loc[("city", "全市")]
    assert city.loc["hotline", "completion_rate"] == pytest.approx(closed / due)
    assert city.loc["hotline", "items_due"] == due


def test_monthly_completion_rates_are_the_marts_own(dash_settings):
    """The rate formulas live in mart_completion_rates: a month's rates are read, not
    recomputed; a period's are the same ratios over its summed counts."""
    months = data.completion_months()
    con = duckdb.connect(str(dash_settings.published_warehouse), read_only=True)
    try:
        mart = con.execute(
            "select month, stream, completion_rate, on_time_rate, satisfaction_rate "
            "from marts.mart_completion_rates where region_level = 'city' "
            "and breakdown = 'all' order by month, stream"
        ).df()
    finally:
        con.close()
    page = data.completion_by_stream(LEADER, months)[list(mart.columns)]
    pd.testing.assert_frame_equal(page, mart, check_dtype=False)
    period = data.completion_period_by_stream(LEADER, months).set_index("stream")
    by_month = data.completion_by_stream(LEADER, months).groupby("stream")
    due = by_month["items_due"].sum()
    assert period["completion_rate"].to_dict() == pytest.approx(
        (by_month["items_closed"].sum() / due).to_dict()
    )


def test_widget_values_are_parameters_not_sql(dash_settings):
    hostile = "崇川区' or '1'='1"
    assert data.leads(LEADER, hostile).empty
    assert data.alerts(LEADER, ["2026-10' or 1=1 --"]).empty
    assert data.lead(LEADER, "x' or lead_id is not null --").empty


def test_unknown_breakdown_is_refused_rather_than_formatted_into_sql(dash_settings):
    with pytest.raises(ValueError, match="breakdown"):
        data.completion_breakdown(LEADER, _months(), "hotline", "district; drop table x")


def test_data_quality_is_closed_to_district_officers(dash_settings):
    for call in (
        lambda s: data.load_ledger(s),
        lambda s: data.rejected_rows(s),
        lambda s: data.row_warnings(s),
        lambda s: data.quality_tables(s),
    ):
        with pytest.raises(data.AccessDenied):
            call(OFFICER)
        call(data.Scope("analyst"))


def test_source_freshness_groups_entities_by_system_and_takes_lateness_from_the_checks(
    dash_settings,
):
    from contracts.entities import ENTITIES_BY_NAME, FRESHNESS_KIND

    con = duckdb.connect(str(dash_settings.published_warehouse), read_only=True)
    try:
        ledger = con.execute(
            "select entity, status, rows_rejected, ingested_at from raw.load_ledger "
            "where entity is not null"
        ).df()
        checks = con.execute(
            "select entity, passed, checked_at from quality.check_results where kind = ? "
            "and run_id = (select run_id from quality.check_results where kind = ? "
            "order by checked_at desc limit 1)",
            [FRESHNESS_KIND, FRESHNESS_KIND],
        ).df()
    finally:
        con.close()
    ledger["system"] = ledger["entity"].map(lambda e: ENTITIES_BY_NAME[e].system)
    fresh = data.source_freshness().set_index("system")
    assert set(fresh.index) == set(ledger["system"]) >= {"hotline", "grid", "police", "rental"}
    # every file of a system counts, the sample's resent duplicates included
    rental = ledger[ledger["system"] == "rental"]
    assert (rental["status"] == "duplicate").any()
    assert fresh.loc["rental", "files"] == len(rental)
    hotline_rejected = ledger.loc[ledger["system"] == "hotline", "rows_rejected"].sum()
    assert hotline_rejected > 0  # the sample's quirks leave rejected rows
    assert fresh.loc["hotline", "rows_rejected"] == hotline_rejected
    # lateness is what the latest run's freshness checks recorded, per system
    assert not checks.empty
    checks["system"] = checks["entity"].map(lambda e: ENTITIES_BY_NAME[e].system)
    late = checks.groupby("system")["passed"].apply(lambda p: int((~p).sum())).to_dict()
    assert fresh["late_entities"].astype(int).to_dict() == {s: late.get(s, 0) for s in fresh.index}
    checked_at = checks.groupby("system")["checked_at"].max()
    assert {s: fresh.loc[s, "checked_at"] for s in checked_at.index} == checked_at.to_dict()


def publishing_into(data_dir: Path, built: Settings) -> Settings:
    """Settings that publish ``built``'s working warehouse into ``data_dir/published``."""
    return Settings(data_dir=data_dir, warehouse=built.warehouse)


def test_a_new_publish_is_read_at_the_next_query(snapshot_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("PINGAN_DATA_DIR", str(tmp_path))
    settings = publishing_into(tmp_path, snapshot_settings)
    first = publish(settings).version
    assert data.publication()["version"] == first
    second = publish(settings).version  # replaced atomically
    assert second != first
    assert data.publication()["version"] == second


def test_missing_snapshot_is_a_one_line_actionable_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PINGAN_DATA_DIR", str(tmp_path))
    with pytest.raises(data.SnapshotMissing, match="pingan run"):
        data.publication()


def test_snapshot_is_opened_read_only(dash_settings):
    data.publication()
    con = next(
        c for k, c in data._connections.items() if k[0].startswith(str(dash_settings.data_dir))
    )
    with pytest.raises(duckdb.Error):
        con.execute("create table marts.x (a int)")


# The warnings of the latest run, by entity: the sample's hotline dispatches dated
# without a time (a quirk of the simulator) and the crafted floor areas
# (orchestration.quality.TIME_ORDER and SANE_RANGES).
WARNINGS = ["dispatched_at_not_before_received_at", "floor_area_sane"]
MODELS_DIR = Path(__file__).resolve().parents[2] / "dbt_project/models"
# the models of schema marts: marts/<domain>/ and the evaluation marts beside them
MARTS_DIRS = (MODELS_DIR / "marts", MODELS_DIR / "evaluation")
CONTRACT = MODELS_DIR / "marts" / "core" / "_core__models.yml"
SEEDS_DIR = MODELS_DIR.parent / "seeds"


@pytest.mark.skipif(not CONTRACT.exists(), reason="marts contract not in this checkout")
def test_published_snapshot_uses_only_columns_of_the_marts_contract(snapshot_root):
    """Every column the pipeline publishes in ``marts`` (what the dashboards read) is a
    documented mart column, or a column of a documented seed (dbt builds the seeds, the
    business constants, into the marts schema)."""
    # every properties file of the marts (one per folder: core, group_rental, notices, ...)
    # and of the seeds
    files = [p for d in MARTS_DIRS for p in sorted(d.rglob("*.yml"))]
    files += sorted(SEEDS_DIR.glob("*.yml"))
    contract = {
        m["name"]: {c["name"] for c in m.get("columns", [])}
        for path in files
        for doc in [yaml.safe_load(path.read_text(encoding="utf-8")) or {}]
        for m in [*doc.get("models", []), *doc.get("seeds", [])]
    }
    con = duckdb.connect(str(snapshot_root / "published" / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts'"
        ).fetchall()
    finally:
        con.close()
    unknown = sorted(f"{t}.{c}" for t, c in rows if t not in contract or c not in contract[t])
    assert unknown == []


def _runs(settings: Settings) -> list[tuple[str, int]]:
    """(run_id, failed critical checks) of each quality run in the snapshot, oldest first."""
    con = duckdb.connect(str(settings.published_warehouse), read_only=True)
    try:
        return con.execute(
            "select run_id, count(*) filter (not passed and severity = 'critical') "
            "from quality.check_results group by run_id order by max(checked_at)"
        ).fetchall()
    finally:
        con.close()


def test_quality_summary_reads_the_latest_runs_checks(dash_settings):
    # one run built the snapshot (tests/snapshots.py): no critical failure (it published),
    # the sample's own warning and the crafted floor areas' one
    runs = _runs(dash_settings)
    summary = data.check_summary(data.Scope("analyst"))
    assert set(summary["run_id"]) == {runs[-1][0]}
    assert summary["failed_critical"].sum() == runs[-1][1] == 0
    warned = summary.groupby("entity")["failed_warning"].sum()
    assert warned["rental_houses"] == 1  # the houses keyed in at 1500 m²
    failures = data.check_failures(data.Scope("analyst"))
    assert failures["check_name"].tolist() == WARNINGS


def test_quality_summary_reads_only_the_latest_run(snapshot_settings, tmp_path, monkeypatch):
    """After the snapshot's run, Dagster's hourly freshness job records a run of its own
    (freshness checks only) and a publish follows: the page shows that run's checks alone,
    the earlier run's warnings (the crafted floor areas) no longer count."""
    import shutil

    from contracts.entities import ENTITIES
    from orchestration.definitions import build_definitions
    from orchestration.defs.publish.schedules import freshness_job

    monkeypatch.setenv("PINGAN_DATA_DIR", str(tmp_path))
    settings = Settings(data_dir=tmp_path, warehouse=tmp_path / "warehouse.duckdb")
    shutil.copyfile(snapshot_settings.warehouse, settings.warehouse)
    job = build_definitions(settings).resolve_job_def(freshness_job.name)
    result = job.execute_in_process()
    assert result.success
    publish(settings)
    (earlier, _), (latest, _) = _runs(settings)
    assert latest == result.run_id != earlier
    summary = data.check_summary(data.Scope("analyst"))
    assert set(summary["run_id"]) == {latest}
    assert set(summary["kind"]) == {"freshness"}
    assert summary["checks"].sum() == len(ENTITIES)
    assert "floor_area_sane" not in set(data.check_failures(data.Scope("analyst"))["check_name"])


def test_quality_details_list_every_check_of_the_latest_run_failures_first(dash_settings):
    """What GX Data Docs showed, on the 数据质量 page (Data Docs need CDNs, see quality)."""
    details = data.check_details(data.Scope("analyst"))
    summary = data.check_summary(data.Scope("analyst"))
    assert len(details) == summary["checks"].sum()
    failed = len(WARNINGS)
    assert details.iloc[:failed]["check_name"].tolist() == WARNINGS
    assert not details.iloc[:failed]["passed"].any() and details.iloc[failed:]["passed"].all()
    with pytest.raises(data.AccessDenied):
        data.check_details(data.Scope("district", "崇川区"))


def test_completion_cohorts_beyond_the_last_month_of_data_are_not_offered(
    snapshot_settings, tmp_path, monkeypatch
):
    monkeypatch.setenv("PINGAN_DATA_DIR", str(tmp_path / "data"))
    path = copy_published(snapshot_settings, tmp_path / "data").published_warehouse
    months = data.completion_months()
    staged = copy_published(snapshot_settings, tmp_path / "staging").published_warehouse
    con = duckdb.connect(str(staged))
    try:  # a partial cohort: items due next month
        con.execute("update meta.publication set version = 'v2'")
        con.execute(
            "insert into marts.mart_completion_rates by name "
            "select '2026-11' as month, 'city' as region_level, '全市' as region_key, "
            "'hotline' as stream, 'all' as breakdown, '全部' as breakdown_value, 5 as items_due"
        )
    finally:
        con.close()
    os.replace(staged, path)  # published like publish_snapshot does
    assert data.publication()["version"] == "v2"
    assert "2026-11" not in data.completion_months()
    assert data.completion_months() == months


def test_the_connection_to_a_replaced_snapshot_is_closed_at_the_next_query(
    snapshot_settings, tmp_path, monkeypatch
):
    monkeypatch.setenv("PINGAN_DATA_DIR", str(tmp_path))
    settings = publishing_into(tmp_path, snapshot_settings)
    for _ in range(3):
        version = publish(settings).version
        assert data.publication()["version"] == version
    mine = [k for k in data._connections if k[0] == str(settings.published_warehouse)]
    assert len(mine) == 1
