"""The limits a delivered file is read under: declared once, here, with their defaults.

A hostile or broken export must cost a ledger row, not the batch: readers check
these before (XLSX zip inspection, CSV line scan) and while reading (the worker
process runs under the memory and time limits, :mod:`ingest.isolation`).

The defaults pass every real export we know (the sample's, the evaluation
city's, the largest hotline month of the benchmarks) with a wide margin; each
can be overridden from the environment as ``PINGAN_LIMIT_<FIELD>`` (for example
``PINGAN_LIMIT_MAX_CELL_CHARS=100000``), so the CLI, Dagster and the tests read
the same values.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

ENV_PREFIX = "PINGAN_LIMIT_"
MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class ReaderLimits:
    # -- every format
    # Characters in one cell (a CSV field, an XLSX string). Excel itself stops at
    # 32,767; other writers go further, so the default leaves room.
    max_cell_chars: int = 1 * MIB
    # -- CSV
    # Bytes in one CSV record (one physical line). Longer records are rejected with
    # their line number; DuckDB's own buffer silently drops a line over 16x its
    # max_line_size, so lines are measured before DuckDB reads the file.
    max_csv_record_bytes: int = 8 * MIB
    # -- XLSX, checked on the zip before any cell is read
    max_xlsx_rows: int = 1_048_576  # Excel's own sheet size
    max_xlsx_columns: int = 1_024  # exports have about 20; Excel allows 16,384
    max_xlsx_cells: int = 25_000_000  # declared rows x columns, summed over the sheets
    max_xlsx_part_bytes: int = 1 * GIB  # uncompressed size of one part (sheet, strings)
    max_xlsx_total_bytes: int = 2 * GIB  # uncompressed size of the whole workbook
    # Uncompressed / compressed size of a part, for parts over 1 MiB (a zip bomb
    # compresses 1,000:1; sheet XML of real exports rarely passes 30:1).
    max_xlsx_compression_ratio: float = 200.0
    # -- the worker process that reads whole files
    # Address space of the worker (RLIMIT_AS): a library that asks for more gets an
    # allocation failure inside the worker, not a machine out of memory.
    worker_memory_bytes: int = 16 * GIB  # idle, the worker maps about 2.7 GiB
    # Seconds a worker may spend on one file: this much plus the per-GiB share.
    read_timeout_seconds: float = 120.0
    read_timeout_seconds_per_gib: float = 600.0
    # -- discovery of the landing folder
    max_folder_depth: int = 32  # folders below the named one; deeper ones are refused

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ReaderLimits:
        """The defaults, overridden by any ``PINGAN_LIMIT_<FIELD>`` set in the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, int | float] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or not raw.strip():
                continue
            kind = float if f.type in ("float", float) else int
            try:
                values[f.name] = kind(raw.strip().replace("_", ""))
            except ValueError:
                raise ValueError(f"{ENV_PREFIX}{f.name.upper()}={raw!r} is not a number") from None
        return cls(**values)  # type: ignore[arg-type]

    def read_timeout(self, size_bytes: int) -> float:
        """Seconds a worker may take on a file of ``size_bytes``."""
        return self.read_timeout_seconds + self.read_timeout_seconds_per_gib * size_bytes / GIB
