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

import csv
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from filelock import FileLock

from contracts.settings import Settings

SCALE = "test"
SEED = 7
COMPLETE = ".snapshot-complete"


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")


Craft = Callable[[Path], None]  # drops crafted export files into a landing folder


@dataclass(frozen=True)
class Recipe:
    """A city (months of activity ending ``end``) and its runs: before each run of
    ``pingan run``'s job, that run's crafts drop files into ``landing/`` (the first run
    sees the simulator's files too). Earlier runs may fail (a crafted bad delivery); the
    last one must succeed and publish. ``name`` names the cache entry."""

    name: str
    months: int
    end: str
    seed: int = SEED
    runs: tuple[tuple[Craft, ...], ...] = field(default=((),))


def build(recipe: Recipe, data_dir: Path) -> Settings:
    """Generate the city, then craft and run as the recipe says; the data dir's settings."""
    from orchestration.run import execute, summarise
    from simulator import generate

    generate(data_dir, scale=SCALE, months=recipe.months, seed=recipe.seed, end=recipe.end)
    settings = settings_for(data_dir)
    for crafts in recipe.runs:
        for craft in crafts:
            craft(data_dir / "landing")
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


# ---------------------------------------------------------------- crafted deliveries


def _read_export(path: Path) -> tuple[str, str, list[str], list[list[str]]]:
    """(encoding, delimiter, header, rows) of a simulated CSV export (GB18030 or UTF-8,
    comma or tab, as the simulator writes them)."""
    raw = path.read_bytes()
    encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding = "gb18030"
        text = raw.decode(encoding)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    header, *rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return encoding, delimiter, header, [r for r in rows if len(r) == len(header)]


def _write_export(path: Path, like: Path, header: list[str], rows: list[list[str]]) -> None:
    if path.exists():  # a craft adds a delivery, never replaces one of the simulator's
        raise FileExistsError(path)
    encoding, delimiter, _, _ = _read_export(like)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue().encode(encoding))


def _column(header: list[str], entity: str, canonical: str) -> int:
    """Where the contract's column (by its header or an alias) is in an export's header."""
    from contracts.entities import ENTITIES_BY_NAME
    from ingest.normalise import normalise_header

    col = next(c for c in ENTITIES_BY_NAME[entity].columns if c.canonical == canonical)
    names = {normalise_header(n) for n in (col.header, *col.aliases)}
    return next(i for i, h in enumerate(header) if normalise_header(h) in names)


def _when(text: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


# The hotline's last two weekly files: a few hundred tickets, well over the 1 % of
# closings before their call that fails the critical time-order check
# (orchestration.quality.TIME_ORDER).
_HOTLINE_FILES = ("12345_工单_20261024.csv", "12345_工单_20261031.csv")
BROKEN_HOTLINE = "导出错误"  # the folder of the broken resend
CORRECTED_HOTLINE = "更正"  # the folder of its correction


def _closed_tickets(landing: Path) -> list[tuple[Path, list[str], list[str], datetime, datetime]]:
    """(file, header, row, call time, update time) of each closed ticket of the files."""
    out = []
    for name in _HOTLINE_FILES:
        path = landing / "hotline" / name
        _, _, header, rows = _read_export(path)
        at = {
            c: _column(header, "hotline_tickets", c)
            for c in ("received_at", "closed_at", "updated_at")
        }
        for row in rows:
            called, closed, updated = (_when(row[at[c]]) for c in at)
            if called and closed and updated:
                out.append((path, header, row, called, updated))
    return out


def _resend(landing: Path, folder: str, closed_shift: bool, update_hours: int) -> None:
    by_file: dict[Path, tuple[list[str], list[list[str]]]] = {}
    for path, header, row, called, updated in _closed_tickets(landing):
        resent = list(row)
        if closed_shift:
            resent[_column(header, "hotline_tickets", "closed_at")] = _stamp(
                called - timedelta(days=1)
            )
        resent[_column(header, "hotline_tickets", "updated_at")] = _stamp(
            updated + timedelta(hours=update_hours)
        )
        by_file.setdefault(path, (header, []))[1].append(resent)
    for path, (header, rows) in by_file.items():
        _write_export(landing / "hotline" / folder / path.name, path, header, rows)


def broken_hotline_resend(landing: Path) -> None:
    """A resend of the last two weeks' tickets whose closing time is a day before the call
    (a system clock gone wrong), newer than the originals: run 1 fails a critical check."""
    _resend(landing, BROKEN_HOTLINE, closed_shift=True, update_hours=1)


def corrected_hotline_resend(landing: Path) -> None:
    """The correction of :func:`broken_hotline_resend`: the original tickets again, newer
    still, so the next run passes and publishes."""
    _resend(landing, CORRECTED_HOTLINE, closed_shift=False, update_hours=2)


INSANE_FLOOR_AREA = "1500"  # m²: inside the contract's 1..5000, outside the sane 5..1000
INSANE_HOUSES = 80  # of some 4,000 registered: over the 1 % the sane-range check allows


def insane_floor_areas(landing: Path) -> None:
    """A registry resend of some houses with their floor area keyed in wrong (1500 m²),
    newer than the originals: the rental houses' sane-range warning fails, in every run."""
    houses: dict[str, tuple[Path, list[str], list[str]]] = {}
    for path in sorted((landing / "rental").glob("出租房屋_登记_2026????.csv")):
        _, _, header, rows = _read_export(path)
        for row in rows:
            houses.setdefault(row[0], (path, header, row))
    chosen = list(houses.values())[:INSANE_HOUSES]
    like, header, _ = chosen[0]
    area = _column(header, "rental_houses", "floor_area_m2")
    updated = _column(header, "rental_houses", "updated_at")
    rows = []
    for _, _, row in chosen:
        wrong = list(row)
        wrong[area] = INSANE_FLOOR_AREA
        wrong[updated] = "2026-10-31 23:30:00"
        rows.append(wrong)
    _write_export(landing / "rental" / "补录" / "出租房屋_登记_20261031.csv", like, header, rows)


SURGE_DISTRICTS = ("崇川区", "通州区")  # an officer's district and another one
# KNOWN GAP: three copies (102 incidents against 40 expected in 崇川区, p_up 0.03) do not
# make an alert yet (the surge also widens the pooled overdispersion), so this snapshot
# has no alerts and no notices; a larger or a single-district surge is the next step.
SURGE_COPIES = 3


def incident_surge(landing: Path) -> None:
    """Late-reported 110 incidents of two districts in 2026-10: each of their October
    incidents three more times (new ids), a surge the alerts flag as worsening, so the
    two districts get alerts and notices (the simulator's own swings fall in months with
    too little history at this length)."""
    for path in sorted((landing / "police").glob("公安_警情_202610??.csv")):
        _, _, header, rows = _read_export(path)
        key = _column(header, "police_incidents", "incident_id")
        district = _column(header, "police_incidents", "district")
        surge = []
        for row in rows:
            if row[district].strip() in SURGE_DISTRICTS:
                for copy in range(1, SURGE_COPIES + 1):
                    extra = list(row)
                    extra[key] = f"{row[key].strip()}B{copy}"
                    surge.append(extra)
        if surge:
            _write_export(landing / "police" / "补报" / path.name, path, header, surge)


# The dashboards' snapshot: eight months ending 2026-10, so that 2026-09 and 2026-10
# have the six months of history an alert needs (dbt var alert_min_history_months; the
# simulator plants districts that deteriorate then, so they raise alerts and notices),
# 2026-Q3 is a whole quarter and 2026-10 the latest month (for the bulletins).
# Run 1 also gets a broken hotline resend (a critical check fails, nothing is published),
# houses with a wrong floor area (a warning) and an incident surge in two districts
# (alerts, notices); run 2 gets the hotline's correction and publishes: the 数据质量 page
# reads run 2's checks only.
DASHBOARDS = Recipe(
    name="dashboards",
    months=8,
    end="2026-10",
    runs=(
        (broken_hotline_resend, insane_floor_areas, incident_surge),
        (corrected_hotline_resend,),
    ),
)
