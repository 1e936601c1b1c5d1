"""Publishing: the snapshot in DuckDB 1.5's storage format against the writer's own.

The snapshot is written with ``storage_compatibility_version`` set so the DuckDB CLI
(a release behind the Python package) can open it. This measures what that costs,
against a baseline in the same run: publish time, file size and the time of queries
like the dashboards' over the snapshot, with the DuckDB CLI's verdict on each file.

    uv run python -m benchmarks.bench_publish            # the marts of a city-scale city
    uv run python -m benchmarks.bench_publish --small    # a quick look (demo scale)
    uv run python -m benchmarks.bench_publish --scale test --rounds 1   # a smoke run

The working warehouse published is a real one: a city made by ``pingan sample`` and run
through ``pingan run``, built once into ``benchmarks/work/`` and reused by reruns.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from benchmarks.common import pipeline_snapshot, timed, write_result
from contracts.settings import Settings
from orchestration.defs.publish.snapshot import SNAPSHOT_STORAGE_COMPATIBILITY, publish

BASELINE = "latest"
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
# Shapes of the dashboards' heaviest reads: an aggregate over the largest facts, a
# ranking, a wide scan.
QUERIES = {
    "tickets by district and month": """
        select r.district, t.received_month, count(*) as n,
               avg(case when t.is_closed then 1 else 0 end) as closed
        from marts.fct_hotline_tickets t join marts.dim_region r using (region_key)
        group by all""",
    "top leads": """
        select * from marts.mart_group_rental_scores order by score desc limit 200""",
    "grid events scan": """
        select count(*), count(distinct columns(*)) from marts.fct_grid_events""",
}


def cli_opens(path: Path) -> bool:
    done = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", str(path), "-c", "select version from meta.publication"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode == 0


def query_seconds(path: Path, rounds: int) -> dict[str, float]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for name, sql in QUERIES.items():
            con.execute(sql).fetchall()  # warm the buffer pool, as a running dashboard is
            out[name] = timed(lambda sql=sql: con.execute(sql).fetchall(), rounds)[0]
        return out
    finally:
        con.close()


def measure(source: Path, work: Path, fmt: str, rounds: int) -> dict:
    settings = Settings(data_dir=work / fmt, warehouse=source)
    seconds, pub = timed(
        lambda: publish(settings, run_id="bench", storage_compatibility=fmt), rounds
    )
    return {
        "publish_s": seconds,
        "bytes": pub.bytes,
        "queries_s": query_seconds(pub.path, rounds * 2),
        "duckdb_cli_opens": cli_opens(pub.path),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a demo-scale city's marts")
    parser.add_argument("--scale", help="a city of this scale instead (test, demo, city, N)")
    parser.add_argument("--rounds", type=int, default=3, help="publishes per format (best kept)")
    args = parser.parse_args(argv)
    scale = args.scale or ("demo" if args.small else "city")
    print(f"the working warehouse of a {scale}-scale city ...", file=sys.stderr)
    source = pipeline_snapshot(scale) / "warehouse.duckdb"
    con = duckdb.connect(str(source), read_only=True)
    try:
        tickets = con.execute("select count(*) from marts.fct_hotline_tickets").fetchone()[0]
    finally:
        con.close()
    with tempfile.TemporaryDirectory(prefix="pingan-bench-publish-") as tmp:
        work = Path(tmp)
        formats = [BASELINE, SNAPSHOT_STORAGE_COMPATIBILITY]
        results = {fmt: measure(source, work, fmt, args.rounds) for fmt in formats}
    base, ours = results[BASELINE], results[SNAPSHOT_STORAGE_COMPATIBILITY]
    ratios = {
        "publish_time": ours["publish_s"] / base["publish_s"],
        "size": ours["bytes"] / base["bytes"],
        **{f"query: {q}": ours["queries_s"][q] / base["queries_s"][q] for q in QUERIES},
    }
    for fmt, r in results.items():
        print(
            f"{fmt:>8}: publish {r['publish_s']:.2f} s, {r['bytes'] / 1e6:.0f} MB, "
            f"DuckDB CLI opens it: {r['duckdb_cli_opens']}"
        )
    for name, ratio in ratios.items():
        print(f"  {SNAPSHOT_STORAGE_COMPATIBILITY} / {BASELINE} {name}: {ratio:.2f}x")
    write_result(
        "publish",
        {
            "size": scale,
            "tickets": tickets,
            "rounds": args.rounds,
            "baseline": BASELINE,
            "ours": SNAPSHOT_STORAGE_COMPATIBILITY,
            "results": results,
            "ratios": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
