"""Ingest throughput of `pingan ingest` on a large GB18030 hotline CSV.

Measured in one run, on the same rows:

* floor: DuckDB's own ``read_csv`` of the UTF-8 version of the file into a
  table (no transcoding, no typing, no PII): the best this machine does;
* pingan: ``pingan ingest`` of the GB18030 file (transcode, header matching,
  typing, PII pseudonyms, rejects, ledger, one transaction);
* naive: what a typical user writes, ``pandas.read_csv`` then row inserts
  (``executemany``); timed on a slice because it is slow, reported in rows/s;
* pandas_bulk: ``pandas.read_csv`` then one bulk insert of the DataFrame, for
  reference;
* per-file overhead: ``pingan ingest`` of a folder of many small GB18030 hotline
  files (default 500 of 20 rows) against DuckDB loading the same files (UTF-8
  copies), one ``read_csv`` and one transaction each: the ratio of the two times;
* independent: ``pingan ingest`` of a GB18030 hotline export that ``pingan sample``
  did not write (:mod:`benchmarks.hotline_export`: every row a distinct timestamp and
  phone, long texts with ID and phone numbers inside, mixed timestamp forms, 20% of
  rows on the slow paths) against DuckDB's ``read_csv`` of the same rows in UTF-8.

Usage: python -m benchmarks.bench_ingest [--rows 2000000] [--naive-rows 100000]
       [--small-files 500 --small-rows 20] [--only-small]
       [--independent-rows 1000000] [--only-independent]
"""

from __future__ import annotations

import argparse
import codecs
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from benchmarks.common import WORK, timed, write_result
from benchmarks.hotline_export import write_export
from contracts.entities import entity

HOTLINE = entity("hotline_tickets")
ROADS = ["工农路", "人民中路", "青年东路", "钟秀街", "濠河路", "任港路", "通京大道", "世纪大道"]
DISTRICTS = ["崇川区", "通州区", "海门区", "如皋市", "启东市", "海安市", "如东县"]
CONTENT = [
    "楼上住户深夜装修噪音扰民，多次沟通无果，请求相关部门尽快处理。",
    "小区门口道路破损严重，雨天积水，行人出行不便，希望维修。",
    "反映该出租屋疑似群租，人员进出频繁，楼道堆放杂物存在消防隐患。",
    "咨询居住证办理所需材料及办理地点。",
    "路灯损坏多日无人维修，夜间出行存在安全隐患。",
]


def make_rows(n: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    base = np.datetime64("2026-01-01T00:00:00")
    received = base + rng.integers(0, 300 * 86400, n).astype("timedelta64[s]")
    due = received + np.timedelta64(5 * 86400, "s")
    closed = received + rng.integers(3600, 9 * 86400, n).astype("timedelta64[s]")
    phones = (13_000_000_000 + rng.integers(0, 6_999_999_999, n)).astype(str)
    addr_no = rng.integers(1, 400, n).astype(str)
    frame = pl.DataFrame(
        {
            "工单编号": np.char.add("NT", (20260000000000 + np.arange(n)).astype(str)),
            "来电时间": np.datetime_as_string(received, unit="s"),
            "受理渠道": rng.choice(["电话", "网站", "微信", "APP"], n),
            "来电人": rng.choice(["张三", "李四", "王五", "赵六"], n),
            "来电号码": phones,
            "诉求类型": rng.choice(["投诉", "求助", "咨询", "建议"], n),
            "诉求分类": rng.choice(
                [
                    "公共安全>社会治安>噪音扰民",
                    "城乡建设>房屋管理>群租房",
                    "交通运输>道路>道路破损",
                ],
                n,
            ),
            "诉求内容": rng.choice(CONTENT, n),
            "事发地址": np.char.add(
                np.char.add(rng.choice(DISTRICTS, n), rng.choice(ROADS, n)),
                np.char.add(addr_no, "号3幢201室"),
            ),
            "所属区县": rng.choice(DISTRICTS, n),
            "所属街道": rng.choice(["和平桥街道", "城东街道", "金沙街道"], n),
            "承办单位": rng.choice(["区住建局", "区公安分局", "街道办事处"], n),
            "派单时间": np.datetime_as_string(received + np.timedelta64(1800, "s"), unit="s"),
            "办理时限": np.datetime_as_string(due, unit="s"),
            "办结时间": np.datetime_as_string(closed, unit="s"),
            "工单状态": rng.choice(["已办结", "办理中"], n, p=[0.9, 0.1]),
            "满意度": rng.choice(["满意", "基本满意", "不满意", "未评价"], n),
            "是否重复件": rng.choice(["是", "否"], n, p=[0.1, 0.9]),
            "更新时间": np.datetime_as_string(closed, unit="s"),
        }
    )
    # Timestamps in the contract's other forms, on a share of rows.
    frame = frame.with_columns(
        pl.when(pl.int_range(n) % 7 == 0)
        .then(pl.col("来电时间").str.replace("T", " ").str.replace_all("-", "/"))
        .otherwise(pl.col("来电时间").str.replace("T", " "))
        .alias("来电时间"),
        *[
            pl.col(c).str.replace("T", " ")
            for c in ("派单时间", "办理时限", "办结时间", "更新时间")
        ],
    )
    return frame


def write_files(rows: int, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    utf8 = folder / "hotline_utf8.csv"
    gb = folder / "12345_工单_20261003.csv"
    if not (utf8.exists() and gb.exists() and utf8.stat().st_size > rows * 50):
        make_rows(rows).write_csv(utf8)
        encoder = codecs.getincrementalencoder("gb18030")()
        with utf8.open(encoding="utf-8") as src, gb.open("wb") as out:
            while chunk := src.read(1 << 22):
                out.write(encoder.encode(chunk))
    return utf8, gb


def floor(utf8: Path, db: Path) -> int:
    con = duckdb.connect(str(db))
    con.execute(
        f"create or replace table t as select * from read_csv('{utf8}', all_varchar = true)"
    )
    count = con.execute("select count(*) from t").fetchall()[0][0]
    con.close()
    return int(count)


def pingan(gb: Path, data_dir: Path) -> int:
    shutil.rmtree(data_dir, ignore_errors=True)
    env = {"PINGAN_DATA_DIR": str(data_dir), "PINGAN_PII_KEY": "bench"}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "ingest", str(gb)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    total = proc.stdout.strip().splitlines()[-1]
    return int(total.split("loaded ")[-1].split(",")[0])


def naive_rowwise(gb: Path, db: Path, rows: int) -> int:
    import pandas as pd

    frame = pd.read_csv(gb, encoding="gb18030", dtype=str, nrows=rows)
    con = duckdb.connect(str(db))
    cols = ", ".join(f'"{c}" varchar' for c in frame.columns)
    con.execute(f"create or replace table t ({cols})")
    marks = ", ".join("?" for _ in frame.columns)
    con.executemany(
        f"insert into t values ({marks})", frame.where(frame.notna(), None).values.tolist()
    )
    con.close()
    return len(frame)


def pandas_bulk(gb: Path, db: Path) -> int:
    import pandas as pd

    frame = pd.read_csv(gb, encoding="gb18030", dtype=str)
    con = duckdb.connect(str(db))
    con.execute("create or replace table t as select * from frame")
    con.close()
    return len(frame)


def write_small_files(files: int, rows: int, folder: Path) -> tuple[Path, Path]:
    """``files`` hotline exports of ``rows`` rows each: GB18030 for pingan, UTF-8 for DuckDB."""
    gb_dir, utf8_dir = folder / "gb18030", folder / "utf8"
    if len(list(gb_dir.glob("*.csv"))) != files:
        shutil.rmtree(folder, ignore_errors=True)
        gb_dir.mkdir(parents=True)
        utf8_dir.mkdir(parents=True)
        frame = make_rows(files * rows, seed=2)
        for i in range(files):
            text = frame.slice(i * rows, rows).write_csv()
            name = f"12345_工单_{i:05d}.csv"
            (gb_dir / name).write_bytes(text.encode("gb18030"))
            (utf8_dir / name).write_text(text, encoding="utf-8")
    return gb_dir, utf8_dir


def floor_per_file(utf8_dir: Path, db: Path) -> int:
    """DuckDB alone: each file read and inserted in a transaction of its own."""
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    first = True
    for path in sorted(utf8_dir.glob("*.csv")):
        con.begin()
        if first:
            con.execute(f"create table t as select * from read_csv('{path}', all_varchar = true)")
            first = False
        else:
            con.execute(f"insert into t select * from read_csv('{path}', all_varchar = true)")
        con.commit()
    count = con.execute("select count(*) from t").fetchall()[0][0]
    con.close()
    return int(count)


def small_files(files: int, rows: int, repeat: int) -> dict:
    folder = WORK / f"ingest_small_{files}x{rows}"
    gb_dir, utf8_dir = write_small_files(files, rows, folder)
    t_floor, n_floor = timed(lambda: floor_per_file(utf8_dir, folder / "floor.duckdb"), repeat)
    print(f"{files} files of {rows} rows, DuckDB one transaction each: {t_floor:.2f}s")
    t_pingan, n_pingan = timed(lambda: pingan(gb_dir, folder / "pingan"), repeat)
    print(f"{files} files of {rows} rows, pingan ingest:               {t_pingan:.2f}s")
    assert n_floor == n_pingan == files * rows, (n_floor, n_pingan)
    result = {
        "files": files,
        "rows_per_file": rows,
        "seconds": {"floor": round(t_floor, 2), "pingan": round(t_pingan, 2)},
        "ms_per_file": {
            "floor": round(1000 * t_floor / files, 1),
            "pingan": round(1000 * t_pingan / files, 1),
        },
        "pingan_vs_floor": round(t_pingan / t_floor, 2),
    }
    print(
        f"per file: pingan {result['ms_per_file']['pingan']} ms, DuckDB "
        f"{result['ms_per_file']['floor']} ms: {result['pingan_vs_floor']}x"
    )
    return result


def pingan_counts(data_dir: Path) -> dict[str, int]:
    """Rows read, loaded and rejected, as the ledger of the benchmark's run records them."""
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    read, loaded, rejected, warned = con.execute(
        "select sum(rows_read), sum(rows_loaded), sum(rows_rejected), sum(rows_warned) "
        "from raw.load_ledger"
    ).fetchall()[0]
    con.close()
    return {"read": read, "loaded": loaded, "rejected": rejected, "warned": warned}


def independent(rows: int, repeat: int) -> dict:
    """The export another city's system wrote (not ``pingan sample``), against the floor."""
    folder = WORK / f"ingest_independent_{rows}"
    utf8, gb = write_export(rows, folder)
    size_mb = gb.stat().st_size / 1e6
    print(f"independent export: {rows:,} rows, GB18030 file {size_mb:.0f} MB")
    t_floor, n_floor = timed(lambda: floor(utf8, folder / "floor.duckdb"), repeat)
    print(f"independent floor (DuckDB read_csv, UTF-8): {t_floor:.2f}s")
    t_pingan, n_loaded = timed(lambda: pingan(gb, folder / "pingan"), repeat)
    counts = pingan_counts(folder / "pingan")
    print(
        f"independent pingan ingest (GB18030):        {t_pingan:.2f}s, {n_loaded:,} rows "
        f"loaded, {counts['rejected']:,} rejected, {counts['warned']:,} warned"
    )
    assert n_floor == rows == counts["read"] == counts["loaded"] + counts["rejected"], (
        n_floor,
        counts,
    )
    result = {
        "rows": rows,
        "file_mb": round(size_mb, 1),
        "seconds": {"floor": round(t_floor, 2), "pingan": round(t_pingan, 2)},
        "rows_per_s": {"floor": round(rows / t_floor), "pingan": round(rows / t_pingan)},
        "ledger": counts,
        "pingan_vs_floor": round(t_pingan / t_floor, 2),
        "goals": {"pingan_vs_floor_at_most": 2.5},
    }
    print(f"independent: pingan is {result['pingan_vs_floor']}x the floor's time")
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--naive-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--small-files", type=int, default=500)
    parser.add_argument("--small-rows", type=int, default=20)
    parser.add_argument(
        "--only-small", action="store_true", help="measure only the per-file overhead"
    )
    parser.add_argument(
        "--independent-rows",
        type=int,
        default=1_000_000,
        help="rows of the independent export (not written by pingan sample)",
    )
    parser.add_argument(
        "--only-independent", action="store_true", help="measure only the independent export"
    )
    args = parser.parse_args(argv)
    if args.only_independent:
        result = {"independent": independent(args.independent_rows, args.repeat)}
        write_result("ingest_independent", result)
        return result
    if args.only_small:
        result = {"per_file": small_files(args.small_files, args.small_rows, args.repeat)}
        write_result("ingest_small_files", result)
        return result
    folder = WORK / f"ingest_{args.rows}"
    utf8, gb = write_files(args.rows, folder)
    size_mb = gb.stat().st_size / 1e6
    print(f"{args.rows:,} rows, GB18030 file {size_mb:.0f} MB")

    t_floor, n_floor = timed(lambda: floor(utf8, folder / "floor.duckdb"), args.repeat)
    print(f"floor (DuckDB read_csv, UTF-8): {t_floor:.2f}s")
    t_pingan, n_pingan = timed(lambda: pingan(gb, folder / "pingan"), args.repeat)
    print(f"pingan ingest (GB18030):        {t_pingan:.2f}s, {n_pingan:,} rows loaded")
    t_naive, n_naive = timed(lambda: naive_rowwise(gb, folder / "naive.duckdb", args.naive_rows))
    print(f"naive row inserts ({n_naive:,} rows): {t_naive:.2f}s")
    t_bulk, n_bulk = timed(lambda: pandas_bulk(gb, folder / "bulk.duckdb"))
    print(f"pandas read_csv + bulk insert:  {t_bulk:.2f}s")

    rate = {
        "floor": n_floor / t_floor,
        "pingan": n_pingan / t_pingan,
        "naive_rowwise": n_naive / t_naive,
        "pandas_bulk": n_bulk / t_bulk,
    }
    result = {
        "rows": args.rows,
        "file_mb": round(size_mb, 1),
        "seconds": {
            "floor": t_floor,
            "pingan": t_pingan,
            "naive_rowwise_slice": t_naive,
            "pandas_bulk": t_bulk,
        },
        "naive_rows_timed": n_naive,
        "rows_per_s": {k: round(v) for k, v in rate.items()},
        "pingan_vs_floor": round(rate["floor"] / rate["pingan"], 2),
        "pingan_vs_naive_rowwise": round(rate["pingan"] / rate["naive_rowwise"], 1),
        "pingan_vs_pandas_bulk": round(rate["pingan"] / rate["pandas_bulk"], 2),
        "goals": {"pingan_vs_floor_at_most": 2.5, "pingan_vs_naive_at_least": 5},
    }
    for k, v in result["rows_per_s"].items():
        print(f"  {k:<14} {v:>12,} rows/s")
    print(
        f"pingan is {result['pingan_vs_floor']}x the floor's time, "
        f"{result['pingan_vs_naive_rowwise']}x faster than naive row inserts, "
        f"{result['pingan_vs_pandas_bulk']}x pandas bulk"
    )
    result["per_file"] = small_files(args.small_files, args.small_rows, args.repeat)
    result["independent"] = independent(args.independent_rows, args.repeat)
    write_result("ingest", result)
    return result


if __name__ == "__main__":
    main()
