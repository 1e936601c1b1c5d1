"""Progress: live bars on a terminal, plain one-line steps when the output is not one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from contracts.settings import Settings
from ingest.load import FileResult, ingest_paths
from ingest.progress import Progress
from orchestration.cli import main as pingan
from tests.ingest.conftest import hotline_row, write_csv

ESC = "\x1b"


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, color_system="standard"), out


def test_plain_mode_writes_only_lines_without_control_characters() -> None:
    out = io.StringIO()
    with Progress(Console(file=out, force_terminal=False)) as progress:
        assert not progress.live
        task = progress.task("ingest", total=2, unit="files")
        task.advance(item="loaded a.csv", rows=20)
        task.advance(rows=5)  # no item: nothing to write
        progress.line("a step")
        task.finish(task.summary())
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["loaded a.csv", "a step"]
    assert lines[2].startswith("ingest: 2/2 files, 25 rows in ") and len(lines) == 3
    assert ESC not in out.getvalue()


def test_live_mode_draws_bars_with_counts_and_keeps_lines_above() -> None:
    console, out = terminal()
    with Progress(console) as progress:
        assert progress.live
        task = progress.task("ingest", total=3, unit="files")
        for i in range(3):
            task.advance(item=f"loaded f{i}.csv", rows=10)
        models = progress.task("dbt models", total=None, unit="built")
        models.advance(4)
        models.finish()
        task.finish()
    text = out.getvalue()
    assert ESC in text  # drawn, not printed
    assert "loaded f2.csv" in text
    assert "3/3" in text and "30 rows" in text
    assert "4/4" in text  # an open-ended task is closed at what it counted


def test_plain_mode_hands_lines_to_a_logger() -> None:
    logged: list[str] = []
    progress = Progress.plain(logged.append)
    with progress:
        task = progress.task("ingest", total=1, unit="files")
        task.advance(item="loaded a.csv")
        task.finish()
    assert logged == ["loaded a.csv"]


def test_ingest_counts_files_and_rows_on_a_terminal(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "in"
    write_csv(folder / "12345_工单_20261003.csv", [hotline_row("NT1"), hotline_row("NT2")])
    write_csv(folder / "12345_工单_20261004.csv", [hotline_row("NT3")])
    console, out = terminal()
    with Progress(console) as progress:
        results = ingest_paths([folder], settings, progress=progress)
    text = out.getvalue()
    assert "2/2" in text and "3 rows" in text
    for r in results:  # each file's line is shown above the bar
        assert r.file_name in text
        assert FileResult.rows_in_line(r.line()) == r.rows_loaded


def test_pingan_ingest_prints_plain_lines_when_not_a_terminal(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "0")  # whatever the CI's FORCE_COLOR says
    path = write_csv(tmp_path / "12345_工单_20261003.csv", [hotline_row("NT1")])
    assert pingan(["ingest", str(path), "--db", str(settings.warehouse)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("loaded") and path.name in lines[0]
    assert lines[-1].startswith("total: 1 files (1 loaded")
    assert ESC not in out


def test_pingan_ingest_shows_live_progress_on_a_terminal(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich's switch: stdout is taken for a terminal
    path = write_csv(tmp_path / "12345_工单_20261003.csv", [hotline_row("NT1"), hotline_row("NT2")])
    assert pingan(["ingest", str(path), "--db", str(settings.warehouse)]) == 0
    out = capsys.readouterr().out
    assert ESC in out and "1/1" in out and "2 rows" in out
    assert "total: 1 files (1 loaded" in out
