"""Landing sensors: new, duplicate and corrected files, and restarts with or without a cursor."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from contracts.settings import Settings
from ingest.load import ingest_paths
from orchestration.defs.ingest.landing import sha256_of
from orchestration.defs.ingest.sensors import build_landing_sensor
from orchestration.resources import PinganResource
from tests.orchestration.helpers import settings_for, ticket, write_tickets


def _aged(path: Path) -> Path:
    t = time.time() - 600
    os.utime(path, (t, t))
    return path


class Tick:
    """Evaluate the real hotline sensor, carrying its cursor like the daemon does."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.sensor = build_landing_sensor("hotline")
        self.cursor: str | None = None
        self.instance = dg.DagsterInstance.ephemeral()

    def __call__(self) -> list[dg.RunRequest]:
        ctx = dg.build_sensor_context(
            cursor=self.cursor,
            instance=self.instance,
            resources={"pingan": PinganResource.from_settings(self.settings)},
        )
        result = self.sensor.evaluate_tick(ctx)
        self.cursor = result.cursor
        return list(result.run_requests or [])

    def ingest_requested(self, request: dg.RunRequest) -> None:
        """What the requested run does: ingest exactly the listed files."""
        paths = request.run_config["ops"]["ingest_hotline"]["config"]["paths"]
        ingest_paths([Path(p) for p in paths], self.settings)


def _ledger(settings: Settings) -> list[tuple[str, str]]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(
            "select file_name, status from raw.load_ledger order by delivery_seq"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def landing(tmp_path: Path) -> tuple[Settings, Path]:
    settings = settings_for(tmp_path / "data")
    folder = settings.landing_dir / "hotline"
    folder.mkdir(parents=True)
    return settings, folder


def test_new_file_triggers_one_run_listing_just_that_file(landing) -> None:
    settings, folder = landing
    tick = Tick(settings)
    assert tick() == []
    f = _aged(write_tickets(folder / "12345_工单_20261003.csv", [ticket(1)]))
    [request] = tick()
    assert request.run_config["ops"]["ingest_hotline"]["config"]["paths"] == [str(f)]
    assert request.run_key and request.tags["pingan/system"] == "hotline"
    # Not requested again while its run is queued or running ...
    assert tick() == []
    tick.ingest_requested(request)
    # ... nor once it is in the ledger.
    assert tick() == []
    assert _ledger(settings) == [(f.name, "loaded")]


def test_file_still_being_written_is_not_requested_until_it_settles(landing) -> None:
    settings, folder = landing
    tick = Tick(settings)
    f = write_tickets(folder / "12345_工单_20261003.csv", [ticket(1)])  # mtime: now
    assert tick() == []
    _aged(f)
    assert len(tick()) == 1


def test_duplicate_content_under_a_new_name_is_ingested_as_duplicate(landing) -> None:
    settings, folder = landing
    tick = Tick(settings)
    f = _aged(write_tickets(folder / "12345_工单_20261003.csv", [ticket(1)]))
    tick.ingest_requested(tick()[0])
    copy = folder / "工单导出(1).csv"
    copy.write_bytes(f.read_bytes())
    _aged(copy)
    [request] = tick()
    assert request.run_config["ops"]["ingest_hotline"]["config"]["paths"] == [str(copy)]
    tick.ingest_requested(request)
    assert _ledger(settings) == [(f.name, "loaded"), (copy.name, "duplicate")]
    # An unchanged re-delivery under the known name is a no-op: no run at all.
    f.touch()
    _aged(f)
    assert tick() == []


def test_corrected_reexport_under_the_same_name_triggers_a_new_run(landing) -> None:
    settings, folder = landing
    tick = Tick(settings)
    f = _aged(write_tickets(folder / "12345_工单_20261003.csv", [ticket(1)]))
    first = tick()[0]
    tick.ingest_requested(first)
    old_sha = sha256_of(f)
    _aged(write_tickets(f, [ticket(1, status="已撤销", updated_at="2026-10-06 08:00:00")]))
    [second] = tick()
    assert second.run_key != first.run_key
    tick.ingest_requested(second)
    assert [s for _, s in _ledger(settings)] == ["loaded", "loaded"]
    assert sha256_of(f) != old_sha


def test_restart_with_its_cursor_neither_reloads_nor_skips(landing) -> None:
    settings, folder = landing
    tick = Tick(settings)
    a = _aged(write_tickets(folder / "a.csv", [ticket(1)]))
    tick.ingest_requested(tick()[0])
    saved = tick.cursor
    # The process restarts; meanwhile a new file lands.
    b = _aged(write_tickets(folder / "b.csv", [ticket(2)]))
    restarted = Tick(settings)
    restarted.cursor = saved
    [request] = restarted()
    assert request.run_config["ops"]["ingest_hotline"]["config"]["paths"] == [str(b)]
    restarted.ingest_requested(request)
    assert _ledger(settings) == [(a.name, "loaded"), (b.name, "loaded")]


def test_restart_without_a_cursor_trusts_the_ledger(landing) -> None:
    settings, folder = landing
    tick = Tick(settings)
    _aged(write_tickets(folder / "a.csv", [ticket(1)]))
    tick.ingest_requested(tick()[0])
    b = _aged(write_tickets(folder / "b.csv", [ticket(2)]))
    lost = Tick(settings)  # cursor lost: only the ledger remains
    [request] = lost()
    assert request.run_config["ops"]["ingest_hotline"]["config"]["paths"] == [str(b)]


def test_requested_file_whose_run_never_happened_is_requested_again_after_cursor_loss(
    landing,
) -> None:
    settings, folder = landing
    tick = Tick(settings)
    _aged(write_tickets(folder / "a.csv", [ticket(1)]))
    first = tick()[0]  # the run is requested but fails before loading anything
    again = Tick(settings)()[0]
    # Same files, same run key: Dagster's run-key de-duplication prevents a double run
    # while the first request exists; the daily pipeline run picks the file up regardless.
    assert again.run_key == first.run_key
