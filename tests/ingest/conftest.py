"""Builders of real export files (CSV in any encoding, XLSX with title and 合计 rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from contracts.entities import entity
from contracts.settings import Settings
from ingest.pii import check_character

HOTLINE = entity("hotline_tickets")


def valid_id(body17: str = "32060219900101123") -> str:
    return body17 + check_character(body17)


def hotline_row(ticket_id: str, **overrides: str) -> dict[str, str]:
    row = {
        "工单编号": ticket_id,
        "来电时间": "2026-10-03 09:05:00",
        "受理渠道": "电话",
        "来电人": "张三",
        "来电号码": "13812345678",
        "诉求类型": "投诉",
        "诉求分类": "公共安全>社会治安>噪音扰民",
        "诉求内容": "楼上深夜噪音",
        "事发地址": "江苏省南通市崇川区工农路88号3幢201室",
        "所属区县": "崇川区",
        "所属街道": "和平桥街道",
        "承办单位": "区公安分局",
        "派单时间": "2026-10-03 10:00:00",
        "办理时限": "2026-10-08 18:00:00",
        "办结时间": "",
        "工单状态": "办理中",
        "满意度": "未评价",
        "是否重复件": "否",
        "更新时间": "2026-10-03 10:00:00",
    }
    row.update(overrides)
    return row


def write_csv(
    path: Path,
    rows: Sequence[dict[str, str]],
    *,
    encoding: str = "gb18030",
    sep: str = ",",
    header: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    header = list(header or rows[0].keys())
    lines = [sep.join(header)] + [sep.join(r.get(h, "") for h in header) for r in rows]
    if title:
        lines.insert(0, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def write_xlsx(
    path: Path,
    rows: Sequence[dict[str, object]],
    *,
    title: str | None = "南通市12345工单导出（2026年10月）",
    total_row: bool = True,
    blank_row_after: int | None = None,
    leading_sheet: bool = True,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    if leading_sheet:
        wb.add_worksheet("说明").write(0, 0, "本表由系统导出")
    ws = wb.add_worksheet("数据")
    header = list(rows[0].keys())
    r = 0
    if title:
        ws.write(0, 0, title)
        r = 2  # a blank row between title and header
    ws.write_row(r, 0, header)
    r += 1
    date_format = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for i, row in enumerate(rows):
        for c, h in enumerate(header):
            value = row.get(h, "")
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, date_format)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            elif value != "":
                ws.write_string(r, c, str(value))
        r += 1
        if blank_row_after is not None and i == blank_row_after:
            r += 1
    if total_row:
        ws.write_row(r, 0, ["合计", f"{len(rows)}条"])
    wb.close()
    return path


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PINGAN_PII_KEY", "test-key")
    return Settings(data_dir=tmp_path / "data", warehouse=tmp_path / "data" / "warehouse.duckdb")


def query(settings: Settings, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()
