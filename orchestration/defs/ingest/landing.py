"""Which landed export files still need ingesting: the one rule shared by sensors and runs.

A file is *done* when ``raw.load_ledger`` holds a row with its path and SHA-256
(whatever the status: loaded, duplicate or rejected): the rule ingest itself uses
to add no row for a file it has seen (``ingest.load``). Everything else in a
system's landing folder is *pending*, unless it is *settling*: modified within
the last ``settle_seconds`` (still being written by the source system), in
which case it waits for a later tick.

So the ledger, not a cursor, is the record of what was ingested: a sensor
restarted without its cursor, or a scheduled run after a failed sensor run,
computes the same pending set and never loads a file twice nor skips one.
A corrected re-export under the same name has a new hash, so it is pending; the
same bytes under another name or folder are pending too, and ingest records them
as a ``duplicate`` delivery (loading nothing).

What counts as a delivery is decided by :func:`ingest.discovery.walk`, the walk
ingest itself uses: a path it refuses (a link out of the folder, a FIFO, an
undecodable name, a folder too deep) is pending until the ledger holds its
``rejected`` row (matched by stored path and reason, as it has no content hash),
so it is recorded once, and never opened here either.

Hashing every file on every tick would cost time proportional to the whole
history, so hashes are cached by ``(path, size, mtime_ns)``: a sensor keeps the
cache in its cursor, a run in ``<data dir>/dagster/landing_index.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from contracts.entities import REJECTED
from contracts.settings import Settings
from ingest.discovery import Found, walk

# (size, mtime_ns, sha256) of a file, keyed by its absolute path.
HashCache = dict[str, tuple[int, int, str]]


class WarehouseBusy(RuntimeError):
    """The working warehouse is locked by a writing process (a run in progress)."""


@dataclass(frozen=True)
class LandedFile:
    path: Path
    size: int
    mtime_ns: int
    sha256: str

    @property
    def ledger_key(self) -> tuple[str, str]:
        """(path, SHA-256) as the ledger stores them: the resolved path, as ingest writes it."""
        return (str(self.path.resolve()), self.sha256)


@dataclass
class Scan:
    """The state of one landing folder at one moment."""

    pending: list[LandedFile] = field(default_factory=list)
    done: list[LandedFile] = field(default_factory=list)
    settling: list[Path] = field(default_factory=list)
    cache: HashCache = field(default_factory=dict)
    refused: list[Found] = field(default_factory=list)  # refusals the ledger lacks yet

    @property
    def paths_to_ingest(self) -> list[Path]:
        """What a run hands to ingest: the pending files and the refusals to record."""
        return [f.path for f in self.pending] + [f.path for f in self.refused]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def landing_entries(folder: Path, max_depth: int) -> list[Found]:
    """Everything under ``folder``, deliveries and refusals, in a stable order (ingest's walk)."""
    if not folder.is_dir():
        return []
    return sorted(walk(folder, max_depth), key=lambda f: str(f.path))


def list_deliveries(folder: Path, max_depth: int = 32) -> list[Path]:
    """Every delivered file under ``folder`` (recursively), in a stable order."""
    return [f.path for f in landing_entries(folder, max_depth) if f.refusal is None]


def _ledger_pairs(settings: Settings, sql: str, read_only: bool) -> set[tuple[str, str]]:
    """Pairs of columns ``sql`` selects from ``raw.load_ledger`` (empty before any ingest).
    Raises :class:`WarehouseBusy` when another process holds the warehouse."""
    if not settings.warehouse.exists():
        return set()
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=read_only)
    except duckdb.IOException as exc:  # lock held by a writer
        raise WarehouseBusy(f"warehouse {settings.warehouse} is in use: {exc}") from None
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'load_ledger'"
        ).fetchone()
        if not exists or not exists[0]:
            return set()
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    return {(str(a), str(b)) for a, b in rows}


def ledger_keys(settings: Settings, read_only: bool = True) -> set[tuple[str, str]]:
    """(file_path, file_sha256) of every file ``raw.load_ledger`` records.

    Sensors read with ``read_only=True`` (they never write); a run step, which is
    the warehouse's writer anyway, reads with ``read_only=False``. Raises
    :class:`WarehouseBusy` when another process holds the warehouse.
    """
    return _ledger_pairs(
        settings,
        "select distinct file_path, file_sha256 from raw.load_ledger where file_sha256 is not null",
        read_only,
    )


def refused_keys(settings: Settings, read_only: bool = True) -> set[tuple[str, str]]:
    """(file_path, reason) of every refusal ``raw.load_ledger`` records (no content hash)."""
    return _ledger_pairs(
        settings,
        "select distinct file_path, reason from raw.load_ledger "
        f"where file_sha256 is null and status = '{REJECTED}'",
        read_only,
    )


def scan(
    folder: Path,
    done_keys: set[tuple[str, str]],
    cache: Mapping[str, tuple[int, int, str]] | None = None,
    *,
    settle_seconds: float = 0.0,
    now: float | None = None,
    refused_done: set[tuple[str, str]] | None = None,
    max_depth: int = 32,
) -> Scan:
    """Classify the files under ``folder`` as pending, done or settling, and list the
    refusals not in ``refused_done`` (``(stored path, reason)`` of recorded refusals).

    ``cache`` maps absolute paths to (size, mtime_ns, sha256); entries whose size
    and mtime still match are trusted, others are re-hashed. The returned cache
    holds the files seen now (files that disappeared are dropped from it).
    """
    now = time.time() if now is None else now
    cache = cache or {}
    out = Scan()
    for found in landing_entries(folder, max_depth):
        if found.refusal is not None:
            if (found.stored_path, found.refusal) not in (refused_done or set()):
                out.refused.append(found)
            continue
        path = found.path
        try:
            st = path.stat()
        except FileNotFoundError:  # removed between listing and stat
            continue
        if settle_seconds > 0 and now - st.st_mtime < settle_seconds:
            out.settling.append(path)
            continue
        key = str(path.resolve())
        cached = cache.get(key)
        if cached and cached[0] == st.st_size and cached[1] == st.st_mtime_ns:
            sha = cached[2]
        else:
            sha = sha256_of(path)
        out.cache[key] = (st.st_size, st.st_mtime_ns, sha)
        landed = LandedFile(path=path, size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=sha)
        (out.done if landed.ledger_key in done_keys else out.pending).append(landed)
    return out


def landing_folder(settings: Settings, system: str) -> Path:
    return settings.landing_dir / system


# -- the run-side hash cache (sensors keep theirs in the cursor) --------------------------


def _index_path(settings: Settings) -> Path:
    return settings.data_dir / "dagster" / "landing_index.json"


def load_hash_cache(settings: Settings) -> HashCache:
    path = _index_path(settings)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in raw.items()}


def save_hash_cache(
    settings: Settings, updates: Iterable[tuple[str, tuple[int, int, str]]]
) -> None:
    """Merge ``updates`` into the cache file (written atomically)."""
    path = _index_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    cache = load_hash_cache(settings)
    cache.update(dict(updates))
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def pending_for_run(settings: Settings, system: str, settle_seconds: float = 0.0) -> Scan:
    """The pending files of one system for a pipeline run (uses and updates the run-side cache)."""
    result = scan(
        landing_folder(settings, system),
        ledger_keys(settings, read_only=False),
        load_hash_cache(settings),
        settle_seconds=settle_seconds,
        refused_done=refused_keys(settings, read_only=False),
        max_depth=settings.limits.max_folder_depth,
    )
    save_hash_cache(settings, result.cache.items())
    return result


# -- the sensor's decision -------------------------------------------------------------


@dataclass
class SensorDecision:
    """What a landing sensor does on one tick."""

    paths: list[Path]  # files to ingest in a new run (empty: no run)
    run_key: str | None
    cursor: str
    skip_reason: str | None = None


def _ledger_id(path: str, sha: str) -> str:
    return f"{path}|{sha}"


def _refusal_id(stored_path: str, reason: str) -> str:
    """A refusal's id in the cursor: its stored (escaped) path, so the cursor is valid text."""
    return f"refused|{stored_path}|{hashlib.sha256(reason.encode()).hexdigest()[:12]}"


def evaluate_sensor(
    settings: Settings,
    system: str,
    cursor: str | None,
    *,
    settle_seconds: float,
    now: float | None = None,
) -> SensorDecision:
    """Decide one tick of the landing sensor of ``system``.

    The cursor caches file hashes and remembers which files were already
    requested (so a file is not requested again while its run is queued).
    Both are subordinate to the ledger: files in the ledger are done, whatever
    the cursor says, and a requested file that never reaches the ledger (failed
    run) is picked up by the next pipeline run, which discovers from the ledger.
    """
    state = json.loads(cursor) if cursor else {}
    cache = {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in state.get("files", {}).items()}
    requested: dict[str, str] = dict(state.get("requested", {}))
    try:
        done = ledger_keys(settings)
        refused_done = refused_keys(settings)
    except WarehouseBusy:
        return SensorDecision([], None, cursor or "", "warehouse busy (a run is writing); retry")
    result = scan(
        landing_folder(settings, system),
        done,
        cache,
        settle_seconds=settle_seconds,
        now=now,
        refused_done=refused_done,
        max_depth=settings.limits.max_folder_depth,
    )
    done_ids = {_ledger_id(n, s) for n, s in done} | {_refusal_id(p, r) for p, r in refused_done}
    requested = {k: v for k, v in requested.items() if k not in done_ids}
    new = [f for f in result.pending if _ledger_id(*f.ledger_key) not in requested]
    new_refused = [
        f for f in result.refused if _refusal_id(f.stored_path, f.refusal or "") not in requested
    ]
    run_key = None
    if new or new_refused:
        ids = sorted(
            [_ledger_id(*f.ledger_key) for f in new]
            + [_refusal_id(f.stored_path, f.refusal or "") for f in new_refused]
        )
        run_key = f"{system}:" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:24]
        requested.update({i: run_key for i in ids})
    new_cursor = json.dumps(
        {"files": {k: list(v) for k, v in result.cache.items()}, "requested": requested},
        ensure_ascii=False,
        sort_keys=True,
    )
    reason = None
    if not (new or new_refused):
        reason = f"no new files in landing/{system}"
        if result.settling:
            reason += f" ({len(result.settling)} still being written)"
    paths = [f.path for f in new] + [f.path for f in new_refused]
    return SensorDecision(paths, run_key, new_cursor, reason)
