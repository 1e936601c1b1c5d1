"""Deliveries: records rendered as the source systems export them, quirks included.

Rendering is vectorised per entity (polars): every file gets a *profile* (format,
encoding, header generation, timestamp form, missing marker ...) drawn from the
seeded generator, and each row is rendered with the profile of the file it goes
to. Headers come from :mod:`contracts.entities` only (``Column.header`` or, for
files of an "older system version", ``Column.aliases``).

Quirks and their rates (per file unless said otherwise):

* format: of CSV files ~62% GB18030, ~15% UTF-8-BOM, ~12% UTF-8, ~11%
  tab-separated GB18030; XLSX for ~12% of small daily files (2-5% of big ones,
  see ``generator``), most master dumps and reference tables;
  XLSX with a title row, blank rows, a final ``合计`` row, sometimes a ``说明``
  sheet first, Excel serial timestamps in ~40% of XLSX files;
* headers: aliases (older version) ~15%, full-width brackets ~25%, surrounding
  spaces ~6%, shuffled column order ~10%, unknown extra columns ~8%;
* timestamps in five forms plus date-only cells (~1% of cells);
* numbers: full-width digits (~2% of cells), units in area cells (~20%),
  thousands separators; missing markers ``""``, ``-``, ``无``, ``/``;
* rows: the same row twice (~0.3%), a missing key (~0.15%, rejected by ingest),
  empty district/street (~3% of cells), invalid or legacy 15-digit ID numbers
  (~0.5% / ~1%), phones in every contract form and landlines;
* files: renamed by hand (~3%), re-delivered unchanged into ``重发/`` (~1%), a
  corrected re-export under the same name into ``补发/`` (~1%, with some values
  of the original wrong). File modification times are the export times (Asia/Shanghai
  wall clock), the corrections' later than their originals'; never in the future
  (:func:`stamp_in_the_past`).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import xlsxwriter

from contracts.entities import SOURCE_TIME_ZONE, Column, Entity
from simulator import people
from simulator.addresses import FULLWIDTH

TS_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%-m/%-d %-H:%M",
    "%Y年%-m月%-d日 %H:%M",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d %H:%M",
)
TS_WEIGHTS = (0.5, 0.2, 0.1, 0.1, 0.1)
DATE_FORMATS = ("%Y-%m-%d", "%Y/%-m/%-d", "%Y年%-m月%-d日", "%Y%m%d")
MISSING = ("", "-", "无", "/")
EXTRA_COLUMNS = (("备注", ""), ("数据来源", "市级平台"), ("导出批次", "V2"))
# Fixed creation time so XLSX bytes are reproducible.
XLSX_CREATED = dt.datetime(2026, 1, 1, 8, 0, 0)
EXCEL_EPOCH_OFFSET = 25569  # Excel serial day number of 1970-01-01
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")

# Columns altered in an original file and put right by its corrected re-export.
CORRECTABLE = {
    "hotline_tickets": "department",
    "grid_events": "department",
    "police_incidents": "district",
    "police_cases": "district",
    "police_floating_population": "reason",
    "police_rental_checks": "verdict",
    "rental_hazards": "hazard_type",
    "rental_houses": "registered_tenants",
}


@dataclass
class FileProfile:
    name: str
    fmt: str  # csv | tsv | xlsx
    encoding: str  # gb18030 | utf-8-sig | utf-8
    crlf: bool
    old_headers: bool
    fullwidth_brackets: bool
    spaced_headers: bool
    shuffle: bool
    extra: bool
    ts_fmt: int
    date_fmt: int
    serial: int  # XLSX timestamps: 0 text, 1 Excel date cells, 2 bare serial numbers
    missing: str
    title: str | None
    blank_rows: bool
    total_row: bool
    notes_sheet: bool
    export_time: dt.datetime


@dataclass
class Written:
    path: Path
    entity: str
    rows: int
    kind: str = "regular"  # regular | renamed | redelivered | corrected


@dataclass
class DeliveryLog:
    files: list[Written] = field(default_factory=list)
    quirks: dict[str, int] = field(default_factory=dict)
    used: set[Path] = field(default_factory=set)  # paths written (names are unique per folder)
    on_file: Callable[[Written], None] | None = None  # told of each file written (progress)

    def add(self, written: Written) -> None:
        self.files.append(written)
        if self.on_file is not None:
            self.on_file(written)

    def count(self, quirk: str, k: int = 1) -> None:
        self.quirks[quirk] = self.quirks.get(quirk, 0) + int(k)


def make_profile(
    rng: np.random.Generator,
    name: str,
    label: str,
    when: dt.date,
    *,
    xlsx_share: float,
    export_time: dt.datetime,
) -> FileProfile:
    u = rng.random()
    if u < xlsx_share:
        fmt, enc = "xlsx", ""
    else:
        v = rng.random()
        fmt, enc = (
            ("csv", "gb18030")
            if v < 0.62
            else ("csv", "utf-8-sig")
            if v < 0.77
            else ("csv", "utf-8")
            if v < 0.89
            else ("tsv", "gb18030")
        )
    ext = "xlsx" if fmt == "xlsx" else "csv"
    return FileProfile(
        name=f"{name}.{ext}",
        fmt=fmt,
        encoding=enc,
        crlf=rng.random() < 0.5,
        old_headers=rng.random() < 0.15,
        fullwidth_brackets=rng.random() < 0.25,
        spaced_headers=rng.random() < 0.06,
        shuffle=rng.random() < 0.10,
        extra=rng.random() < 0.08,
        ts_fmt=int(rng.choice(len(TS_FORMATS), p=TS_WEIGHTS)),
        date_fmt=int(rng.choice(len(DATE_FORMATS), p=(0.6, 0.2, 0.1, 0.1))),
        serial=int(rng.choice(3, p=(0.6, 0.2, 0.2))) if fmt == "xlsx" else 0,
        missing=str(rng.choice(MISSING, p=(0.55, 0.25, 0.1, 0.1))),
        title=f"南通市{label}导出（{when.year}年{when.month}月）" if rng.random() < 0.75 else None,
        blank_rows=rng.random() < 0.35,
        total_row=rng.random() < 0.7,
        notes_sheet=rng.random() < 0.25,
        export_time=export_time,
    )


def _fullwidth(e: pl.Expr) -> pl.Expr:
    return e.str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values()))


def render(
    entity: Entity,
    df: pl.DataFrame,
    profiles: list[FileProfile],
    rng: np.random.Generator,
    log: DeliveryLog,
) -> pl.DataFrame:
    """All rows of ``df`` (with ``_file`` = index into ``profiles``) as export strings."""
    n = df.height
    f = df["_file"].to_numpy()
    prof = pl.DataFrame(
        {
            "_tsf": np.array([p.ts_fmt for p in profiles])[f] if n else np.array([], np.int64),
            "_dtf": np.array([p.date_fmt for p in profiles])[f] if n else np.array([], np.int64),
            "_ser": np.array([p.serial for p in profiles])[f] if n else np.array([], np.int64),
            "_miss": np.array([p.missing for p in profiles])[f] if n else np.array([], str),
        }
    )
    other_miss = np.array(MISSING)[rng.integers(0, 4, n)]
    miss = np.where(rng.random(n) < 0.15, other_miss, prof["_miss"].to_numpy())
    work = df.hstack(prof).with_columns(_m=pl.Series(miss, dtype=pl.String))
    exprs = []
    for col in entity.columns:
        exprs.append(_render_col(col, work, rng, log).alias(col.canonical))
    out = work.select(*exprs, "_file")
    out = plant_personal_numbers(entity, out, log)
    # District/street sometimes empty (derivable from the grid code or the address).
    for name in ("district", "street"):
        if name in out.columns and name not in entity.key:
            blank = rng.random(n) < 0.03
            log.count(f"empty_{name}", blank.sum())
            out = out.with_columns(
                pl.when(pl.Series(blank)).then(pl.lit("")).otherwise(pl.col(name)).alias(name)
            )
    return out


# How people type an ID number or a phone into a text field: {} is the number.
NUMBER_FORMS = (
    " 联系电话{}",
    "，手机：{}",
    "，{}",
    " {}",
    "（身份证号{}）",
    "、电话 {}",
)
PLANT_SHARE = 0.004  # of the rows, per text column


def _typed(number: str, style: int) -> str:
    """A number in one of the forms people type (spaced, dashed, dotted, full-width, +86)."""
    if style == 0:
        return number
    if style == 1:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    if style == 2:
        return "-".join((number[:3], number[3:7], number[7:])) if len(number) == 11 else number
    if style == 3:
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
    if style == 4:
        return " ".join(number)
    if style == 5:
        return "+86 " + number if len(number) == 11 else ".".join((number[:6], number[6:]))
    return number[:3] + "－" + number[3:]


REGION_COLUMNS = frozenset({"district", "street", "community"})


def plant_personal_numbers(entity: Entity, out: pl.DataFrame, log: DeliveryLog) -> pl.DataFrame:
    """ID numbers and phones typed into every text column of a few rows, in varied forms.

    Its own generator (seeded by the entity and row count), so planting leaves every other
    draw of the sample as it was. Ingest must mask every one (tests/ingest/test_pii_scan.py).
    """
    n = out.height
    if n == 0:
        return out
    rng = np.random.default_rng(zlib.crc32(f"pii:{entity.name}:{n}".encode()))
    columns = [c for c in entity.columns if c.kind in ("text", "free_text", "address")]
    for col in columns:
        # Region names are picked from the systems' lists, not typed (the sample's
        # references between systems must resolve); tests/faults/test_pii_everywhere.py
        # types numbers into them too.
        if col.identifier or col.canonical in entity.key or col.canonical in REGION_COLUMNS:
            continue
        rows = np.flatnonzero(rng.random(n) < PLANT_SHARE)
        if rows.size == 0:
            rows = rng.integers(0, n, 1)
        mobiles = people.mobiles(rng, rows.size)
        birth = np.full(rows.size, np.datetime64("1990-01-01")) + rng.integers(
            0, 12000, rows.size
        ).astype("timedelta64[D]")
        ids = people.id_numbers(
            rng, np.full(rows.size, "320602"), birth, rng.random(rows.size) < 0.5
        )
        values = out[col.canonical].to_list()
        for k, row in enumerate(rows.tolist()):
            number = str(ids[k]) if rng.random() < 0.4 else str(mobiles[k])
            # In an address only bare numbers: a word left behind would unlink the dwelling.
            forms = NUMBER_FORMS[2:4] if col.kind == "address" else NUMBER_FORMS
            form = forms[int(rng.integers(0, len(forms)))]
            typed = form.format(_typed(number, int(rng.integers(0, 7))))
            values[row] = (values[row] or "") + typed
        out = out.with_columns(pl.Series(col.canonical, values, dtype=pl.String))
        log.count("personal_numbers_typed_into_text", int(rows.size))
    return out


def _render_col(
    col: Column, work: pl.DataFrame, rng: np.random.Generator, log: DeliveryLog
) -> pl.Expr:
    n = work.height
    c = pl.col(col.canonical)
    dtype = work.schema[col.canonical]
    missing = pl.col("_m")
    if col.kind in ("timestamp", "date"):
        if dtype == pl.Date:
            c = c.cast(pl.Datetime("ms"))
        fmts = TS_FORMATS if col.kind == "timestamp" else DATE_FORMATS
        sel = pl.col("_tsf") if col.kind == "timestamp" else pl.col("_dtf")
        e: Any = pl.when(sel == 0).then(c.dt.strftime(fmts[0]))
        for i, fm in enumerate(fmts[1:], start=1):
            e = e.when(sel == i).then(c.dt.strftime(fm))
        if col.kind == "timestamp":
            date_only = rng.random(n) < 0.01
            log.count("date_only_timestamps", int(date_only.sum()))
            e = pl.when(pl.Series(date_only)).then(c.dt.strftime("%Y-%m-%d")).otherwise(e)
        serial = (c.dt.epoch("ms") / 86_400_000 + EXCEL_EPOCH_OFFSET).round(10)
        e = pl.when(pl.col("_ser") > 0).then(serial.cast(pl.String)).otherwise(e)
        return pl.when(c.is_null()).then(missing).otherwise(e)
    if col.kind in ("integer", "decimal"):
        if col.canonical in ("lon", "lat"):
            s = c.round(6).cast(pl.String)
        elif col.kind == "decimal":
            s = c.round(2).cast(pl.String).str.replace(r"\.0$", "")
        else:
            s = c.cast(pl.Int64).cast(pl.String)
        if col.kind == "integer" and col.maximum and col.maximum >= 100_000:
            # Thousands separators in some cells of large counts.
            sep = rng.random(n) < 0.3
            ci = c.cast(pl.Int64)
            with_sep = (
                pl.when(ci >= 1000)
                .then((ci // 1000).cast(pl.String) + "," + (ci % 1000).cast(pl.String).str.zfill(3))
                .otherwise(s)
            )
            s = pl.when(pl.Series(sep)).then(with_sep).otherwise(s)
            log.count("thousands_separators", int(sep.sum()))
        if col.canonical == "floor_area_m2":
            u = rng.random(n)
            s = (
                pl.when(pl.Series(u < 0.12))
                .then(s + "㎡")
                .when(pl.Series(u < 0.2))
                .then(s + "平方米")
                .otherwise(s)
            )
            log.count("area_units", int((u < 0.2).sum()))
        fw = rng.random(n) < 0.02
        log.count("fullwidth_digits", int(fw.sum()))
        s = pl.when(pl.Series(fw)).then(_fullwidth(s)).otherwise(s)
        return pl.when(c.is_null()).then(missing).otherwise(s)
    if col.kind == "id_number":
        ids = work[col.canonical].to_numpy().astype("U18")
        # Which numbers are stored in legacy or broken form is a property of the number (the
        # source system holds it so), not of the export: decided by a digest of its digits.
        digest = people.digest(ids) % 1000
        legacy = (digest < 10) & (np.char.str_len(ids) == 18)
        legacy &= np.char.startswith(np.char.ljust(_mid(ids), 2), ("19"))
        bad = (digest >= 10) & (digest < 15)
        lower = rng.random(n) < 0.3
        out = ids.copy()
        if legacy.any():
            out[legacy] = people.legacy_15(ids[legacy])
        if bad.any():
            out[bad] = people.break_checksum(ids[bad])
        out = np.where(lower, np.char.replace(out, "X", "x"), out)
        log.count("legacy_15_id_numbers", int(legacy.sum()))
        log.count("invalid_id_numbers", int(bad.sum()))
        return pl.lit(pl.Series(out, dtype=pl.String))
    if col.kind == "phone":
        u = rng.random(n)
        mobile = c.str.len_chars() == 11
        e = (  # type: ignore[assignment]
            pl.when(~mobile)
            .then(c)
            .when(pl.Series(u < 0.07))
            .then("+86 " + c.str.slice(0, 3) + " " + c.str.slice(3, 4) + " " + c.str.slice(7))
            .when(pl.Series(u < 0.15))
            .then(c.str.slice(0, 3) + "-" + c.str.slice(3, 4) + "-" + c.str.slice(7))
            .when(pl.Series(u < 0.19))
            .then(c.str.slice(0, 3) + " " + c.str.slice(3, 4) + " " + c.str.slice(7))
            .otherwise(c)
        )
        log.count("formatted_phones", int((u < 0.19).sum()))
        return pl.when(c.is_null()).then(missing).otherwise(e)
    s = c.cast(pl.String)
    if col.kind in ("enum", "text") and col.canonical not in ("ticket_id",):
        pad = rng.random(n) < 0.01
        s = pl.when(pl.Series(pad)).then(" " + s + " ").otherwise(s)
    return pl.when(c.is_null() | (c.cast(pl.String) == "")).then(missing).otherwise(s)


def _mid(ids: np.ndarray) -> np.ndarray:
    """Century digits of 18-digit ID numbers (characters 7-8)."""
    chars = ids.astype("U18").view("U1").reshape(len(ids), 18)[:, 6:8]
    return chars.copy().view("U2").reshape(len(ids))


def headers_for(
    entity: Entity, prof: FileProfile, rng: np.random.Generator
) -> list[tuple[str, str]]:
    """(canonical, header text) in file order, with the file's header quirks."""
    cols = []
    for col in entity.columns:
        h = col.aliases[0] if (prof.old_headers and col.aliases) else col.header
        if prof.fullwidth_brackets:
            h = h.replace("(", "（").replace(")", "）")
        if prof.spaced_headers and rng.random() < 0.3:
            h = f" {h} "
        cols.append((col.canonical, h))
    if prof.shuffle:
        order = rng.permutation(len(cols))
        cols = [cols[i] for i in order]
    if prof.extra:
        k = int(rng.integers(1, len(EXTRA_COLUMNS) + 1))
        for name, _ in EXTRA_COLUMNS[:k]:
            cols.append((f"__extra__{name}", name))
    return cols


def _frame_for_file(rows: pl.DataFrame, cols: list[tuple[str, str]]) -> pl.DataFrame:
    extras = dict(EXTRA_COLUMNS)
    exprs = []
    for canonical, header in cols:
        if canonical.startswith("__extra__"):
            exprs.append(pl.lit(extras[canonical[9:]]).alias(header))
        else:
            exprs.append(pl.col(canonical).alias(header))
    return rows.select(exprs)


def write_file(
    path: Path, entity: Entity, rows: pl.DataFrame, prof: FileProfile, rng: np.random.Generator
) -> None:
    """Write one export file (rows: rendered strings with canonical column names)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = headers_for(entity, prof, rng)
    frame = _frame_for_file(rows, cols)
    if prof.fmt == "xlsx":
        kinds = {c.canonical: c.kind for c in entity.columns}
        col_kinds: list[str] = [kinds.get(canonical, "text") for canonical, _ in cols]
        _write_xlsx(path, frame, col_kinds, prof)
    else:
        text = frame.write_csv(
            separator="\t" if prof.fmt == "tsv" else ",",
            line_terminator="\r\n" if prof.crlf else "\n",
        )
        path.write_bytes(text.encode(prof.encoding))
    stamp = export_stamp(prof.export_time)
    os.utime(path, (stamp, stamp))


# The newest sample file is stamped at least this long before the sample was written:
# longer than any sensor's settle time (at most a minute), so no sample file is taken
# for one still being written.
PAST_MARGIN_S = 600.0


def export_stamp(export_time: dt.datetime) -> float:
    """The instant of an export time, read as the source systems write it (Asia/Shanghai)."""
    return export_time.replace(tzinfo=ZoneInfo(SOURCE_TIME_ZONE)).timestamp()


def stamp_in_the_past(folder: Path, now: float | None = None) -> float:
    """Move the modification times of every file under ``folder`` back by one offset, so the
    newest is ``PAST_MARGIN_S`` before ``now``; order and gaps between files are kept.

    The export times of the last days (a day's export is written the next morning, its
    corrections and re-deliveries later still) can lie ahead of the clock when the sample
    ends with the last full month. Returns the shift in seconds (0: nothing was ahead)."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    if not files:
        return 0.0
    ceiling = (time.time() if now is None else now) - PAST_MARGIN_S
    shift = max(0.0, max(p.stat().st_mtime for p in files) - ceiling)
    if shift:
        for p in files:
            stamp = p.stat().st_mtime - shift
            os.utime(p, (stamp, stamp))
    return shift


def _write_xlsx(path: Path, frame: pl.DataFrame, col_kinds: list[str], prof: FileProfile) -> None:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": XLSX_CREATED, "author": "export"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    if prof.notes_sheet:
        notes = wb.add_worksheet("说明")
        notes.write_string(0, 0, "本表由业务系统自动导出，仅供内部使用。")
        notes.write_string(1, 0, f"导出时间：{prof.export_time:%Y-%m-%d %H:%M}")
    ws = wb.add_worksheet("Sheet1" if not prof.title else "数据")
    r = 0
    if prof.title:
        ws.write_string(r, 0, prof.title)
        r += 1
        if prof.blank_rows:
            r += 1
    ws.write_row(r, 0, frame.columns)
    r += 1
    numeric = [k in ("integer", "decimal") for k in col_kinds]
    stamp = [k in ("timestamp", "date") for k in col_kinds]
    # xlsxwriter writes cell by cell: a row loop is the library's own interface.
    for row in frame.iter_rows():
        for j, v in enumerate(row):
            if v is None or v == "":
                continue
            if stamp[j] and prof.serial and _is_number(v):
                if prof.serial == 1:
                    ws.write_number(r, j, float(v), date_fmt)
                else:
                    ws.write_number(r, j, float(v))
            elif numeric[j] and _is_number(v):
                ws.write_number(r, j, float(v))
            else:
                ws.write_string(r, j, v)
        r += 1
    if prof.total_row:
        if prof.blank_rows:
            r += 1
        ws.write_string(r, 0, "合计")
        ws.write_string(r, 1, f"共{frame.height}条")
    wb.close()
    path.write_bytes(buf.getvalue())


def _is_number(v: str) -> bool:
    return _NUMBER.fullmatch(v) is not None


def duplicate_and_break(
    rows: pl.DataFrame,
    entity: Entity,
    rng: np.random.Generator,
    log: DeliveryLog,
    *,
    force_bad: bool = False,
) -> pl.DataFrame:
    """Duplicate ~0.3% of rows (the same row twice) and blank the key of ~0.15% (at least
    one when ``force_bad``)."""
    n = rows.height
    if n == 0:
        return rows
    k_dup = int(rng.binomial(n, 0.003))
    k_bad = max(int(force_bad), int(rng.binomial(n, 0.0015)))
    dup_idx = rng.choice(n, min(k_dup, n), replace=False)
    bad_idx = rng.choice(n, min(k_bad, n), replace=False)
    key = entity.key[0]
    rows = rows.with_row_index("_r").with_columns(
        pl.when(pl.col("_r").is_in(bad_idx.tolist()))
        .then(pl.lit(""))
        .otherwise(pl.col(key))
        .alias(key)
    )
    dups = rows.filter(pl.col("_r").is_in(dup_idx.tolist()))
    out = pl.concat([rows, dups]).sort("_r", maintain_order=True).drop("_r")
    log.count("duplicate_rows", dups.height)
    log.count("missing_key_rows", len(bad_idx))
    return out


def corrupt_for_correction(
    rows: pl.DataFrame,
    column: str,
    rng: np.random.Generator,
    alternatives: tuple[str, ...] = (),
) -> pl.DataFrame:
    """The original of a corrected re-export: ~10% of the rows carry a wrong value (taken
    from another row, or from ``alternatives`` when every row has the same value)."""
    n = rows.height
    vals = rows[column].to_numpy()
    wrong = vals[rng.permutation(n)].astype(object)
    pick = rng.random(n) < 0.10
    forced = int(rng.integers(0, n))
    pick[forced] = True
    pick &= wrong != vals
    others = [a for a in alternatives if a != vals[forced]]
    if not pick.any() and others:
        wrong[forced] = others[int(rng.integers(0, len(others)))]
        pick[forced] = True
    return rows.with_columns(pl.Series(column, np.where(pick, wrong, vals), dtype=pl.String))


def deliver_entity(
    out_dir: Path,
    entity: Entity,
    rendered: pl.DataFrame,
    profiles: list[FileProfile],
    rng: np.random.Generator,
    log: DeliveryLog,
    *,
    breakable: bool = True,
    rename_share: float = 0.03,
    redeliver_share: float = 0.01,
    correct_share: float = 0.01,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Write the files of one entity from its rendered rows."""
    folder = out_dir / entity.system
    parts = rendered.partition_by("_file", as_dict=True, include_key=False)
    nfiles = len(profiles)
    renamed = (
        set(rng.choice(nfiles, max(1, round(nfiles * rename_share)), replace=False).tolist())
        if nfiles > 2 and rename_share
        else set()
    )
    redeliver = (
        set(rng.choice(nfiles, max(1, round(nfiles * redeliver_share)), replace=False).tolist())
        if nfiles > 4 and redeliver_share
        else set()
    )
    corrected = (
        set(rng.choice(nfiles, max(1, round(nfiles * correct_share)), replace=False).tolist())
        if nfiles > 4 and correct_share
        else set()
    )
    corrected -= renamed
    # Every entity gets a few rows without a key (so the rejection path is exercised).
    force_bad = set(rng.choice(nfiles, min(nfiles, 2), replace=False).tolist())
    for i, prof in enumerate(profiles):
        rows = parts.get((i,))
        if rows is None or rows.height == 0:
            continue
        if breakable:
            rows = duplicate_and_break(rows, entity, rng, log, force_bad=i in force_bad)
        name = prof.name
        kind = "regular"
        if i in renamed or folder / name in log.used:
            name = _renamed(entity, prof, rng, {p.name for p in log.used if p.parent == folder})
            kind = "renamed"
            log.count("renamed_files")
        log.used.add(folder / name)
        file_rng = np.random.default_rng(rng.integers(0, 2**63))
        if i in corrected and CORRECTABLE.get(entity.name):
            column = CORRECTABLE[entity.name]
            wrong = corrupt_for_correction(rows, column, rng, entity.column(column).values or ())
            write_file(
                folder / name,
                entity,
                wrong,
                prof,
                np.random.default_rng(file_rng.integers(0, 2**63)),
            )
            later = FileProfile(
                **{**prof.__dict__, "export_time": prof.export_time + dt.timedelta(days=2)}
            )
            fix_rng = np.random.default_rng(file_rng.integers(0, 2**63))
            write_file(folder / "补发" / name, entity, rows, later, fix_rng)
            log.add(Written(folder / name, entity.name, rows.height))
            log.add(Written(folder / "补发" / name, entity.name, rows.height, "corrected"))
            log.count("corrected_reexports")
            continue
        write_file(folder / name, entity, rows, prof, file_rng)
        log.add(Written(folder / name, entity.name, rows.height, kind))
        if i in redeliver:
            target = folder / "重发" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((folder / name).read_bytes())
            stamp = export_stamp(prof.export_time + dt.timedelta(days=1))
            os.utime(target, (stamp, stamp))
            log.add(Written(target, entity.name, rows.height, "redelivered"))
            log.count("redelivered_files")
    if progress:
        progress(f"  wrote {entity.name}: {nfiles} files, {rendered.height:,} rows")


def _renamed(entity: Entity, prof: FileProfile, rng: np.random.Generator, used: set[str]) -> str:
    stem, ext = prof.name.rsplit(".", 1)
    stamp = re.sub(r"\D", "", stem.rsplit("_", 1)[-1])
    for k in range(1, 1000):
        choices = [
            f"{entity.label}导出({k}).{ext}",
            f"导出数据({k}).{ext}",
            f"新建 Microsoft Excel 工作表({k}).{ext}",
            f"export_{stamp}_{k}.{ext}",
            f"副本{k}-{stem}.{ext}",
        ]
        if entity.name == "hotline_tickets":
            choices.append(f"工单导出({k}).{ext}")
        name = choices[int(rng.integers(0, len(choices)))]
        if name not in used:
            return name
    raise RuntimeError("no free file name")
