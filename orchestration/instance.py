"""The Dagster instance lives under the data dir (``$PINGAN_DATA_DIR/dagster``), never the repo."""

from __future__ import annotations

import os
from pathlib import Path

from contracts.settings import Settings

# Runs that write the warehouse carry this tag (jobs, sensors) and their ops carry it as
# an op tag; the instance queues them one at a time (DuckDB: one writing process).
WAREHOUSE_TAG = "pingan/warehouse"
WAREHOUSE_TAGS = {WAREHOUSE_TAG: "write"}
# Telemetry is off (the machine has no network).
DAGSTER_YAML = f"""\
# Written by orchestration.instance: Pingan's Dagster instance settings.
telemetry:
  enabled: false
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "{WAREHOUSE_TAG}"
        limit: 1
"""


def dagster_home(settings: Settings) -> Path:
    return settings.data_dir / "dagster"


def prepare_dagster_home(settings: Settings, set_env: bool = True) -> Path:
    """Create ``$PINGAN_DATA_DIR/dagster`` with its dagster.yaml (and point DAGSTER_HOME at it)."""
    home = dagster_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    if set_env:
        os.environ["DAGSTER_HOME"] = str(home)
    return home
