"""The warehouse resource: Pingan's settings as a Dagster resource.

Configured from the same ``PINGAN_*`` environment as the CLI (``load_settings``),
so a run started from the UI, a schedule, a sensor or ``pingan run`` works on the
same data dir and warehouse file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from contracts.settings import Settings, load_settings


class PinganResource(dg.ConfigurableResource):
    """Where Pingan's data lives: the data dir and the working warehouse file."""

    data_dir: str
    warehouse: str

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> PinganResource:
        settings = settings or load_settings()
        return cls(data_dir=str(settings.data_dir), warehouse=str(settings.warehouse))

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=Path(self.data_dir), warehouse=Path(self.warehouse))

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working warehouse, closed on exit (DuckDB: one writer process)."""
        path = Path(self.warehouse)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()
