"""The access log: who looked at which lead (and who was refused), kept apart from the snapshot.

The published snapshot is read-only and replaced on every publish, so the log
lives in its own DuckDB file, ``$PINGAN_DATA_DIR/dashboards/access_log.duckdb``,
table ``access_log(ts, user, role, district, action, target, allowed)``.
``ts`` is Asia/Shanghai wall-clock time, like every timestamp in the warehouse.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from contracts.entities import SOURCE_TIME_ZONE
from contracts.settings import Settings

DDL = """
create table if not exists access_log (
    ts       timestamp not null,  -- Asia/Shanghai local time
    "user"   varchar not null,
    role     varchar not null,
    district varchar,             -- the user's district (district officers)
    action   varchar not null,    -- view_lead | export_leads | login | login_failed ...
    target   varchar,             -- lead id, the ids exported, a login's client address
    allowed  boolean not null
)
"""

_lock = threading.Lock()
# Another process (an audit query, a test, a second server) may hold the file for a
# moment: DuckDB refuses a second writer process, so retry for a while before failing.
_RETRY_SECONDS = 10.0


def _connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + _RETRY_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def log_path(settings: Settings) -> Path:
    return settings.data_dir / "dashboards" / "access_log.duckdb"


def record(
    settings: Settings,
    *,
    user: str,
    role: str,
    district: str | None,
    action: str,
    target: str | None,
    allowed: bool,
) -> None:
    """Append one entry. Opened per write: views are rare and this keeps no file lock."""
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, _connect(path) as con:
        con.execute(DDL)
        con.execute(
            "insert into access_log values (?, ?, ?, ?, ?, ?, ?)",
            [now(), user, role, district, action, target, allowed],
        )


def now() -> datetime:
    """Asia/Shanghai wall-clock time, as ``ts`` is written."""
    return datetime.now(ZoneInfo(SOURCE_TIME_ZONE)).replace(tzinfo=None)


def failed_logins(settings: Settings, *, user: str, since: datetime) -> int:
    """Failed logins of ``user`` since ``since`` and after its last successful login:
    what the login lockout counts."""
    path = log_path(settings)
    if not path.exists():
        return 0
    sql = """
        select count(*) from access_log
        where action = 'login_failed' and "user" = ?
          and ts > greatest(?, coalesce((select max(ts) from access_log
                                         where action = 'login' and "user" = ?), ?))
    """
    with _lock, _connect(path, read_only=True) as con:
        row = con.execute(sql, [user, since, user, since]).fetchone()
    return int(row[0]) if row else 0


def entries(settings: Settings) -> list[tuple]:
    """Every entry, oldest first (for audits and tests)."""
    path = log_path(settings)
    if not path.exists():
        return []
    with _lock, _connect(path, read_only=True) as con:
        return con.execute(
            'select ts, "user", role, district, action, target, allowed from access_log order by ts'
        ).fetchall()
