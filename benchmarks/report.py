"""Render README's speed section from ``benchmarks/results/*.json`` (never typed by hand).

``python -m benchmarks.report`` rewrites the text between ``<!-- bench:start -->``
and ``<!-- bench:end -->`` in README.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def when(result: dict[str, Any]) -> str:
    stamp = result.get("machine", {}).get("measured_at") or result.get("measured_at", "?")
    return stamp[:16].replace("T", " ")


def ingest_section(r: dict[str, Any]) -> list[str]:
    rate = r["rows_per_s"]
    return [
        f"**Ingest** (`python -m benchmarks.bench_ingest --rows {r['rows']}`, {r['file_mb']} MB GB18030 "
        f"hotline CSV, measured {when(r)} UTC):",
        "",
        "| path | rows/s | pingan compared |",
        "|---|---:|---|",
        f"| DuckDB `read_csv` of the UTF-8 file (floor) | {rate['floor']:,} | pingan takes {r['pingan_vs_floor']}x the floor's time (goal ≤ 2.5x) |",
        f"| `pingan ingest` (transcode, type, pseudonymise, ledger) | {rate['pingan']:,} | |",
        f"| pandas `read_csv` + row inserts (naive; {r['naive_rows_timed']:,}-row slice) | {rate['naive_rowwise']:,} | pingan is {r['pingan_vs_naive_rowwise']}x faster (goal ≥ 5x) |",
        f"| pandas `read_csv` + one bulk insert | {rate['pandas_bulk']:,} | pingan runs at {r['pingan_vs_pandas_bulk']}x its rate |",
        *independent_rows(r.get("independent")),
        "",
    ]


def independent_rows(ind: dict[str, Any] | None) -> list[str]:
    """The export ``pingan sample`` did not write (benchmarks/hotline_export.py), if measured."""
    if not ind:
        return []
    rate = ind["rows_per_s"]
    return [
        f"| independent export ({ind['rows']:,} rows, {ind['file_mb']} MB; not from `pingan sample`): "
        f"DuckDB `read_csv` of its UTF-8 copy (floor) | {rate['floor']:,} | |",
        f"| independent export: `pingan ingest` | {rate['pingan']:,} | "
        f"pingan takes {ind['pingan_vs_floor']}x the floor's time (goal ≤ 2.5x) |",
    ]


def sample_section(r: dict[str, Any]) -> list[str]:
    lines = [
        f"**Sample generator** (`python -m benchmarks.bench_sample`, measured {when(r)} UTC):",
        "",
        "| scale | seconds | files | rows written | rows/s | MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in r["runs"]:
        lines.append(
            f"| {run['scale']} | {run['seconds']:.1f} | {run['files']:,} | {run['rows_written']:,} | "
            f"{run['rows_per_second']:,} | {run['megabytes_written']:.0f} |"
        )
    return [*lines, ""]


def dbt_section(r: dict[str, Any]) -> list[str]:
    lines = [
        "**dbt build** (`python -m benchmarks.bench_dbt`; each scale measured on its own date, UTC):",
        "",
        "| scale | measured | raw rows | seconds | models / tests | Monte Carlo s (goal <= 60 at city scale) | address link precision / recall | lead precision@k (k = planted) |",
        "|---|---|---:|---:|---|---:|---|---|",
    ]
    for run in sorted(r["runs"], key=lambda x: x.get("raw_rows", 0)):
        nodes = run.get("nodes", {})
        tests = sum(v for k, v in nodes.items() if k.startswith(("test", "unit_test")))
        link = run.get("linkage", {})
        leads = run.get("leads_at_planted", {})
        lines.append(
            f"| {run['label']} | {when(run)} | {run.get('raw_rows', 0):,} | {run['seconds']:.1f} | "
            f"{nodes.get('model:success', 0)} / {tests} | "
            f"{run.get('monte_carlo_seconds', '—')} | "
            f"{link.get('precision', float('nan')):.3f} / {link.get('recall', float('nan')):.3f} | "
            f"{leads.get('precision', float('nan')):.2f} (k = {leads.get('k', '?')}) |"
        )
    return [*lines, ""]


def _peak(run: dict[str, Any]) -> str:
    # the process tree's peak RSS, sampled by bench_run (rows from before it was kept: —)
    return f"{run['peak_gib']:.2f}" if run.get("peak_gib") is not None else "—"


def run_section(r: dict[str, Any]) -> list[str]:
    lines = [
        "**`pingan run` end to end** (`python -m benchmarks.bench_run`; each row dated, UTC, "
        "with the machine's load average; a shared machine inflates every step):",
        "",
        "| scale | measured (load) | full run s | of which ingest s | one more day: files | MB | run s | of which ingest s "
        "| its dbt staging s | the same with --full-refresh s | peak memory GiB (full / one more day) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in r["runs"]:
        measured = run.get("measured_at", "2026-11-23 20:44")  # rows from before it was kept
        if run.get("load_average") is not None:
            measured += f" ({run['load_average']})"
        full, inc = run["full_run"], run.get("incremental_run", {})
        refresh = run.get("full_refresh_run", {}).get("steps", {})
        lines.append(
            f"| {run['label']} | {measured} | {full['seconds']:.0f} | {full.get('ingest_seconds', 0):.1f} | "
            f"{inc.get('new_files', '-')} | {inc.get('new_mb', '-')} | {inc.get('seconds', float('nan')):.0f} | "
            f"{inc.get('ingest_seconds', float('nan')):.1f} | {inc.get('steps', {}).get('dbt_staging', '—')} | "
            f"{refresh.get('dbt_staging', '—')} | {_peak(full)} / {_peak(inc)} |"
        )
    return [*lines, ""]


def dashboards_section(r: dict[str, Any]) -> list[str]:
    rows = r.get("snapshot_marts_rows", {}).get("fct_hotline_tickets")
    size = f"snapshot with {rows:,} tickets" if rows else "snapshot"
    lines = [
        f"**Dashboards in headless Chromium** (`python -m benchmarks.bench_dashboards`, "
        f"{size}, logged in as {r.get('user', '?')}, measured {when(r)} UTC):",
        "",
        "| page | cold s | p50 s | p95 s | within 1 s |",
        "|---|---:|---:|---:|---|",
    ]
    for title, p in r["pages"].items():
        lines.append(
            f"| {title} | {p['cold_s']:.3f} | {p['p50_s']:.3f} | {p['p95_s']:.3f} | {'yes' if p['within_target'] else 'no'} |"
        )
    return [*lines, ""]


def publish_section(r: dict[str, Any]) -> list[str]:
    base, ours = r["baseline"], r["ours"]
    res = r["results"]
    lines = [
        f"**Snapshot storage format** (`python -m benchmarks.bench_publish`, the marts of a "
        f"{r['size']}-scale `pingan sample` city, {r['tickets']:,} tickets, best of {r['rounds']}, measured {when(r)} UTC): "
        f"the snapshot is written as DuckDB `{ours}` so the DuckDB CLI opens it; the "
        f"baseline is the writer's own format (`{base}`).",
        "",
        f"| | `{base}` | `{ours}` | ratio |",
        "|---|---:|---:|---:|",
        f"| publish s | {res[base]['publish_s']:.2f} | {res[ours]['publish_s']:.2f} "
        f"| {r['ratios']['publish_time']:.2f}x |",
        f"| size MB | {res[base]['bytes'] / 1e6:.0f} | {res[ours]['bytes'] / 1e6:.0f} "
        f"| {r['ratios']['size']:.2f}x |",
    ]
    for q, seconds in res[base]["queries_s"].items():
        lines.append(
            f"| query: {q} s | {seconds:.3f} | {res[ours]['queries_s'][q]:.3f} "
            f"| {r['ratios'][f'query: {q}']:.2f}x |"
        )
    lines.append(
        f"| DuckDB CLI opens it | {'yes' if res[base]['duckdb_cli_opens'] else 'no'} "
        f"| {'yes' if res[ours]['duckdb_cli_opens'] else 'no'} | |"
    )
    return [*lines, ""]


def bulletin_section(r: dict[str, Any]) -> list[str]:
    fonts = ", ".join(r["unembedded_fonts"]) or "none"
    return [
        f"**Monthly bulletin** (`python -m benchmarks.bench_bulletin`, the {r['scale']} city's "
        f"last month {r['month']}, measured {when(r)} UTC): {r['pages']} pages written in "
        f"{r['seconds_to_write']:.1f} s ({r['pdf_kb']:.0f} KB); every page drawn (poppler): "
        f"{'yes' if r['every_page_drawn'] else 'NO'}; district ranking equals "
        f"`mart_safety_index`: {'yes' if r['ranking_equals_mart'] else 'NO'}; fonts not "
        f"embedded: {fonts}.",
        "",
    ]


def _p(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _intruders(w: dict[str, Any]) -> str:
    """What took the places of the missed group rentals in a world's top k (bench_leads'
    ``top_k_kinds``: the truth's kinds; ``normal`` = not planted at all)."""
    top = (w.get("top_k_kinds") or {}).get("learned") or (w.get("top_k_kinds") or {}).get("prior")
    if not top:
        return "-"
    others = [f"{kind} {n}" for kind, n in top.items() if kind != "group_rental"]
    return ", ".join(others) or "none"


def leads_section(r: dict[str, Any]) -> list[str]:
    """Group-rental leads across worlds (bench_leads): precision@k per world, min, median."""
    summary = r.get("summary", {})
    lines = [
        f"**Group-rental leads across worlds** (`python -m benchmarks.bench_leads --worlds "
        f"{len(r['worlds'])} --scale {r['scale']}"
        + (f" --pipeline {r['pipeline']}" if r.get("pipeline", "run") != "run" else "")
        + f"`, {r['months']} months, measured {when(r)} "
        "UTC): precision@k among dwellings without a police check, k = planted group rentals "
        "without a check. Goal for the learned model: min ≥ 0.6, median ≥ 0.75 (and ≥ 0.6 on "
        "the independent city).",
        "",
    ]
    if r.get("note"):
        lines += [f"Note: {r['note']}.", ""]
    lines += [
        "| world | k | learned | prior | floating registered | complaints/yr | grid coverage "
        "| checks after leads | learned top k besides group rentals | run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for w in r["worlds"]:
        a = w.get("assumptions", {})
        lines.append(
            f"| {w['world']} | {w.get('k', '-')} | {_p(w.get('learned'))} | {_p(w.get('prior'))} "
            f"| {_p(a.get('group_rental.floating_register_share'))} "
            f"| {_p(a.get('group_rental.complaints_per_year'))} "
            f"| {_p(a.get('group_rental.grid_coverage'))} | {_p(a.get('checks.lead_share'))} "
            f"| {_intruders(w)} | {'ok' if w['run']['ok'] else 'failed'} |"
        )
    spreads = {
        name: f"{_p(s['min'])} / {_p(s['median'])} / {_p(s['max'])}" if s else "-"
        for name in ("learned", "prior")
        for s in [summary.get(name)]
    }
    lines.append(
        f"| **min / median / max** | | {spreads['learned']} | {spreads['prior']} | | | | | | |"
    )
    ec = r.get("eval_city")
    if ec:
        lines.append(
            f"| independent city (eval-city) | {ec.get('k', '-')} | {_p(ec.get('learned'))} "
            f"| {_p(ec.get('prior'))} | | | | | {_intruders(ec)} "
            f"| {'ok' if ec['run']['ok'] else 'failed'} |"
        )
    lines.append("")
    pooled = r.get("reliability_pooled") or []
    if pooled:
        lines += [
            f"Reliability (checked dwellings of all worlds, bins with ≥ 30 counted; "
            f"max gap {_p(r.get('reliability_pooled_max_gap'))}, goal ≤ 0.05):",
            "",
            "| predicted | dwellings | mean predicted | observed confirmed | gap |",
            "|---|---:|---:|---:|---:|",
        ]
        for b in pooled:
            mark = "" if b["counted"] else " (too few)"
            lines.append(
                f"| {b['bin']}{mark} | {b['dwellings']} | {b['mean_predicted']:.3f} "
                f"| {b['observed_rate']:.3f} | {b['gap']:.3f} |"
            )
        lines.append("")
    else:
        lines += ["Reliability: no `probability` column in mart_group_rental_scores yet.", ""]
    return lines


def render() -> str:
    sections = [
        ("ingest", ingest_section),
        ("sample", sample_section),
        ("dbt", dbt_section),
        ("run", run_section),
        ("publish", publish_section),
        ("bulletin", bulletin_section),
        ("dashboards", dashboards_section),
        ("leads", leads_section),
    ]
    out: list[str] = []
    for name, fn in sections:
        result = load(name)
        out += fn(result) if result else [f"({name}: no result yet; run `make bench`)", ""]
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{render()}{END}"
    text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    README.write_text(text, encoding="utf-8")
    print(f"updated {README}")


if __name__ == "__main__":
    main()
