"""Published snapshots made by the real pipeline, for the dashboard and document tests.

A snapshot here is what production publishes: the simulator writes a small city's export
files (``pingan sample --scale test``), a recipe may drop crafted export files into its
``landing/`` (a situation a test needs), and the pipeline job ``pingan run`` executes
in-process (``orchestration.run.execute``: real ingest, dbt build, GX checks, publish).
No table is written by hand.

Building one takes minutes, so each recipe is built once per test session into a cache
folder shared by the pytest-xdist workers: the first worker to take the recipe's file lock
builds it, the others wait and reuse it (the pattern of pytest-xdist's docs, "making
session-scoped fixtures execute only once"). A cached data dir is read-only by
convention: a test that writes to a snapshot copies it first (:func:`copy_published`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from filelock import FileLock

from contracts.settings import Settings

SCALE = "test"
SEED = 7
COMPLETE = ".snapshot-complete"


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")


@dataclass(frozen=True)
class Recipe:
    """A city (months of activity ending ``end``) and the crafted files dropped into its
    landing folder before the run; ``name`` names the cache entry."""

    name: str
    months: int
    end: str
    seed: int = SEED
    crafts: tuple[Callable[[Path], None], ...] = field(default=())


def build(recipe: Recipe, data_dir: Path) -> Settings:
    """Generate the city, apply the crafts, run the pipeline job; the data dir's settings."""
    from orchestration.run import execute, summarise
    from simulator import generate

    generate(data_dir, scale=SCALE, months=recipe.months, seed=recipe.seed, end=recipe.end)
    for craft in recipe.crafts:
        craft(data_dir / "landing")
    settings = settings_for(data_dir)
    result, seconds = execute(settings)
    summary = summarise(result, seconds)
    if not summary.success:
        raise RuntimeError(f"pipeline run of snapshot {recipe.name!r} failed: {summary.failures}")
    return settings


def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's snapshot cache: shared by every xdist worker of this session (the
    parent of the workers' base temp dirs), the session's own base temp dir otherwise
    (whose parent is shared by every session, so a cache there would outlive code changes).

    ``PINGAN_TEST_SNAPSHOTS=DIR`` keeps the cache in DIR across sessions, for iterating on
    a test; delete DIR when the pipeline changes (the cache does not know)."""
    kept = os.environ.get("PINGAN_TEST_SNAPSHOTS")
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = Path(kept) if kept else root / "pipeline_snapshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cached(recipe: Recipe, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The recipe's data dir, built by the first worker that asks for it this session."""
    cache = cache_dir(tmp_path_factory)
    data_dir = cache / recipe.name
    with FileLock(str(cache / f"{recipe.name}.lock")):
        if not (data_dir / COMPLETE).exists():
            shutil.rmtree(data_dir, ignore_errors=True)  # a build that died half-way
            build(recipe, data_dir)
            (data_dir / COMPLETE).touch()
    return settings_for(data_dir)


def copy_published(source: Settings, data_dir: Path) -> Settings:
    """A data dir of its own holding a copy of ``source``'s published snapshot (writable)."""
    target = data_dir / "published"
    target.mkdir(parents=True)
    copy = target / source.published_warehouse.name
    shutil.copyfile(source.published_warehouse, copy)
    copy.chmod(0o644)  # a publish leaves the snapshot read-only
    return settings_for(data_dir)


def boundaries_without(source: Settings, out_dir: Path, leave_out: tuple[str, ...]) -> Path:
    """The city's own ``boundaries.geojson`` (written by the simulator) less the polygons of
    the region keys in ``leave_out``, as ``out_dir/boundaries.geojson``: a boundary file
    that lacks some units, as a real city's file may."""
    collection = json.loads((source.data_dir / "boundaries.geojson").read_text(encoding="utf-8"))
    collection["features"] = [
        f for f in collection["features"] if f["properties"]["region_key"] not in leave_out
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "boundaries.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


# The dashboards' snapshot: eight months ending 2026-10, so that 2026-09 and 2026-10
# have the six months of history an alert needs (dbt var alert_min_history_months; the
# simulator plants districts that deteriorate then, so they raise alerts and notices),
# 2026-Q3 is a whole quarter and 2026-10 the latest month (for the bulletins).
DASHBOARDS = Recipe(name="dashboards", months=8, end="2026-10")
