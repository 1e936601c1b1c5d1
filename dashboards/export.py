"""Export of selected group-rental leads to Excel or CSV, for dispatch to the police stations.

The lead id is the first column: verification results (``police_rental_checks``)
quote it, so the outcomes match back to the lead. A blank verdict column is
included for the field officers to fill in.

Exports cannot execute: a value that begins like a formula (``= + - @``, tab, CR) is
a text cell in Excel (written as a string, never a formula or a link, with Excel's
quote prefix so editing the cell keeps it text) and starts with ``'`` in CSV (what
spreadsheet programs take as "text"), so ``=HYPERLINK(...)`` typed into an address
stays an address. Every page's export goes through :func:`to_excel` / :func:`to_csv`,
offered by ``ui.export_button`` (built and logged only on the click).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd

SHEET = "群租线索"
VERDICT_COLUMN = "核查结论（回填）"
EXPORT_COLUMNS = {
    "lead_id": "线索编号",
    "rank": "排名",
    "score": "评分",
    "status": "状态",
    "district": "区县",
    "street": "街道(镇)",
    "address": "房屋地址",
    "reasons": "主要依据",
    "rule_flags": "触发规则",
    "occupants_estimate": "估计居住人数",
    "floor_area_m2": "建筑面积(㎡)",
    "rooms": "房间数",
    "registered_tenants": "登记承租人数",
    "complaints_180d": "近180天投诉(件)",
    "police_incidents_180d": "近180天警情(起)",
    "open_hazards": "未整改隐患(处)",
    "last_check_at": "最近核查时间",
    "last_verdict": "最近核查结论",
    "house_id": "房屋编号",
    "lon": "经度",
    "lat": "纬度",
    "as_of_date": "数据截至",
}


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
# What spreadsheet programs read as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Strings stay strings: no formulas, no links, no numbers guessed from text.
_XLSX_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def dispatch_sheet(df: pd.DataFrame) -> pd.DataFrame:
    """Lead id first, Chinese headers, plus a column for the verdict."""
    out = df.rename(columns=EXPORT_COLUMNS)
    out[VERDICT_COLUMN] = ""
    return out


def to_excel(df: pd.DataFrame, sheet_name: str = SHEET) -> bytes:
    """``df`` as an .xlsx workbook in which no cell is a formula or a link."""
    buf = io.BytesIO()
    with pd.ExcelWriter(
        buf, engine="xlsxwriter", engine_kwargs={"options": _XLSX_OPTIONS}
    ) as writer:
        df.to_excel(writer, sheet_name=sheet_name, index=False)
        book, sheet = writer.book, writer.sheets[sheet_name]
        text = book.add_format({"quote_prefix": True})
        # Rewrite formula-like cells with Excel's quote prefix: shown as typed, and still
        # text after someone edits the cell (a plain string cell would become a formula).
        for c, column in enumerate(df.columns):
            for r, value in enumerate(df[column].tolist(), start=1):
                if looks_like_formula(value):
                    sheet.write_string(r, c, value, text)
        sheet.freeze_panes(1, 1)
        sheet.set_column(0, len(df.columns) - 1, 14)
    return buf.getvalue()


def to_csv(df: pd.DataFrame) -> bytes:
    """``df`` as UTF-8 CSV (with a BOM, so Excel reads the Chinese), formula-like values
    prefixed with ``'``."""
    safe = df.map(lambda v: "'" + v if looks_like_formula(v) else v)
    # Every text field quoted: a carriage return inside a value stays inside it.
    return safe.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")
