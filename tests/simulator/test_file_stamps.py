"""Sample files are stamped with their export times, never in the future."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from contracts.entities import SOURCE_TIME_ZONE
from orchestration.cli import main as pingan
from orchestration.defs.ingest.landing import scan
from simulator.deliver import PAST_MARGIN_S


def test_a_sample_ending_this_month_stamps_no_file_in_the_future(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # This month's exports (each day's written the next morning, corrections two days
    # later) lie ahead of the clock: the generator must still stamp every file in the past.
    this_month = dt.datetime.now(ZoneInfo(SOURCE_TIME_ZONE)).strftime("%Y-%m")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich's switch: stdout is taken for a terminal
    args = ["sample", "--scale", "test", "--months", "1", "--seed", "3", "--end", this_month]
    assert pingan([*args, "--out", str(tmp_path)]) == 0
    # On a terminal, the files and rows written are shown live.
    out = capsys.readouterr().out
    assert "\x1b" in out and "files" in out and "rows" in out and "wrote " in out
    files = [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
    newest = max(p.stat().st_mtime for p in files)
    assert newest <= time.time() - PAST_MARGIN_S + 1
    # Order is kept: a corrected re-export is still newer than the file it corrects.
    corrected = list((tmp_path / "landing").rglob("补发/*"))
    for fixed in corrected:
        assert fixed.stat().st_mtime > (fixed.parent.parent / fixed.name).stat().st_mtime
    # So a sensor's scan right after `pingan sample` sees nothing still being written.
    for system in (tmp_path / "landing").iterdir():
        assert scan(system, set(), settle_seconds=60).settling == []
