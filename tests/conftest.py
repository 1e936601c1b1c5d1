"""Shared fixtures: a small synthetic city, ingested, built and published once per session.

Each stage uses the real stack (generator, ingest, dbt build, publish). Fixtures
that return a warehouse return a path to a file owned by the session: a test
that writes to it must copy it first (``copy_warehouse``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts.settings import Settings

# Records each fault test's outcome for README's fault table (tests/faults/report.py).
pytest_plugins = ["tests.faults._report_plugin"]

# Small enough for CI, large enough that every quirk and planted pattern occurs.
TEST_SCALE = "test"
TEST_MONTHS = 3
TEST_SEED = 7
TEST_END = "2026-10"


def settings_for(data_dir: Path, warehouse: Path | None = None) -> Settings:
    return Settings(data_dir=data_dir, warehouse=warehouse or data_dir / "warehouse.duckdb")


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding ``landing/`` and ``truth/`` of a small synthetic city."""
    from simulator import generate

    root = tmp_path_factory.mktemp("sample")
    generate(root, scale=TEST_SCALE, months=TEST_MONTHS, seed=TEST_SEED, end=TEST_END)
    return root


@pytest.fixture(scope="session")
def raw_warehouse(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a data dir whose warehouse has the sample ingested (raw layer only)."""
    from ingest.load import ingest_paths

    data_dir = tmp_path_factory.mktemp("raw_wh")
    shutil.copytree(sample_root / "truth", data_dir / "truth")
    settings = settings_for(data_dir)
    ingest_paths([sample_root / "landing"], settings)
    return settings


@pytest.fixture(scope="session")
def built_warehouse(raw_warehouse: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a data dir whose warehouse went through ``dbt build`` (all layers)."""
    from orchestration.defs.dbt.build import dbt_build

    data_dir = tmp_path_factory.mktemp("built_wh")
    shutil.copytree(raw_warehouse.data_dir, data_dir, dirs_exist_ok=True)
    settings = settings_for(data_dir)
    result = dbt_build(settings)
    assert result.success, result.summary
    return settings


@pytest.fixture(scope="session")
def published_warehouse(built_warehouse: Settings) -> Settings:
    """Settings whose ``published_warehouse`` snapshot exists (built from ``built_warehouse``)."""
    from orchestration.defs.publish.snapshot import publish_snapshot

    publish_snapshot(built_warehouse)
    return built_warehouse


@pytest.fixture
def copy_warehouse(tmp_path: Path):
    """Copy a session warehouse's data dir to a private one a test may write to."""

    def _copy(settings: Settings) -> Settings:
        target = tmp_path / "data"
        shutil.copytree(settings.data_dir, target)
        return settings_for(target)

    return _copy
