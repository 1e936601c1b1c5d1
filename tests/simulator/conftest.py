"""Read the generated export files back, independently of ingest's readers.

The generator's tests check what was written, byte for byte where it matters, so
they read the files with a small reader of their own (csv module, fastexcel)
rather than with the code under test elsewhere.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from contracts.entities import ENTITIES, Entity


def norm_header(h: str) -> str:
    return h.strip().replace("（", "(").replace("）", ")")


HEADER_INDEX: dict[str, dict[str, str]] = {
    e.name: {norm_header(h): c.canonical for c in e.columns for h in c.headers} for e in ENTITIES
}


@dataclass
class Delivered:
    path: Path
    fmt: str  # csv | tsv | xlsx
    encoding: str  # gb18030 | utf-8-sig | utf-8 | ''
    entity: Entity
    headers: list[str]  # as written (before normalisation)
    rows: list[list[str]]  # records as text (XLSX numbers as Python's str of the cell)
    title: str | None = None
    total_row: bool = False
    sheets: list[str] = field(default_factory=list)
    raw_cells: list[list[object]] = field(default_factory=list)  # XLSX cells as read

    def frame(self) -> pl.DataFrame:
        """Records with canonical column names (unknown columns dropped), as strings."""
        index = HEADER_INDEX[self.entity.name]
        cols = {}
        for j, h in enumerate(self.headers):
            canonical = index.get(norm_header(h))
            if canonical:
                cols[canonical] = [r[j] if j < len(r) else "" for r in self.rows]
        return pl.DataFrame(cols, schema={c: pl.String for c in cols})


def identify(headers: list[str]) -> Entity | None:
    """The entity whose headers (or aliases) cover the file's header best."""
    present = [norm_header(h) for h in headers if h]
    best, score = None, 0.0
    for e in ENTITIES:
        hit = sum(h in HEADER_INDEX[e.name] for h in present)
        s = hit / len(e.columns) + hit / max(1, len(present))
        if s > score:
            best, score = e, s
    return best if score >= 1.6 else None


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_delivered(path: Path) -> Delivered:
    if path.suffix == ".xlsx":
        reader = fastexcel.read_excel(str(path))
        for sheet in reader.sheet_names:
            df = reader.load_sheet(sheet, header_row=None).to_polars()
            cells = [list(r) for r in df.iter_rows()]
            for i, row in enumerate(cells[:10]):
                headers = [_cell(v) for v in row]
                ent = identify(headers)
                if ent:
                    body = [r for r in cells[i + 1 :] if any(v is not None for v in r)]
                    total = bool(body) and _cell(body[-1][0]).startswith("合计")
                    if total:
                        body = body[:-1]
                    title = _cell(cells[0][0]) if i > 0 else None
                    return Delivered(
                        path,
                        "xlsx",
                        "",
                        ent,
                        headers,
                        [[_cell(v) for v in r] for r in body],
                        title=title,
                        total_row=total,
                        sheets=reader.sheet_names,
                        raw_cells=body,
                    )
        raise AssertionError(f"{path}: no sheet with a known header")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        enc, text = "utf-8-sig", data.decode("utf-8-sig")
    else:
        try:
            enc, text = "utf-8", data.decode("utf-8")
        except UnicodeDecodeError:
            enc, text = "gb18030", data.decode("gb18030")
    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    ent = identify(rows[0])
    assert ent is not None, f"{path}: header not recognised: {rows[0]}"
    return Delivered(path, "tsv" if sep == "\t" else "csv", enc, ent, rows[0], rows[1:])


@pytest.fixture(scope="session")
def delivered(sample_root: Path) -> list[Delivered]:
    files = sorted(p for p in (sample_root / "landing").rglob("*") if p.is_file())
    return [read_delivered(p) for p in files]


@pytest.fixture(scope="session")
def frames(delivered: list[Delivered]) -> dict[str, pl.DataFrame]:
    """All rows of every entity (files in 重发/ excluded), with ``_file`` and ``_corrected``."""
    out: dict[str, list[pl.DataFrame]] = {}
    for d in delivered:
        if "重发" in d.path.parts:
            continue
        f = d.frame().with_columns(
            _file=pl.lit(d.path.name), _corrected=pl.lit("补发" in d.path.parts)
        )
        out.setdefault(d.entity.name, []).append(f)
    return {k: pl.concat(v, how="diagonal") for k, v in out.items()}
