"""An ID number or a phone typed into every text column of every export is masked at ingest.

One file per entity, one row per text column: in that row the column holds a number in an
awkward form (spaced, dashed, full-width, +86, two in a row). Real files, real ingest into
a real warehouse, then the warehouse scan of tests/ingest/test_pii_scan.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.entities import ENTITIES, Column, Entity
from contracts.settings import Settings
from ingest.load import ingest_paths
from tests.ingest.conftest import query, valid_id, write_csv
from tests.ingest.test_pii_scan import digit_runs_in_warehouse, leaked

MOBILE = "13912345678"
ID_NUMBER = valid_id("32060219850304123")
TYPED = (
    f" 联系电话{MOBILE[:3]} {MOBILE[3:7]} {MOBILE[7:]}",
    f"，身份证号{' '.join(ID_NUMBER[i : i + 4] for i in range(0, 18, 4))}",
    "、" + "".join(chr(ord(c) + 0xFEE0) for c in MOBILE),
    f" +86-{MOBILE[:3]}-{MOBILE[3:7]}-{MOBILE[7:]}、{ID_NUMBER}",
)


def default(col: Column, row: int) -> str:
    values = {
        "timestamp": "2026-10-03 09:05:00",
        "date": "2026-10-03",
        "month": "2026-10",
        "integer": "3",
        "decimal": "60",
        "flag": "否",
        "id_number": valid_id(),
        "phone": "13800000000",
        "name": "张三",
        "address": "江苏省南通市崇川区工农路88号3幢201室",
        "free_text": "楼上深夜噪音",
    }
    if col.kind in ("integer", "decimal") and col.minimum is not None:
        return str(int(max(col.minimum, min(col.maximum or 2026, 2026))))
    if col.kind == "enum":
        return col.values[0] if col.values else "其他"
    if col.kind == "text":
        return f"K{row:03d}" if col.identifier or col.required else "和平桥街道"
    return values[col.kind]


def typed_columns(ent: Entity) -> list[Column]:
    return [c for c in ent.columns if c.kind in ("text", "free_text", "address")]


def export_with_numbers(ent: Entity, landing: Path) -> int:
    rows = []
    for i, target in enumerate(typed_columns(ent)):
        row = {c.header: default(c, i) for c in ent.columns}
        row[target.header] += TYPED[i % len(TYPED)]
        rows.append(row)
    write_csv(landing / ent.system / f"{ent.file_prefix}_20261003.csv", rows, encoding="utf-8")
    return len(rows)


@pytest.mark.parametrize("ent", ENTITIES, ids=lambda e: e.name)
def test_a_number_typed_into_any_text_column_is_masked_in_the_warehouse(
    ent: Entity, settings: Settings, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    n = export_with_numbers(ent, landing)
    ingest_paths([landing], settings)
    ledger = query(settings, "select status, rows_read, rows_loaded from raw.load_ledger")
    assert ledger == [("loaded", n, n)], ledger
    leaks = leaked({MOBILE, ID_NUMBER}, digit_runs_in_warehouse(settings.warehouse))
    assert leaks == set(), f"{ent.name}: clear numbers in the warehouse"
