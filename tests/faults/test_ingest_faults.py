"""Faults real deliveries meet, at the ingest layer: each with its pass condition."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from contracts.settings import Settings
from ingest.load import ingest_paths
from tests.ingest.conftest import hotline_row, query, write_csv, write_xlsx

ROOT = Path(__file__).resolve().parents[2]


def big_hotline_csv(path: Path, rows: int) -> Path:
    """A large GB18030 hotline export, built column-wise (fast)."""
    template = hotline_row("x")
    frame = pl.DataFrame({h: [v] * rows for h, v in template.items()}).with_columns(
        pl.format("NT{}", pl.int_range(rows).cast(pl.Utf8).str.zfill(9)).alias("工单编号")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frame.write_csv().encode("gb18030"))
    return path


def pingan_ingest(data_dir: Path, *paths: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PINGAN_DATA_DIR": str(data_dir), "PINGAN_PII_KEY": "fault-key"}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "ingest", *map(str, paths)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def state(warehouse: Path) -> tuple[list[tuple], list[tuple]]:
    """The whole ledger (every row, every column but the clock) and the loaded keys."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ledger = con.execute(
            "select file_name, file_path, file_sha256, file_bytes, entity, status, rows_read, "
            "rows_loaded, rows_rejected, rows_warned, reason, delivery_seq from raw.load_ledger "
            "order by delivery_seq"
        ).fetchall()
        ledger += con.execute(
            "select 'rejected_rows', count(*) from raw.rejected_rows union all "
            "select 'row_warnings', count(*) from raw.row_warnings"
        ).fetchall()
        keys = con.execute(
            "select ticket_id, count(*) from raw.hotline_tickets group by 1 order by 1"
        ).fetchall()
        return ledger, keys
    finally:
        con.close()


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kill_landing")
    write_csv(
        root / "hotline" / "12345_工单_20261001.csv", [hotline_row("SMALL1"), hotline_row("SMALL2")]
    )
    big_hotline_csv(root / "hotline" / "12345_工单_20261002.csv", 150_000)
    write_csv(root / "hotline" / "12345_工单_20261003.csv", [hotline_row("LAST1")])
    # The first file's bytes again under another name: a duplicate delivery, recorded once.
    shutil.copy(root / "hotline" / "12345_工单_20261001.csv", root / "hotline" / "工单_重发.csv")
    return root


@pytest.fixture(scope="module")
def reference(
    landing: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[tuple], list[tuple]]:
    data_dir = tmp_path_factory.mktemp("reference")
    proc = pingan_ingest(data_dir, landing)
    assert proc.wait(timeout=300) == 0, proc.stderr.read() if proc.stderr else ""
    return state(data_dir / "warehouse.duckdb")


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.2, 1.0, 2.5])
def test_sigkill_mid_ingest_then_rerun_equals_an_uninterrupted_run(
    landing: Path, reference: tuple, tmp_path: Path, delay: float
) -> None:
    data_dir = tmp_path / "data"
    proc = pingan_ingest(data_dir, landing)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the small file is committed; the big one is under way
    assert first.startswith("loaded"), first
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    rerun = pingan_ingest(data_dir, landing)
    assert rerun.wait(timeout=300) == 0
    ledger, keys = state(data_dir / "warehouse.duckdb")
    assert (ledger, keys) == reference  # the ledger too: no row for a file seen again
    assert [row[5] for row in ledger[:-2]] == ["loaded", "loaded", "loaded", "duplicate"]
    assert all(count == 1 for _, count in keys)  # no key loaded twice


def test_corrupt_inputs_get_a_clear_reason_and_other_files_load_whole(
    tmp_path: Path, settings: Settings
) -> None:
    land = tmp_path / "landing"
    good = [hotline_row(f"OK{i}") for i in range(5)]
    write_csv(land / "12345_工单_20261001.csv", good)
    write_xlsx(land / "12345_工单_202610.xlsx", [hotline_row("XL1"), hotline_row("XL2")])
    header_only = write_csv(land / "12345_工单_20261002.csv", [hotline_row("H")])
    header_only.write_bytes(header_only.read_bytes().splitlines(keepends=True)[0])
    truncated = write_csv(land / "12345_工单_20261003.csv", [hotline_row("T1"), hotline_row("T2")])
    truncated.write_bytes(truncated.read_bytes()[:-40])  # cut inside the last row
    xlsx = write_xlsx(land / "12345_工单_202609.xlsx", good)
    xlsx.write_bytes(xlsx.read_bytes()[:900])
    (land / "12345_工单_20261004.csv").write_bytes(os.urandom(4096))
    (land / "12345_工单_20261005.csv").write_bytes(b"")
    # Declared UTF-8 by its BOM, but the body is GB18030.
    mislabelled = land / "12345_工单_20261006.csv"
    body = write_csv(tmp_path / "body.csv", [hotline_row("ENC1")]).read_bytes()
    mislabelled.write_bytes(b"\xef\xbb\xbf" + body)
    huge = dict(hotline_row("HUGE1"), 诉求内容="长" * 3_000_000)  # a 9 MB field
    write_csv(
        land / "12345_工单_20261007.csv",
        [hotline_row("BEFORE"), huge, hotline_row("AFTER")],
        encoding="utf-8",
    )
    ragged = land / "12345_工单_20261008.csv"
    header = ",".join(hotline_row("x"))
    ragged.write_text(
        "\n".join(
            [
                header,
                ",".join(hotline_row("R1").values()) + ",extra",
                "R2,2026-10-08",
                ",".join(hotline_row("R3").values()),
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    results = {r.file_name: r for r in ingest_paths([land], settings)}
    reasons = {name: (r.status, r.reason or "") for name, r in results.items()}
    assert (
        reasons["12345_工单_20261004.csv"][0] == "rejected"
        and reasons["12345_工单_20261004.csv"][1]
    )
    assert reasons["12345_工单_20261005.csv"] == ("rejected", "empty file: 0 bytes")
    assert (
        reasons["12345_工单_202609.xlsx"][0] == "rejected"
        and "corrupt XLSX" in reasons["12345_工单_202609.xlsx"][1]
    )
    assert (
        results["12345_工单_20261002.csv"].status == "loaded"
        and results["12345_工单_20261002.csv"].rows_read == 0
    )
    assert (
        results["12345_工单_20261003.csv"].rows_loaded,
        results["12345_工单_20261003.csv"].rows_rejected,
    ) == (1, 1)
    assert (
        results["12345_工单_20261007.csv"].rows_loaded == 2
        and results["12345_工单_20261007.csv"].rows_rejected == 1
    )
    assert (
        results["12345_工单_20261008.csv"].rows_loaded,
        results["12345_工单_20261008.csv"].rows_rejected,
    ) == (1, 2)
    mis = results["12345_工单_20261006.csv"]
    assert mis.status == "rejected" or mis.rows_rejected == mis.rows_read
    for r in results.values():
        assert r.rows_read == r.rows_loaded + r.rows_rejected
        assert r.status != "rejected" or "\n" not in (r.reason or "")
    loaded = {k for (k,) in query(settings, "select ticket_id from raw.hotline_tickets")}
    assert {f"OK{i}" for i in range(5)} | {"XL1", "XL2", "T1", "BEFORE", "AFTER", "R3"} <= loaded
    assert len(query(settings, "select * from raw.load_ledger")) == len(results) == 10


def test_out_of_order_days_keep_the_newest_version(tmp_path: Path, settings: Settings) -> None:
    day5 = write_csv(
        tmp_path / "12345_工单_20261005.csv",
        [hotline_row("NT1", 工单状态="已办结", 更新时间="2026-10-05 10:00")],
    )
    day4 = write_csv(
        tmp_path / "12345_工单_20261004.csv",
        [hotline_row("NT1", 工单状态="办理中", 更新时间="2026-10-04 10:00")],
    )
    ingest_paths([day5], settings)
    ingest_paths([day4], settings)
    newest = query(
        settings,
        "select status from raw.hotline_tickets qualify row_number() over "
        "(partition by ticket_id order by updated_at desc, _delivery_seq desc, _row_number desc) = 1",
    )
    assert newest == [("已办结",)]


@pytest.fixture
def small_disk(small_disk_of) -> Path:
    return small_disk_of("6m")


def test_disk_full_fails_clearly_and_keeps_the_files_already_loaded(
    small_disk: Path, tmp_path: Path
) -> None:
    land = tmp_path / "landing"
    write_csv(land / "12345_工单_20261001.csv", [hotline_row("KEEP1"), hotline_row("KEEP2")])
    big_hotline_csv(land / "12345_工单_20261002.csv", 60_000)  # more than the disk holds once typed
    data_dir = small_disk / "data"
    proc = pingan_ingest(data_dir, land)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert out.startswith("loaded") and "12345_工单_20261001.csv" in out.splitlines()[0]
    assert "disk full" in err and "Traceback" not in err
    shutil.rmtree(data_dir / "tmp", ignore_errors=True)  # make room for the read-only check
    ledger, keys = state(data_dir / "warehouse.duckdb")
    files, counts = ledger[:-2], ledger[-2:]  # ledger rows, then the rejection counts
    assert [(row[0], row[5]) for row in files] == [("12345_工单_20261001.csv", "loaded")]
    assert counts == [("rejected_rows", 0), ("row_warnings", 0)]
    assert keys == [("KEEP1", 1), ("KEEP2", 1)]
