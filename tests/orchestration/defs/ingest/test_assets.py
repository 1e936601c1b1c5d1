"""The ingest assets materialised by Dagster: exactly the named files, or every pending one."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.run import QUIET_LOGGERS, summarise
from tests.orchestration.helpers import settings_for, ticket, write_tickets

pytestmark = pytest.mark.slow  # real ingest, dbt and Dagster runs: minutes


def _run(settings, config: dict | None = None) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def("ingest_hotline_job")
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        run_config={**QUIET_LOGGERS, **(config or {})},
    )


def _metadata(result) -> dict:
    [mat] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == dg.AssetKey(["raw", "hotline_tickets"])
    ]
    return {k: v.value for k, v in mat.metadata.items()}


@pytest.fixture
def settings(tmp_path: Path):
    return settings_for(tmp_path / "data")


def test_sensor_run_ingests_exactly_the_listed_files(settings) -> None:
    folder = settings.landing_dir / "hotline"
    listed = write_tickets(folder / "12345_工单_20261003.csv", [ticket(1), ticket(2)])
    write_tickets(folder / "12345_工单_20261004.csv", [ticket(3)])  # not listed: stays pending
    result = _run(settings, {"ops": {"ingest_hotline": {"config": {"paths": [str(listed)]}}}})
    assert result.success
    md = _metadata(result)
    assert (md["files_loaded"], md["rows_loaded"]) == (1, 2)
    # The freshness check of the ingested entity runs in the same job and passes.
    fresh = {
        e.asset_key.path[-1]: e.passed
        for e in result.get_asset_check_evaluations()
        if e.check_name == "freshness"
    }
    assert fresh["hotline_tickets"] is True


def test_run_without_paths_ingests_every_pending_file_and_counts_unrecognised_ones(
    settings,
) -> None:
    folder = settings.landing_dir / "hotline"
    write_tickets(folder / "12345_工单_20261003.csv", [ticket(1)])
    (folder / "说明.csv").write_text("完全,无关\n1,2\n", encoding="utf-8")
    first = _run(settings)
    md = _metadata(first)
    assert md["files_loaded"] == 1 and md["files_unrecognised"] == 1
    summary = summarise(first, 0.0)
    assert summary.files["loaded"] == 1 and summary.files["rejected"] == 1
    # Nothing is pending any more: the next run loads nothing.
    assert _metadata(_run(settings))["files_loaded"] == 0
