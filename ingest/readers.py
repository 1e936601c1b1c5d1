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

from ingest.contracts import ENTITIES, Entity
from ingest.normalise import normalise_header, scrub_personal_numbers

HEADER_SEARCH_ROWS = 15  # title rows above the header, at most
SUMMARY_ROW = re.compile(r"^\s*(合计|总计|小计)")
CHUNK = 1 << 22


class FileRejected(Exception):
    """The whole file cannot be loaded; ``reason`` is one line a user can act on."""

    def __init__(self, reason: str, rows: pl.DataFrame | None = None, entity: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.rows = rows  # records that were read before the file was rejected
        self.entity = entity


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


def _head_lines(path: Path, encoding: str) -> list[str]:
    with path.open("rb") as src:
        head = src.read(1 << 18)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    return text.splitlines()[: HEADER_SEARCH_ROWS + 1]


def read_csv(path: Path, tmp_dir: Path | None = None) -> Records:
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
    with utf8_view(path, encoding, tmp_dir) as source:
        raw, rejected = _read_records(
            source, delimiter, header_idx + 1, width, header_idx + 2, tmp_dir
        )
    row_numbers = raw["_row_number"]
    raw, row_numbers = drop_non_records(raw.drop("_row_number"), row_numbers)
    frame = to_canonical(raw, match, row_numbers)
    return Records(match.entity, frame, rejected, "csv", encoding)


MAX_REJECTED_TEXT = 1 << 20  # a rejected record's text is kept up to 1 MiB


def _read_records(
    path: Path, delimiter: str, skip: int, width: int, first_line: int, tmp_dir: Path | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records of a UTF-8 CSV (string cells ``c0..`` and ``_row_number``) and the rejected ones.

    Records come in file order. A rejected record keeps its line; the others
    fill the remaining lines in order (exact unless a quoted field legitimately
    spans lines). A stray opening quote makes the reader swallow the lines up to
    the next quote into one bad record: only the line with the quote is
    rejected, and the swallowed lines are read again as records of their own.
    """
    frame, errors = _duckdb_read(path, delimiter, skip, width)
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
                    Path(rest.name), delimiter, 0, width, line + 1, tmp_dir
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
    lines_all = np.arange(first_line, first_line + total, dtype=np.int64)
    free = (
        lines_all[~np.isin(lines_all, np.fromiter(taken, dtype=np.int64))] if taken else lines_all
    )
    frame = frame.with_columns(pl.Series("_row_number", free[: frame.height], dtype=pl.Int64))
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
    path: Path, delimiter: str, skip: int, width: int
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
                rejects_table = 'reject_errors', max_line_size = 8388608
            )
            """,
            params=[str(path), delimiter, skip, columns],
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


def read_xlsx(path: Path) -> Records:
    import fastexcel

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
    frame = to_canonical(raw, match, row_numbers)
    notes = [f"sheet {reader.sheet_names[s]}"] if len(sheets) > 1 else []
    return Records(match.entity, frame, empty_rejected(), "xlsx", None, notes)


# ---------------------------------------------------------------- dispatch


def read_export(path: Path, tmp_dir: Path | None = None) -> Records:
    """Read one delivered file; raises :class:`FileRejected` for whole-file faults."""
    with path.open("rb") as src:
        magic = src.read(4)
    if path.suffix.lower() in (".xlsx", ".xlsm") or magic == b"PK\x03\x04":
        if magic != b"PK\x03\x04":
            raise FileRejected("corrupt XLSX: not a ZIP container (truncated or not really XLSX)")
        return read_xlsx(path)
    if path.suffix.lower() == ".xls":
        raise FileRejected("unsupported format: legacy .xls; ask the source system for XLSX or CSV")
    return read_csv(path, tmp_dir)
