"""The whole Dagster graph, materialised in-process on the sample (real ingest, dbt, GX, publish)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from contracts.entities import ENTITIES
from contracts.settings import Settings
from orchestration.defs.publish.snapshot import published_version
from orchestration.failures import failure_log
from orchestration.run import execute, run_pipeline, summarise
from tests.conftest import RecordedRun
from tests.orchestration.helpers import settings_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def first_run(
    pipeline_run: Path, pipeline_run_record: RecordedRun, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, RecordedRun]:
    """A data dir after one `pingan run` over the sample (the job in-process, with its
    plain progress): the session's shared run (tests/conftest.py), copied, and what its
    result said.

    The copy's ``landing/`` is a link to the shared run's: the ledger keeps the resolved
    paths ingest read, so a second run on the copy meets the files the first run loaded,
    as it would in the first run's own folder (a copied ``landing/`` would be new paths
    holding known bytes: duplicates). Nothing in a run writes to ``landing/``."""
    data_dir = tmp_path_factory.mktemp("pipeline") / "data"
    shutil.copytree(
        pipeline_run,
        data_dir,
        symlinks=True,
        ignore=lambda folder, _: ["landing"] if Path(folder) == pipeline_run else [],
    )
    (data_dir / "landing").symlink_to(pipeline_run / "landing", target_is_directory=True)
    return settings_for(data_dir), pipeline_run_record


def test_run_progress_counts_what_the_run_did(first_run) -> None:
    _, run = first_run
    summary = run.summary
    totals = {line.split(":")[0]: line for line in run.progress if " in " in line}
    loaded_rows = f"{summary.rows_loaded:,} rows"
    assert totals["files"].startswith("files: ") and loaded_rows in totals["files"]
    assert totals["dbt models"].startswith(f"dbt models: {summary.dbt_models:,}/")
    assert totals["publish"].startswith("publish: 1/1")
    assert totals["checks"].startswith(f"checks: {run.check_evaluations:,}/")
    assert any(line.startswith("step ingest_hotline: done") for line in run.progress)


def test_whole_graph_materialises_and_publishes(first_run) -> None:
    from orchestration.definitions import build_definitions

    settings, run = first_run
    summary = run.summary
    assert summary.success, summary.failures
    materialised = run.materialised
    graph = build_definitions(settings).resolve_asset_graph()
    expected = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    # the notice documents are written by their own job after the monthly index run
    # (tests/orchestration/defs/notices/test_assets.py), not by the daily pipeline
    # and so is the bulletin (tests/orchestration/defs/bulletin/test_assets.py)
    from orchestration.defs.bulletin.assets import BULLETIN_KEY
    from orchestration.defs.notices.assets import NOTICES_KEY

    assert expected - {dg.AssetKey("dashboards"), NOTICES_KEY, BULLETIN_KEY} <= materialised
    assert {dg.AssetKey(["raw", e.name]) for e in ENTITIES} <= materialised
    assert summary.files["loaded"] > 0 and summary.files["rejected"] == 0
    assert summary.dbt_models > 20 and summary.dbt_tests["failed"] == 0
    assert summary.gx["failed"] == 0 and summary.gx["passed"] >= len(ENTITIES)
    assert summary.published_version == published_version(settings)


def test_published_snapshot_holds_marts_quality_and_ledger(first_run) -> None:
    settings, run = first_run
    con = duckdb.connect(str(settings.published_warehouse), read_only=True)
    try:
        assert con.execute("select run_id from meta.publication").fetchone() == (
            run.summary.run_id,
        )
        marts = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        assert {"fct_hotline_tickets", "mart_completion_rates", "mart_safety_index"} <= marts
        kinds = dict(
            con.execute(
                "select kind, count(distinct entity) from quality.check_results "
                "where run_id = ? group by kind",
                [run.summary.run_id],
            ).fetchall()
        )
        assert kinds["gx"] >= len(ENTITIES) and kinds["freshness"] == len(ENTITIES)
        files = con.execute("select count(*) from raw.load_ledger").fetchone()[0]
        assert files == sum(1 for p in (settings.landing_dir).rglob("*") if p.is_file())
    finally:
        con.close()
    # GX keeps its results; no Data Docs (CDN-linked pages, unreadable offline): the
    # results are on the 数据质量 page
    assert list((settings.data_dir / "gx/uncommitted/validations").rglob("*.json"))
    assert not list(settings.data_dir.rglob("*.html"))
    # The run is recorded in the instance under the data dir (what the Dagster UI shows).
    assert (settings.data_dir / "dagster" / "dagster.yaml").exists()
    assert any((settings.data_dir / "dagster").rglob("*.db"))


READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb
    path, stop = sys.argv[1], sys.argv[2]
    seen, errors, reads = set(), [], 0
    while not os.path.exists(stop):
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                version, run_id = con.execute("select version, run_id from meta.publication").fetchone()
                n = con.execute("select count(*) from marts.fct_hotline_tickets").fetchone()[0]
                m = con.execute("select count(*) from marts.mart_completion_rates").fetchone()[0]
            finally:
                con.close()
            seen.add(version)
            reads += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.02)
    print(json.dumps({"reads": reads, "seen": sorted(seen), "errors": errors[:5]}))
    """
)


def test_readers_never_blocked_during_a_full_run_and_see_old_or_new(first_run) -> None:
    settings, run = first_run
    first = run.summary
    old = published_version(settings)
    stop = settings.data_dir / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.published_warehouse), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        result, seconds = execute(settings)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    second = summarise(result, seconds)
    report = json.loads(out)
    assert result.success, second.failures
    assert report["errors"] == [] and report["reads"] > 10
    new = published_version(settings)
    assert new != old and set(report["seen"]) <= {old, new}
    # Nothing new landed: the second run loads no file and does not grow the ledger.
    assert second.files["loaded"] == 0 and second.files["duplicate"] == 0
    assert first.files["loaded"] > 0


def test_blocking_check_failure_keeps_marts_and_published_snapshot(
    first_run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = first_run
    settings = settings_for(tmp_path / "data")
    # landing/ stays a link to the shared run's: its files are known, nothing new lands
    shutil.copytree(source.data_dir, settings.data_dir, symlinks=True)
    before = published_version(settings)
    con = duckdb.connect(str(settings.warehouse))
    try:
        marts_before = con.execute("select count(*) from marts.fct_hotline_tickets").fetchone()
        # A systematic defect: 10 % of tickets closed a day before they were received.
        con.execute(
            "update raw.hotline_tickets set closed_at = received_at - interval 1 day "
            "where received_at is not null and hash(ticket_id) % 10 = 0"
        )
    finally:
        con.close()

    # raw was rewritten in place, which no delivery does: the weekly full refresh is what
    # rebuilds staging from all of it (an incremental run sees only new deliveries)
    assert run_pipeline(settings, full_refresh=True) == 1
    out, err = capsys.readouterr()
    assert "gx_critical" in err and "closed_at_not_before_received_at" in err
    assert "Traceback" not in out + err

    assert published_version(settings) == before
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert (
            con.execute("select count(*) from marts.fct_hotline_tickets").fetchone() == marts_before
        )
        failed = con.execute(
            "select count(*) from quality.check_results where not passed and severity = 'critical' "
            "and check_name = 'closed_at_not_before_received_at'"
        ).fetchone()
        assert failed == (1,)
    finally:
        con.close()
    [line] = failure_log(settings).read_text(encoding="utf-8").splitlines()
    assert "closed_at_not_before_received_at" in json.loads(line)["message"]
