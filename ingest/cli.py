"""``pingan ingest``: load files, print one line per file as it is done, and a total."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from contracts.settings import Settings
from ingest.discovery import PathRefused
from ingest.isolation import IsolatedReader


def run_ingest(paths: Sequence[str], settings: Settings) -> int:
    """Exit 0 when every file was loaded or a duplicate, 1 when any was rejected, vanished
    while the run went, or the run failed, 2 on bad use."""
    # The reader worker first: its imports (polars, DuckDB, pyarrow; a second or two) then
    # run while this process imports its own, on the other core, not after them.
    reader = IsolatedReader(settings.limits, settings.data_dir / "tmp")
    reader.start()
    try:
        return _run(paths, settings, reader)
    finally:
        reader.close()  # a no-op when the run closed it


def _run(paths: Sequence[str], settings: Settings, reader: IsolatedReader) -> int:
    import duckdb

    from ingest.load import FileResult, WarehouseBusy, iter_ingest, ledger_summary
    from ingest.progress import Progress
    from ingest.storage import storage_fault

    results: list[FileResult] = []
    try:
        # Each file's line as it is done; on a terminal, files and rows live below them.
        with Progress() as progress:
            files = [Path(p) for p in paths]
            for result in iter_ingest(files, settings, progress=progress, reader=reader):
                results.append(result)
    except (FileNotFoundError, PathRefused, WarehouseBusy) as exc:
        print(f"pingan ingest: {exc}", file=sys.stderr)
        return 2
    except (OSError, duckdb.IOException) as exc:
        message = storage_fault(exc, "the warehouse", "files already done are kept")
        if message is None:
            raise
        print(f"pingan ingest: {message}", file=sys.stderr)
        return 1
    s = ledger_summary(results)
    missing = f", {s['missing']} missing" if s["missing"] else ""
    missing += f", {s['seen']} seen before" if s["seen"] else ""
    print(
        f"total: {s['files']} files ({s['loaded']} loaded, {s['duplicate']} duplicate, "
        f"{s['rejected']} rejected{missing}); rows read {s['rows_read']}, loaded {s['rows_loaded']}, "
        f"rejected {s['rows_rejected']}, with warnings {s['rows_warned']} -> {settings.warehouse}"
    )
    return 1 if s["rejected"] or s["missing"] else 0
