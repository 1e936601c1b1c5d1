"""Readers: turn one delivered file into string records keyed by canonical names.

What a reader settles: the encoding (GB18030/GBK, UTF-8, UTF-8 with BOM), the
format (CSV with comma or tab, XLSX with title rows, blank rows, a 合计 row and
several sheets), where the header is, which entity the file is, and which
column is which. It does not parse values: that is :mod:`ingest.normalise`.

CSV records are parsed by DuckDB's reader (fast, and it reports malformed
records with their line and reason instead of failing the file); GB18030 input
is transcoded to UTF-8 first, streaming, because DuckDB's ``encodings``
extension cannot be installed offline. XLSX goes through fastexcel (calamine).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from contracts.entities import ENTITIES, Entity
from ingest.limits import ReaderLimits
from ingest.normalise import normalise_header, scrub_personal_numbers
from ingest.rejection import FileRejected
from ingest.xlsx_check import inspect_xlsx

HEADER_SEARCH_ROWS = 15  # title rows above the header, at most
SUMMARY_ROW = re.compile(r"^\s*(合计|总计|小计)")
CHUNK = 1 << 22


@dataclass
class Records:
    """String records of one file, columns renamed to canonical names.

    ``frame`` has one Utf8 column per recognised canonical column, ``_extra``
    (JSON text of unknown columns, or NULL) and ``_row_number``. ``rejected``
    holds records the reader could not split into columns.
    """

    entity: Entity
    frame: pl.DataFrame
    rejected: pl.DataFrame  # _row_number, reason, row_json
    file_format: str
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.frame.height + self.rejected.height


REJECTED_SCHEMA = {"_row_number": pl.Int64, "reason": pl.Utf8, "row_json": pl.Utf8}


def empty_rejected() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTED_SCHEMA)


# ---------------------------------------------------------------- header matching

_HEADER_INDEX: dict[str, dict[str, str]] = {
    ent.name: {normalise_header(h): col.canonical for col in ent.columns for h in col.headers}
    for ent in ENTITIES
}


@dataclass(frozen=True)
class HeaderMatch:
    entity: Entity
    columns: dict[int, str]  # cell index -> canonical name
    extras: dict[int, str]  # cell index -> header as delivered (unknown columns)
    name_hint: bool

    @property
    def score(self) -> tuple[int, int]:
        return (len(self.columns), int(self.name_hint))

    def missing_required(self) -> list[str]:
        present = set(self.columns.values())
        return [c.header for c in self.entity.columns if c.required and c.canonical not in present]


def entity_hints(file_name: str) -> list[Entity]:
    """Entities whose file-name tokens occur in the name, most specific token first."""
    hits = [
        (max(len(t) for t in ent.file_tokens if t in file_name), ent)
        for ent in ENTITIES
        if any(t in file_name for t in ent.file_tokens)
    ]
    return [ent for _, ent in sorted(hits, key=lambda h: -h[0])]


def match_header(cells: Sequence[object], file_name: str = "") -> HeaderMatch | None:
    """The entity a header row belongs to, with its column mapping; None when none fits.

    The header decides (most matched columns); the file name breaks ties, so a
    hand-renamed file (``工单导出(1).xlsx``) is still recognised.
    """
    folded = [normalise_header(c) for c in cells]
    hints = entity_hints(file_name)
    best: HeaderMatch | None = None
    for ent in ENTITIES:
        index = _HEADER_INDEX[ent.name]
        columns: dict[int, str] = {}
        for i, h in enumerate(folded):
            canonical = index.get(h)
            if canonical is not None and canonical not in columns.values():
                columns[i] = canonical
        if not columns:
            continue
        extras = {
            i: (
                str(cells[i]).strip()
                if cells[i] is not None and str(cells[i]).strip()
                else f"列{i + 1}"
            )
            for i in range(len(cells))
            if i not in columns
        }
        hint = bool(hints) and hints[0] is ent
        candidate = HeaderMatch(ent, columns, extras, hint)
        if best is None or candidate.score > best.score:
            best = candidate
    # Two matching cells could be chance (状态, 所属区县): ask for three, or two plus the name.
    if best is None or (len(best.columns) < 3 and not (best.name_hint and len(best.columns) >= 2)):
        return None
    return best


def _expected_exports() -> str:
    return "、".join(f"{e.label}({e.file_prefix}_*)" for e in ENTITIES)


def find_header(rows: Sequence[Sequence[object]], file_name: str) -> tuple[int, HeaderMatch]:
    """The index and match of the header among the first rows (title rows come above it)."""
    best: tuple[int, HeaderMatch] | None = None
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        match = match_header(row, file_name)
        if match and (best is None or match.score > best[1].score):
            best = (i, match)
    if best is None:
        raise FileRejected(
            "not a known export: no header row matches any entity; expected one of "
            + _expected_exports()
        )
    return best


def check_required(match: HeaderMatch) -> None:
    missing = match.missing_required()
    if missing:
        raise FileRejected(
            f"key column missing: {match.entity.label} export without {'、'.join(missing)}",
            entity=match.entity.name,
        )


# ---------------------------------------------------------------- records -> canonical frame


def to_canonical(raw: pl.DataFrame, match: HeaderMatch, row_numbers: pl.Series) -> pl.DataFrame:
    """Rename cell columns to canonical names and pack unknown ones into ``_extra`` JSON."""
    names = raw.columns
    selected = [
        pl.col(names[i]).alias(canonical)
        for i, canonical in match.columns.items()
        if i < len(names)
    ]
    present = {c for i, c in match.columns.items() if i < len(names)}
    missing = [
        pl.lit(None, pl.Utf8).alias(c.canonical)
        for c in match.entity.columns
        if c.canonical not in present
    ]
    extra_cols = {i: h for i, h in match.extras.items() if i < len(names)}
    if extra_cols:
        # Unknown columns may carry personal numbers too: mask them like free text.
        struct = pl.struct(
            [scrub_personal_numbers(pl.col(names[i])).alias(h) for i, h in extra_cols.items()]
        )
        all_null = pl.all_horizontal([pl.col(names[i]).is_null() for i in extra_cols])
        extra = pl.when(all_null).then(None).otherwise(struct.struct.json_encode()).alias("_extra")
    else:
        extra = pl.lit(None, pl.Utf8).alias("_extra")
    frame = raw.select([*selected, *missing, extra])
    return frame.with_columns(row_numbers.alias("_row_number")).select(
        [c.canonical for c in match.entity.columns] + ["_extra", "_row_number"]
    )


def drop_non_records(raw: pl.DataFrame, row_numbers: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """Drop blank rows and the trailing summary (合计) row: they are not records.

    Only the first non-empty cell of a row is stripped and inspected (the label of
    a summary row); stripping every cell would cost more than reading the file.
    """
    cols = raw.columns
    non_empty = [pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c)) for c in cols]
    first = pl.coalesce(pl.col(c) for c in cols)
    label = pl.when(first.str.strip_chars() != "").then(first).otherwise(pl.coalesce(non_empty))
    blank = label.is_null()
    summary = label.str.contains(SUMMARY_ROW.pattern).fill_null(False)
    keep = raw.select((~blank & ~summary).alias("k"))["k"]
    if keep.all():
        return raw, row_numbers
    return raw.filter(keep), row_numbers.filter(keep)


# ---------------------------------------------------------------- CSV


def sniff_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise FileRejected(
            "unreadable: neither UTF-8 nor GB18030 text (binary or corrupt file)"
        ) from None


@contextmanager
def utf8_view(path: Path, encoding: str, tmp_dir: Path | None) -> Iterator[Path]:
    """A UTF-8 file with the same content: the file itself, or a streamed transcode."""
    if encoding in ("utf-8", "utf-8-sig"):
        yield path
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with tempfile.NamedTemporaryFile(suffix=".csv", dir=tmp_dir) as out, path.open("rb") as src:
        while chunk := src.read(CHUNK):
            try:
                out.write(decoder.decode(chunk).encode("utf-8"))
            except UnicodeDecodeError as exc:
                raise FileRejected(
                    f"unreadable: invalid {encoding.upper()} byte sequence at byte {offset + exc.start}"
                ) from None
            offset += len(chunk)
        try:
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError:
            raise FileRejected(
                f"unreadable: {encoding.upper()} text ends mid-character (truncated file)"
            ) from None
        out.flush()
        yield Path(out.name)


HEAD_LINE_CHARS = 1 << 16  # a header is short: longer head lines are cut for the search


def _head_lines(path: Path, encoding: str) -> list[str]:
    """The first lines, each cut to ``HEAD_LINE_CHARS``: they serve to find the header only
    (and a field longer than Python's csv limit, 131,072 characters, must not raise)."""
    with path.open("rb") as src:
        head = src.read(1 << 18)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    return [ln[:HEAD_LINE_CHARS] for ln in text.splitlines()[: HEADER_SEARCH_ROWS + 1]]


def read_csv(
    path: Path, tmp_dir: Path | None = None, limits: ReaderLimits | None = None
) -> Records:
    limits = limits or ReaderLimits()
    with path.open("rb") as src:
        head = src.read(1 << 16)
    if not head.strip():
        raise FileRejected("empty file: 0 bytes" if not head else "empty file: only blank lines")
    if b"\x00" in head:
        raise FileRejected("unreadable: binary content (NUL bytes), not a CSV export")
    encoding = sniff_encoding(head)
    lines = _head_lines(path, encoding)
    first = lines[0] if lines else ""
    header_guess = max(
        lines[:HEADER_SEARCH_ROWS], key=lambda ln: ln.count(",") + ln.count("\t"), default=first
    )
    delimiter = "\t" if header_guess.count("\t") > header_guess.count(",") else ","
    parsed = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header_idx, match = find_header(parsed, path.name)
    check_required(match)
    width = len(parsed[header_idx])
    limit = limits.max_csv_record_bytes
    with (
        utf8_view(path, encoding, tmp_dir) as view,
        without_long_lines(view, limit, delimiter, width, tmp_dir) as (source, long_lines),
    ):
        raw, rejected = _read_records(
            source, delimiter, header_idx + 1, width, header_idx + 2, tmp_dir, limit
        )
    if long_lines:
        raw, too_long = _take_long_lines(raw, long_lines, limit)
        rejected = pl.concat([rejected, too_long]).sort("_row_number")
    row_numbers = raw["_row_number"]
    raw, row_numbers = drop_non_records(raw.drop("_row_number"), row_numbers)
    raw, row_numbers, long_cells = split_long_cells(
        raw, row_numbers, parsed[header_idx], limits.max_cell_chars, delimiter
    )
    if long_cells.height:
        rejected = pl.concat([rejected, long_cells]).sort("_row_number")
    frame = to_canonical(raw, match, row_numbers)
    return Records(match.entity, frame, rejected, "csv", encoding)


# A line too long for DuckDB is replaced by this marker row (so the line numbering of the
# rest stays exact), and the marker row becomes the line's rejection.
_LONG_LINE_MARK = "\ue000pingan:record-over-the-size-limit\ue000"


@dataclass(frozen=True)
class LongLine:
    line: int  # 1-based physical line
    start: int  # byte offsets in the UTF-8 view
    end: int
    head: str  # its first characters, for the rejected row


def find_long_lines(path: Path, limit: int) -> list[tuple[int, int, int]]:
    """(1-based line, start, end) of every physical line over ``limit`` bytes.

    Why not leave it to DuckDB: its reader drops a line longer than its buffer (16x
    max_line_size) without a trace. Chunks are at most half the limit, so a long line
    always crosses a chunk boundary: only the first and last newline of each chunk
    matter (memchr-speed ``find``/``rfind``/``count``, no per-line Python work).
    """
    chunk_size = max(1, min(CHUNK, limit // 2))
    found: list[tuple[int, int, int]] = []
    line = 0  # newlines before line_start
    line_start = 0
    pos = 0
    with path.open("rb") as src:
        while data := src.read(chunk_size):
            first = data.find(b"\n")
            if first >= 0:
                end = pos + first
                if end - line_start > limit:
                    found.append((line + 1, line_start, end))
                line += data.count(b"\n")
                line_start = pos + data.rfind(b"\n") + 1
            pos += len(data)
    if pos - line_start > limit:
        found.append((line + 1, line_start, pos))
    return found


@contextmanager
def without_long_lines(
    path: Path, limit: int, delimiter: str, width: int, tmp_dir: Path | None
) -> Iterator[tuple[Path, list[LongLine]]]:
    """``path`` itself when no line is over ``limit``; else a copy with each long line
    replaced by a marker row, and the long lines."""
    spans = find_long_lines(path, limit)
    if not spans:
        yield path, []
        return
    mark = (_LONG_LINE_MARK + delimiter * (width - 1)).encode("utf-8")
    long_lines: list[LongLine] = []
    with tempfile.NamedTemporaryFile(suffix=".csv", dir=tmp_dir) as out, path.open("rb") as src:
        pos = 0
        for line, start, end in spans:
            _copy_range(src, out, pos, start)
            src.seek(start)
            head = src.read(min(end - start, MAX_REJECTED_TEXT)).decode("utf-8", "ignore")
            long_lines.append(LongLine(line, start, end, head))
            out.write(mark)
            pos = end
        _copy_range(src, out, pos, None)
        out.flush()
        yield Path(out.name), long_lines


def _copy_range(src, out, start: int, end: int | None) -> None:
    src.seek(start)
    left = None if end is None else end - start
    while left is None or left > 0:
        data = src.read(CHUNK if left is None else min(CHUNK, left))
        if not data:
            return
        out.write(data)
        if left is not None:
            left -= len(data)


def _take_long_lines(
    raw: pl.DataFrame, long_lines: list[LongLine], limit: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Drop the marker rows; the long lines become rejected rows under their own line numbers."""
    is_mark = pl.col("c0") == _LONG_LINE_MARK
    rejected = pl.DataFrame(
        {
            "_row_number": [ln.line for ln in long_lines],
            "reason": [
                f"record too long: {ln.end - ln.start:,} bytes (limit {limit:,}, "
                "max_csv_record_bytes)"
                for ln in long_lines
            ],
            "row_json": [
                _masked_line(ln.head + f"…(truncated, {ln.end - ln.start:,} bytes in all)")
                for ln in long_lines
            ],
        },
        schema=REJECTED_SCHEMA,
    )
    return raw.filter(~is_mark.fill_null(False)), rejected


def split_long_cells(
    raw: pl.DataFrame,
    row_numbers: pl.Series,
    headers: Sequence[object],
    limit: int,
    delimiter: str = ",",
) -> tuple[pl.DataFrame, pl.Series, pl.DataFrame]:
    """Rows with a cell over ``limit`` characters become rejected rows (with their number).

    Bytes are checked first (O(1) per value from the offsets; never fewer than the
    characters), characters only on the rows that pass that filter."""
    cols = raw.columns
    if not cols or raw.height == 0:
        return raw, row_numbers, empty_rejected()
    by_bytes = raw.select(
        pl.any_horizontal([pl.col(c).str.len_bytes() > limit for c in cols]).fill_null(False)
    ).to_series()
    if not by_bytes.any():
        return raw, row_numbers, empty_rejected()
    candidates = raw.filter(by_bytes)
    lengths = candidates.select(pl.col(c).str.len_chars().fill_null(0) for c in cols)
    reasons: list[str | None] = []
    texts: list[str] = []
    for values, row in zip(lengths.rows(), candidates.rows(), strict=True):
        over = [i for i, n in enumerate(values) if n > limit]
        if not over:
            reasons.append(None)
            texts.append("")
            continue
        i = over[0]
        name = str(headers[i]).strip() if i < len(headers) and headers[i] else f"列{i + 1}"
        reasons.append(
            f"field too long: {name} has {values[i]:,} characters (limit {limit:,}, max_cell_chars)"
        )
        texts.append(delimiter.join("" if v is None else v[:1000] for v in row))
    long_mask = pl.Series([r is not None for r in reasons], dtype=pl.Boolean)
    rejected = pl.DataFrame(
        {
            "_row_number": row_numbers.filter(by_bytes).filter(long_mask),
            "reason": [r for r in reasons if r is not None],
            "row_json": [_masked_line(t) for t, r in zip(texts, reasons, strict=True) if r],
        },
        schema=REJECTED_SCHEMA,
    )
    long_positions = by_bytes.arg_true().filter(long_mask).to_numpy()
    keep = pl.Series(~np.isin(np.arange(raw.height), long_positions))
    return raw.filter(keep), row_numbers.filter(keep), rejected


MAX_REJECTED_TEXT = 1 << 20  # a rejected record's text is kept up to 1 MiB


def _read_records(
    path: Path,
    delimiter: str,
    skip: int,
    width: int,
    first_line: int,
    tmp_dir: Path | None,
    max_line: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records of a UTF-8 CSV (string cells ``c0..`` and ``_row_number``) and the rejected ones.

    Records come in file order. A rejected record keeps its line; the others
    fill the remaining lines in order (exact unless a quoted field legitimately
    spans lines). A stray opening quote makes the reader swallow the lines up to
    the next quote into one bad record: only the line with the quote is
    rejected, and the swallowed lines are read again as records of their own.
    """
    frame, errors = _duckdb_read(path, delimiter, skip, width, max_line)
    # DuckDB counts physical lines of the file it read, skipped ones included.
    offset = first_line - skip - 1
    first_error: dict[int, tuple[str, str, str | None, str]] = {}
    for line, error_type, column_name, csv_line, message in errors:
        first_error.setdefault(
            int(line) + offset, (error_type, message, column_name, csv_line or "")
        )
    taken: set[int] = set()
    rejected_parts: list[pl.DataFrame] = []
    recovered_parts: list[pl.DataFrame] = []
    for line, (error_type, message, column_name, text) in sorted(first_error.items()):
        lines = text.split("\n")
        taken.update(range(line, line + len(lines)))
        where = f" (column {column_name})" if column_name and "COLUMNS" not in error_type else ""
        if error_type == "UNQUOTED VALUE" and len(lines) > 1:
            reason = f"malformed record: stray quote{where}: {message} (the {len(lines) - 1} lines it swallowed were read again)"
            own_text = lines[0]
            with tempfile.NamedTemporaryFile(
                "w", suffix=".csv", dir=tmp_dir, encoding="utf-8"
            ) as rest:
                rest.write("\n".join(lines[1:]) + "\n")
                rest.flush()
                again, again_rejected = _read_records(
                    Path(rest.name), delimiter, 0, width, line + 1, tmp_dir, max_line
                )
            recovered_parts.append(again)
            rejected_parts.append(again_rejected)
        else:
            reason = f"malformed record: {error_type.lower()}{where}: {message}"
            own_text = text
        rejected_parts.append(
            pl.DataFrame(
                {"_row_number": [line], "reason": [reason], "row_json": [_masked_line(own_text)]},
                schema=REJECTED_SCHEMA,
            )
        )
    total = frame.height + len(taken)
    lines_all = pl.int_range(first_line, first_line + total, dtype=pl.Int64, eager=True)
    # In polars, not numpy: a Series made from a numpy array imports numpy.ma (0.1 s a run).
    free = lines_all.filter(~lines_all.is_in(sorted(taken))) if taken else lines_all
    frame = frame.with_columns(free.head(frame.height).alias("_row_number"))
    if recovered_parts:
        frame = pl.concat([frame, *recovered_parts]).sort("_row_number")
    rejected = pl.concat(rejected_parts).sort("_row_number") if rejected_parts else empty_rejected()
    return frame, rejected


def _masked_line(text: str) -> str:
    if len(text) > MAX_REJECTED_TEXT:
        text = text[:MAX_REJECTED_TEXT] + f"…(truncated, {len(text)} characters in all)"
    masked = pl.select(scrub_personal_numbers(pl.lit(text))).item()
    return json.dumps({"line": masked}, ensure_ascii=False)


_local = threading.local()


def _reader_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for reading CSV, one per thread (opening one per file costs more
    than reading a small file)."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
    return con


def _duckdb_read(
    path: Path, delimiter: str, skip: int, width: int, max_line: int
) -> tuple[pl.DataFrame, list[tuple]]:
    con = _reader_connection()
    try:
        # Reject tables accumulate across scans: start each file with none.
        con.execute("drop table if exists reject_errors")
        con.execute("drop table if exists reject_scans")
        columns = {f"c{i}": "VARCHAR" for i in range(width)}
        frame = con.sql(
            """
            select * from read_csv(
                ?, delim = ?, quote = '"', escape = '"', header = false, skip = ?,
                columns = ?, auto_detect = false, strict_mode = true,
                store_rejects = true, rejects_scan = 'reject_scans',
                rejects_table = 'reject_errors', max_line_size = ?
            )
            """,
            params=[str(path), delimiter, skip, columns, max_line],
        ).pl()
        errors = con.execute(
            "select line, error_type, column_name, csv_line, error_message "
            "from reject_errors order by line"
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRejected(f"unreadable CSV: {str(exc).splitlines()[0]}") from None
    return frame, errors


# ---------------------------------------------------------------- XLSX


def _sheet_first_rows(path: Path) -> dict[int, int]:
    """0-based index of the first used row per sheet (calamine trims leading empty rows).

    Read from each sheet's ``<dimension ref="B4:...">``; sheets without one start at row 0.
    """
    firsts: dict[int, int] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
            targets.update(
                {k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels)}
            )
            for i, rid in enumerate(re.findall(r"<sheet\b[^>]*r:id=\"([^\"]+)\"", workbook)):
                target = targets.get(rid, "")
                name = target.lstrip("/") if target.startswith("/") else "xl/" + target
                with zf.open(name) as sheet:
                    head = sheet.read(4096).decode("utf-8", "replace")
                ref = re.search(r'<dimension ref="[A-Z]+(\d+)', head)
                firsts[i] = int(ref.group(1)) - 1 if ref else 0
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    return firsts


def read_xlsx(path: Path, limits: ReaderLimits | None = None) -> Records:
    import fastexcel

    limits = limits or ReaderLimits()
    inspect_xlsx(path, limits)  # what the zip declares, before calamine sizes anything by it
    try:
        reader = fastexcel.read_excel(str(path))
        sheets = [
            reader.load_sheet(i, header_row=None, dtypes="string").to_polars()
            for i in range(len(reader.sheet_names))
        ]
    except Exception as exc:  # fastexcel raises its own hierarchy for every corruption
        raise FileRejected(f"corrupt XLSX: {str(exc).splitlines()[0][:200]}") from None
    first_rows = _sheet_first_rows(path)
    best: tuple[int, int, HeaderMatch] | None = None
    for s, sheet in enumerate(sheets):
        head_rows = sheet.head(HEADER_SEARCH_ROWS).rows()
        try:
            idx, match = find_header(head_rows, path.name)
        except FileRejected:
            continue
        if best is None or match.score > best[2].score:
            best = (s, idx, match)
    if best is None:
        raise FileRejected(
            f"not a known export: no sheet of {len(sheets)} has a header matching an entity; "
            "expected one of " + _expected_exports()
        )
    s, header_idx, match = best
    check_required(match)
    sheet = sheets[s]
    raw = sheet.slice(header_idx + 1)
    offset = first_rows.get(s, 0)
    # Sheet row numbers as Excel shows them (1-based).
    row_numbers = pl.Series(
        "_row_number",
        np.arange(header_idx + 2, header_idx + 2 + raw.height, dtype=np.int64) + offset,
    )
    raw, row_numbers = drop_non_records(raw, row_numbers)
    header_cells = sheet.row(header_idx)
    raw, row_numbers, rejected = split_long_cells(
        raw, row_numbers, header_cells, limits.max_cell_chars, "\t"
    )
    frame = to_canonical(raw, match, row_numbers)
    notes = [f"sheet {reader.sheet_names[s]}"] if len(sheets) > 1 else []
    return Records(match.entity, frame, rejected, "xlsx", None, notes)


# ---------------------------------------------------------------- dispatch


def read_export(
    path: Path, tmp_dir: Path | None = None, limits: ReaderLimits | None = None
) -> Records:
    """Read one delivered file, in this process; raises :class:`FileRejected` for whole-file
    faults. Ingest reads through :mod:`ingest.isolation`, which calls this in a worker."""
    with path.open("rb") as src:
        magic = src.read(4)
    if path.suffix.lower() in (".xlsx", ".xlsm") or magic == b"PK\x03\x04":
        if magic != b"PK\x03\x04":
            raise FileRejected("corrupt XLSX: not a ZIP container (truncated or not really XLSX)")
        return read_xlsx(path, limits)
    if path.suffix.lower() == ".xls":
        raise FileRejected("unsupported format: legacy .xls; ask the source system for XLSX or CSV")
    return read_csv(path, tmp_dir, limits)
