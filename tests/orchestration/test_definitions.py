"""The code location: lineage from the landing folders to the dashboards, jobs and resources."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from contracts.entities import ENTITIES, SYSTEMS
from orchestration.definitions import build_definitions
from tests.orchestration.helpers import settings_for


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    return build_definitions(settings_for(tmp_path_factory.mktemp("defs")))


def _upstream(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen, todo = set(), [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_lineage_reads_from_source_systems_to_dashboards(defs) -> None:
    graph = defs.resolve_asset_graph()
    upstream = _upstream(graph, dg.AssetKey("dashboards"))
    assert dg.AssetKey("published_warehouse") in upstream
    assert {dg.AssetKey(["landing", s]) for s in SYSTEMS} <= upstream
    for e in ENTITIES:  # every raw table feeds a staging model (not every one reaches a mart)
        raw = graph.get(dg.AssetKey(["raw", e.name]))
        assert raw.parent_keys == {dg.AssetKey(["landing", e.system])}
        assert any(k.path[-1].startswith("stg_") for k in raw.child_keys), e.name
    # Each staging model reads its raw ingest asset (dbt sources map to the raw asset keys).
    stg = graph.get(dg.AssetKey("stg_hotline__tickets"))
    assert stg.parent_keys == {dg.AssetKey(["raw", "hotline_tickets"])}


def test_dbt_tests_and_gx_suites_are_asset_checks(defs) -> None:
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("stg_hotline__tickets", "gx_critical") in checks
    assert ("stg_hotline__tickets", "gx_warnings") in checks
    assert ("raw/hotline_tickets", "freshness") in checks
    assert any(name.startswith("not_null_") for _, name in checks), "dbt tests as checks"
    assert ("mart_completion_rates", "gx_rates") in checks
    # enumerations are tested on raw, before staging turns unknown values into NULL
    raw_checks = {name for key, name in checks if key == "raw/hotline_tickets"}
    assert any(name.startswith("source_out_of_contract_share_") for name in raw_checks)
    assert any(name.startswith("source_not_null_") for name in raw_checks)


def test_resources_come_from_the_settings(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "d")
    resource = build_definitions(settings).resources["pingan"]
    assert resource.settings == settings


def test_schedule_and_pingan_run_share_one_job(defs) -> None:
    from orchestration.defs.publish.schedules import PIPELINE_JOB

    names = {s.name: s.job_name for s in defs.schedules}
    assert names["daily_build"] == names["monthly_index"] == PIPELINE_JOB
    job = defs.resolve_job_def(PIPELINE_JOB)
    assert {
        "ingest_hotline",
        "dbt_staging",
        "gx_staging",
        "dbt_marts",
        "published_warehouse",
    } <= set(job.graph.node_names())


def test_runs_that_write_the_warehouse_are_queued_one_at_a_time(
    defs, tmp_path: Path, monkeypatch
) -> None:
    from orchestration.instance import prepare_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # restored after the test
    home = prepare_dagster_home(settings_for(tmp_path / "data"))
    assert home == tmp_path / "data" / "dagster"
    with dg.DagsterInstance.get() as instance:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert {"key": "pingan/warehouse", "limit": 1} in limits
    for job in defs.jobs:
        assert job.tags.get("pingan/warehouse") == "write", job.name


def test_the_bulletin_follows_the_monthly_run_not_the_daily_build(defs) -> None:
    from orchestration.defs.publish.schedules import PIPELINE_JOB

    daily = defs.resolve_job_def(PIPELINE_JOB).asset_layer.executable_asset_keys
    assert dg.AssetKey("bulletin") not in daily
    assert defs.resolve_sensor_def("bulletin_after_monthly_index").job_name == "bulletin_job"
