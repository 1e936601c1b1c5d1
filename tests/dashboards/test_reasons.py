"""Every reason ingest can write is shown in Chinese on the data-quality page.

Real files with every kind of fault (each column of each entity broken in turn, and
whole-file faults) go through the real ingest; every distinct reason that lands in
the ledger, the rejected rows and the field warnings must have a Chinese rendering.
A new English reason added to ingest without one fails here.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from contracts.entities import ENTITIES, Column, Entity
from contracts.settings import Settings
from dashboards import reasons
from ingest.load import ingest_paths
from tests.ingest.conftest import hotline_row, valid_id, write_csv, write_xlsx

GOOD = {
    "text": "正常文本",
    "free_text": "正常文本",
    "flag": "是",
    "integer": "3",
    "decimal": "3.5",
    "timestamp": "2026-10-03 09:05:00",
    "date": "2026-10-03",
    "month": "2026-10",
    "address": "江苏省南通市崇川区工农路88号3幢201室",
    "phone": "13812345678",
    "name": "张三",
}
BROKEN = {
    "id_number": "123456",
    "phone": "12",
    "integer": "很多",
    "decimal": "若干",
    "timestamp": "昨天下午",
    "date": "上周",
    "month": "去年",
    "flag": "也许",
    "enum": "不在列表中的值",
}


def good_value(col: Column, n: int) -> str:
    if col.kind == "id_number":
        return valid_id()
    if col.kind == "enum":
        return sorted(col.values)[0]
    if col.required and col.kind in ("text", "free_text"):
        return f"K{n:05d}"
    if col.minimum is not None:
        return str(col.minimum)
    return GOOD.get(col.kind, "x")


def rows_breaking_each_column(ent: Entity) -> list[dict[str, str]]:
    rows = []
    for n, broken in enumerate(ent.columns):
        row = {c.header: good_value(c, n) for c in ent.columns}
        if broken.kind in BROKEN:
            row[broken.header] = BROKEN[broken.kind]
        elif broken.maximum is not None:
            row[broken.header] = str(broken.maximum * 1000 + 1)
        elif broken.required:
            row[broken.header] = ""
        rows.append(row)
        if broken.minimum is not None and broken.kind in ("integer", "decimal"):
            below = {c.header: good_value(c, n + 500) for c in ent.columns}
            below[broken.header] = str(broken.minimum - 1)
            rows.append(below)
    return rows


def write_entity(path: Path, ent: Entity, rows: list[dict[str, str]]) -> Path:
    return write_csv(path, rows, header=[c.header for c in ent.columns])


@pytest.fixture
def faulty_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PINGAN_PII_KEY", "test-key")
    settings = Settings(data_dir=tmp_path / "data", warehouse=tmp_path / "data" / "wh.duckdb")
    land = tmp_path / "landing"
    for ent in ENTITIES:
        write_entity(land / f"{ent.name}_broken.csv", ent, rows_breaking_each_column(ent))
    ok = write_csv(land / "12345_工单_20261001.csv", [hotline_row("OK1")])
    (land / "12345_工单_copy.csv").write_bytes(ok.read_bytes())  # duplicate
    (land / "12345_工单_20261002.csv").write_bytes(b"")
    (land / "12345_工单_20261003.csv").write_bytes(b"\n\n\n")
    (land / "12345_工单_20261004.csv").write_bytes(b"\x00" + os.urandom(2048))
    (land / "12345_工单_20261005.csv").write_bytes("工单编号,来电时间\n".encode() + b"\xff\xfe\xfd")
    gb = write_csv(tmp_path / "gb.csv", [hotline_row("GB1")]).read_bytes()
    (land / "12345_工单_20261006.csv").write_bytes(gb + "工".encode("gb18030")[:1])
    (land / "unknown.csv").write_text("甲,乙,丙\n1,2,3\n", encoding="utf-8")
    no_key = {k: v for k, v in hotline_row("NK").items() if k != "工单编号"}
    write_csv(land / "12345_工单_20261007.csv", [no_key], header=list(no_key))
    header = ",".join(hotline_row("x"))
    values = ",".join(hotline_row("R1").values())
    (land / "12345_工单_20261008.csv").write_text(
        "\n".join([header, values + ",多余", "R2,2026-10-08", 'R3,"' + values[4:], values, values])
        + "\n",
        encoding="utf-8",
    )
    write_xlsx(land / "12345_工单_202608.xlsx", [hotline_row("X0")])  # noted: sheet 数据
    xlsx = write_xlsx(land / "12345_工单_202609.xlsx", [hotline_row("X1")])
    xlsx.write_bytes(xlsx.read_bytes()[:700])
    (land / "12345_工单_old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    ingest_paths([land], settings)
    ingest_paths([land / "vanished.csv"], settings, missing_ok=True)
    return settings


def test_every_reason_ingest_writes_has_a_chinese_rendering(faulty_warehouse: Settings) -> None:
    con = duckdb.connect(str(faulty_warehouse.warehouse), read_only=True)
    try:
        written = {
            table: {
                r[0] for r in con.execute(f"select distinct reason from raw.{table}").fetchall()
            }
            for table in ("load_ledger", "rejected_rows", "row_warnings")
        }
        statuses = {r[0] for r in con.execute("select status from raw.load_ledger").fetchall()}
    finally:
        con.close()
    # the faults did reach every kind of record
    assert statuses == {"loaded", "duplicate", "rejected", "missing"}
    assert any("stray quote" in r for r in written["rejected_rows"])
    assert "sheet 数据" in written["load_ledger"]
    assert any("out of range" in r for r in written["row_warnings"] | written["rejected_rows"])
    assert len(written["rejected_rows"]) >= 5 and len(written["row_warnings"]) >= 5
    untranslated = sorted(
        r for found in written.values() for r in found if r and reasons.in_chinese(r) is None
    )
    assert untranslated == []


def test_a_reason_is_shown_in_chinese_with_its_specifics_and_the_original() -> None:
    original = "来电时间: unreadable timestamp; 工单编号: key missing"
    assert (
        reasons.display(original) == f"来电时间：无法解析为时间；工单编号：主键为空（{original}）"
    )
    assert reasons.in_chinese("unreadable: invalid GB18030 byte sequence at byte 4096") == (
        "无法读取：第 4096 字节处不是有效的 GB18030 编码"
    )
    assert reasons.display("something new") == "something new"  # unknown: as it is
    assert reasons.display(None) is None
    nan = float("nan")  # a missing reason in a pandas column
    assert reasons.display(nan) is nan and reasons.in_chinese(nan) is None
