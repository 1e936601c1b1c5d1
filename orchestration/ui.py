"""``python -m orchestration.ui``: the Dagster UI (``dagster dev``) on 127.0.0.1.

Prepares the instance under ``$PINGAN_DATA_DIR/dagster`` first (its dagster.yaml
queues runs that write the warehouse one at a time and turns telemetry off),
then replaces this process with ``dagster dev -m orchestration.definitions``.
Extra arguments are passed on (e.g. ``-p 3001``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from contracts.settings import load_settings
from orchestration.instance import prepare_dagster_home


def main(argv: list[str] | None = None) -> int:
    home = prepare_dagster_home(load_settings())
    beside = Path(sys.executable).parent / "dagster"
    dagster = str(beside) if beside.exists() else shutil.which("dagster") or "dagster"
    args = [dagster, "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1"]
    args += list(sys.argv[1:] if argv is None else argv)
    print(f"DAGSTER_HOME={home}", file=sys.stderr)
    os.execv(dagster, args)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
