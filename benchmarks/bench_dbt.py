"""Time of ``dbt build`` (all layers and tests) on the synthetic city.

For each scale, a data dir under ``benchmarks/work/dbt_<scale>`` gets the sample
generated and ingested once (reused on later runs: ingest is benchmarked on its own
in bench_ingest), then ``dbt build`` runs on a fresh copy of the raw warehouse, the
way ``pingan build`` does. Reported: wall time of the build, the slowest nodes, row
counts of the marts, and the quality the build measures (address linkage precision
and recall, lead precision at the number of planted group rentals).

``--data-dir DIR`` times the build on an existing data dir (its ``warehouse.duckdb``
already ingested) instead of generating one.

Usage: python -m benchmarks.bench_dbt [--scale demo city] [--months 12] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.common import RESULTS, WORK, machine, write_result
from contracts.settings import Settings
from orchestration.defs.dbt.build import dbt_build

SEED = 20261001
END = "2026-10"
# The Monte Carlo of the index's construction choices (issue 18: 1,000 draws a month may
# add at most 60 s to a city-scale build): these models and the tests on them.
MONTE_CARLO_MODELS = (
    "int_safety_index_mc_draws",
    "mart_safety_index_draw_ranks",
    "mart_safety_index_uncertainty",
    "mart_safety_index_sensitivity",
)
MONTE_CARLO_GOAL_S = 60


def monte_carlo_seconds(node_seconds: dict[str, float]) -> float:
    """Execution seconds of the Monte Carlo models and of the tests that name them."""
    return sum(s for node, s in node_seconds.items() if any(m in node for m in MONTE_CARLO_MODELS))


def prepare(scale: str, months: int) -> Path:
    """A data dir with the sample of ``scale`` ingested into ``raw.duckdb`` (reused)."""
    from ingest.load import ingest_paths
    from simulator import generate

    data_dir = WORK / f"dbt_{scale}"
    raw = data_dir / "raw.duckdb"
    if raw.exists():
        return data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    source = WORK / f"dbt_{scale}_exports"
    if not (source / "landing").exists():
        generate(source, scale=scale, months=months, seed=SEED, end=END)
    shutil.copytree(source / "truth", data_dir / "truth")
    settings = Settings(data_dir=data_dir, warehouse=data_dir / "ingesting.duckdb")
    ingest_paths([source / "landing"], settings)
    settings.warehouse.rename(raw)
    return data_dir


def measure(data_dir: Path, raw: Path, label: str) -> dict[str, Any]:
    settings = Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
    shutil.copyfile(raw, settings.warehouse)
    start = time.perf_counter()
    result = dbt_build(settings)
    seconds = time.perf_counter() - start
    if not result.success:
        raise SystemExit(f"dbt build failed on {label}:\n{result.summary}")

    # every step's nodes (run_results.json holds only the last of the build's steps)
    slowest = sorted(result.node_seconds.items(), key=lambda kv: -kv[1])
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        marts = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        rows = {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in marts}
        raw_rows = sum(
            con.execute(f'select count(*) from raw."{t}"').fetchone()[0]
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        )
        link = con.execute(
            "select link_rate, precision, recall from marts.mart_link_quality "
            "where entity = 'all' and link_method = 'all'"
        ).fetchone()
        lead = con.execute(
            "select k, precision_at_k, recall_at_k from marts.mart_group_rental_evaluation "
            "where source = 'planted_truth' and k_label = 'k=planted' and segment = 'all'"
        ).fetchone()
    finally:
        con.close()
    return {
        "label": label,
        "measured_at": machine()["measured_at"],
        "seconds": round(seconds, 1),
        "node_seconds_total": round(sum(result.node_seconds.values()), 1),
        "monte_carlo_seconds": round(monte_carlo_seconds(result.node_seconds), 1),
        "monte_carlo_goal_at_most_s": MONTE_CARLO_GOAL_S,
        "raw_rows": raw_rows,
        "nodes": dict(sorted(result.counts.items())),
        "slowest_nodes": [{"node": node, "seconds": round(sec, 2)} for node, sec in slowest[:8]],
        "mart_rows": rows,
        "linkage": dict(zip(["link_rate", "precision", "recall"], link or (), strict=False)),
        "leads_at_planted": dict(zip(["k", "precision", "recall"], lead or (), strict=False)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", nargs="+", default=["demo"], help="demo | city | N")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--data-dir", type=Path, help="time the build on this data dir instead")
    args = parser.parse_args(argv)

    runs = []
    if args.data_dir:
        data_dir = args.data_dir.resolve()
        raw = data_dir / "bench_raw.duckdb"
        shutil.copyfile(data_dir / "warehouse.duckdb", raw)
        try:
            runs.append(measure(data_dir, raw, str(data_dir)))
        finally:
            raw.unlink(missing_ok=True)
    else:
        for scale in args.scale:
            data_dir = prepare(scale, args.months)
            run = measure(data_dir, data_dir / "raw.duckdb", scale)
            print(f"{scale}: dbt build {run['seconds']}s on {run['raw_rows']:,} raw rows")
            runs.append(run)
    # keep earlier runs of other scales (a city run takes long and is done separately)
    previous = RESULTS / "dbt.json"
    if previous.exists():
        labels = {r["label"] for r in runs}
        before = json.loads(previous.read_text())
        # a kept run keeps the date it was measured (older files dated only the whole file)
        kept = [
            {"measured_at": before["machine"]["measured_at"], **r}
            for r in before["runs"]
            if r["label"] not in labels
        ]
        runs = kept + runs
    write_result("dbt", {"seed": SEED, "end": END, "months": args.months, "runs": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
