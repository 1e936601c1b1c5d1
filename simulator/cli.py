"""``pingan sample``: argument handling and the printed summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contracts.settings import load_settings
from ingest.progress import Progress
from simulator.generator import generate, parse_scale
from simulator.world import World, load_world_file


def _foreign_files(out: Path) -> list[Path]:
    """Files in ``out/landing`` that no earlier sample run wrote (never overwritten)."""
    landing = out / "landing"
    if not landing.exists():
        return []
    files = [p for p in landing.rglob("*") if p.is_file()]
    manifest = out / "truth" / "manifest.json"
    if not files or not manifest.exists():
        return files
    import json

    try:
        listed = set(json.loads(manifest.read_text(encoding="utf-8")).get("all_files", []))
    except ValueError:
        return files
    return [p for p in files if str(p.relative_to(out)) not in listed]


def run_sample(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else load_settings().data_dir
    try:
        parse_scale(args.scale)
    except ValueError as exc:
        print(f"pingan sample: {exc}", file=sys.stderr)
        return 2
    foreign = _foreign_files(out)
    if foreign:
        print(
            f"pingan sample: {out / 'landing'} already holds {len(foreign)} files that are not "
            f"from an earlier sample (e.g. {foreign[0].name}); choose an empty --out",
            file=sys.stderr,
        )
        return 2
    try:
        number: int | None = getattr(args, "world", None)
        world: int | World | None = number
        if getattr(args, "world_file", None):
            world = load_world_file(Path(args.world_file), number)
        # Each stage's line as it is done; on a terminal, files and rows written live.
        with Progress() as progress:
            files = progress.task("sample", None, "files")
            summary = generate(
                out,
                scale=args.scale,
                months=args.months,
                seed=args.seed,
                end=args.end,
                world=world,
                progress=progress.line,
                on_file=lambda written: files.advance(rows=written.rows),
            )
            files.finish()
    except ValueError as exc:
        print(f"pingan sample: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {summary.files} files to {out / 'landing'}, truth to {out / 'truth'}")
    print("rows per entity (records):")
    for name, rows in summary.rows.items():
        rec = summary.records.get(name)
        print(f"  {name:<28} {rows:>10,}" + (f"  ({rec:,})" if rec is not None else ""))
    print("planted: " + ", ".join(f"{k} {v}" for k, v in summary.planted.items()))
    print(
        "deteriorating: "
        + "; ".join(f"{d['district']} {','.join(d['months'])}" for d in summary.deteriorations)
    )
    return 0
