"""End-to-end time of ``pingan run`` (the Dagster job), full and incremental.

For each scale, a data dir ``benchmarks/work/run_<scale>`` gets the sample's
landing folders *except the last day's daily files*; ``pingan run`` executes
there from scratch (full run: ingest everything, build, check, publish). Then
the held-back day is delivered and ``pingan run`` executes again (incremental
run). Both are timed as a user sees them (a ``pingan run`` process, startup
included); per-step times come from the Dagster instance under the data dir.

Goal: the incremental run's ingest work is proportional to the new files, not
to the history. (The staging models are incremental: they rank again only the
keys the new files touched; everything after staging is rebuilt as tables on every
run, so those steps cost about the same each time; see the step times.) A third
run, ``pingan run --full-refresh`` with nothing new delivered, is the same-run
baseline of the dbt steps: staging rebuilt from all of raw, as before it was
incremental.

The sample's exports are reused from ``benchmarks/work/dbt_<scale>_exports``
(shared with bench_dbt) or generated there.

Usage: python -m benchmarks.bench_run [--scale demo city] [--months 12]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, WORK, write_result

SEED = 20261001
END = "2026-10"
_DAY = re.compile(r"(?<!\d)(20\d{6})(?!\d)")


def exports(scale: str, months: int) -> Path:
    source = WORK / f"dbt_{scale}_exports"
    if not (source / "landing").exists():
        from simulator import generate

        generate(source, scale=scale, months=months, seed=SEED, end=END)
    return source


def last_day(landing: Path) -> tuple[str, list[Path]]:
    """The newest export date among daily files, and the files of that day."""
    dated = [
        (m.group(1), p) for p in landing.rglob("*") if p.is_file() and (m := _DAY.search(p.name))
    ]
    if not dated:
        raise SystemExit(f"no daily files (named ..._YYYYMMDD) under {landing}")
    day = max(d for d, _ in dated)
    return day, sorted(p for d, p in dated if d == day)


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, summed, from /proc.

    Hand-written because psutil is not among our dependencies on Linux and /proc holds
    everything needed: the parent of each process and its VmRSS.
    """
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


class PeakMemory(threading.Thread):
    """Samples a process tree's resident memory twice a second; ``peak`` is the maximum."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.peak = max(self.peak, _tree_rss_bytes(self.pid))


def pingan_run(data_dir: Path, *args: str) -> tuple[float, str, float]:
    """Seconds, standard output and peak resident memory (GiB) of one ``pingan run``."""
    env = {**os.environ, "PINGAN_DATA_DIR": str(data_dir)}
    env.pop("PINGAN_DB", None)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = PeakMemory(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    sampler.done.set()
    sampler.join()
    seconds = time.perf_counter() - start
    print(stdout, end="")
    if proc.returncode != 0:
        raise SystemExit(f"pingan run failed in {data_dir}:\n{stderr[-2000:]}")
    return seconds, stdout, round(sampler.peak / 2**30, 2)


def step_seconds(data_dir: Path) -> dict[str, float]:
    """Per-step wall time of the latest run recorded in the data dir's Dagster instance."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(data_dir / "dagster")) as instance:
        [run] = instance.get_runs(limit=1)
        stats = instance.get_run_step_stats(run.run_id)
    return {
        s.step_key: round((s.end_time or 0) - (s.start_time or 0), 1)
        for s in sorted(stats, key=lambda s: s.start_time or 0)
    }


def _files_line(summary: str) -> str:
    return next((ln.strip() for ln in summary.splitlines() if ln.strip().startswith("files:")), "")


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


def measure(scale: str, months: int) -> dict[str, Any]:
    source = exports(scale, months)
    data_dir = WORK / f"run_{scale}"
    shutil.rmtree(data_dir, ignore_errors=True)
    # Hard links: the city's exports are gigabytes, and ingest only reads them.
    shutil.copytree(source / "landing", data_dir / "landing", copy_function=_link)
    shutil.copytree(source / "truth", data_dir / "truth", copy_function=_link)
    day, held = last_day(data_dir / "landing")
    parked = data_dir / "held_back"
    for p in held:
        target = parked / p.relative_to(data_dir / "landing")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(p, target)
    landing_bytes = sum(p.stat().st_size for p in (data_dir / "landing").rglob("*") if p.is_file())

    full_s, full_out, full_gib = pingan_run(data_dir)
    full_steps = step_seconds(data_dir)

    day_bytes = 0
    for p in parked.rglob("*"):
        if p.is_file():
            target = data_dir / "landing" / p.relative_to(parked)
            day_bytes += p.stat().st_size
            shutil.move(p, target)
    inc_s, inc_out, inc_gib = pingan_run(data_dir)
    inc_steps = step_seconds(data_dir)
    refresh_s, _, refresh_gib = pingan_run(data_dir, "--full-refresh")
    refresh_steps = step_seconds(data_dir)

    def ingest_total(steps: dict[str, float]) -> float:
        return round(sum(v for k, v in steps.items() if k.startswith("ingest_")), 1)

    return {
        "label": scale,
        # per row: other scales' rows are kept from earlier runs (city is slow)
        "measured_at": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "load_average": round(os.getloadavg()[0], 1),
        "landing_mb": round(landing_bytes / 1e6, 1),
        "full_run": {
            "seconds": round(full_s, 1),
            "peak_gib": full_gib,
            "files": _files_line(full_out),
            "ingest_seconds": ingest_total(full_steps),
            "steps": full_steps,
        },
        "incremental_run": {
            "day": day,
            "new_files": len(held),
            "new_mb": round(day_bytes / 1e6, 2),
            "seconds": round(inc_s, 1),
            "peak_gib": inc_gib,
            "files": _files_line(inc_out),
            "ingest_seconds": ingest_total(inc_steps),
            "steps": inc_steps,
        },
        "full_refresh_run": {
            "seconds": round(refresh_s, 1),
            "peak_gib": refresh_gib,
            "steps": refresh_steps,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", nargs="+", default=["demo", "city"], help="demo | city | N")
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args(argv)
    runs = []
    for scale in args.scale:
        run = measure(scale, args.months)
        print(
            f"{scale}: full run {run['full_run']['seconds']} s; one more day "
            f"({run['incremental_run']['new_files']} files) {run['incremental_run']['seconds']} s, "
            f"of which ingest {run['incremental_run']['ingest_seconds']} s "
            f"(full: {run['full_run']['ingest_seconds']} s); dbt staging step "
            f"{run['incremental_run']['steps'].get('dbt_staging')} s incremental against "
            f"{run['full_refresh_run']['steps'].get('dbt_staging')} s with --full-refresh"
        )
        runs.append(run)
    previous = RESULTS / "run.json"
    if previous.exists():  # keep earlier runs of other scales (city is slow, run separately)
        labels = {r["label"] for r in runs}
        runs = [
            r for r in json.loads(previous.read_text())["runs"] if r["label"] not in labels
        ] + runs
    write_result("run", {"seed": SEED, "end": END, "months": args.months, "runs": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
