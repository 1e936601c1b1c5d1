"""Publishing: a read-only snapshot of the warehouse that readers never wait for.

DuckDB allows one writing process per file, and a reader of the working
warehouse would see a half-built state while dbt runs. So dashboards and
analysts never read the working warehouse. After a build passes its checks,
``publish_snapshot`` copies what readers need into a *new* file next to the
published one and renames it into place with ``os.replace`` (atomic on POSIX):

* a reader that opens the snapshot gets either the old or the new file, whole;
* a reader that already has the old file open keeps reading the old inode
  (Linux unlinks it only when the last handle closes), so nothing changes
  under it and no lock is ever taken on the published path by the writer.

The snapshot holds:

``marts.*``               every table and view of the working ``marts`` schema, as tables
``quality.*``             the data-quality results (``quality.check_results``)
``raw.load_ledger``, ``raw.rejected_rows``, ``raw.row_warnings``
                          the ingest records (for the dashboards' data-quality page)
``meta.publication``      one row: ``version`` (unique per publish), ``published_at``
                          (Asia/Shanghai local time), ``run_id``

Open it read-only: ``duckdb.connect(path, read_only=True)``, or with the DuckDB CLI
(``uv run duckdb -readonly data/published/warehouse.duckdb``). The snapshot is written
in the storage format of :data:`SNAPSHOT_STORAGE_COMPATIBILITY`, so clients that lag the
Python package (the CLI on PyPI, JDBC drivers in DBeaver) can still open it.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from contracts.settings import Settings
from contracts.support_tables import LEDGER_DDL, REJECTED_DDL, WARNINGS_DDL
from ingest.storage import storage_fault

RAW_TABLES = ("load_ledger", "rejected_rows", "row_warnings")
_RAW_DDL = {"load_ledger": LEDGER_DDL, "rejected_rows": REJECTED_DDL, "row_warnings": WARNINGS_DDL}
_STALE_TEMP_SECONDS = 3600
# The oldest DuckDB release that must read the snapshot. The Python package writes its
# newest storage format by default, which the DuckDB CLI (duckdb-cli on PyPI, a release
# behind) refuses with "can only read versions between ...".
SNAPSHOT_STORAGE_COMPATIBILITY = "v1.5.0"


class PublishError(RuntimeError):
    """The working warehouse cannot be published (missing, or without marts)."""


@dataclass(frozen=True)
class Publication:
    path: Path
    version: str
    tables: int
    bytes: int


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _relations(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = 'src' and table_schema = ? order by table_name",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def _new_version() -> str:
    from ingest.load import shanghai_now

    return f"{shanghai_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def _remove_stale_temps(folder: Path) -> None:
    now = time.time()
    for tmp in folder.glob(".warehouse.*.tmp"):
        try:
            if now - tmp.stat().st_mtime > _STALE_TEMP_SECONDS:
                tmp.unlink()
        except FileNotFoundError:
            pass


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _raise_storage_fault(exc: BaseException, settings: Settings) -> None:
    """Re-raise a full disk or unwritable folder as a one-line PublishError."""
    if not isinstance(exc, (OSError, duckdb.Error)):
        return
    previous = published_version(settings) if settings.published_warehouse.exists() else None
    kept = (
        f"the previous snapshot {previous} stays published" if previous else "nothing was published"
    )
    message = storage_fault(exc, f"the snapshot in {settings.published_warehouse.parent}", kept)
    if message is not None:
        # ``from None``: a run's summary reports the innermost cause of a failed step,
        # which would be DuckDB's own text again (``failures.root_message``).
        raise PublishError(message) from None


def publish(
    settings: Settings,
    run_id: str = "adhoc",
    *,
    storage_compatibility: str = SNAPSHOT_STORAGE_COMPATIBILITY,
) -> Publication:
    """Write a new snapshot and atomically put it in place of ``settings.published_warehouse``.

    ``storage_compatibility`` is DuckDB's ``storage_compatibility_version`` of the new
    file (``"latest"``: the writing DuckDB's own format; the benchmark compares them)."""
    source = settings.warehouse
    if not source.exists():
        raise PublishError(f"no working warehouse at {source}: run `pingan run` first")
    target = settings.published_warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target.parent)
    version = _new_version()
    tmp = target.parent / f".warehouse.{version}.tmp"

    con = duckdb.connect(str(tmp), config={"storage_compatibility_version": storage_compatibility})
    try:
        con.execute(f"attach {_quote(source)} as src (read_only)")
        marts = _relations(con, "marts")
        if not marts:
            raise PublishError(
                f"the working warehouse {source} has no marts: build it (dbt) before publishing"
            )
        con.execute("create schema marts")
        for name in marts:
            con.execute(f'create table marts."{name}" as select * from src.marts."{name}"')
        con.execute("create schema quality")
        for name in _relations(con, "quality"):
            con.execute(f'create table quality."{name}" as select * from src.quality."{name}"')
        con.execute("create schema raw")
        present = set(_relations(con, "raw"))
        for name in RAW_TABLES:
            if name in present:
                con.execute(f'create table raw."{name}" as select * from src.raw."{name}"')
            else:  # an empty table keeps the layout readers rely on
                con.execute(_RAW_DDL[name])
        con.execute("detach src")
        con.execute("create schema meta")
        con.execute(
            "create table meta.publication "
            "(version varchar not null, published_at timestamp not null, run_id varchar)"
        )
        from ingest.load import shanghai_now

        con.execute(
            "insert into meta.publication values (?, ?, ?)", [version, shanghai_now(), run_id]
        )
        con.execute("checkpoint")
        tables = len(marts)
    except BaseException as exc:
        con.close()
        tmp.unlink(missing_ok=True)
        _raise_storage_fault(exc, settings)
        raise
    try:
        con.close()  # the last checkpoint can still meet a full disk
        tmp.chmod(0o444)  # the snapshot is read-only by construction
        _fsync(tmp)
    except (OSError, duckdb.Error) as exc:
        tmp.unlink(missing_ok=True)
        _raise_storage_fault(exc, settings)
        raise
    os.replace(tmp, target)
    _fsync(target.parent)
    return Publication(path=target, version=version, tables=tables, bytes=target.stat().st_size)


def publish_snapshot(settings: Settings, run_id: str = "adhoc") -> Path:
    """Publish the working warehouse; returns the path of the published snapshot."""
    return publish(settings, run_id).path


def published_version(settings: Settings) -> str | None:
    """Version of the snapshot currently published (None when nothing is published)."""
    path = settings.published_warehouse
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("select version from meta.publication").fetchone()
    finally:
        con.close()
    return None if row is None else str(row[0])
