"""Shared fixtures: a small synthetic city, ingested, built and published once per session.

Each stage uses the real stack (generator, ingest, dbt build, publish). Fixtures
that return a warehouse return a path to a file owned by the session: a test
that writes to it must copy it first (``copy_warehouse``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from contracts.settings import Settings

# Records each fault test's outcome for README's fault table (tests/faults/report.py).
pytest_plugins = ["tests.faults._report_plugin"]

# Small enough for CI, large enough that every quirk and planted pattern occurs.
TEST_SCALE = "test"
TEST_MONTHS = 3
TEST_SEED = 7
TEST_END = "2026-10"


def pytest_configure(config: pytest.Config) -> None:
    """AppTest runs the pages in this process: with the options `pingan serve` gives them."""
    from dashboards.serve import apply_script_options

    apply_script_options()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a slow test first, otherwise in collection order.

    ``make test`` runs pytest-xdist with ``--dist loadfile``, which hands whole files to
    the workers in collection order: a long file collected late (tests/orchestration/
    comes after tests/dashboards/) would run alone at the end while the other worker has
    nothing left. Handing out the long files first (longest-processing-time-first, the
    classic rule for keeping parallel machines busy to the end) leaves the short ones to
    fill the gaps. A file's items stay together, so module fixtures are built once.
    xdist keeps this order only with ``--no-loadscope-reorder`` (the Makefile passes it);
    by default it hands out the files with the most tests first.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: order kept within


def settings_for(data_dir: Path, warehouse: Path | None = None) -> Settings:
    return Settings(data_dir=data_dir, warehouse=warehouse or data_dir / "warehouse.duckdb")


def _built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """A folder ``build`` filled once per test session, shared by every xdist worker.

    Under pytest-xdist each worker is its own process with its own session fixtures;
    the folder is built once under a file lock in the directory all workers share
    (the pattern of pytest-xdist's docs) so the costly stages run once, not per worker.
    That directory is the session's: the parent of the workers' base temp dirs under
    xdist, the base temp dir itself without it (its parent is shared by every session, so
    a folder there would outlive code changes). ``PINGAN_TEST_BUILT=DIR`` keeps the folders
    in DIR across sessions, for iterating on a test; empty DIR when the pipeline changes.
    """
    base = tmp_path_factory.getbasetemp()
    kept = os.environ.get("PINGAN_TEST_BUILT")
    # a worker's base temp is <session's>/popen-gwN: the session's is the shared one
    shared = Path(kept) if kept else base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared.mkdir(parents=True, exist_ok=True)
    folder = shared / name
    done = shared / f"{name}.built"  # beside the folder: the folder holds only what build wrote
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            done.touch()
    return folder


def _private_copy(source: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """This worker's own copy: DuckDB lets one process write a file, so workers never share one."""
    target = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding ``landing/`` and ``truth/`` of a small synthetic city."""
    from simulator import generate

    def build(root: Path) -> None:
        generate(root, scale=TEST_SCALE, months=TEST_MONTHS, seed=TEST_SEED, end=TEST_END)

    return _built_once(tmp_path_factory, "sample", build)


@pytest.fixture(scope="session")
def raw_warehouse(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a data dir whose warehouse has the sample ingested (raw layer only)."""
    from ingest.load import ingest_paths

    def build(data_dir: Path) -> None:
        shutil.copytree(sample_root / "truth", data_dir / "truth")
        ingest_paths([sample_root / "landing"], settings_for(data_dir))

    shared = _built_once(tmp_path_factory, "raw_wh", build)
    return settings_for(_private_copy(shared, tmp_path_factory, "raw_wh"))


@pytest.fixture(scope="session")
def pipeline_run(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data dir of one ``pingan run`` (the Dagster job in-process: ingest, dbt, the
    lead model, GX, publish) over the sample, shared by the session. Copy it before use
    (``run_copy_of``). A failed run raises, so no worker uses it. What the run's result
    said is kept beside it (:func:`pipeline_run_record`).

    A copy sits at another path, so the load ledger's paths name the shared folder: a
    test that ingests again on a copy sees the sample's files as duplicates, not as seen,
    unless the copy's ``landing/`` links to the shared one (tests/orchestration/
    test_pipeline.py does that for its second run)."""
    from ingest.progress import Progress
    from orchestration.run import execute, summarise

    def build(data_dir: Path) -> None:
        shutil.copytree(sample_root / "landing", data_dir / "landing")
        shutil.copytree(sample_root / "truth", data_dir / "truth")
        lines: list[str] = []  # the run's plain progress, as a CI log shows it
        with Progress(live=False, write=lines.append) as progress:
            result, seconds = execute(settings_for(data_dir), progress=progress)
        summary = summarise(result, seconds)
        assert result.success, summary.failures
        record = {
            "progress": lines,
            "materialised": [
                e.materialization.asset_key.path for e in result.get_asset_materialization_events()
            ],
            "check_evaluations": len(list(result.get_asset_check_evaluations())),
            "summary": vars(summary),  # its fields (dataclasses.asdict garbles Counters)
        }
        _record_path(data_dir).write_text(json.dumps(record, ensure_ascii=False), "utf-8")

    return _built_once(tmp_path_factory, "pipeline_run", build)


def _record_path(run_dir: Path) -> Path:
    """Beside the run's folder, which holds only what the run wrote."""
    return run_dir.with_name(f"{run_dir.name}.result.json")


@dataclass(frozen=True)
class RecordedRun:
    """What the in-process result of the shared run said: the worker that ran it may be
    another process than the one whose test asks."""

    progress: list[str]  # the run's plain progress lines
    materialised: set[Any]  # dagster AssetKeys of the run's materialisations
    check_evaluations: int  # asset check evaluations of the run
    summary: Any  # orchestration.run.RunSummary of the result


@pytest.fixture(scope="session")
def pipeline_run_record(pipeline_run: Path) -> RecordedRun:
    import dagster as dg

    from orchestration.run import RunSummary

    path = _record_path(pipeline_run)
    if not path.exists():  # a folder kept by PINGAN_TEST_BUILT from before results were kept
        pytest.fail(f"{path} is missing: empty PINGAN_TEST_BUILT and run again")
    record = json.loads(path.read_text("utf-8"))
    summary = record["summary"]
    for f in dataclasses.fields(RunSummary):  # JSON kept the Counters as dicts
        if f.default_factory is Counter:
            summary[f.name] = Counter(summary[f.name])
    return RecordedRun(
        progress=record["progress"],
        materialised={dg.AssetKey(key) for key in record["materialised"]},
        check_evaluations=record["check_evaluations"],
        summary=RunSummary(**summary),
    )


@pytest.fixture(scope="session")
def dashboards_run(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the data dir of the dashboards' snapshot: a seven-month city with alerts
    and notices in its last month, through one ``pingan run`` (tests/snapshots.py), shared
    by the session. Read-only: a test that writes copies it first."""
    from tests import snapshots

    return snapshots.settings_for(_built_once(tmp_path_factory, "dashboards_run", snapshots.build))


@pytest.fixture(scope="session")
def run_copy_of(tmp_path_factory: pytest.TempPathFactory, pipeline_run: Path):
    """A private copy of the shared run's data dir, as Settings."""

    def _copy(name: str) -> Settings:
        return settings_for(_private_copy(pipeline_run, tmp_path_factory, name))

    return _copy


@pytest.fixture(scope="session")
def built_warehouse(run_copy_of) -> Settings:
    """Settings of a data dir whose warehouse went through the whole run (all layers),
    built the way ``pingan run`` builds it."""
    return run_copy_of("built_wh")


@pytest.fixture(scope="session")
def published_warehouse(built_warehouse: Settings) -> Settings:
    """Settings whose ``published_warehouse`` snapshot exists (the run published it)."""
    return built_warehouse


@pytest.fixture
def copy_warehouse(tmp_path: Path):
    """Copy a session warehouse's data dir to a private one a test may write to."""

    def _copy(settings: Settings) -> Settings:
        target = tmp_path / "data"
        shutil.copytree(settings.data_dir, target)
        return settings_for(target)

    return _copy
