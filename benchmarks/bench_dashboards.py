"""Page render times of the dashboards in a real browser (headless Chromium), p50/p95 per page.

    uv run python benchmarks/bench_dashboards.py                 # the published snapshot of
                                                                 # $PINGAN_DATA_DIR (city scale)
    uv run python benchmarks/bench_dashboards.py --scale city    # a city built for it by
                                                                 # `pingan sample` + `pingan run`
                                                                 # (cached in benchmarks/work/)

Starts ``pingan serve`` on a free port, logs in as the city leader (the role that
sees the most), then visits every page ``--rounds`` times through the sidebar and
times click -> rendered (footer drawn, no script running, charts drawn; see
``tests/browser.py``). The first visit of each page after the server starts
runs its queries cold and is reported separately (``cold_s``; for 总览 it is the whole
first load: opening the address, the login form, logging in, the overview, including
the server's first imports); p50/p95 are over the warm visits. The lead detail page is timed by opening the top lead from the lead list.
Results go to ``benchmarks/results/dashboards.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.settings import Settings, load_settings  # noqa: E402
from dashboards import serve  # noqa: E402
from tests import browser  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "dashboards.json"
TARGET_S = 1.0
DEMO_USER, DEMO_PASSWORD = "leader", "pingan-leader"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a p95 is a visit that happened)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def snapshot_size(settings: Settings) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(settings.published_warehouse), read_only=True)
    try:
        rows = con.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
    finally:
        con.close()
    return {name: int(size) for name, size in rows}


def time_lead_detail(page) -> float:
    browser.open_page(page, "群租房预警")
    start = time.perf_counter()
    page.get_by_role("link", name="查看详情").click()
    browser.wait_rendered(page, "线索详情")
    return time.perf_counter() - start


def run(settings: Settings, rounds: int, shots: Path | None) -> dict:
    from playwright.sync_api import sync_playwright

    port = serve.free_port()
    proc = serve.start(port, settings, quiet=True, env={"PINGAN_DASHBOARD_TIMING": "1"})
    visits: dict[str, list[float]] = {title: [] for title in (*browser.PAGES, "线索详情")}
    server: dict[str, list[float]] = {title: [] for title in visits}
    cold: dict[str, float] = {}
    try:
        serve.wait_ready(port, proc)
        with sync_playwright() as pw:
            chromium = browser.launch(pw)
            page = chromium.new_page(viewport={"width": 1600, "height": 1000})
            start = time.perf_counter()
            browser.login(page, serve.url(port), DEMO_USER, DEMO_PASSWORD)
            cold["总览"] = time.perf_counter() - start  # login + first overview
            for i in range(rounds + 1):
                for title in (*browser.PAGES[1:], browser.PAGES[0]):
                    took = browser.open_page(page, title)
                    if i == 0 and title not in cold:
                        cold[title] = took
                    else:
                        visits[title].append(took)
                        server[title].append(browser.server_seconds(page, title) or float("nan"))
                    if shots is not None and i == 0:
                        page.screenshot(path=str(shots / f"bench_{title}.png"), full_page=True)
                took = time_lead_detail(page)
                if i == 0:
                    cold["线索详情"] = took
                else:
                    visits["线索详情"].append(took)
                    server["线索详情"].append(
                        browser.server_seconds(page, "线索详情") or float("nan")
                    )
            chromium.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    pages = {}
    for title, times in visits.items():
        pages[title] = {
            "visits": len(times),
            "cold_s": round(cold.get(title, float("nan")), 3),
            "p50_s": round(statistics.median(times), 3),
            "p95_s": round(percentile(times, 95), 3),
            "max_s": round(max(times), 3),
            "server_script_p50_s": round(statistics.median(server[title]), 3),
            "within_target": percentile(times, 95) <= TARGET_S,
            "visits_s": [round(t, 3) for t in times],
        }
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="warm visits per page (default 5)")
    parser.add_argument(
        "--scale",
        help="benchmark the snapshot of a city of this scale (demo, city, N) made by "
        "`pingan sample` and `pingan run`, built once into benchmarks/work/ and reused",
    )
    parser.add_argument("--screenshots", metavar="DIR", help="save a screenshot of every page")
    parser.add_argument("--label", default="", help="what the snapshot is (kept in the result)")
    parser.add_argument("--out", default=str(RESULTS), help=f"result file (default {RESULTS})")
    args = parser.parse_args(argv)

    if browser.chromium_path() is None:
        print(
            "错误：未安装 chromium（apt-get install -y chromium fonts-noto-cjk）", file=sys.stderr
        )
        return 1
    if args.scale:
        from benchmarks.common import pipeline_snapshot

        print(f"the published snapshot of a {args.scale}-scale city ...", file=sys.stderr)
        data_dir = pipeline_snapshot(args.scale)
        settings = Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
        source = f"pingan sample --scale {args.scale} + pingan run ({data_dir.name})"
    else:
        settings = load_settings()
        source = str(settings.published_warehouse)
        if not settings.published_warehouse.exists():
            print(
                f"错误：没有已发布的数据快照 {settings.published_warehouse}；"
                "请先运行 `pingan sample --scale city` 和 `pingan run`，或使用 --scale city",
                file=sys.stderr,
            )
            return 1
    shots = Path(args.screenshots) if args.screenshots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    pages = run(settings, args.rounds, shots)
    sizes = snapshot_size(settings)
    result = {
        "benchmark": "dashboards page render time (headless Chromium, click -> rendered)",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "snapshot": source,
        "snapshot_label": args.label,
        "snapshot_marts_rows": sizes,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "user": DEMO_USER,
        "target_s": TARGET_S,
        "pages": pages,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    width = max(len(t) for t in pages) + 2
    print(f"{'page':<{width}} {'cold':>7} {'p50':>7} {'p95':>7} {'server':>7}")
    for title, r in pages.items():
        flag = "" if r["within_target"] else "  > 1 s"
        print(
            f"{title:<{width}} {r['cold_s']:>7.3f} {r['p50_s']:>7.3f} {r['p95_s']:>7.3f}"
            f" {r['server_script_p50_s']:>7.3f}{flag}"
        )
    print(f"-> {out}")
    return 0 if all(r["within_target"] for r in pages.values()) else 2


if __name__ == "__main__":
    sys.exit(main())
