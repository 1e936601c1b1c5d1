"""Throughput of the synthetic city generator (`pingan sample`).

Generates the ``demo`` scale (and optionally ``city``) into ``benchmarks/work``
and reports wall time, rows written per second, records per second, bytes
written, and the time between progress lines (build, activity, each entity's
files). The output is deleted afterwards unless ``--keep``.

Usage: python -m benchmarks.bench_sample [--scale demo|city|N ...] [--months 12] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import time
from typing import Any

from benchmarks.common import WORK, write_result
from simulator import generate

SEED = 20261001
END = "2026-10"


def measure(scale: str, months: int, keep: bool) -> dict[str, Any]:
    out = WORK / f"sample_{scale}"
    shutil.rmtree(out, ignore_errors=True)
    marks: list[tuple[float, str]] = []

    def progress(msg: str) -> None:
        marks.append((time.perf_counter(), msg))
        print(msg, flush=True)

    start = time.perf_counter()
    summary = generate(out, scale=scale, months=months, seed=SEED, end=END, progress=progress)
    seconds = time.perf_counter() - start
    files = [p for p in (out / "landing").rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    steps, last = [], start
    for t, msg in marks:
        steps.append({"after": msg.strip()[:80], "seconds": round(t - last, 3)})
        last = t
    records = sum(summary.records.values())
    result = {
        "scale": summary.scale,
        "residents": summary.residents,
        "months": months,
        "seconds": round(seconds, 2),
        "files": summary.files,
        "rows_written": summary.total_rows,
        "rows_per_second": round(summary.total_rows / seconds),
        "records": records,
        "records_per_second": round(records / seconds),
        "megabytes_written": round(size / 1e6, 1),
        "rows_per_entity": summary.rows,
        "records_per_entity": summary.records,
        "steps": steps,
    }
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", nargs="+", default=["demo"], help="scales to measure")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)
    runs = [measure(s, args.months, args.keep) for s in args.scale]
    for r in runs:
        print(
            f"{r['scale']}: {r['seconds']} s, {r['files']} files, {r['rows_written']:,} rows "
            f"({r['rows_per_second']:,} rows/s), {r['megabytes_written']} MB"
        )
    write_result("sample", {"seed": SEED, "end": END, "runs": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
