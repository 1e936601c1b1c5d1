"""The notice documents as a Dagster asset, and ``pingan notices``: the same function."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.cli import main
from orchestration.defs.notices.assets import notice_documents
from orchestration.resources import PinganResource

pytestmark = pytest.mark.slow


@pytest.fixture
def snapshot(dashboards_run, tmp_path):
    """A data dir of its own reading a published snapshot with notices (the dashboards'
    pipeline snapshot, whose city has planted swings in its last month)."""
    import os

    from tests import snapshots

    (tmp_path / "data").mkdir()
    os.symlink(dashboards_run.published_dir, tmp_path / "data" / "published")
    return snapshots.settings_for(tmp_path / "data")


def test_the_asset_writes_the_newest_months_notices(snapshot):
    settings = snapshot
    result = dg.materialize(
        [notice_documents], resources={"pingan": PinganResource.from_settings(settings)}
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("notice_documents")
    month = mat.metadata["month"].value
    out = settings.data_dir / "notices" / month
    assert mat.metadata["notices"].value > 0
    assert (
        len(list(out.glob("*.docx")))
        == len(list(out.glob("*.pdf")))
        == mat.metadata["notices"].value
    )


def test_pingan_notices_writes_the_month_and_refuses_a_bad_one(
    snapshot, monkeypatch, capsys, tmp_path
):
    settings = snapshot
    monkeypatch.setenv("PINGAN_DATA_DIR", str(settings.data_dir))
    assert main(["notices", "--month", "2026-13"]) == 2
    assert "bad month" in capsys.readouterr().err
    assert main(["notices", "--month", "2026-10", "--out", str(tmp_path / "out")]) == 0
    assert "notices" in capsys.readouterr().out
    assert list((tmp_path / "out").glob("*.pdf"))


def test_notices_follow_the_monthly_run_not_the_daily_build(tmp_path):
    from orchestration.definitions import build_definitions
    from tests.orchestration.helpers import settings_for

    defs = build_definitions(settings_for(tmp_path / "d"))
    from orchestration.defs.publish.schedules import PIPELINE_JOB

    assert "notice_documents" not in {
        k.to_user_string()
        for k in defs.resolve_job_def(PIPELINE_JOB).asset_layer.executable_asset_keys
    }
    sensor = defs.resolve_sensor_def("notices_after_monthly_index")
    assert sensor.job_name == "notices_job"
