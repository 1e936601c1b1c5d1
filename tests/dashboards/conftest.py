"""Fixtures of the dashboard tests: a small real snapshot in the published layout.

The snapshot is built by ``dashboards.synthetic`` (real DuckDB file, exact and
known rows), so row-level-security assertions can be precise. Each test gets
its own data dir whose ``published/`` links to the session's snapshot, so the
access log a test writes is its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards.synthetic import build_snapshot
from ingest.settings import Settings


@pytest.fixture(scope="session")
def snapshot_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dash_snapshot")
    build_snapshot(root / "published" / "warehouse.duckdb")
    return root


@pytest.fixture
def dash_settings(snapshot_root: Path, tmp_path: Path, monkeypatch) -> Iterator[Settings]:
    """Settings of a private data dir reading the session snapshot; env set for the app."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.symlink(snapshot_root / "published", data_dir / "published")
    monkeypatch.setenv("PINGAN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PINGAN_DASHBOARD_USERS", raising=False)
    monkeypatch.delenv("PINGAN_DASHBOARD_CONFIG", raising=False)
    yield Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
