"""Faults of the pipeline after ingest: kills mid-build and mid-publish, growing and vanishing
files, a full disk while publishing, readers hammering the snapshot; and a scan of everything
a real run writes for clear personal numbers.

One real ``pingan run`` (the Dagster job in-process) on the session's sample feeds the module;
tests that write work on their own copy of its data dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from contracts.settings import Settings
from ingest.pii import digit_runs
from orchestration.defs.dbt.build import dbt_build
from orchestration.defs.ingest.landing import evaluate_sensor, sha256_of
from orchestration.defs.publish.snapshot import PublishError, publish, published_version
from tests.conftest import settings_for
from tests.ingest.test_pii_scan import clear_values_in, digit_runs_in_warehouse, leaked
from tests.orchestration.helpers import ticket, write_tickets

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
POLL = 0.02
PATIENCE = 300.0  # seconds: generous, the machine is shared


@pytest.fixture(scope="module")
def full_run(run_copy_of) -> Settings:
    """A data dir after one successful `pingan run` over the sample (ingest, dbt, GX, publish):
    the session's shared run, copied."""
    return run_copy_of("faults_run")


@pytest.fixture
def run_copy(full_run: Settings, tmp_path: Path) -> Settings:
    target = tmp_path / "data"
    shutil.copytree(full_run.data_dir, target, symlinks=True)
    return settings_for(target)


def wait_for(condition, what: str, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL)


def pingan(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PINGAN_DATA_DIR": str(settings.data_dir)}
    env.pop("PINGAN_DB", None)
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the kill takes dbt's children too
    )


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the command and its children (dbt runs as a child process), as a crash.

    Waiting for the command is not enough: the killed dbt child is ended by the kernel on
    its own time and holds the warehouse's lock until then (seen on a loaded machine)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    wait_for(lambda: not running_in_group(proc.pid), "every killed process to end")


def running_in_group(pgid: int) -> bool:
    """Whether a thread of a process of group ``pgid`` still runs (zombies hold no lock).

    Every thread, not only the process's main one: a killed multi-threaded process (dbt
    with DuckDB's threads) shows its leader as a zombie while other threads still exit,
    and the warehouse's lock goes only with the last of them (seen on a loaded machine)."""
    for stat in Path("/proc").glob("[0-9]*/task/[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            return True
    return False


def tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def raw_state(warehouse: Path) -> dict[str, object]:
    """Every raw table, whole (ledger included), as sorted rows."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            t: sorted(map(repr, con.execute(f'select * from raw."{t}"').fetchall()))
            for t in tables(con, "raw")
        }
    finally:
        con.close()


def marts_state(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0]
            for t in tables(con, "marts")
        }
    finally:
        con.close()


# ---------------------------------------------------------------- SIGKILL


def test_sigkill_mid_dbt_build_then_rerun_equals_an_uninterrupted_build(run_copy: Settings):
    raw_before = raw_state(run_copy.warehouse)
    marts_before = marts_state(run_copy.warehouse)
    published_before = published_version(run_copy)
    log = run_copy.data_dir / "dbt" / "logs" / "dbt.log"
    log.unlink(missing_ok=True)

    proc = pingan(run_copy, "build")
    # kill once dbt has built some models and before it finished
    wait_for(
        lambda: log.exists() and log.read_text(errors="ignore").count(" OK created ") >= 3,
        "dbt to build its first models",
    )
    kill(proc)
    assert proc.returncode == -signal.SIGKILL
    text = log.read_text(errors="ignore")
    assert "Completed successfully" not in text and "Finished running" not in text

    assert raw_state(run_copy.warehouse) == raw_before  # the ledger and raw tables untouched
    assert published_version(run_copy) == published_before  # readers never saw it

    result = dbt_build(run_copy)
    assert result.success, result.summary
    assert raw_state(run_copy.warehouse) == raw_before
    assert marts_state(run_copy.warehouse) == marts_before


PUBLISH_LOOP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from orchestration.defs.publish.snapshot import publish
    from tests.conftest import settings_for
    settings = settings_for(Path(sys.argv[1]))
    while True:
        publish(settings, run_id="loop")
    """
)


def test_sigkill_mid_publish_never_leaves_a_half_written_snapshot(run_copy: Settings):
    before = published_version(run_copy)
    marts = marts_state(run_copy.warehouse)
    folder = run_copy.published_warehouse.parent
    proc = subprocess.Popen(
        [sys.executable, "-c", PUBLISH_LOOP, str(run_copy.data_dir)],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        # kill while a new snapshot is being written next to the published one
        wait_for(lambda: any(folder.glob(".warehouse.*.tmp")), "a publish to start writing")
    finally:
        kill(proc)

    # The published path holds one whole snapshot: the old one or a completed new one.
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "warehouse.duckdb"
    ]
    assert marts_state(run_copy.published_warehouse) == marts
    assert published_version(run_copy) is not None
    # A rerun publishes a new whole snapshot.
    again = publish(run_copy, run_id="rerun")
    assert again.version not in (before, None)
    assert published_version(run_copy) == again.version
    assert marts_state(run_copy.published_warehouse) == marts


# ---------------------------------------------------------------- landing


def test_a_growing_file_is_not_loaded_until_it_has_settled(tmp_path: Path):
    settings = settings_for(tmp_path / "data")
    path = settings.landing_dir / "hotline" / "12345_工单_20261003.csv"
    rows = [ticket(n) for n in range(200)]
    write_tickets(path, rows[:50])
    whole = path.read_bytes()
    half = whole[: len(whole) // 2]
    path.write_bytes(half)  # the source system is still writing
    seen = path.stat().st_mtime

    decision = evaluate_sensor(settings, "hotline", None, settle_seconds=60, now=seen + 1)
    assert decision.paths == [] and "still being written" in (decision.skip_reason or "")

    path.write_bytes(whole)  # it finished writing
    finished = path.stat().st_mtime
    decision = evaluate_sensor(
        settings, "hotline", decision.cursor, settle_seconds=60, now=finished + 30
    )
    assert decision.paths == []  # not settled yet: modified 30 s ago
    decision = evaluate_sensor(
        settings, "hotline", decision.cursor, settle_seconds=60, now=finished + 61
    )
    assert decision.paths == [path]
    cached = json.loads(decision.cursor)["files"][str(path.resolve())]
    assert cached[2] == sha256_of(path) != hashlib.sha256(half).hexdigest()


def test_a_file_removed_after_being_seen_is_recorded_missing_and_the_rest_loads(
    tmp_path: Path,
):
    from ingest.load import ingest_paths
    from orchestration.defs.ingest.landing import pending_for_run

    settings = settings_for(tmp_path / "data")
    keep = write_tickets(settings.landing_dir / "hotline" / "12345_工单_20261003.csv", [ticket(1)])
    gone = write_tickets(settings.landing_dir / "hotline" / "12345_工单_20261004.csv", [ticket(2)])
    first = evaluate_sensor(settings, "hotline", None, settle_seconds=0)
    assert sorted(first.paths) == [keep, gone]
    gone.unlink()  # removed by the source system after the sensor saw it

    # The run the sensor requested (as the ingest asset calls it) records the vanished
    # file in the ledger with its reason and loads the file that is still there.
    results = {r.file_name: r for r in ingest_paths(first.paths, settings, missing_ok=True)}
    assert results[gone.name].status == "missing"
    assert "vanished" in (results[gone.name].reason or "")
    assert results[keep.name].status == "loaded"
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        ledger = con.execute(
            "select file_name, status, file_sha256 is null from raw.load_ledger order by file_name"
        ).fetchall()
        tickets = con.execute("select ticket_id from raw.hotline_tickets").fetchall()
    finally:
        con.close()
    assert ledger == [(keep.name, "loaded", False), (gone.name, "missing", True)]
    assert tickets == [(ticket(1)["ticket_id"],)]

    # The next sensor tick does not stumble on it; nothing is pending any more.
    tick = evaluate_sensor(settings, "hotline", first.cursor, settle_seconds=0)
    assert str(gone.resolve()) not in json.loads(tick.cursor)["files"]
    assert pending_for_run(settings, "hotline").pending == []

    # Delivered again later, the file is new to the ledger and loads.
    write_tickets(gone, [ticket(2)])
    again = [f.path for f in pending_for_run(settings, "hotline").pending]
    assert again == [gone]
    assert [r.status for r in ingest_paths(again, settings)] == ["loaded"]


def test_a_mistyped_path_on_the_command_line_is_still_an_error(tmp_path: Path):
    from ingest.load import ingest_paths

    settings = settings_for(tmp_path / "data")
    with pytest.raises(FileNotFoundError, match=re.escape("no_such_file.csv")):
        ingest_paths([tmp_path / "no_such_file.csv"], settings)
    assert not settings.warehouse.exists()


# ---------------------------------------------------------------- disk full


@pytest.fixture
def small_disk(small_disk_of) -> Path:
    # room for two snapshots of the session sample (publish writes the new one beside the
    # old), which the filler then takes away; the snapshot carries the Monte Carlo ranks
    return small_disk_of("200m")


def test_disk_full_while_publishing_fails_clearly_and_keeps_the_previous_snapshot(
    run_copy: Settings, small_disk: Path
):
    folder = run_copy.published_warehouse.parent
    shutil.rmtree(folder)
    os.symlink(small_disk, folder)  # the published folder lives on the small disk
    first = publish(run_copy, run_id="first")
    size = first.bytes
    free = shutil.disk_usage(small_disk).free
    # leave room for less than half a snapshot
    (small_disk / "filler").write_bytes(b"\0" * max(free - size // 2, 0))

    with pytest.raises(PublishError) as failure:
        publish(run_copy, run_id="second")
    assert str(failure.value) == (
        f"disk full while writing the snapshot in {folder}; free space and rerun "
        f"(the previous snapshot {first.version} stays published)"
    )

    # Through Dagster (the publish asset, as `pingan run` runs it), the run's summary
    # carries the same line, not DuckDB's text.
    import dagster as dg

    from orchestration.defs.publish.assets import build_publish_assets
    from orchestration.resources import PinganResource
    from orchestration.run import summarise

    asset = build_publish_assets([])[0]
    result = dg.materialize(
        [asset], resources={"pingan": PinganResource.from_settings(run_copy)}, raise_on_error=False
    )
    assert not result.success
    (line,) = summarise(result, 0.0).failures
    assert line == f"published_warehouse: {failure.value}"

    assert published_version(run_copy) == first.version
    assert marts_state(run_copy.published_warehouse) == marts_state(run_copy.warehouse)
    assert not list(small_disk.glob(".warehouse.*.tmp"))  # the partial file was removed
    (small_disk / "filler").unlink()
    assert publish(run_copy, run_id="third").version != first.version


# ---------------------------------------------------------------- concurrent readers

PROCESS_READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb
    path, stop = sys.argv[1], sys.argv[2]
    seen, errors, mixed, reads = {}, [], [], 0
    while not os.path.exists(stop):
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                version, = con.execute("select version from meta.publication").fetchone()
                n, lo, hi = con.execute(
                    "select count(*), min(n), max(n) from marts.fault_marker").fetchone()
            finally:
                con.close()
            reads += 1
            seen[version] = n
            if not (n == lo == hi):
                mixed.append([version, n, lo, hi])
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.005)
    print(json.dumps({"reads": reads, "seen": seen, "errors": errors[:5], "mixed": mixed[:5]}))
    """
)


# The DuckDB CLI (the duckdb-cli package: a real `duckdb` binary next to our Python), as an
# analyst runs it: a new read-only session per query.
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
CLI_QUERY = (
    "select (select version from meta.publication) as version, "
    "count(*) as n, min(n) as lo, max(n) as hi from marts.fault_marker"
)


def cli_read(path: Path) -> tuple[str, int, int, int]:
    proc = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-json", str(path), "-c", CLI_QUERY],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"duckdb CLI exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    (row,) = json.loads(proc.stdout)
    return str(row["version"]), int(row["n"]), int(row["lo"]), int(row["hi"])


def test_concurrent_readers_see_whole_snapshots_while_runs_publish(
    run_copy: Settings, monkeypatch: pytest.MonkeyPatch
):
    from dashboards import data

    monkeypatch.setenv("PINGAN_DATA_DIR", str(run_copy.data_dir))
    monkeypatch.delenv("PINGAN_DB", raising=False)

    def mark(generation: int) -> None:
        """Make the working warehouse of publish ``generation`` recognisable: n rows of n."""
        con = duckdb.connect(str(run_copy.warehouse))
        try:
            con.execute(
                "create or replace table marts.fault_marker as select ? as n from range(?)",
                [generation, generation],
            )
        finally:
            con.close()

    mark(1)
    versions = {publish(run_copy, run_id="gen1").version: 1}
    stop = run_copy.data_dir / "stop-readers"
    reader = subprocess.Popen(
        [sys.executable, "-c", PROCESS_READER, str(run_copy.published_warehouse), str(stop)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    module_reads: list[tuple[str, int, int, int]] = []
    module_errors: list[str] = []

    def dashboards_reader() -> None:
        while not stop.exists():
            try:
                # one query: the version and the rows of the same file
                row = data.query(
                    "select (select version from meta.publication) as version, "
                    "count(*) as n, min(n) as lo, max(n) as hi from marts.fault_marker"
                ).iloc[0]
                module_reads.append((str(row.version), int(row.n), int(row.lo), int(row.hi)))
            except Exception as exc:
                module_errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.005)

    cli_reads: list[tuple[str, int, int, int]] = []
    cli_errors: list[str] = []

    def cli_reader() -> None:
        while not stop.exists():
            try:
                cli_reads.append(cli_read(run_copy.published_warehouse))
            except Exception as exc:
                cli_errors.append(f"{type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=dashboards_reader, daemon=True),
        threading.Thread(target=cli_reader, daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        for generation in range(2, 8):
            wait_for(
                lambda g=generation: len(module_reads) > 3 * g and len(cli_reads) >= g,
                "the dashboards and CLI readers to read",
            )
            mark(generation)
            versions[publish(run_copy, run_id=f"gen{generation}").version] = generation
            time.sleep(0.2)
    finally:
        stop.touch()
        for thread in threads:
            thread.join(timeout=PATIENCE)
        out, _ = reader.communicate(timeout=PATIENCE)
    report = json.loads(out)

    assert report["errors"] == [] and module_errors == [] and cli_errors == []
    assert report["mixed"] == []
    assert report["reads"] > 20 and len(module_reads) > 20 and len(cli_reads) > 6
    # every version read is one that was published, with that publish's rows
    assert {v: versions.get(v) for v in report["seen"]} == report["seen"]
    assert all(versions.get(v) == n == lo == hi for v, n, lo, hi in module_reads)
    assert all(versions.get(v) == n == lo == hi for v, n, lo, hi in cli_reads)
    assert len({v for v, *_ in cli_reads}) >= 3  # the CLI sessions saw the publishes
    # the dashboards followed the publishes (it did not keep reading the first file)
    assert len({v for v, *_ in module_reads}) >= 3


# ---------------------------------------------------------------- personal data scan


def digit_runs_in_file(path: Path) -> set[str]:
    """Digit runs of a file's text (the recogniser's runs: any separators, full-width folded)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return digit_runs(pl.Series(text.splitlines()))


def test_no_clear_id_or_mobile_number_in_anything_pingan_writes(
    full_run: Settings, sample_root: Path
):
    clear = clear_values_in(sample_root / "landing")
    assert len(clear) > 100
    written = [
        p
        for p in full_run.data_dir.rglob("*")
        if p.is_file()
        and not p.is_relative_to(full_run.landing_dir)
        and not p.is_relative_to(full_run.truth_dir)
    ]
    kinds = {p.relative_to(full_run.data_dir).parts[0] for p in written}
    # warehouse, published snapshot, logs, GX results, Dagster storage
    assert {"warehouse.duckdb", "published", "logs", "gx", "dagster"} <= kinds, kinds
    assert any(p.suffix == ".json" and "gx" in p.parts for p in written)  # GX results stored

    leaks: dict[str, list[str]] = {}
    for path in written:
        found = digit_runs_in_file(path)
        if path.suffix == ".duckdb":
            found |= digit_runs_in_warehouse(path)
        hits = leaked(clear, found)
        if hits:
            leaks[str(path.relative_to(full_run.data_dir))] = sorted(hits)[:3]
    assert leaks == {}


def test_the_file_scan_finds_a_planted_leak(sample_root: Path, tmp_path: Path):
    clear = sorted(clear_values_in(sample_root / "landing"))
    log = tmp_path / "leaky.log"
    spaced = f"{clear[0][:3]} {clear[0][3:7]} {clear[0][7:]}"  # written with spaces
    log.write_text(f"2026-10-01 回电 {spaced}。\n", encoding="utf-8")
    assert leaked({clear[0]}, digit_runs_in_file(log)) == {clear[0]}
