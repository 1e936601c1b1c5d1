"""Publishing: an atomic read-only snapshot that readers never wait for nor see half-built."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from contracts.settings import Settings
from contracts.support_tables import ensure_raw_schema
from orchestration.defs.publish.snapshot import (
    PublishError,
    publish,
    publish_snapshot,
    published_version,
)
from orchestration.defs.quality.suites import Outcome, record
from tests.orchestration.helpers import settings_for


def build_working(settings: Settings, build: int, rows: int = 2000) -> None:
    """A working warehouse whose marts all carry the build number (to spot mixed reads)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse))
    try:
        ensure_raw_schema(con)
        con.execute("create schema if not exists marts")
        con.execute(
            f"create or replace table marts.fct_a as select {build} as build, i from range({rows * build}) t(i)"
        )
        con.execute(f"create or replace view marts.v_b as select {build} as build")
        con.execute("create schema if not exists staging")
        con.execute("create or replace table staging.not_published as select 1 as x")
        record(
            con,
            f"run{build}",
            [Outcome("hotline_tickets", "not_null:ticket_id", "critical", True, "0")],
        )
    finally:
        con.close()


def test_snapshot_has_the_layout_readers_rely_on(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    build_working(settings, 1)
    path = publish_snapshot(settings, run_id="run-1")
    assert path == settings.published_warehouse
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = set(
            con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        )
        names = {t[0] for t in tables}
        assert {"marts.fct_a", "marts.v_b", "quality.check_results", "meta.publication"} <= names
        assert {"raw.load_ledger", "raw.rejected_rows", "raw.row_warnings"} <= names
        assert not any(n.startswith(("staging.", "raw.hotline")) for n in names)
        version, published_at, run_id = con.execute("select * from meta.publication").fetchone()
        assert run_id == "run-1" and version and published_at is not None
        assert con.execute("select count(*) from marts.fct_a").fetchone() == (2000,)
    finally:
        con.close()
    assert not (path.stat().st_mode & 0o222), "the snapshot file is read-only"
    assert list(path.parent.glob(".warehouse.*")) == [], "no temporary file left behind"


def test_every_publish_has_a_new_version(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    build_working(settings, 1)
    versions = {publish(settings).version for _ in range(3)}
    assert len(versions) == 3
    assert published_version(settings) in versions


def test_publishing_without_marts_fails_and_keeps_the_previous_snapshot(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    build_working(settings, 1)
    before = publish(settings).version
    con = duckdb.connect(str(settings.warehouse))
    con.execute("drop schema marts cascade")
    con.close()
    with pytest.raises(PublishError, match="no marts"):
        publish(settings)
    assert published_version(settings) == before


def test_missing_working_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="no working warehouse"):
        publish(settings_for(tmp_path / "nothing"))


READER = textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    path, stop_file = sys.argv[1], sys.argv[2]
    seen, errors, reads = set(), [], 0
    import os
    while not os.path.exists(stop_file) or reads < 5:
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                version = con.execute("select version from meta.publication").fetchone()[0]
                builds = con.execute("select distinct build from marts.fct_a").fetchall()
                n = con.execute("select count(*) from marts.fct_a").fetchone()[0]
                view_build = con.execute("select build from marts.v_b").fetchone()[0]
                time.sleep(0.005)  # hold the snapshot open while the writer replaces it
                again = con.execute("select count(*) from marts.fct_a").fetchone()[0]
            finally:
                con.close()
            if len(builds) != 1 or builds[0][0] != view_build or n != again or n != 2000 * view_build:
                errors.append(f"mixed read: {builds} {view_build} {n} {again}")
            seen.add((version, view_build))
            reads += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    print(json.dumps({"reads": reads, "seen": sorted(seen), "errors": errors[:5]}))
    """
)


def test_reader_in_another_process_never_waits_nor_sees_a_half_publish(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    build_working(settings, 1)
    published = {publish(settings).version: 1}
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.published_warehouse), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for build in range(2, 8):
            build_working(settings, build)
            published[publish(settings).version] = build
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    report = json.loads(out)
    assert report["errors"] == []
    assert report["reads"] >= 5
    # Every read saw one whole publication: its version and its build agree.
    assert all(published[v] == b for v, b in report["seen"])
    assert len(report["seen"]) >= 2, "the reader kept reading across publishes"
