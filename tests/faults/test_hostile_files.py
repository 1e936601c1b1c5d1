"""Hostile deliveries at the ingest layer (issue 12): each attack is a real file in tmp_path.

One landing folder holds every attack beside good files, and one real Dagster run of
the hotline ingest job (the ingest step of ``pingan run`` and of the landing sensor's
runs, in-process; the dbt half of ``pingan run`` is left out to keep this suite fast)
ingests it: the run must complete, the good files load,
and each hostile path gets its ledger row (or its rejected rows) with a reason. Limits
that would need big files to reach are lowered through ``PINGAN_LIMIT_*`` (the same
settings production reads); the whole-sheet XLSX and the lying one that makes calamine
abort are real at any limit.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from contracts.settings import Settings
from ingest.discovery import display
from ingest.isolation import IsolatedReader
from ingest.limits import ReaderLimits
from ingest.readers import FileRejected
from tests.conftest import settings_for
from tests.ingest.conftest import hotline_row, query, write_csv, write_xlsx

pytestmark = pytest.mark.slow  # real ingest, dbt and Dagster runs: minutes

ROOT = Path(__file__).resolve().parents[2]

# Lowered so small files reach them (a test must not write 100 MiB to prove a limit).
LIMITS = {
    "PINGAN_LIMIT_MAX_CELL_CHARS": "150000",
    "PINGAN_LIMIT_MAX_CSV_RECORD_BYTES": str(1 << 20),
}
DEPTH = 1_200


# ---------------------------------------------------------------- builders of hostile files


def rewrite_xlsx(src: Path, out: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """A copy of a real workbook with some parts changed (a crafted export)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
    src.unlink()
    return out


def data_sheet(name: str) -> bool:
    return name == "xl/worksheets/sheet2.xml"  # write_xlsx puts the data after a 说明 sheet


def whole_sheet_xlsx(path: Path) -> Path:
    """1.7 KB-class workbook whose <dimension> claims A1:XFD1048576 (17 billion cells)."""
    base = write_xlsx(path.with_suffix(".src.xlsx"), [hotline_row("DIM1")])

    def change(name: str, data: bytes) -> bytes:
        if data_sheet(name):
            return re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', data)
        return data

    return rewrite_xlsx(base, path, change)


def far_cell_xlsx(path: Path) -> Path:
    """A workbook that declares a small sheet but holds a cell at XFD1048576: calamine sizes
    its grid from the cells and aborts the process (a 512 GiB allocation, SIGABRT)."""
    base = write_xlsx(path.with_suffix(".src.xlsx"), [hotline_row("FAR1")])

    def change(name: str, data: bytes) -> bytes:
        if data_sheet(name):
            far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
            return data.replace(b"</sheetData>", far)
        return data

    return rewrite_xlsx(base, path, change)


def huge_string_xlsx(path: Path, chars: int) -> Path:
    """A small workbook whose content column holds one enormous shared string (written into
    sharedStrings.xml directly: xlsxwriter itself refuses strings over Excel's 32,767)."""
    mark = "HUGE-STRING-HERE"
    base = write_xlsx(
        path.with_suffix(".src.xlsx"), [hotline_row("STR1", 诉求内容=mark), hotline_row("STR2")]
    )

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/sharedStrings.xml":
            return data.replace(mark.encode(), ("长" * chars).encode("utf-8"))
        return data

    return rewrite_xlsx(base, path, change)


def make_deep_tree(top: Path, depth: int) -> Path:
    """``depth`` nested folders with an export at the bottom, made through directory fds
    (the full path is longer than the OS accepts in one call)."""
    top.mkdir(parents=True, exist_ok=True)
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        row = hotline_row("DEEP1")
        body = (",".join(row) + "\n" + ",".join(row.values()) + "\n").encode("gb18030")
        out = os.open("12345_工单_deep.csv", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
        os.write(out, body)
        os.close(out)
    finally:
        os.close(fd)
    return top


def remove_deep_tree(top: Path) -> None:
    """Remove what :func:`make_deep_tree` made, iteratively (``shutil.rmtree`` recurses per
    level and overflows Python's stack on it, which would break pytest's temp cleanup)."""
    fds = [os.open(top, os.O_RDONLY)]
    try:
        while True:
            try:
                fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
            except FileNotFoundError:
                break
        for fd in fds:
            for name in os.listdir(fd):
                if name != "d":
                    os.unlink(name, dir_fd=fd)
        for parent in reversed(fds[:-1]):
            os.rmdir("d", dir_fd=parent)
    finally:
        for fd in fds:
            os.close(fd)


FORGED = "12345_工单_\x1b[2K\rloaded    hotline_tickets   read 999 loaded 999\n.csv"
UNDECODABLE = os.fsdecode(b"12345_\xff\xfe_\xe5\xb7.csv")


def build_landing(land: Path, outside: Path) -> None:
    hot = land / "hotline"
    write_csv(hot / "12345_工单_20261001.csv", [hotline_row("GOOD1"), hotline_row("GOOD2")])
    write_xlsx(hot / "12345_工单_202610.xlsx", [hotline_row("GOODX1")])
    whole_sheet_xlsx(hot / "12345_工单_whole_sheet.xlsx")
    far_cell_xlsx(hot / "12345_工单_far_cell.xlsx")
    huge_string_xlsx(hot / "12345_工单_huge_string.xlsx", 200_000)
    # A 140,000-character field in the first 256 KiB: over Python's csv limit (131,072),
    # within Pingan's (150,000 here): the row loads.
    write_csv(
        hot / "12345_工单_long_field.csv",
        [hotline_row("LF1", 诉求内容="噪" * 140_000), hotline_row("LF2")],
        encoding="utf-8",
    )
    # A 1.5 MiB record among small ones, over the record limit (1 MiB here).
    write_csv(
        hot / "12345_工单_long_record.csv",
        [hotline_row("LR1"), hotline_row("LR2", 诉求内容="x" * (3 << 19)), hotline_row("LR3")],
        encoding="utf-8",
    )
    os.mkfifo(hot / "12345_工单_fifo.csv")
    outside_csv = write_csv(outside / "12345_工单_outside.csv", [hotline_row("OUTSIDE1")])
    (hot / "12345_工单_link_out.csv").symlink_to(outside_csv)
    (hot / "12345_工单_passwd.csv").symlink_to("/etc/passwd")
    write_csv(hot / FORGED, [hotline_row("CTRL1")])
    write_csv(
        Path(os.fsencode(hot / UNDECODABLE).decode("utf-8", "surrogateescape")),
        [hotline_row("BAD1")],
    )
    make_deep_tree(hot / "deep", DEPTH)


def run_ingest_job(settings: Settings):
    """The hotline ingest job through Dagster, as ``pingan run`` and the sensors run it."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.defs.ingest.sensors import ingest_job_name

    job = build_definitions(settings).resolve_job_def(ingest_job_name("hotline"))
    with dg.DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, object]]:
    """One real Dagster run of the ingest over the hostile landing folder."""
    from orchestration.run import summarise

    root = tmp_path_factory.mktemp("hostile")
    data_dir = root / "data"
    build_landing(data_dir / "landing", root / "elsewhere")
    settings = settings_for(data_dir)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in LIMITS.items():
            mp.setenv(key, value)
        mp.setenv("PINGAN_PII_KEY", "hostile-key")
        result = run_ingest_job(settings)
        summary = summarise(result, 0.0)
    try:
        assert result.success, summary.failures
        yield settings, summary
    finally:
        remove_deep_tree(data_dir / "landing" / "hotline" / "deep")


def ledger(settings: Settings) -> dict[str, tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute(
            "select file_name, status, rows_read, rows_loaded, rows_rejected, reason, file_bytes "
            "from raw.load_ledger"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def tickets(settings: Settings) -> set[str]:
    return {t for (t,) in query(settings, "select ticket_id from raw.hotline_tickets")}


# ---------------------------------------------------------------- the tests


def test_a_hostile_landing_folder_leaves_a_ledger_row_per_path_and_the_run_completes(
    hostile_run,
) -> None:
    settings, summary = hostile_run
    assert summary.success
    rows = ledger(settings)
    expected = {
        "12345_工单_20261001.csv",
        "12345_工单_202610.xlsx",
        "12345_工单_whole_sheet.xlsx",
        "12345_工单_far_cell.xlsx",
        "12345_工单_huge_string.xlsx",
        "12345_工单_long_field.csv",
        "12345_工单_long_record.csv",
        "12345_工单_fifo.csv",
        "12345_工单_link_out.csv",
        "12345_工单_passwd.csv",
        FORGED,
        display(UNDECODABLE),
        "d",  # the folder at the depth limit
    }
    assert set(rows) == expected
    assert {"GOOD1", "GOOD2", "GOODX1", "LF1", "LF2", "LR1", "LR3", "CTRL1"} <= tickets(settings)
    for name, (status, read, loaded, rejected, reason, _size) in rows.items():
        assert read == loaded + rejected, name
        assert status != "rejected" or (reason and "\n" not in reason), name
    # A rerun finds nothing new: every refusal was recorded once.
    from orchestration.defs.ingest.landing import pending_for_run

    again = pending_for_run(settings, "hotline")
    assert again.pending == [] and again.refused == []


def test_an_xlsx_declaring_the_whole_sheet_is_rejected_before_it_is_read(hostile_run) -> None:
    settings, _ = hostile_run
    status, *_, reason, _ = ledger(settings)["12345_工单_whole_sheet.xlsx"]
    assert status == "rejected"
    assert "declares columns 16,384" in reason and "max_xlsx_columns" in reason


def test_an_xlsx_that_crashes_the_reader_natively_is_rejected_and_the_batch_goes_on(
    hostile_run,
) -> None:
    settings, _ = hostile_run
    status, *_, reason, _ = ledger(settings)["12345_工单_far_cell.xlsx"]
    assert status == "rejected"
    assert reason.startswith("reader crashed (killed by SIGABRT)"), reason
    assert "FAR1" not in tickets(settings)
    # Files read after the crash (a new worker) loaded.
    assert ledger(settings)["12345_工单_long_field.csv"][0] == "loaded"


def test_a_huge_shared_string_is_refused_before_the_reader_loads_it(hostile_run) -> None:
    settings, _ = hostile_run
    status, read, *_, reason, _ = ledger(settings)["12345_工单_huge_string.xlsx"]
    assert (status, read) == ("rejected", 0)
    assert "shared string #" in reason and "more than 150,000 characters" in reason
    assert not {"STR1", "STR2"} & tickets(settings)


def test_a_shared_string_over_the_limit_is_refused_from_the_zip_alone(tmp_path: Path) -> None:
    path = huge_string_xlsx(tmp_path / "12345_工单_s.xlsx", 5_000)
    from ingest.xlsx_check import inspect_xlsx

    with pytest.raises(FileRejected, match=r"shared string #\d+ has more than 4,000 characters"):
        inspect_xlsx(path, ReaderLimits(max_cell_chars=4_000))


def test_a_csv_field_over_pythons_csv_limit_loads_without_a_traceback(hostile_run) -> None:
    settings, _ = hostile_run
    assert ledger(settings)["12345_工单_long_field.csv"][:4] == ("loaded", 2, 2, 0)
    (length,) = query(
        settings, "select length(content) from raw.hotline_tickets where ticket_id = 'LF1'"
    )[0]
    assert length == 140_000


def test_a_record_over_the_size_limit_is_rejected_with_its_line_never_lost(hostile_run) -> None:
    settings, _ = hostile_run
    assert ledger(settings)["12345_工单_long_record.csv"][:4] == ("loaded", 3, 2, 1)
    rows = query(
        settings,
        "select r._row_number, r.reason from raw.rejected_rows r join raw.load_ledger l "
        "using (file_sha256) where l.file_name = ?",
        ["12345_工单_long_record.csv"],
    )
    assert len(rows) == 1 and rows[0][0] == 3  # header on line 1, LR2 on line 3
    assert rows[0][1].startswith("record too long:") and "max_csv_record_bytes" in rows[0][1]


def test_a_record_longer_than_duckdbs_buffer_is_counted_not_dropped(tmp_path: Path) -> None:
    # DuckDB drops a line over 16x its max_line_size silently (3,002 records read as 3,001);
    # at a 64 KiB limit a 1.5 MiB record is such a line.
    from ingest.readers import read_export

    rows = [hotline_row(f"B{i}") for i in range(50)]
    rows[20] = hotline_row("B20", 诉求内容="x" * (3 << 19))
    path = write_csv(tmp_path / "12345_工单_20261001.csv", rows, encoding="utf-8")
    records = read_export(path, tmp_path, ReaderLimits(max_csv_record_bytes=1 << 16))
    assert (records.rows_read, records.frame.height, records.rejected.height) == (50, 49, 1)
    assert records.rejected["_row_number"].to_list() == [22]
    assert "B20" not in records.frame["ticket_id"].to_list()
    assert records.frame["_row_number"].to_list() == [n for n in range(2, 52) if n != 22]


def test_symlinks_out_of_the_landing_folder_are_refused_never_followed(hostile_run) -> None:
    settings, _ = hostile_run
    rows = ledger(settings)
    for name in ("12345_工单_link_out.csv", "12345_工单_passwd.csv"):
        status, *_, reason, size = rows[name]
        assert status == "rejected" and "outside the landing folder" in reason
        assert size is None  # not even stat'ed through the link
    assert "OUTSIDE1" not in tickets(settings)
    paths = " ".join(p for (p,) in query(settings, "select file_path from raw.load_ledger"))
    assert "/etc/passwd" not in paths and "elsewhere" not in paths


def test_a_fifo_in_the_landing_folder_is_refused_without_being_opened(hostile_run) -> None:
    settings, _ = hostile_run  # the run completing at all shows nothing blocked on it
    status, *_, reason, _ = ledger(settings)["12345_工单_fifo.csv"]
    assert status == "rejected" and "FIFO" in reason and "not opened" in reason


def test_a_file_name_that_is_not_utf8_gets_a_ledger_row_with_its_escaped_name(
    hostile_run,
) -> None:
    settings, _ = hostile_run
    status, *_, reason, _ = ledger(settings)[display(UNDECODABLE)]
    assert display(UNDECODABLE) == "12345_\\xff\\xfe_\\xe5\\xb7.csv"
    assert status == "rejected" and "not valid UTF-8" in reason
    assert "BAD1" not in tickets(settings)


def test_a_landing_tree_1200_folders_deep_is_cut_at_the_depth_limit(hostile_run) -> None:
    settings, _ = hostile_run
    status, *_, reason, _ = ledger(settings)["d"]
    assert status == "rejected" and "more than 32 levels deep" in reason
    assert "DEEP1" not in tickets(settings)


def test_control_characters_in_a_file_name_are_escaped_on_the_command_line(
    tmp_path: Path,
) -> None:
    land = tmp_path / "landing"
    write_csv(land / FORGED, [hotline_row("CTRL1")])
    write_csv(land / "12345_工单_20261001.csv", [hotline_row("OK1")])
    env = {**os.environ, "PINGAN_DATA_DIR": str(tmp_path / "data"), "PINGAN_PII_KEY": "k"}
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "ingest", str(land)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3  # two files and the total: the name forged no line
    assert not re.search(r"[\x00-\x1f\x7f]", done.stdout.replace("\n", ""))
    assert "\\x1b[2K\\x0dloaded" in done.stdout and "\\x0a.csv" in done.stdout


def test_a_refused_path_named_on_the_command_line_is_a_one_line_error(tmp_path: Path) -> None:
    fifo = tmp_path / "12345_工单_fifo.csv"
    os.mkfifo(fifo)
    env = {**os.environ, "PINGAN_DATA_DIR": str(tmp_path / "data"), "PINGAN_PII_KEY": "k"}
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "ingest", str(fifo)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a reader that opened the FIFO would block here forever
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"pingan ingest: {fifo}: a FIFO (named pipe), not a regular file: not opened"
    ]


def test_a_hung_reader_is_killed_at_its_time_limit_and_the_next_file_loads(
    tmp_path: Path,
) -> None:
    good = write_csv(tmp_path / "12345_工单_20261001.csv", [hotline_row("H1")])
    limits = ReaderLimits(read_timeout_seconds=2.0, read_timeout_seconds_per_gib=0.0)
    with IsolatedReader(limits, tmp_path / "tmp") as reader:
        assert reader.read(good).rows_read == 1
        assert reader.pid is not None
        os.kill(reader.pid, signal.SIGSTOP)  # the library hangs: no answer ever comes
        with pytest.raises(FileRejected, match=r"reader timed out after \d+ s \(limit 2 s"):
            reader.read(good)
        assert reader.read(good).rows_read == 1  # a fresh worker reads the next file


def test_a_reader_over_its_memory_limit_is_rejected_not_the_batch(tmp_path: Path) -> None:
    # The next file is a small XLSX: calamine needs little; DuckDB's CSV threads need more
    # address space than this test leaves.
    good = write_xlsx(tmp_path / "12345_工单_202610.xlsx", [hotline_row("M1")])
    with IsolatedReader(ReaderLimits(), tmp_path / "tmp") as probe:
        probe.wait_ready()  # the address space of a worker that has read nothing yet
        status = Path(f"/proc/{probe.pid}/status").read_text()
    idle = int(re.search(r"VmSize:\s+(\d+) kB", status).group(1)) << 10  # type: ignore[union-attr]
    # 450 MB of text in one cell of a small file: more than the 384 MiB spare, which a
    # restarted worker still needs to read the next file (128 MiB was too tight for it).
    big = huge_string_xlsx(tmp_path / "12345_工单_big.xlsx", 150_000_000)
    limits = ReaderLimits(
        max_cell_chars=200_000_000,
        max_xlsx_compression_ratio=1e9,
        worker_memory_bytes=idle + (384 << 20),
    )
    with IsolatedReader(limits, tmp_path / "tmp") as reader:
        with pytest.raises(FileRejected) as rejected:
            reader.read(big)
        assert re.match(r"reader (crashed|ran out of memory|failed)", rejected.value.reason)
        assert "\n" not in rejected.value.reason
        assert reader.read(good).rows_read == 1
