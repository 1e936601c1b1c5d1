"""The dashboards' snapshot: a city with alerts, made by the real pipeline.

The session's shared run (``pipeline_run`` in tests/conftest.py) is three months long, too
short for an alert (an alert needs ``alert_min_history_months`` of history, a dbt var). The
dashboard, document, bulletin and notice tests need alerts, notices and a whole quarter, so
this recipe makes a longer city: the simulator writes its export files (``pingan sample
--scale test``), crafts drop a few more export files into its ``landing/`` (a situation a
test needs), and ``pingan run``'s job executes once in-process
(``orchestration.run.execute``: real ingest, dbt build, the lead model, GX checks,
publish). No table is written by hand.

A run costs about the same whatever the months (dbt and Dagster's own work dominate), so
the recipe is ONE run, built once per session for every xdist worker by conftest's
``_built_once``. Its data dir is read-only by convention: a test that writes to the
snapshot copies it first (:func:`copy_published`).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from contracts.settings import Settings

SCALE = "test"
# Seven months ending 2026-10: 2026-10 has the six months of history an alert needs
# (dbt var alert_min_history_months), 2026-Q2 and 2026-Q3 are whole quarters and 2026-10
# the latest month (for the bulletins). Seed 4 plants a spike of 110 incidents in 通州区
# in 2026-10 (truth/alert_swings.csv) that the alerts find, so the last month has an
# alert and a notice in a district officer's district (the ``tongzhou`` demo user).
# (Seed 2's swings in 崇川区 are a step begun in 2026-08: its 2026-10 is no alert against a
# baseline that holds the step; seed 7 alerts a 启东市 street only.)
MONTHS = 7
END = "2026-10"
SEED = 4


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")


def build(data_dir: Path) -> None:
    """Generate the city, drop the crafted deliveries, run ``pingan run``'s job once."""
    from orchestration.run import execute, summarise
    from simulator import generate

    generate(data_dir, scale=SCALE, months=MONTHS, seed=SEED, end=END)
    insane_floor_areas(data_dir / "landing")
    result, seconds = execute(settings_for(data_dir))
    summary = summarise(result, seconds)
    if not summary.success:
        raise RuntimeError(f"pipeline run of the dashboards' snapshot failed: {summary.failures}")


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


INSANE_FLOOR_AREA = "1500"  # m²: inside the contract's 1..5000, outside the sane 5..1000
INSANE_HOUSES = 80  # of some 4,000 registered: over the 1 % the sane-range check allows


def insane_floor_areas(landing: Path) -> None:
    """A registry resend of some houses with their floor area keyed in wrong (1500 m²),
    newer than the originals: the rental houses' sane-range check (a warning) fails,
    while the run still publishes."""
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
