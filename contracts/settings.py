"""Settings from the environment, shared by the CLI, Dagster and the dashboards.

``PINGAN_DATA_DIR``   where data lives (default ``./data``): ``landing/``,
                      ``warehouse.duckdb``, ``published/``, the PII key file.
``PINGAN_PII_KEY``    key of the personal-data pseudonyms (HMAC-SHA256). When
                      unset, a random key is created once in
                      ``<data dir>/pii.key`` with mode 0600.
``PINGAN_DB``         overrides the working warehouse file (``--db`` does too).
``PINGAN_LIMIT_*``    the limits files are read under (:mod:`ingest.limits`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ingest.limits import ReaderLimits


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse: Path
    limits: ReaderLimits = field(default_factory=ReaderLimits.from_env)

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def published_warehouse(self) -> Path:
        """The read-only snapshot dashboards and analysts read (replaced atomically on publish)."""
        return self.published_dir / "warehouse.duckdb"

    @property
    def truth_dir(self) -> Path:
        """Planted truth of the synthetic sample: used by evaluation only, never ingested."""
        return self.data_dir / "truth"

    @property
    def pii_key_file(self) -> Path:
        return self.data_dir / "pii.key"


def load_settings(db: str | os.PathLike[str] | None = None) -> Settings:
    data_dir = Path(os.environ.get("PINGAN_DATA_DIR", "data")).resolve()
    warehouse = db or os.environ.get("PINGAN_DB") or data_dir / "warehouse.duckdb"
    return Settings(data_dir=data_dir, warehouse=Path(warehouse).resolve())
