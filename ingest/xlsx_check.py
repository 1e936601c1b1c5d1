"""Inspect an XLSX's zip against the reader limits before any cell is read.

calamine (behind fastexcel) sizes its cell grid from the sheet's extent and
holds every shared string in memory: a 2 KB workbook that declares the whole
sheet (``A1:XFD1048576``) asks for 512 GiB, and a 100 KB one can hold a 100 MiB
string. What the zip *declares* is checked here, cheaply (part sizes and
compression ratios from the central directory, each sheet's ``<dimension>``
from its first bytes, shared-string lengths streamed through expat without
keeping the text); what it hides is caught by the worker's memory and time
limits (:mod:`ingest.isolation`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.parsers import expat

from ingest.limits import MIB, ReaderLimits
from ingest.rejection import FileRejected

_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?"'
)
_RATIO_FLOOR = 1 * MIB  # small parts compress oddly; their ratio is not judged
_STREAM = 1 << 20


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _over(what: str, value: int | float, limit: int | float, name: str) -> FileRejected:
    return FileRejected(
        f"XLSX over the reader limits: {what} {value:,} (limit {limit:,}, {name}); "
        "ask the source system for a smaller export or raise PINGAN_LIMIT_" + name.upper()
    )


def declared_extent(head: bytes) -> tuple[int, int] | None:
    """(rows, columns) a sheet's ``<dimension ref=...>`` declares, None without one."""
    m = _DIMENSION.search(head)
    if m is None:
        return None
    c1, r1, c2, r2 = (g.decode("ascii") if g is not None else None for g in m.groups())
    if c2 is None or r2 is None:  # a single cell "A1"
        return (1, 1)
    rows = int(r2) - int(r1 or 1) + 1
    cols = _column_number(c2) - _column_number(c1 or "A") + 1
    return (max(rows, 0), max(cols, 0))


def inspect_xlsx(path: Path, limits: ReaderLimits) -> None:
    """Raise :class:`FileRejected` when the workbook declares more than the limits allow."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected(f"corrupt XLSX: {str(exc).splitlines()[0][:200]}") from None
    with zf:
        infos = zf.infolist()
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > limits.max_xlsx_part_bytes:
                raise _over(
                    f"part {info.filename} unpacks to bytes",
                    info.file_size,
                    limits.max_xlsx_part_bytes,
                    "max_xlsx_part_bytes",
                )
            if info.file_size > _RATIO_FLOOR:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.max_xlsx_compression_ratio:
                    raise _over(
                        f"part {info.filename} compressed {ratio:,.0f}:1, ratio",
                        round(ratio),
                        limits.max_xlsx_compression_ratio,
                        "max_xlsx_compression_ratio",
                    )
        if total > limits.max_xlsx_total_bytes:
            raise _over(
                "workbook unpacks to bytes",
                total,
                limits.max_xlsx_total_bytes,
                "max_xlsx_total_bytes",
            )
        names = {i.filename for i in infos}
        cells = 0
        for name in sorted(
            n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")
        ):
            try:
                with zf.open(name) as sheet:
                    head = sheet.read(4096)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise FileRejected(f"corrupt XLSX: {name}: {str(exc)[:200]}") from None
            extent = declared_extent(head)
            if extent is None:
                continue
            rows, cols = extent
            label = f"sheet {name.rsplit('/', 1)[-1]} declares"
            if rows > limits.max_xlsx_rows:
                raise _over(f"{label} rows", rows, limits.max_xlsx_rows, "max_xlsx_rows")
            if cols > limits.max_xlsx_columns:
                raise _over(f"{label} columns", cols, limits.max_xlsx_columns, "max_xlsx_columns")
            cells += rows * cols
            if cells > limits.max_xlsx_cells:
                raise _over("declared cells", cells, limits.max_xlsx_cells, "max_xlsx_cells")
        if "xl/sharedStrings.xml" in names:
            _check_shared_strings(zf, "xl/sharedStrings.xml", limits.max_cell_chars)


def _check_shared_strings(zf: zipfile.ZipFile, name: str, limit: int) -> None:
    """Stream the shared-string table, counting each string's characters (text not kept)."""
    state = {"depth": 0, "chars": 0, "index": -1}

    def start(tag: str, _attrs: object) -> None:
        if tag.rsplit(":", 1)[-1] == "si":
            state["depth"] += 1
            state["chars"] = 0
            state["index"] += 1

    def end(tag: str) -> None:
        if tag.rsplit(":", 1)[-1] == "si":
            state["depth"] -= 1

    def text(data: str) -> None:
        if state["depth"]:
            state["chars"] += len(data)
            if state["chars"] > limit:
                raise FileRejected(
                    f"XLSX over the reader limits: shared string #{state['index'] + 1} has more "
                    f"than {limit:,} characters (limit max_cell_chars); ask the source system "
                    "for a smaller export or raise PINGAN_LIMIT_MAX_CELL_CHARS"
                )

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        with zf.open(name) as src:
            while chunk := src.read(_STREAM):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise FileRejected(f"corrupt XLSX: {name}: {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FileRejected(f"corrupt XLSX: {name}: {str(exc)[:200]}") from None
