"""Loading: typed rows into ``raw.<entity>``, one transaction per file, with the ledger.

Nothing lost, nothing twice:

* every delivered file gets one ``raw.load_ledger`` row: ``loaded``,
  ``duplicate`` (the same bytes were loaded before: a no-op) or ``rejected``;
* ``rows_read = rows_loaded + rows_rejected`` for every file, and every
  rejected row is in ``raw.rejected_rows`` with its reason;
* a file's rows, rejections, warnings and ledger row commit together or not at all.

A corrected re-export (same name, new bytes) is simply a new delivery; the
staging models keep the newest version of each key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from ingest.contracts import (
    DUPLICATE,
    LOADED,
    MISSING,
    REJECTED,
    SOURCE_TIME_ZONE,
    Column,
    Entity,
)
from ingest.discovery import Found
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
from ingest.readers import FileRejected, Records
from ingest.schema import ensure_raw_schema, raw_table_columns
from ingest.settings import Settings

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


@dataclass(frozen=True)
class FileResult:
    """What became of one delivered file (the fields of its ledger row)."""

    file_name: str
    file_path: str
    file_sha256: str | None  # None: the file vanished before it could be read
    entity: str | None
    status: str  # loaded | duplicate | rejected | missing
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_warned: int
    reason: str | None


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


def type_records(records: Records, pseudonymiser: Pseudonymiser) -> Typed:
    """Parse every column by its kind; reject rows with a bad key, warn about other bad values.

    Each column is parsed once; failure flags then compare parsed and delivered
    values, and masked copies of the delivered row are made only for the rows
    that are rejected or warned about.
    """
    ent = records.entity
    src = records.frame
    stored = [c for c in ent.columns if c.kind != "name"]

    # 1. Parse each column once; note values that were delivered but unreadable.
    columns: dict[str, pl.Series] = {}
    problems: list[tuple[Column, str, str]] = []  # column, flag column, reason
    for col in stored:
        value, failed = parse_column(col, src[col.canonical])
        columns[f"__v_{col.canonical}"] = value
        if col.kind == "address":
            columns[f"{col.canonical}_norm"] = by_distinct(src[col.canonical], normalise_address)
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
    rejected = bad.select(pl.col("_row_number"), reason.alias("reason"), row_json.alias("row_json"))
    warned = flagged.filter(~pl.col("__rejected"))
    warning_frames = [
        warned.filter(pl.col(n)).select(
            pl.col("_row_number"),
            pl.lit(c.canonical).alias("column_name"),
            pl.lit(f"{c.header}: {r}").alias("reason"),
            pl.col(f"__m_{c.canonical}").alias("value"),
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
    return Typed(good.select([*data_columns, "_extra", "_row_number"]), rejected, warnings)


# ---------------------------------------------------------------- loading


class Loader:
    """Loads files into one warehouse connection; one instance per ingest run."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.con = con
        self.settings = settings
        self.pseudonymiser = Pseudonymiser(load_pii_key(settings))
        ensure_raw_schema(con)
        self.tmp_dir = settings.data_dir / "tmp"
        # Started now, so its imports overlap the first file's hashing and ledger lookup.
        self.reader = IsolatedReader(settings.limits, self.tmp_dir)
        self.reader.start()

    def close(self) -> None:
        self.reader.close()

    def _next_seq(self) -> int:
        rows = self.con.execute(
            "select coalesce(max(delivery_seq), 0) + 1 from raw.load_ledger"
        ).fetchall()
        return int(rows[0][0])

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
    ) -> FileResult:
        name = path.name if name is None else name
        stored_path = str(path) if stored_path is None else stored_path
        size = path.stat().st_size if sha is not None else None  # never stat what was refused
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

    def record_missing(self, path: Path) -> FileResult:
        """A file named for this run that is gone: a ledger row says so, and the run goes on.

        The source system may withdraw or rename a delivery after the sensor saw it; no
        byte was read, so nothing is lost, but the ledger keeps the trace."""
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
        try:
            sha = file_sha256(path)
        except FileNotFoundError:
            return self.record_missing(path)
        except OSError as exc:  # unreadable (permissions, an I/O error): refused, not a crash
            return self.record_refused(Found(path, f"cannot read file: {exc.strerror or exc}"))
        # fetchall, not fetchone: DuckDB 2 keeps a partly fetched result open on the connection.
        found = self.con.execute(
            "select entity from raw.load_ledger where file_sha256 = ? and status = ? limit 1",
            [sha, LOADED],
        ).fetchall()
        prior = found[0] if found else None
        now = shanghai_now()
        if prior is not None:
            self.con.begin()
            result = self._ledger(
                path,
                sha,
                prior[0],
                DUPLICATE,
                0,
                0,
                0,
                0,
                "identical bytes were loaded before",
                now,
                self._next_seq(),
            )
            self.con.commit()
            return result
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        try:
            records = self.reader.read(path)
            typed = type_records(records, self.pseudonymiser)
        except FileRejected as exc:
            return self._reject_file(path, sha, exc, now)
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
            )
            self.con.commit()
            return result
        except BaseException:
            self.con.rollback()
            raise

    def _insert(self, ent: Entity, typed: Typed, sha: str, now: datetime, seq: int) -> None:
        rows = typed.frame.with_columns(
            pl.lit(sha).alias("_file_sha256"),
            pl.lit(now).alias("_ingested_at"),
            pl.lit(seq, pl.Int64).alias("_delivery_seq"),
        )
        names = ", ".join(f'"{name}"' for name, _, _ in raw_table_columns(ent))
        rows_arrow = rows.to_arrow()  # noqa: F841 - read by DuckDB's replacement scan
        self.con.execute(f"insert into raw.{ent.name} ({names}) select {names} from rows_arrow")

    def _reject_file(self, path: Path, sha: str, exc: FileRejected, now: datetime) -> FileResult:
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
        )
        self.con.commit()
        return result


def iter_ingest(
    paths: Sequence[Path | str],
    settings: Settings,
    *,
    missing_ok: bool = False,
    landing: Path | None = None,
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
    """
    named = [Path(p) for p in paths]
    found = discover_found(
        named,
        settings.limits.max_folder_depth,
        landing=(landing or settings.landing_dir) if missing_ok else None,
    )
    con = connect_warehouse(settings.warehouse)
    loader: Loader | None = None
    try:
        loader = Loader(con, settings)
        for f in found:
            if f.refusal is not None:
                yield loader.record_refused(f)
            else:
                yield loader.load_file(f.path if f.path.is_absolute() else f.path.absolute())
    finally:
        if loader is not None:
            loader.close()
        con.close()


def ingest_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    *,
    missing_ok: bool = False,
    landing: Path | None = None,
) -> list[FileResult]:
    """Ingest every file under ``paths``; one result per file."""
    return list(iter_ingest(paths, settings, missing_ok=missing_ok, landing=landing))


def ledger_summary(results: Sequence[FileResult]) -> dict[str, int]:
    summary = {
        "files": len(results),
        LOADED: 0,
        DUPLICATE: 0,
        REJECTED: 0,
        MISSING: 0,
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
