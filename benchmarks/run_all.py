"""`make bench`: every benchmark in turn, then README's speed section from the results.

Each benchmark runs in its own process (one at a time: they measure the whole
machine) and writes ``benchmarks/results/<name>.json``; ``benchmarks.report``
renders them into README. Pass ``--quick`` to skip the city scale (minutes
instead of most of an hour).

The dashboards are measured on the published snapshot of the city-scale run
when ``bench_run`` left one, else on one built for them by ``pingan sample`` and
``pingan run`` (demo scale with ``--quick``; cached in ``benchmarks/work/``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from benchmarks.common import WORK


def run(module: str, *args: str, env: dict[str, str] | None = None) -> bool:
    print(f"\n=== {module} {' '.join(args)}", flush=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", module, *args], env={**os.environ, **(env or {})})
    print(
        f"=== {module}: exit {done.returncode} after {time.perf_counter() - start:.0f}s", flush=True
    )
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="demo scale only, 500k-row ingest file"
    )
    args = parser.parse_args(argv)
    scales = ["demo"] if args.quick else ["demo", "city"]
    ok = [
        run(
            "benchmarks.bench_ingest",
            "--rows",
            "500000" if args.quick else "2000000",
            "--naive-rows",
            "5000",
            "--independent-rows",
            "200000" if args.quick else "1000000",
        ),
        run("benchmarks.bench_sample", "--scale", *scales),
        run("benchmarks.bench_dbt", "--scale", *scales),
        run("benchmarks.bench_alerts", "--scale", "demo", "--worlds", "12"),
        run("benchmarks.bench_run", "--scale", *scales),
        run("benchmarks.bench_publish", *(["--small"] if args.quick else [])),
        run("benchmarks.bench_bulletin", "--scale", "demo"),
    ]
    if not args.quick:
        # a city world is generated, ingested and built in ~10 minutes: three of them
        ok.append(run("benchmarks.bench_alerts", "--scale", "city", "--worlds", "3"))
    city = WORK / "run_city"
    if not args.quick and (city / "published" / "warehouse.duckdb").exists():
        ok.append(run("benchmarks.bench_dashboards", env={"PINGAN_DATA_DIR": str(city)}))
    else:
        ok.append(run("benchmarks.bench_dashboards", "--scale", scales[-1]))
    # Leads across worlds (issue 13): at least 8 worlds at demo scale, and the independent city.
    ok.append(run("benchmarks.bench_leads", "--worlds", "8", "--scale", "demo"))
    ok.append(run("benchmarks.report"))
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
