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
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from ingest.contracts import SOURCE_TIME_ZONE, Column, Entity
from ingest.normalise import (
    clean_enum,
    clean_free_text,
    clean_text,
    normalise_address,
    parse_date,
    parse_decimal,
    parse_flag,
    parse_integer,
    parse_month,
    parse_timestamp,
    scrub_personal_numbers,
)
from ingest.pii import (
    Pseudonymiser,
    load_pii_key,
    mask_id_number,
    mask_phone,
    normalise_id_numbers,
    normalise_phone,
)
from ingest.readers import FileRejected, Records, read_export
from ingest.schema import ensure_raw_schema, raw_table_columns
from ingest.settings import Settings

IGNORED_NAMES = (".", "~$")  # hidden files and Office lock files are not deliveries

PARSERS = {
    "text": clean_text,
    "free_text": clean_free_text,
    "enum": clean_enum,
    "flag": parse_flag,
    "integer": parse_integer,
    "decimal": parse_decimal,
    "timestamp": parse_timestamp,
    "date": parse_date,
    "month": parse_month,
    "address": clean_text,
}


@dataclass(frozen=True)
class FileResult:
    """What became of one delivered file (the fields of its ledger row)."""

    file_name: str
    file_path: str
    file_sha256: str
    entity: str | None
    status: str  # loaded | duplicate | rejected
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


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files under the given paths (recursive), sorted, hidden and lock files left out."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p.resolve() for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            found.add(path.resolve())
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return sorted(p for p in found if not p.name.startswith(IGNORED_NAMES))


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
    """Parse every column by its kind; reject rows with a bad key, warn about other bad values."""
    ent = records.entity
    src = records.frame.with_columns(
        normalise_id_numbers(records.frame[col.canonical]).alias(f"__{col.canonical}")
        for col in ent.columns
        if col.kind == "id_number"
    )
    exprs: list[pl.Expr] = []
    problems: list[tuple[Column, pl.Expr, str]] = []  # column, failure mask, reason
    for col in ent.columns:
        raw = pl.col(col.canonical)
        present = clean_text(raw).is_not_null()
        if col.kind == "name":
            continue
        if col.kind in ("id_number", "phone"):
            # ID numbers are validated beforehand (normalise_id_numbers), phones inline.
            normalised = (
                pl.col(f"__{col.canonical}") if col.kind == "id_number" else normalise_phone(raw)
            )
            mask = mask_id_number if col.kind == "id_number" else mask_phone
            exprs.append(normalised.alias(f"__{col.canonical}"))
            exprs.append(mask(normalised).alias(f"{col.canonical}_masked"))
            what = (
                "invalid ID number (form, birth date or GB 11643 check digit)"
                if col.kind == "id_number"
                else "invalid phone number"
            )
            problems.append((col, present & normalised.is_null(), what))
            continue
        parsed = PARSERS[col.kind](raw)
        if col.minimum is not None or col.maximum is not None:
            lo = col.minimum if col.minimum is not None else float("-inf")
            hi = col.maximum if col.maximum is not None else float("inf")
            in_range = parsed.is_between(lo, hi)
            problems.append(
                (
                    col,
                    parsed.is_not_null() & ~in_range,
                    f"out of range [{col.minimum}, {col.maximum}]",
                )
            )
            parsed = pl.when(in_range).then(parsed)
        exprs.append(parsed.alias(col.canonical))
        if col.kind == "address":
            exprs.append(normalise_address(raw).alias(f"{col.canonical}_norm"))
        if col.kind in ("flag", "integer", "decimal", "timestamp", "date", "month"):
            problems.append(
                (col, present & PARSERS[col.kind](raw).is_null(), f"unreadable {col.kind}")
            )
        if col.kind == "enum":
            problems.append(
                (
                    col,
                    present & ~clean_enum(raw).is_in(col.values),
                    "value not in the contract's list (kept)",
                )
            )
        if col.required:
            problems.append((col, ~present, "key missing"))

    flag_names = [f"__p{i}" for i in range(len(problems))]
    flags = [
        mask.fill_null(False).alias(name)
        for (_, mask, _), name in zip(problems, flag_names, strict=True)
    ]
    masked = [_masked_value(c).alias(f"__m_{c.canonical}") for c in ent.columns]
    work = (
        src.with_columns([*exprs, *flags, *masked])
        if src.height
        else src.with_columns([*exprs, *flags, *masked]).clear()
    )

    reject_terms = [
        pl.when(pl.col(name)).then(pl.lit(f"{col.header}: {reason}"))
        for (col, _, reason), name in zip(problems, flag_names, strict=True)
        if col.required
    ]
    required_flags = [
        pl.col(name) for (col, _, _), name in zip(problems, flag_names, strict=True) if col.required
    ]
    if reject_terms:
        reason = pl.concat_str(reject_terms, separator="; ", ignore_nulls=True)
        work = work.with_columns(
            pl.when(pl.any_horizontal(required_flags)).then(reason).alias("__reject")
        )
    else:
        work = work.with_columns(pl.lit(None, pl.Utf8).alias("__reject"))
    bad = work.filter(pl.col("__reject").is_not_null())
    good = work.filter(pl.col("__reject").is_null())

    row_json = pl.struct(
        [pl.col(f"__m_{c.canonical}").alias(c.header) for c in ent.columns]
    ).struct.json_encode()
    rejected = bad.select(
        pl.col("_row_number"), pl.col("__reject").alias("reason"), row_json.alias("row_json")
    )

    warning_frames = [
        good.filter(pl.col(name)).select(
            pl.col("_row_number"),
            pl.lit(col.canonical).alias("column_name"),
            pl.lit(f"{col.header}: {reason}").alias("reason"),
            pl.col(f"__m_{col.canonical}").alias("value"),
        )
        for (col, _, reason), name in zip(problems, flag_names, strict=True)
        if not col.required
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

    # Pseudonyms over distinct values only (see Pseudonymiser).
    pseudonyms = [
        pseudonymiser.series(col.kind, good[f"__{col.canonical}"]).alias(
            f"{col.canonical}_pseudonym"
        )
        for col in ent.columns
        if col.kind in ("id_number", "phone")
    ]
    if pseudonyms:
        good = good.with_columns(pseudonyms)
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

    def _next_seq(self) -> int:
        rows = self.con.execute(
            "select coalesce(max(delivery_seq), 0) + 1 from raw.load_ledger"
        ).fetchall()
        return int(rows[0][0])

    def _ledger(
        self,
        path: Path,
        sha: str,
        entity: str | None,
        status: str,
        read: int,
        loaded: int,
        rejected: int,
        warned: int,
        reason: str | None,
        now: datetime,
        seq: int,
    ) -> FileResult:
        self.con.execute(
            "insert into raw.load_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                path.name,
                str(path),
                sha,
                path.stat().st_size,
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
            path.name, str(path), sha, entity, status, read, loaded, rejected, warned, reason
        )

    def load_file(self, path: Path) -> FileResult:
        sha = file_sha256(path)
        # fetchall, not fetchone: DuckDB 2 keeps a partly fetched result open on the connection.
        found = self.con.execute(
            "select entity from raw.load_ledger where file_sha256 = ? and status = 'loaded' limit 1",
            [sha],
        ).fetchall()
        prior = found[0] if found else None
        now = shanghai_now()
        if prior is not None:
            self.con.begin()
            result = self._ledger(
                path,
                sha,
                prior[0],
                "duplicate",
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
            records = read_export(path, self.tmp_dir)
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
                "loaded",
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
            "rejected",
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


def ingest_paths(paths: Sequence[Path | str], settings: Settings) -> list[FileResult]:
    """Ingest every file under ``paths`` into ``settings.warehouse``; one result per file."""
    files = discover(Path(p) for p in paths)
    con = connect_warehouse(settings.warehouse)
    try:
        loader = Loader(con, settings)
        return [loader.load_file(f) for f in files]
    finally:
        con.close()


def ledger_summary(results: Sequence[FileResult]) -> dict[str, int]:
    summary = {
        "files": len(results),
        "loaded": 0,
        "duplicate": 0,
        "rejected": 0,
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


def to_json(results: Sequence[FileResult]) -> str:
    return json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2)
