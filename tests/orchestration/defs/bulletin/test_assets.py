"""The bulletin as a Dagster asset, and ``pingan report``: the same function
(``write_bulletin``), on the dashboards' pipeline snapshot (2026-04 to 2026-10: 2026-Q3
is whole, 2026-10 the newest month), so the monthly run writes the month's bulletin and
``pingan report`` the quarter's. (That the
daily build leaves it to its monthly job is in test_definitions.py, on its shared defs.)"""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.cli import main
from orchestration.defs.bulletin.assets import bulletin
from orchestration.resources import PinganResource

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def snapshot(dashboards_run, tmp_path_factory):
    """A data dir of its own (the bulletins go there) reading the dashboards' snapshot."""
    import os

    from tests import snapshots

    data_dir = tmp_path_factory.mktemp("bulletin_snapshot")
    os.symlink(dashboards_run.published_dir, data_dir / "published")
    return snapshots.settings_for(data_dir)


def test_the_asset_writes_the_newest_months_bulletin_and_no_quarter_it_does_not_close(snapshot):
    """2026-10 opens 2026-Q4: the monthly run writes the month's bulletin only (the
    quarter's is written by the run of a month that closes one)."""
    result = dg.materialize(
        [bulletin], resources={"pingan": PinganResource.from_settings(snapshot)}
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("bulletin")
    assert mat.metadata["month"].value == "2026-10"
    assert mat.metadata["quarter"].value == ""
    out = snapshot.data_dir / "bulletins"
    assert sorted(p.name for p in out.glob("*.pdf")) == ["2026-10_月度通报.pdf"]


def test_pingan_report_writes_a_month_and_refuses_one_without_data_in_one_line(
    snapshot, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("PINGAN_DATA_DIR", str(snapshot.data_dir))
    assert main(["report", "--month", "2026-08", "--out", str(tmp_path)]) == 0
    assert "2026-08_月度通报.pdf" in capsys.readouterr().out
    assert (tmp_path / "2026-08_月度通报.pdf").stat().st_size > 10_000
    assert main(["report", "--month", "2025-01", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("pingan report: no safety index for 2025-01")
    assert "2026-04 to 2026-10" in err[-1]
    assert main(["report", "--quarter", "2026-Q3", "--out", str(tmp_path)]) == 0
    assert "2026-Q3_季度通报.pdf" in capsys.readouterr().out
    assert main(["report", "--quarter", "2026-Q5"]) == 2
    assert "bad quarter" in capsys.readouterr().err
