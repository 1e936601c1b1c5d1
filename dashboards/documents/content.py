"""What a notice (提示单) says, as blocks both renderers (.docx, PDF) lay out the same way.

The content comes from the notice marts through :mod:`dashboards.data.notices` (the
published snapshot): the number, the unit, each indicator that moved (against last
month, last year, its expected range and the level's average), what drove it (counts
by category, the streets or places contributing most), the action asked and the
deadline. Places are roads and house numbers (a compound), never a person or a room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dashboards import fmt
from dashboards.data import Scope
from dashboards.data import notices as data_notices

ISSUER = "南通市社会治理现代化指挥中心"
TITLE = "平安建设风险预警提示单"
DRIVER_KINDS = ("类别", "街道(镇)", "地点")
TABLE_HEADER = ("指标", "本月", "上月", "环比", "去年同期", "预期范围", "同级平均", "等级")


@dataclass(frozen=True)
class Block:
    """One piece of the document: a heading, a paragraph or a table (rows of text)."""

    kind: str  # title | number | salutation | heading | paragraph | table | signature
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass
class Notice:
    """One notice with what it says; ``blocks()`` is the document."""

    row: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    drivers: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    @property
    def notice_id(self) -> str:
        return str(self.row["notice_id"])

    @property
    def unit_name(self) -> str:
        """The receiving unit as addressed: a street with its district."""
        r = self.row
        if r["region_level"] == "street":
            return f"{r['district']}{r['region_name']}"
        return str(r["region_name"])

    @property
    def file_stem(self) -> str:
        """A file name that sorts by number: ``2026-10042_如东县搬经街道``."""
        return f"{self.row['notice_year']}-{int(self.row['notice_seq']):05d}_{self.unit_name}"

    def blocks(self) -> list[Block]:
        r = self.row
        month = fmt.month(r["month"])
        out = [
            Block("title", TITLE),
            Block("number", self.notice_id),
            Block("salutation", f"{self.unit_name}："),
            Block(
                "paragraph",
                f"根据全市平安稳定指数监测，{month}你单位"
                f"以下{len(self.items)}项指标出现异常波动，趋于恶化，现予提示。",
            ),
            Block("heading", "一、指标变化情况"),
            Block("table", rows=(TABLE_HEADER, *(_item_row(i) for i in self.items))),
        ]
        for n, item in enumerate(self.items, start=1):
            out.append(Block("heading", f"（{_cn(n)}）{item['indicator_name']}"))
            out.append(Block("paragraph", _item_text(item)))
            kinds = self.drivers.get(str(item["alert_id"]), {})
            for kind in DRIVER_KINDS:
                if kinds.get(kind):
                    out.append(
                        Block("paragraph", _driver_text(kind, kinds[kind], str(item["unit"])))
                    )
        due = fmt.day(r["due_at"])
        out += [
            Block("heading", "二、工作要求"),
            Block(
                "paragraph",
                "请你单位收到本提示单后立即组织研判，针对上述指标及其主要来源（类别、街道或地点）"
                "开展排查整治，落实属地责任，防止风险累积升级。",
            ),
            Block(
                "paragraph",
                f"请于{due}前通过指挥中心办公系统签收并反馈整改措施（注明提示单编号"
                f"{self.notice_id}）；逾期未反馈的，指挥中心将予以督办。",
            ),
            Block("signature", ISSUER),
            Block("signature", f"{fmt.day(r['issued_at'])}"),
        ]
        return out


def _cn(n: int) -> str:
    digits = "一二三四五六七八九十"
    return digits[n - 1] if 1 <= n <= 10 else str(n)


def _value(v: Any, unit: str) -> str:
    return fmt.MISSING if fmt.missing(v) else f"{fmt.score(v)}{unit}"


def _change(item: dict[str, Any]) -> str:
    if fmt.missing(item.get("change_abs")):
        return fmt.MISSING
    if fmt.missing(item.get("change_pct")):
        return f"{fmt.signed(item['change_abs'], 2)}{item['unit']}"
    return f"{'+' if item['change_pct'] >= 0 else ''}{fmt.pct(item['change_pct'])}"


def _range(item: dict[str, Any]) -> str:
    lo, hi = item.get("expected_low"), item.get("expected_high")
    if fmt.missing(lo) and fmt.missing(hi):
        return fmt.MISSING
    # a count or a rate cannot be negative, whatever the symmetric range says
    lo_text = fmt.MISSING if fmt.missing(lo) else fmt.score(max(float(lo or 0.0), 0.0))
    hi_text = fmt.score(hi) if not fmt.missing(hi) else fmt.MISSING
    return f"{lo_text}～{hi_text}"


def _item_row(item: dict[str, Any]) -> tuple[str, ...]:
    unit = str(item["unit"] or "")
    return (
        f"{item['indicator_name']}（{unit}）",
        _value(item["value"], ""),
        _value(item["previous_value"], ""),
        _change(item),
        _value(item["last_year_value"], ""),
        _range(item),
        _value(item["level_average"], ""),
        str(item["severity"]),
    )


def _item_text(item: dict[str, Any]) -> str:
    unit = str(item["unit"] or "")
    parts = [f"本月{_value(item['value'], unit)}"]
    if not fmt.missing(item["previous_value"]):
        parts.append(f"上月{_value(item['previous_value'], unit)}（{_change(item)}）")
    if not fmt.missing(item["last_year_value"]):
        parts.append(f"去年同期{_value(item['last_year_value'], unit)}")
    if _range(item) != fmt.MISSING:
        parts.append(f"预期范围{_range(item)}{unit}")
    if not fmt.missing(item["level_average"]):
        parts.append(f"同级单位平均{_value(item['level_average'], unit)}")
    text = "，".join(parts) + "。"
    evidence = item.get("evidence")
    if not fmt.missing(evidence) and str(evidence).strip():
        text += f"判定依据：{evidence}。"
    return text


def _driver_text(kind: str, drivers: list[dict[str, Any]], unit: str) -> str:
    counted = "件" if "件" in unit else "处" if unit == "%" else "起"
    listed = "、".join(
        f"{d['driver_label']}{int(d['driver_count'])}{counted}（上月{int(d['previous_count'])}）"
        for d in drivers
    )
    lead = {"类别": "主要类别", "街道(镇)": "主要街道(镇)", "地点": "主要地点"}.get(kind, kind)
    if unit == "%":
        lead += "（未整改隐患）"
    return f"{lead}：{listed}。"


def load_notices(
    month: str, scope: Scope = data_notices.FULL_SCOPE, notice_ids: list[str] | None = None
) -> list[Notice]:
    """The notices of ``month`` (or the given ones) with their items and drivers,
    in number order (three queries, whatever the number of notices)."""
    reg = data_notices.notices(scope, [month])
    if notice_ids is not None:
        reg = reg[reg["notice_id"].isin(notice_ids)]
    if reg.empty:
        return []
    ids = reg["notice_id"].tolist()
    items = data_notices.notice_items(scope, ids)
    drivers = data_notices.notice_drivers(scope, ids)
    by_notice: dict[str, list[dict[str, Any]]] = {}
    for rec in items.to_dict("records"):
        by_notice.setdefault(str(rec["notice_id"]), []).append(rec)
    by_alert: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for rec in drivers.to_dict("records"):
        kinds = by_alert.setdefault(str(rec["alert_id"]), {})
        kinds.setdefault(str(rec["driver_kind"]), []).append(rec)
    out = []
    for row in reg.to_dict("records"):
        nid = str(row["notice_id"])
        its = by_notice.get(nid, [])
        out.append(
            Notice(
                row=row,
                items=its,
                drivers={str(i["alert_id"]): by_alert.get(str(i["alert_id"]), {}) for i in its},
            )
        )
    return out


def notice_frame(notices: list[Notice]) -> pd.DataFrame:
    """Notice rows as a table (for listings)."""
    return pd.DataFrame([n.row for n in notices])
