"""Loading: typed rows into ``raw.<entity>``, one transaction per file, with the ledger.

Nothing lost, nothing twice:

* every delivered file gets one ``raw.load_ledger`` row: ``loaded``,
  ``duplicate`` (the same bytes were loaded before under another path: a no-op)
  or ``rejected``;
* seeing a file again (the same path, the same bytes) adds no row: the result is
  ``seen``, never written; so a rerun after a crash, or a daily re-ingest of a
  landing folder, leaves the ledger an uninterrupted run would have left (a
  refusal seen again, or a file still missing, likewise adds nothing);
* ``rows_read = rows_loaded + rows_rejected`` for every file, and every
  rejected row is in ``raw.rejected_rows`` with its reason;
* a file's rows, rejections, warnings and ledger row commit together or not at all.

A corrected re-export (same name, new bytes) is simply a new delivery; the
staging models keep the newest version of each key.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from contracts.entities import (
    DUPLICATE,
    LOADED,
    MISSING,
    REJECTED,
    SOURCE_TIME_ZONE,
    Column,
    Entity,
)
from contracts.settings import Settings
from contracts.support_tables import ensure_raw_schema, raw_table_columns
from ingest.discovery import Found, display
from ingest.discovery import discover as discover_found
from ingest.isolation import IsolatedReader
from ingest.limits import ReaderLimits
from ingest.normalise import (
    by_distinct,
    clean_enum,
    clean_free_text_column,
    clean_text,
    normalise_address,
    on_series,
    parse_date_column,
    parse_decimal,
    parse_flag,
    parse_integer,
    parse_month,
    parse_timestamp_column,
    scrub_personal_numbers,
    unreadable,
)
from ingest.pii import (
    Pseudonymiser,
    load_pii_key,
    mask_id_number,
    mask_phone,
    normalise_id_numbers,
    normalise_phone,
)
from ingest.progress import Progress
from ingest.readers import FileRejected, Records

# Not a ledger status: the result of a file the ledger already records (same path, same
# bytes), for which nothing is written.
SEEN = "seen"

# Expression parsers of the kinds whose columns repeat a few values (run once
# per distinct value); text-like kinds are cheap and run on every value.
DISTINCT_PARSERS = {
    "enum": clean_enum,
    "flag": parse_flag,
    "integer": parse_integer,
    "decimal": parse_decimal,
    "month": parse_month,
}
ID_REASON = "invalid ID number (form, birth date or GB 11643 check digit)"


def parse_column(col: Column, values: pl.Series) -> tuple[pl.Series, pl.Series | None]:
    """The parsed column, and where a delivered value could not be read (None: cannot fail)."""
    if col.kind in ("text", "address", "free_text"):  # every typed number masked
        return clean_free_text_column(values, identifier=col.identifier), None
    if col.kind in ("timestamp", "date"):
        parsed = (
            parse_timestamp_column(values) if col.kind == "timestamp" else parse_date_column(values)
        )
    elif col.kind == "id_number":
        parsed = normalise_id_numbers(values)
    elif col.kind == "phone":  # mostly distinct: parsed value by value
        parsed = on_series(normalise_phone)(values)
    else:
        parsed = by_distinct(values, DISTINCT_PARSERS[col.kind])
    if col.kind == "enum":
        return parsed, parsed.is_not_null() & ~parsed.is_in(col.values)
    return parsed, unreadable(parsed, values)


def failure_reason(col: Column) -> str:
    if col.kind == "id_number":
        return ID_REASON
    if col.kind == "phone":
        return "invalid phone number"
    if col.kind == "enum":
        return "value not in the contract's list (kept)"
    return f"unreadable {col.kind}"


# A FileResult.line(): status, entity, then "read N loaded N rejected N".
_LINE = re.compile(r"(?:loaded|duplicate|rejected|missing|seen) +\S+ +read \d+ loaded (\d+) ")


@dataclass(frozen=True)
class FileResult:
    """What became of one delivered file (the fields of its ledger row)."""

    file_name: str
    file_path: str
    file_sha256: str | None  # None: the file vanished before it could be read
    entity: str | None
    status: str  # loaded | duplicate | rejected | missing; or seen (no ledger row written)
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_warned: int
    reason: str | None

    def line(self) -> str:
        """The file's one line in ``pingan ingest``'s output and the ingest step's log."""
        counts = f"read {self.rows_read} loaded {self.rows_loaded} rejected {self.rows_rejected}"
        if self.rows_warned:
            counts += f" warned {self.rows_warned}"
        # Names and reasons come from outside: escaped, so a file name cannot forge a line.
        line = f"{self.status:<9} {self.entity or '-':<27} {counts:<44} {display(self.file_name)}"
        return line + (f"  ({display(self.reason)})" if self.reason else "")

    @staticmethod
    def rows_in_line(line: str) -> int | None:
        """The rows loaded that a :meth:`line` reports (None: not a file's line); how the
        run's progress counts rows from the ingest step's log."""
        match = _LINE.match(line)
        return int(match.group(1)) if match else None


class WarehouseBusy(Exception):
    """Another process holds the warehouse's write lock."""


def shanghai_now() -> datetime:
    """Wall-clock time in Asia/Shanghai, whatever the machine's time zone."""
    return datetime.now(ZoneInfo(SOURCE_TIME_ZONE)).replace(tzinfo=None)


def discover(paths: Iterable[Path], limits: ReaderLimits | None = None) -> list[Path]:
    """The deliveries under the given paths (:mod:`ingest.discovery`), refused paths left out."""
    depth = (limits or ReaderLimits()).max_folder_depth
    return [f.path for f in discover_found(paths, depth) if f.refusal is None]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def connect_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"the warehouse {path} is in use by another writing process; wait for it to finish"
            ) from None
        raise


# ---------------------------------------------------------------- typing


@dataclass
class Typed:
    frame: pl.DataFrame  # rows to load, raw-table columns
    rejected: pl.DataFrame  # _row_number, reason, row_json
    warnings: pl.DataFrame  # _row_number, column_name, reason, value


def _masked_value(col: Column) -> pl.Expr:
    """The delivered value of a column, safe to store in rejections and warnings."""
    source = pl.col(col.canonical)
    if col.kind == "name":
        return pl.when(clean_text(source).is_not_null()).then(
            pl.concat_str([clean_text(source).str.slice(0, 1), pl.lit("*")])
        )
    if col.kind == "id_number":
        folded = clean_text(source)
        return pl.when(folded.is_not_null()).then(
            pl.concat_str([folded.str.slice(0, 4), pl.lit("**********"), folded.str.slice(-4, 4)])
        )
    if col.kind == "phone":
        digits = source.str.replace_all(r"[^0-9０-９]", "")
        return pl.when(digits.str.len_chars() > 0).then(
            pl.concat_str([digits.str.slice(0, 3), pl.lit("****"), digits.str.slice(-4, 4)])
        )
    return scrub_personal_numbers(source).str.slice(0, 500)


def _parse_one(
    col: Column, values: pl.Series
) -> tuple[pl.Series, pl.Series | None, pl.Series | None]:
    value, failed = parse_column(col, values)
    normalised = by_distinct(values, normalise_address) if col.kind == "address" else None
    return value, failed, normalised


def _parse_columns(
    stored: Sequence[Column], src: pl.DataFrame
) -> dict[str, tuple[pl.Series, pl.Series | None, pl.Series | None]]:
    """Each column's :func:`parse_column` (and an address's normalised form), the columns
    parsed at the same time on as many threads as there are cores.

    Threads, not processes: the parsers are polars queries, which run in native code
    without the GIL, so the columns of one file are typed on every core without copying
    the frame into other processes (the copies would cost more than a column's parse).
    One column's own query is mostly a chain of single-threaded string kernels: typing
    the columns one after another left all but one core idle.
    """
    workers = min(len(stored), os.cpu_count() or 1)
    if workers <= 1 or src.height < PARALLEL_ROWS:
        return {c.canonical: _parse_one(c, src[c.canonical]) for c in stored}
    # The costly columns first, so no core waits on one started last.
    order = sorted(stored, key=lambda c: _PARSE_COST.get(c.kind, 0), reverse=True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {c.canonical: pool.submit(_parse_one, c, src[c.canonical]) for c in order}
        return {name: future.result() for name, future in futures.items()}


# Below this many rows a file's columns are typed on one thread (starting threads and
# competing for polars' pool cost more than they save on a small frame).
PARALLEL_ROWS = 20_000
# Relative cost of a column's parse by kind (measured on the independent hotline export):
# the order in which the columns are handed to the threads.
_PARSE_COST = {"free_text": 5, "address": 4, "timestamp": 3, "date": 3, "phone": 2}


def type_records(records: Records, pseudonymiser: Pseudonymiser, keep: Sequence[str] = ()) -> Typed:
    """Parse every column by its kind; reject rows with a bad key, warn about other bad values.

    Each column is parsed once; failure flags then compare parsed and delivered
    values, and masked copies of the delivered row are made only for the rows
    that are rejected or warned about. Columns named in ``keep`` (e.g. which file a
    row came from, when small files are typed together) are carried into every output.
    """
    ent = records.entity
    src = records.frame
    stored = [c for c in ent.columns if c.kind != "name"]

    # 1. Parse each column once; note values that were delivered but unreadable.
    parsed_columns = _parse_columns(stored, src)
    columns: dict[str, pl.Series] = {}
    problems: list[tuple[Column, str, str]] = []  # column, flag column, reason
    for col in stored:
        value, failed, normalised = parsed_columns[col.canonical]
        columns[f"__v_{col.canonical}"] = value
        if normalised is not None:
            columns[f"{col.canonical}_norm"] = normalised
        if col.required:
            missing = value.is_null() if failed is None else value.is_null() & ~failed
            columns[f"__missing_{col.canonical}"] = missing
            problems.append((col, f"__missing_{col.canonical}", "key missing"))
        if failed is not None:
            columns[f"__failed_{col.canonical}"] = failed
            problems.append((col, f"__failed_{col.canonical}", failure_reason(col)))
        if col.minimum is not None or col.maximum is not None:
            lo = col.minimum if col.minimum is not None else float("-inf")
            hi = col.maximum if col.maximum is not None else float("inf")
            outside = value.is_not_null() & ~value.is_between(lo, hi)
            columns[f"__range_{col.canonical}"] = outside
            columns[f"__v_{col.canonical}"] = pl.select(pl.when(~outside).then(value)).to_series()
            problems.append(
                (col, f"__range_{col.canonical}", f"out of range [{col.minimum}, {col.maximum}]")
            )
    work = src.with_columns(**columns)

    # 2. Rows with a bad key are rejected; other problems are warnings.
    required = [(c, r, n) for c, n, r in problems if c.required]
    optional = [(c, r, n) for c, n, r in problems if not c.required]
    flag_names = [n for _, n, _ in problems]
    rejected_mask = (
        pl.any_horizontal([pl.col(n) for _, _, n in required]) if required else pl.lit(False)
    )
    work = work.with_columns(rejected_mask.alias("__rejected"))

    # 3. Reports, with masked copies of the delivered values, for flagged rows only.
    flagged = work.filter(
        pl.any_horizontal([pl.col(n) for n in flag_names]) if flag_names else pl.lit(False)
    )
    flagged = flagged.with_columns(
        _masked_value(c).alias(f"__m_{c.canonical}") for c in ent.columns
    )
    bad = flagged.filter("__rejected")
    reason = pl.concat_str(
        [pl.when(pl.col(n)).then(pl.lit(f"{c.header}: {r}")) for c, r, n in required],
        separator="; ",
        ignore_nulls=True,
    )
    row_json = pl.struct(
        [pl.col(f"__m_{c.canonical}").alias(c.header) for c in ent.columns]
    ).struct.json_encode()
    rejected = bad.select(
        pl.col("_row_number"), reason.alias("reason"), row_json.alias("row_json"), *keep
    )
    warned = flagged.filter(~pl.col("__rejected"))
    warning_frames = [
        warned.filter(pl.col(n)).select(
            pl.col("_row_number"),
            pl.lit(c.canonical).alias("column_name"),
            pl.lit(f"{c.header}: {r}").alias("reason"),
            pl.col(f"__m_{c.canonical}").alias("value"),
            *keep,
        )
        for c, r, n in optional
    ]
    warnings = (
        pl.concat(warning_frames)
        if warning_frames
        else pl.DataFrame(
            schema={
                "_row_number": pl.Int64,
                "column_name": pl.Utf8,
                "reason": pl.Utf8,
                "value": pl.Utf8,
            }
        )
    )

    # 4. The rows to load: parsed values under their stored names, masks and pseudonyms.
    # Most files reject nothing: skip copying every column through a filter then.
    good = work.filter(~pl.col("__rejected")) if bad.height else work
    out: list[pl.Expr] = []
    for col in stored:
        parsed = pl.col(f"__v_{col.canonical}")
        if col.kind in ("id_number", "phone"):
            mask = mask_id_number if col.kind == "id_number" else mask_phone
            out.append(mask(parsed).alias(f"{col.canonical}_masked"))
        else:
            out.append(parsed.alias(col.canonical))
    good = good.with_columns(out).with_columns(
        pseudonymiser.series(col.kind, good[f"__v_{col.canonical}"]).alias(
            f"{col.canonical}_pseudonym"
        )
        for col in stored
        if col.kind in ("id_number", "phone")
    )
    data_columns = [name for name, _, _ in ent.stored_columns()]
    return Typed(good.select([*data_columns, "_extra", "_row_number", *keep]), rejected, warnings)


# Files typed together (their rows parsed in one pass, each still loaded in a transaction
# of its own): parsing has a cost per call that dwarfs a small file's rows.
BATCH_FILES = 64
BATCH_BYTES = 4 << 20  # a window of files closes at this size; a larger file goes alone
BATCH_ROWS = 20_000  # files with more rows are typed alone (no copy through a concat)
FILE_INDEX = "__file"


@dataclass
class _Pending:
    """A file to read and load (no ledger row yet)."""

    path: Path
    sha: str
    size: int  # when hashed: the file may be withdrawn once its bytes are read
    records: Records | None = None
    typed: Typed | None = None
    rejection: FileRejected | None = None


def _split(frame: pl.DataFrame, index: int) -> pl.DataFrame:
    if FILE_INDEX not in frame.columns:  # an empty report has no index column
        return frame
    return frame.filter(pl.col(FILE_INDEX) == index).drop(FILE_INDEX)


def type_together(pending: Sequence[_Pending], pseudonymiser: Pseudonymiser) -> None:
    """Type the records of ``pending`` (read, not rejected): small files of one entity in
    one pass, then split back per file; the result is each file's own typing."""
    groups: dict[str, list[_Pending]] = {}
    for p in pending:
        if p.records is None:
            continue
        if p.records.frame.height > BATCH_ROWS:
            groups[f"alone:{id(p)}"] = [p]
        else:
            groups.setdefault(p.records.entity.name, []).append(p)
    for group in groups.values():
        if len(group) > 1:
            try:
                _type_group(group, pseudonymiser)
                continue
            except FileRejected:  # one of them: type each alone to know which
                pass
        for p in group:
            assert p.records is not None
            try:
                p.typed = type_records(p.records, pseudonymiser)
            except FileRejected as exc:
                p.rejection = exc


def _type_group(group: Sequence[_Pending], pseudonymiser: Pseudonymiser) -> None:
    frames = [
        p.records.frame.with_columns(pl.lit(i, pl.Int32).alias(FILE_INDEX))
        for i, p in enumerate(group)
        if p.records is not None
    ]
    first = group[0].records
    assert first is not None
    # One chunk: typing scatters into columns, which polars does not support on every
    # multi-chunk string column (a panic, seen on the police exports).
    combined = dataclasses.replace(
        first, frame=pl.concat(frames, how="diagonal_relaxed", rechunk=True)
    )
    typed = type_records(combined, pseudonymiser, keep=(FILE_INDEX,))
    for i, p in enumerate(group):
        p.typed = Typed(
            _split(typed.frame, i), _split(typed.rejected, i), _split(typed.warnings, i)
        )


# ---------------------------------------------------------------- loading


@dataclass
class _Window:
    """A window's files, hashed and looked up: a step per file (in order), the new ones."""

    steps: list[Callable[[], FileResult]] = dataclasses.field(default_factory=list)
    pending: list[_Pending] = dataclasses.field(default_factory=list)
    shas: set[str] = dataclasses.field(default_factory=set)
    paths: set[str] = dataclasses.field(default_factory=set)
    largest: int = 0  # bytes of its largest file


def _independent(window: _Window, ahead: _Window) -> bool:
    """Whether ``ahead`` may be looked up and read before ``window`` commits: it shares no
    bytes or path with it (so the ledger rows ``window`` adds cannot change what ``ahead``
    finds), and both are windows of small files (see :meth:`Loader.load_windows`)."""
    return (
        max(ahead.largest, window.largest) < BATCH_BYTES
        and not (ahead.shas & window.shas)
        and not (ahead.paths & window.paths)
    )


class _Background:
    """``job`` run in a thread; its exception raised again, in the caller, by :meth:`reraise`."""

    def __init__(self, job: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(job,), daemon=True)
        self._thread.start()

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # handed to the caller whole
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def reraise(self) -> None:
        if self._error is not None:
            raise self._error


class Loader:
    """Loads files into one warehouse connection; one instance per ingest run."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        settings: Settings,
        reader: IsolatedReader | None = None,
    ) -> None:
        self.con = con
        self.settings = settings
        self.pseudonymiser = Pseudonymiser(load_pii_key(settings))
        ensure_raw_schema(con)
        self.tmp_dir = settings.data_dir / "tmp"
        self._window_loaded: dict[str, str] = {}  # sha -> entity, loaded in this window
        self._last_seq: int | None = None  # the ledger's last delivery_seq, once read
        # Started now, so its imports overlap the first file's hashing and ledger lookup.
        # (Or earlier, by the caller: see :func:`ingest.cli.run_ingest`.)
        self.reader = reader or IsolatedReader(settings.limits, self.tmp_dir)
        self.reader.start()

    def close(self) -> None:
        self.reader.close()

    def _next_seq(self) -> int:
        """The next delivery's number: read from the ledger once, then counted here (this
        connection holds the warehouse's write lock: no other process adds ledger rows)."""
        if self._last_seq is None:
            rows = self.con.execute(
                "select coalesce(max(delivery_seq), 0) from raw.load_ledger"
            ).fetchall()
            self._last_seq = int(rows[0][0])
        self._last_seq += 1
        return self._last_seq

    def _ledger(
        self,
        path: Path,
        sha: str | None,
        entity: str | None,
        status: str,
        read: int,
        loaded: int,
        rejected: int,
        warned: int,
        reason: str | None,
        now: datetime,
        seq: int,
        *,
        name: str | None = None,
        stored_path: str | None = None,
        size: int | None = None,
    ) -> FileResult:
        name = path.name if name is None else name
        stored_path = str(path) if stored_path is None else stored_path
        if size is None and sha is not None:  # never stat what was refused
            size = path.stat().st_size
        self.con.execute(
            "insert into raw.load_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                name,
                stored_path,
                sha,
                size,
                entity,
                status,
                read,
                loaded,
                rejected,
                warned,
                reason,
                now,
                seq,
            ],
        )
        return FileResult(
            name, stored_path, sha, entity, status, read, loaded, rejected, warned, reason
        )

    @staticmethod
    def _seen(
        name: str, stored_path: str, sha: str | None, entity: str | None, recorded: str
    ) -> FileResult:
        """The result of a file the ledger already records as ``recorded``: nothing written."""
        return FileResult(
            name,
            stored_path,
            sha,
            entity,
            SEEN,
            0,
            0,
            0,
            0,
            f"already in the ledger as {recorded}: nothing new recorded",
        )

    def record_missing(self, path: Path) -> FileResult:
        """A file named for this run that is gone: a ledger row says so, and the run goes on.

        The source system may withdraw or rename a delivery after the sensor saw it; no
        byte was read, so nothing is lost, but the ledger keeps the trace (once: while the
        ledger's last word on the path is that it is missing, a rerun adds nothing)."""
        stored = str(path)
        last = self.con.execute(
            "select status, file_sha256 is null from raw.load_ledger where file_path = ? "
            "order by delivery_seq desc limit 1",
            [stored],
        ).fetchall()
        if last and last[0] == (MISSING, True):
            return self._seen(path.name, stored, None, None, MISSING)
        self.con.begin()
        result = self._ledger(
            path,
            None,
            None,
            MISSING,
            0,
            0,
            0,
            0,
            "file vanished before it could be read (removed or renamed after it was seen)",
            shanghai_now(),
            self._next_seq(),
        )
        self.con.commit()
        return result

    def record_refused(self, found: Found) -> FileResult:
        """A path that is not read at all (a link out of the folder, a FIFO, ...): its ledger
        row says why; the name is stored escaped when it is not valid UTF-8."""
        assert found.refusal is not None
        again = self.con.execute(
            "select 1 from raw.load_ledger where file_path = ? and reason = ? "
            "and file_sha256 is null and status = 'rejected' limit 1",
            [found.stored_path, found.refusal],
        ).fetchall()
        if again:
            return self._seen(found.name, found.stored_path, None, None, REJECTED)
        self.con.begin()
        result = self._ledger(
            found.path,
            None,
            None,
            REJECTED,
            0,
            0,
            0,
            0,
            found.refusal,
            shanghai_now(),
            self._next_seq(),
            name=found.name,
            stored_path=found.stored_path,
        )
        self.con.commit()
        return result

    def load_file(self, path: Path) -> FileResult:
        """Load one file (a window of one)."""
        return next(iter(self.load_window([Found(path)])))

    def load_window(self, items: Sequence[Found]) -> Iterator[FileResult]:
        """Load ``items`` in order, each in a transaction of its own, with its ledger row.

        Every file is hashed and looked up first, then the new ones are read and their
        rows typed together (:func:`type_together`), then each is committed in turn:
        the ledger is the same as loading the files one by one, and an interruption
        loses at most the window's uncommitted files (a rerun loads them)."""
        window = self._prepare(items)
        self._read_and_type(window)
        yield from self._commit_window(window)

    def load_windows(self, windows: Iterable[Sequence[Found]]) -> Iterator[FileResult]:
        """:meth:`load_window` of each window in turn, the next window's files read (by the
        reader worker) and typed in a thread while this one's are committed by this one
        writer: the reading process, polars and DuckDB each release the GIL, so the two
        cores work at once.

        The next window is hashed and looked up in the ledger before this one commits;
        what it finds there is what it would find after, unless this window holds one of
        its files' bytes or paths: then it is looked up again after the commits. Only
        windows of small files overlap (where the time per file is spent): a large file is
        neither read ahead (its temporary copies could take the disk space this window's
        commit needs) nor committed while the next is read (a file is then read, or found
        missing, after the large one is in the warehouse, as when loading file by file)."""
        upcoming = iter(windows)
        items = next(upcoming, None)
        if items is None:
            return
        window: _Window | None = self._prepare(items)
        assert window is not None
        self._read_and_type(window)
        while window is not None:
            items = next(upcoming, None)
            ahead = self._prepare(items) if items is not None else None
            if ahead is not None and not _independent(window, ahead):
                ahead = None  # looked up again once this window is committed
            reading: _Background | None = None
            if ahead is not None:
                reading = _Background(functools.partial(self._read_and_type, ahead))
            try:
                yield from self._commit_window(window)
            finally:
                if reading is not None:
                    reading.join()  # the reader is this loader's: never left in use
            if reading is not None:
                reading.reraise()
            elif items is not None:
                ahead = self._prepare(items)
                self._read_and_type(ahead)
            window = ahead

    def _prepare(self, items: Sequence[Found]) -> _Window:
        """Hash each file and look it up in the ledger: the window's steps, and its new files."""
        window = _Window()
        steps, pending = window.steps, window.pending
        for f in items:
            window.paths.add(str(f.path))
            if f.refusal is not None:
                steps.append(functools.partial(self.record_refused, f))
                continue
            path = f.path
            try:
                size = path.stat().st_size
                sha = file_sha256(path)
            except FileNotFoundError:
                steps.append(functools.partial(self.record_missing, path))
                continue
            except OSError as exc:  # unreadable (permissions, an I/O error): refused
                refused = Found(path, f"cannot read file: {exc.strerror or exc}")
                steps.append(functools.partial(self.record_refused, refused))
                continue
            window.shas.add(sha)
            window.largest = max(window.largest, size)
            # fetchall, not fetchone: DuckDB 2 keeps a partly fetched result open.
            # The file's own earlier row (same path, same bytes) first, then a loaded one.
            found = self.con.execute(
                "select file_path = ? as same_path, entity, status from raw.load_ledger "
                "where file_sha256 = ? and (file_path = ? or status = ?) "
                "order by same_path desc, delivery_seq limit 1",
                [str(path), sha, str(path), LOADED],
            ).fetchall()
            prior = found[0] if found else None
            if prior is not None and prior[0]:
                seen = self._seen(path.name, str(path), sha, prior[1], prior[2])
                steps.append(functools.partial(lambda r: r, seen))
            elif prior is not None:
                steps.append(functools.partial(self._duplicate, path, sha, prior[1], size))
            else:
                p = _Pending(path, sha, size)
                pending.append(p)
                steps.append(functools.partial(self._commit, p))
        return window

    def _read_and_type(self, window: _Window) -> None:
        """Read the window's new files (in the reader worker) and type their rows."""
        if window.pending:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for p in window.pending:
            try:
                p.records = self.reader.read(p.path)
            except FileRejected as exc:
                p.rejection = exc
        type_together(window.pending, self.pseudonymiser)

    def _commit_window(self, window: _Window) -> Iterator[FileResult]:
        self._window_loaded = {}
        for step in window.steps:
            yield step()

    def _duplicate(
        self, path: Path, sha: str, entity: str | None, size: int | None = None
    ) -> FileResult:
        self.con.begin()
        result = self._ledger(
            path,
            sha,
            entity,
            DUPLICATE,
            0,
            0,
            0,
            0,
            "identical bytes were loaded before",
            shanghai_now(),
            self._next_seq(),
            size=size,
        )
        self.con.commit()
        return result

    def _commit(self, p: _Pending) -> FileResult:
        path, sha, now = p.path, p.sha, shanghai_now()
        if sha in self._window_loaded:  # the same bytes under another name, just loaded
            return self._duplicate(path, sha, self._window_loaded[sha], p.size)
        if p.rejection is not None:
            return self._reject_file(path, sha, p.rejection, now, p.size)
        records, typed = p.records, p.typed
        assert records is not None and typed is not None
        p.records = p.typed = None  # the window's frames go as their files are committed
        self.con.begin()
        try:
            seq = self._next_seq()
            self._insert(records.entity, typed, sha, now, seq)
            reader_rejects = records.rejected
            all_rejected = (
                pl.concat([typed.rejected, reader_rejects])
                if reader_rejects.height
                else typed.rejected
            )
            if all_rejected.height:
                self.con.execute(
                    "insert into raw.rejected_rows select ?, ?, _row_number, reason, row_json::json from all_rejected",
                    [sha, records.entity.name],
                )
            if typed.warnings.height:
                warnings = typed.warnings  # noqa: F841 - read by DuckDB's replacement scan
                self.con.execute(
                    "insert into raw.row_warnings "
                    "select ?, ?, _row_number, column_name, reason, value from warnings",
                    [sha, records.entity.name],
                )
            warned = typed.warnings["_row_number"].n_unique() if typed.warnings.height else 0
            result = self._ledger(
                path,
                sha,
                records.entity.name,
                LOADED,
                records.rows_read,
                typed.frame.height,
                all_rejected.height,
                warned,
                "; ".join(records.notes) or None,
                now,
                seq,
                size=p.size,
            )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            self._last_seq = None  # the rolled-back number is read again from the ledger
            raise
        self._window_loaded[sha] = records.entity.name
        return result

    def _insert(self, ent: Entity, typed: Typed, sha: str, now: datetime, seq: int) -> None:
        rows = typed.frame.with_columns(
            pl.lit(sha).alias("_file_sha256"),
            pl.lit(now).alias("_ingested_at"),
            pl.lit(seq, pl.Int64).alias("_delivery_seq"),
        )
        names = ", ".join(f'"{name}"' for name, _, _ in raw_table_columns(ent))
        rows_arrow = rows.to_arrow()  # noqa: F841 - read by DuckDB's replacement scan
        self.con.execute(f"insert into raw.{ent.name} ({names}) select {names} from rows_arrow")

    def _reject_file(
        self, path: Path, sha: str, exc: FileRejected, now: datetime, size: int
    ) -> FileResult:
        rows = (
            exc.rows
            if exc.rows is not None
            else pl.DataFrame(
                schema={"_row_number": pl.Int64, "reason": pl.Utf8, "row_json": pl.Utf8}
            )
        )
        self.con.begin()
        if rows.height:
            self.con.execute(
                "insert into raw.rejected_rows select ?, ?, _row_number, reason, row_json::json from rows",
                [sha, exc.entity],
            )
        result = self._ledger(
            path,
            sha,
            exc.entity,
            REJECTED,
            rows.height,
            0,
            rows.height,
            0,
            exc.reason,
            now,
            self._next_seq(),
            size=size,
        )
        self.con.commit()
        return result


def iter_ingest(
    paths: Sequence[Path | str],
    settings: Settings,
    *,
    missing_ok: bool = False,
    landing: Path | None = None,
    progress: Progress | None = None,
    reader: IsolatedReader | None = None,
) -> Iterator[FileResult]:
    """Ingest every file under ``paths`` into ``settings.warehouse``, yielding a result per file.

    Each file is committed before the next starts, so an interruption keeps
    the files already done and loses none: a rerun loads the rest. A named file that
    does not exist is an error (a mistyped path) unless ``missing_ok``, which pipeline
    runs set: their files were seen by a sensor and may be withdrawn since, so each
    gets a ``missing`` ledger row and the others still load. A file that vanishes
    after the run has started is recorded as ``missing`` either way.

    Every path met gets a ledger row: a refused one (a link out of the landing
    folder, a FIFO, an undecodable name, a folder too deep; :mod:`ingest.discovery`)
    a ``rejected`` row with its reason. On the command line (not ``missing_ok``) a
    refused *named* path raises :class:`ingest.discovery.PathRefused` instead.
    Pipeline runs name files of ``landing`` (default: the settings' landing folder),
    whose links are judged against it.

    With ``progress``, files and rows are counted on it and each file's line is shown.
    ``reader``: a reader worker the caller started (for ``settings``' limits and
    temporary folder), which the run uses and closes.
    """
    named = [Path(p) for p in paths]
    found = discover_found(
        named,
        settings.limits.max_folder_depth,
        landing=(landing or settings.landing_dir) if missing_ok else None,
    )
    con = connect_warehouse(settings.warehouse)
    loader: Loader | None = None
    task = progress.task("ingest", total=len(found), unit="files") if progress else None
    try:
        loader = Loader(con, settings, reader)
        for result in loader.load_windows(_windows(found)):
            if task is not None:
                task.advance(item=result.line(), rows=result.rows_loaded)
            yield result
    finally:
        if task is not None:
            task.finish()
        if loader is not None:
            loader.close()
        con.close()


def _windows(found: Sequence[Found]) -> Iterator[list[Found]]:
    """``found`` in order, in windows of small files (at most ``BATCH_FILES`` files and
    ``BATCH_BYTES`` bytes); a larger file is a window of its own. Paths are resolved: one
    spelling of a path, so a file seen again is recognised however it was named."""
    window: list[Found] = []
    size = 0
    for f in found:
        item = f if f.refusal is not None else Found(f.path.resolve())
        try:
            nbytes = item.path.stat().st_size if item.refusal is None else 0
        except OSError:
            nbytes = 0  # missing or unreadable: recorded in its turn
        if nbytes >= BATCH_BYTES:
            if window:
                yield window
            yield [item]
            window, size = [], 0
            continue
        window.append(item)
        size += nbytes
        if len(window) >= BATCH_FILES or size >= BATCH_BYTES:
            yield window
            window, size = [], 0
    if window:
        yield window


def ingest_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    *,
    missing_ok: bool = False,
    landing: Path | None = None,
    progress: Progress | None = None,
) -> list[FileResult]:
    """Ingest every file under ``paths``; one result per file."""
    return list(
        iter_ingest(paths, settings, missing_ok=missing_ok, landing=landing, progress=progress)
    )


def ledger_summary(results: Sequence[FileResult]) -> dict[str, int]:
    summary = {
        "files": len(results),
        LOADED: 0,
        DUPLICATE: 0,
        REJECTED: 0,
        MISSING: 0,
        SEEN: 0,
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_rejected": 0,
        "rows_warned": 0,
    }
    for r in results:
        summary[r.status] += 1
        summary["rows_read"] += r.rows_read
        summary["rows_loaded"] += r.rows_loaded
        summary["rows_rejected"] += r.rows_rejected
        summary["rows_warned"] += r.rows_warned
    return summary
