"""``pingan ingest``: load files, print one line per file and a total."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ingest.load import FileResult, WarehouseBusy, ingest_paths, ledger_summary
from ingest.settings import Settings


def format_result(r: FileResult) -> str:
    counts = f"read {r.rows_read} loaded {r.rows_loaded} rejected {r.rows_rejected}"
    if r.rows_warned:
        counts += f" warned {r.rows_warned}"
    line = f"{r.status:<9} {r.entity or '-':<27} {counts:<44} {r.file_name}"
    return line + (f"  ({r.reason})" if r.reason else "")


def run_ingest(paths: Sequence[str], settings: Settings) -> int:
    """Exit 0 when every file was loaded or a duplicate, 1 when any was rejected, 2 on bad use."""
    try:
        results = ingest_paths([Path(p) for p in paths], settings)
    except (FileNotFoundError, WarehouseBusy) as exc:
        print(f"pingan ingest: {exc}", file=sys.stderr)
        return 2
    for r in results:
        print(format_result(r))
    s = ledger_summary(results)
    print(
        f"total: {s['files']} files ({s['loaded']} loaded, {s['duplicate']} duplicate, "
        f"{s['rejected']} rejected); rows read {s['rows_read']}, loaded {s['rows_loaded']}, "
        f"rejected {s['rows_rejected']}, with warnings {s['rows_warned']} -> {settings.warehouse}"
    )
    return 1 if s["rejected"] else 0
