"""Which landed files are pending: the rule shared by sensors and pipeline runs."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from ingest.load import ingest_paths
from orchestration.defs.ingest.landing import (
    WarehouseBusy,
    evaluate_sensor,
    ledger_keys,
    pending_for_run,
    scan,
    sha256_of,
)
from tests.orchestration.helpers import settings_for, ticket, write_tickets


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_new_file_is_pending_until_the_ledger_records_it(data_dir: Path) -> None:
    settings = settings_for(data_dir)
    f = write_tickets(data_dir / "landing/hotline/12345_工单_20261003.csv", [ticket(1), ticket(2)])
    assert [p.path for p in pending_for_run(settings, "hotline").pending] == [f]
    ingest_paths([f], settings)
    assert ledger_keys(settings) == {(str(f.resolve()), sha256_of(f))}
    result = pending_for_run(settings, "hotline")
    assert result.pending == [] and [p.path for p in result.done] == [f]


def test_file_still_being_written_waits_for_the_settle_time(tmp_path: Path) -> None:
    f = write_tickets(tmp_path / "hotline/12345_工单_20261003.csv", [ticket(1)])
    fresh = scan(tmp_path / "hotline", set(), settle_seconds=30)
    assert fresh.pending == [] and fresh.settling == [f]
    _age(f, 60)
    settled = scan(tmp_path / "hotline", set(), settle_seconds=30)
    assert [p.path for p in settled.pending] == [f]


def test_hidden_and_partial_files_are_not_deliveries(tmp_path: Path) -> None:
    folder = tmp_path / "hotline"
    write_tickets(folder / ".12345_工单.csv", [ticket(1)])
    write_tickets(folder / "~$工单.xlsx", [ticket(1)])
    write_tickets(folder / "12345_工单_20261003.csv.part", [ticket(1)])
    real = write_tickets(folder / "sub" / "12345_工单_20261004.csv", [ticket(2)])
    assert [p.path for p in scan(folder, set()).pending] == [real]


def test_cached_hash_is_reused_only_while_size_and_mtime_match(tmp_path: Path) -> None:
    f = write_tickets(tmp_path / "hotline/a.csv", [ticket(1)])
    first = scan(tmp_path / "hotline", set())
    key = str(f.resolve())
    size, mtime, _ = first.cache[key]
    # A cache entry with the right size and mtime is trusted (no re-hash) ...
    trusted = scan(tmp_path / "hotline", set(), {key: (size, mtime, "cached-hash")})
    assert trusted.pending[0].sha256 == "cached-hash"
    # ... a changed file is re-hashed.
    write_tickets(f, [ticket(1), ticket(2)])
    rehashed = scan(tmp_path / "hotline", set(), {key: (size, mtime, "cached-hash")})
    assert rehashed.pending[0].sha256 == sha256_of(f)


def test_ledger_read_while_another_process_writes_reports_busy(data_dir: Path) -> None:
    settings = settings_for(data_dir)
    ingest_paths([write_tickets(data_dir / "landing/hotline/a.csv", [ticket(1)])], settings)
    code = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
        "print('locked', flush=True); time.sleep(30)"
    )
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(settings.warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseBusy):
            ledger_keys(settings)
        decision = evaluate_sensor(settings, "hotline", None, settle_seconds=0)
        assert decision.paths == [] and "busy" in (decision.skip_reason or "")
    finally:
        proc.kill()
        proc.wait()


def test_unchanged_redelivery_is_a_no_op_but_a_copy_under_a_new_name_is_pending(
    data_dir: Path,
) -> None:
    settings = settings_for(data_dir)
    f = write_tickets(data_dir / "landing/hotline/12345_工单_20261003.csv", [ticket(1)])
    ingest_paths([f], settings)
    f.touch()  # re-delivered unchanged: new mtime, same bytes
    copy = shutil.copy(f, f.with_name("工单导出(1).csv"))
    pending = pending_for_run(settings, "hotline").pending
    assert [p.path for p in pending] == [Path(copy)]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from raw.load_ledger").fetchone() == (1,)
    finally:
        con.close()


def test_the_same_name_and_bytes_in_another_folder_is_pending_and_recorded_as_a_duplicate(
    data_dir: Path,
) -> None:
    # Seen means the same path and the same bytes (the rule ingest uses): a copy of a
    # loaded file in another folder of the landing is a delivery of its own, recorded.
    settings = settings_for(data_dir)
    f = write_tickets(data_dir / "landing/hotline/2026-10/12345_工单_20261003.csv", [ticket(1)])
    ingest_paths([f], settings)
    copy = data_dir / "landing/hotline/resent/12345_工单_20261003.csv"
    copy.parent.mkdir(parents=True)
    shutil.copy(f, copy)
    scan_ = pending_for_run(settings, "hotline")
    assert [p.path for p in scan_.pending] == [copy]
    assert [r.status for r in ingest_paths(scan_.paths_to_ingest, settings)] == ["duplicate"]
    assert pending_for_run(settings, "hotline").pending == []
