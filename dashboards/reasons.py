"""Ingest's reasons (ledger, rejected rows, field warnings) told in Chinese on the pages.

Ingest writes its reasons in English, one line a data engineer can act on, and the
warehouse keeps them so (analysts grep them). The data-quality page is read by
leaders and analysts in Chinese: each known reason is rendered in Chinese with its
specifics (column header, byte offset, lines re-read) carried over, and the English
original after it for the engineer. An unknown reason is shown as it is.

The patterns follow the messages of ``ingest/readers.py`` and ``ingest/load.py``;
``tests/dashboards/test_reasons.py`` produces each of those reasons with real files and
checks that every one is translated.
"""

from __future__ import annotations

import re

KIND_ZH = {
    "timestamp": "时间",
    "date": "日期",
    "month": "月份",
    "integer": "整数",
    "decimal": "数值",
    "flag": "是/否",
    "enum": "枚举值",
    "text": "文本",
}

# (pattern on the English reason, Chinese template: \1 … are the pattern's groups)
_FILE_REASONS: list[tuple[str, str]] = [
    (r"^empty file: 0 bytes$", "空文件（0 字节）"),
    (r"^empty file: only blank lines$", "空文件（只有空行）"),
    (r"^unreadable: binary content", "无法读取：二进制内容，不是 CSV 导出文件"),
    (r"^unreadable: neither UTF-8 nor GB18030", "无法读取：既不是 UTF-8 也不是 GB18030 文本"),
    (
        r"^unreadable: invalid (\S+) byte sequence at byte (\d+)",
        r"无法读取：第 \2 字节处不是有效的 \1 编码",
    ),
    (
        r"^unreadable: (\S+) text ends mid-character",
        r"无法读取：\1 文本在字符中间结束（文件被截断）",
    ),
    (r"^unreadable CSV: (.*)$", r"CSV 无法读取：\1"),
    (r"^corrupt XLSX: not a ZIP container", "XLSX 文件损坏：不是 ZIP 容器（被截断或并非 XLSX）"),
    (r"^corrupt XLSX: (.*)$", r"XLSX 文件损坏：\1"),
    (
        r"^unsupported format: legacy \.xls",
        "不支持的格式：旧版 .xls，请来源系统改为提供 XLSX 或 CSV",
    ),
    (r"^not a known export", "无法识别的导出文件：表头与任何数据类别都不匹配"),
    (r"^key column missing: (.+) export without (.+)$", r"缺少主键列：\1导出文件缺少“\2”"),
    (r"^identical bytes were loaded before$", "与已入库的文件内容完全相同"),
    # a note, not a fault: which sheet of a workbook with several was read
    (r"^sheet (.+)$", r"读取工作表“\1”"),
    (r"^file vanished before it could be read", "文件在读取前已被删除或改名"),
    (
        r"^malformed record: stray quote.*?\(the (\d+) lines it swallowed were read again\)$",
        r"记录格式错误：多余的引号（被其吞并的 \1 行已重新读取）",
    ),
    (r"^malformed record: too many columns", "记录格式错误：列数过多"),
    (r"^malformed record: missing columns", "记录格式错误：列数不足"),
    (r"^malformed record: unquoted value", "记录格式错误：引号使用不当"),
    (r"^malformed record: invalid unicode", "记录格式错误：字符编码无效"),
    (r"^malformed record", "记录格式错误"),
]

# One problem of one column: "<Chinese header>: <what>"; a row can carry several, "; ".
_COLUMN_REASONS: list[tuple[str, str]] = [
    (r"^invalid ID number", "身份证号无效（格式、出生日期或校验位）"),
    (r"^invalid phone number$", "电话号码无效"),
    (r"^value not in the contract's list \(kept\)$", "取值不在约定范围内（已保留原值）"),
    (r"^key missing$", "主键为空"),
    (r"^out of range \[(.*), (.*)\]$", r"超出合理范围 [\1, \2]（已置空）"),
]
_UNREADABLE_KIND = re.compile(r"^unreadable (\w+)$")
_COMPILED_FILE = [(re.compile(p), t) for p, t in _FILE_REASONS]
_COMPILED_COLUMN = [(re.compile(p), t) for p, t in _COLUMN_REASONS]


def _column_problem(text: str) -> str | None:
    header, sep, what = text.partition(": ")
    if not sep:
        return None
    for pattern, template in _COMPILED_COLUMN:
        m = pattern.search(what)
        if m:
            return f"{header}：{m.expand(template)}"
    m = _UNREADABLE_KIND.match(what)
    if m:
        kind = KIND_ZH.get(m.group(1), m.group(1))
        return f"{header}：无法解析为{kind}"
    return None


def in_chinese(reason: object) -> str | None:
    """The Chinese rendering of an ingest reason, or None when it is not a known one."""
    if not isinstance(reason, str) or not reason:  # None, or pandas' NaN for a missing one
        return None
    for pattern, template in _COMPILED_FILE:
        m = pattern.search(reason)
        if m:
            return m.expand(template)
    parts = [_column_problem(p) for p in reason.split("; ")]
    if all(parts):
        return "；".join(p for p in parts if p)
    return None


def display(reason: object) -> object:
    """What the page shows: Chinese first, the English original kept in brackets."""
    if not isinstance(reason, str) or not reason:
        return reason
    zh = in_chinese(reason)
    return f"{zh}（{reason}）" if zh else reason
