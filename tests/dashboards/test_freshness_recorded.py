"""The 数据质量 page and the bulletin show the freshness Dagster recorded, not their own.

On a copy of the session's ``pingan run`` where the 12345 hotline's last delivery is
three days old (a daily source may be 36 hours late), Dagster's freshness check fails
for it, and the published page (Streamlit's AppTest) and the bulletin say so, with the
time the run checked. An entity the latest run has no result for is 未检查.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from contracts.entities import ENTITIES, ENTITIES_BY_NAME, FRESHNESS_KIND, SYSTEM_LABELS
from contracts.settings import Settings
from dashboards import data, fmt
from tests.dashboards.test_pages import open_page, start

pytestmark = pytest.mark.slow

LATE = "hotline_tickets"  # the only entity of its system, so the whole system is late
UNCHECKED = "centre_notice_feedback"  # likewise alone in its system


def _serve(published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private data dir whose dashboards read ``published`` (the access log is its own)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.symlink(published, data_dir / "published")
    monkeypatch.setenv("PINGAN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PINGAN_DASHBOARD_USERS", raising=False)
    monkeypatch.delenv("PINGAN_DASHBOARD_CONFIG", raising=False)


@pytest.fixture(scope="module")
def late_run(run_copy_of):
    """A copy of the session's ``pingan run`` where the hotline's deliveries were ingested
    three days before; then Dagster's hourly freshness job (``hourly_freshness``: the
    pipeline's own ``source_freshness`` check, nothing rebuilt) and the publish the
    pipeline ends with. A second whole ``pingan run`` would check the same way but
    rebuild every dbt model (about five minutes on the shared CI machine)."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.defs.publish.schedules import freshness_job
    from orchestration.defs.publish.snapshot import publish
    from orchestration.run import QUIET_LOGGERS

    settings: Settings = run_copy_of("late_hotline")
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(
            "update raw.load_ledger set ingested_at = ingested_at - interval 3 day "
            "where entity = ?",
            [LATE],
        )
    finally:
        con.close()
    job = build_definitions(settings).resolve_job_def(freshness_job.name)
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=QUIET_LOGGERS
    )
    assert result.success
    publish(settings, run_id=result.run_id)
    return settings, result


def _freshness_checks(result) -> dict[str, bool]:
    return {
        ev.asset_key.path[-1]: ev.passed
        for ev in result.get_asset_check_evaluations()
        if ev.check_name == "freshness"
    }


def _checked_at(settings: Settings, run_id: str):
    con = duckdb.connect(str(settings.published_warehouse), read_only=True)
    try:
        return con.execute(
            "select max(checked_at) from quality.check_results where run_id = ? and kind = ?",
            [run_id, FRESHNESS_KIND],
        ).fetchone()[0]
    finally:
        con.close()


def _freshness_table(at):
    (table,) = [d.value for d in at.dataframe if "state" in d.value.columns]
    return table.set_index("system_label")


def test_the_page_shows_the_source_the_run_found_late_with_the_runs_check_time(
    late_run, tmp_path, monkeypatch
):
    settings, result = late_run
    dagster = _freshness_checks(result)
    assert dagster == {e.name: e.name != LATE for e in ENTITIES}  # Dagster: only the hotline
    checked_at = _checked_at(settings, result.run_id)
    assert checked_at is not None

    _serve(settings.published_dir, tmp_path, monkeypatch)
    at = open_page(start("leader"), "data_quality")
    assert f"各来源数据时效（检查于 {fmt.moment(checked_at)}）" in [s.value for s in at.subheader]
    table = _freshness_table(at)
    hotline = SYSTEM_LABELS[ENTITIES_BY_NAME[LATE].system]
    assert table.loc[hotline, "state"] == "1类数据逾期"
    others = table.drop(index=hotline)
    assert set(others["state"]) == {"按时"}, others["state"].to_dict()
    assert (table["checked_at"] == checked_at).all()
    # what the ledger says is kept: the late source's last delivery is three days old
    assert "天" in table.loc[hotline, "age"] and table.loc[hotline, "files"] != "—"


def test_the_bulletin_names_the_source_the_run_found_late(late_run, tmp_path, monkeypatch):
    from dashboards.documents.bulletin import load_bulletin, quality_summary
    from dashboards.documents.bulletin_write import latest_period

    settings, result = late_run
    _serve(settings.published_dir, tmp_path, monkeypatch)
    period = latest_period("month", settings)
    assert period is not None
    b = load_bulletin(period)
    late = b.sources.set_index("system")["late_entities"].to_dict()
    expected = {s: 0 for s in late}
    for name, passed in _freshness_checks(result).items():
        expected[ENTITIES_BY_NAME[name].system] += not passed
    assert late == expected
    hotline = SYSTEM_LABELS[ENTITIES_BY_NAME[LATE].system]
    text = quality_summary(b)
    assert f"中1个在时效检查（{fmt.moment(_checked_at(settings, result.run_id))}）时" in text
    assert f"（{hotline}）" in text


def test_an_entity_the_latest_run_did_not_check_is_unchecked_not_on_time(
    published_warehouse, tmp_path, monkeypatch
):
    # The session's run checked every entity; drop one result, as a run whose checks
    # did not select that entity (or one from before the check existed) would leave it.
    published = tmp_path / "published"
    shutil.copytree(published_warehouse.published_dir, published)
    con = duckdb.connect(str(published / published_warehouse.published_warehouse.name))
    try:
        con.execute(
            "delete from quality.check_results where kind = ? and entity = ?",
            [FRESHNESS_KIND, UNCHECKED],
        )
    finally:
        con.close()
    _serve(published, tmp_path, monkeypatch)

    fresh = data.source_freshness().set_index("system")
    system = ENTITIES_BY_NAME[UNCHECKED].system
    assert fresh.loc[system, "unchecked_entities"] == 1
    assert fresh.loc[system, "late_entities"] == 0
    assert fresh["files"].gt(0).all()  # the ledger's side is still there

    at = open_page(start("leader"), "data_quality")
    table = _freshness_table(at)
    assert table.loc[SYSTEM_LABELS[system], "state"] == "未检查"
    assert set(table.drop(index=SYSTEM_LABELS[system])["state"]) == {"按时"}
    at = open_page(at, "overview")
    (metric,) = [m for m in at.metric if m.label == "按时交付的数据来源"]
    assert metric.value == f"{len(fresh) - 1}/{len(fresh)}"
    assert metric.delta == "1个来源未检查"
