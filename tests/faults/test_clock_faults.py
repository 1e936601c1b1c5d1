"""Clock and time zones: a machine whose clock is not in Asia/Shanghai.

Sources write Asia/Shanghai wall-clock times without a zone, and the warehouse keeps
them so. The pipeline must not let the machine's zone creep in: not when it stamps
``_ingested_at``, not when dbt files a ticket under its month, not when DuckDB is
asked for today's date. Each case runs real ingest and a real ``dbt build`` in a
child process whose ``TZ`` is set, as on a server left in UTC.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from contracts.settings import Settings
from tests.orchestration.helpers import ticket, write_tickets

pytestmark = pytest.mark.slow  # real ingest, dbt and Dagster runs: minutes

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = timezone(timedelta(hours=8))
LAST_SECOND = "NT2026103100001"  # 2026-10-31 23:59:59 local: October
FIRST_SECOND = "NT2026110100001"  # 2026-11-01 00:00:00 local: November

PIPELINE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    from ingest.load import ingest_paths
    from contracts.settings import Settings
    from orchestration.defs.dbt.runner import dbt_args, run_quietly

    data_dir, delivery = Path(sys.argv[1]), Path(sys.argv[2])
    settings = Settings(data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb")
    loaded = [r.status for r in ingest_paths([delivery], settings)]
    # the models up to the ticket facts (their data tests run in the suite's full build)
    run, _ = run_quietly(settings, dbt_args(settings, "run", select="+fct_hotline_tickets"))
    built = run.process.returncode == 0
    # what dbt's own DuckDB session takes as the zone and as today
    sql = "select current_setting('TimeZone') as tz, current_date as today"
    _, events = run_quietly(
        settings, dbt_args(settings, "show", extra=["--inline", sql, "--output", "json"])
    )
    (shown,) = [e["data"] for e in events if e["info"]["name"] == "ShowNode"]
    ((tz, today),) = [tuple(row.values()) for row in json.loads(shown["preview"])]
    print(json.dumps({
        "loaded": loaded, "built": built,
        "dbt_zone": tz, "dbt_today": str(today),
    }))
    """
)


def boundary_delivery(folder: Path) -> Path:
    """Two tickets one second apart across the October/November boundary (local time)."""
    common = {"dispatched_at": "", "closed_at": "", "status": "办理中", "due_at": ""}
    return write_tickets(
        folder / "12345_工单_20261101.csv",
        [
            ticket(
                1,
                ticket_id=LAST_SECOND,
                received_at="2026-10-31 23:59:59",
                updated_at="2026-10-31 23:59:59",
                **common,
            ),
            ticket(
                2,
                ticket_id=FIRST_SECOND,
                received_at="2026-11-01 00:00:00",
                updated_at="2026-11-01 00:00:00",
                **common,
            ),
        ],
    )


def run_pipeline_in_zone(zone: str, settings: Settings, delivery: Path) -> dict:
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", PIPELINE, str(settings.data_dir), str(delivery)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_a_machine_outside_shanghai_files_every_time_in_shanghai(
    zone: str, raw_warehouse: Settings, copy_warehouse, tmp_path: Path
) -> None:
    settings = copy_warehouse(raw_warehouse)
    delivery = boundary_delivery(tmp_path / "incoming")
    before = datetime.now(SHANGHAI).replace(tzinfo=None)
    out = run_pipeline_in_zone(zone, settings, delivery)
    after = datetime.now(SHANGHAI).replace(tzinfo=None)
    assert out["loaded"] == ["loaded"]
    assert out["built"], f"dbt run failed: see {settings.data_dir}/dbt/logs/dbt.log"

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        months = dict(
            con.execute(
                "select ticket_id, received_month from marts.fct_hotline_tickets "
                "where ticket_id in (?, ?)",
                [LAST_SECOND, FIRST_SECOND],
            ).fetchall()
        )
        ((ingested_at,),) = con.execute(
            "select ingested_at from raw.load_ledger where file_name = ?", [delivery.name]
        ).fetchall()
    finally:
        con.close()
    # the month boundary: the last second of October stays in October
    assert months == {LAST_SECOND: date(2026, 10, 1), FIRST_SECOND: date(2026, 11, 1)}
    # the ledger's stamp is Shanghai wall-clock time, not the machine's
    assert before - timedelta(seconds=1) <= ingested_at <= after + timedelta(seconds=1)
    # dbt's DuckDB session works in Shanghai: its today is Shanghai's today
    assert out["dbt_zone"] == "Asia/Shanghai"
    assert out["dbt_today"] in {str(before.date()), str(after.date())}
