"""The bulletin (月度/季度通报) as PDF: reportlab with the embedded TrueType CJK font of the
notices, charts from the pages' Altair specs rendered offline to PNG (vl-convert)."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Image,
    Paragraph,
    Spacer,
    Table,
)

from dashboards import charts, fmt
from dashboards.documents import bulletin as content
from dashboards.documents.bulletin import Bulletin
from dashboards.documents.pdf_notice import _escape, cjk_document, cjk_font, cjk_table_style

FRAME_WIDTH = 170 * mm  # A4 less 20 mm margins
CHART_PX = 620  # plot width in pixels; the PNG is scaled to the frame width


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=20, leading=30, alignment=TA_CENTER,
            textColor=colors.HexColor("#C00000"),
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", parent=base, fontSize=13.5, leading=22, spaceBefore=8),
        "subheading": ParagraphStyle("subheading", parent=base, fontSize=11.5, spaceBefore=4),
        "paragraph": ParagraphStyle("paragraph", parent=base, firstLineIndent=22),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=12.5,
                               textColor=colors.HexColor("#444444")),
        "signature": ParagraphStyle("signature", parent=base, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "head": ParagraphStyle("head", parent=base, fontSize=8.5, leading=11),
    }  # fmt: skip


class _Story:
    """The flowables of the document, with the bulletin's few kinds of block."""

    def __init__(self, font: str) -> None:
        self.font = font
        self.st = _styles(font)
        self.items: list[Any] = []

    def text(self, text: str, style: str = "paragraph") -> None:
        self.items.append(Paragraph(_escape(text), self.st[style]))

    def table(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        if not rows:
            self.text("（无数据）", "note")
            return
        cells = [[Paragraph(_escape(h), self.st["head"]) for h in header]]
        cells += [[Paragraph(_escape(c), self.st["cell"]) for c in row] for row in rows]
        t = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1)
        t.setStyle(cjk_table_style(self.font, 0.4))
        self.items += [t, Spacer(1, 3 * mm)]

    def chart(self, spec: Any, height_px: int | None = None) -> None:
        if spec is None:
            self.text("（本期无可绘制的数据）", "note")
            return
        png = charts.to_png(spec, CHART_PX, height_px)
        w, h = ImageReader(io.BytesIO(png)).getSize()
        width = FRAME_WIDTH * 0.92
        self.items += [Image(io.BytesIO(png), width=width, height=width * h / w), Spacer(1, 2 * mm)]


def _rank(v: Any) -> str:
    return fmt.MISSING if fmt.missing(v) else str(int(v))


def _ranking_rows(b: Bulletin) -> tuple[list[str], list[list[str]], list[float]]:
    d = b.districts
    if b.period.kind == "month":
        header = [
            "排名",
            "区县",
            "指数（分）",
            "等级",
            "环比（分）",
            "位次变化（较上月）",
            "排名区间（90%）",
            "最低归属率",
        ]
        rows = [
            [
                _rank(r["rank"]),
                str(r["region_name"]),
                fmt.score(r["safety_index"]),
                fmt.MISSING if fmt.missing(r["grade"]) else str(r["grade"]),
                fmt.signed(r["index_change_mom"]),
                r["rank_change_label"],
                r["rank_interval"],
                fmt.pct(r["min_attribution_coverage"]),
            ]
            for r in d.to_dict("records")
        ]
        return header, rows, [10, 34, 15, 10, 15, 41, 25, 20]
    by_month = b.district_months
    mean = by_month.groupby("region_key")["safety_index"].mean()
    ranks = by_month.pivot(index="region_key", columns="month", values="rank")
    header = [
        "排名",
        "区县",
        f"{int(b.period.last[5:])}月指数（分）",
        "季均指数",
        "各月排名（" + "/".join(str(int(m[5:])) + "月" for m in b.period.months) + "）",
        f"{int(b.period.last[5:])}月位次变化（较上月）",
        "排名区间（90%）",
        "最低归属率",
    ]
    rows = []
    for r in d.to_dict("records"):
        key = r["region_key"]
        monthly = "/".join(
            _rank(ranks.at[key, m]) if key in ranks.index and m in ranks.columns else fmt.MISSING
            for m in b.period.months
        )
        rows.append(
            [
                _rank(r["rank"]),
                str(r["region_name"]),
                fmt.score(r["safety_index"]),
                fmt.score(mean.get(key)),
                monthly,
                r["rank_change_label"],
                r["rank_interval"],
                fmt.pct(r["min_attribution_coverage"]),
            ]
        )
    return header, rows, [10, 28, 14, 14, 22, 40, 23, 19]


def _street_rows(b: Bulletin) -> list[list[str]]:
    s = b.streets.dropna(subset=["rank"]).sort_values("rank").tail(content.STREET_TAIL)
    return [
        [
            _rank(r["rank"]),
            str(r["district"]),
            str(r["region_name"]),
            fmt.score(r["safety_index"]),
            r["rank_change_label"],
            r["rank_interval"],
            fmt.pct(r["min_attribution_coverage"]),
            str(r["unattributed_names"]) if not fmt.missing(r["unattributed_names"]) else "—",
        ]
        for r in s.to_dict("records")
    ]


def _street_map(s: _Story, b: Bulletin) -> None:
    """The street index as a choropleth with the month's 12345 hotspots as points over it
    (the map page's spec); streets and hotspots that cannot be drawn are listed under it."""
    month = fmt.month(b.period.last)
    hot = b.hotspots
    placed = hot.dropna(subset=["lon", "lat"]) if not hot.empty else hot
    points = (
        placed.assign(
            名称=placed["street"] + placed["place"],
            显示值=placed["tickets"].map(lambda n: f"{int(n)}件"),
            size=placed["tickets"],
        )[["lon", "lat", "名称", "显示值", "size"]]
        if not placed.empty
        else None
    )
    title = "街道(镇)平安稳定指数分布" + (
        f"及12345工单最多的{len(hot)}处地点" if not hot.empty else ""
    )
    s.chart(
        charts.choropleth_spec(
            b.street_shapes,
            b.streets,
            value="safety_index",
            title=charts.chart_title(title, "分", month),
            unit="分",
            percent=False,
            points=points,
        ),
        height_px=420,
    )
    if b.unplaced_streets:
        s.text(f"未上图的街道(镇)（无边界数据）：{'、'.join(b.unplaced_streets)}。", "note")
    if hot.empty:
        return
    unplaced = b.unplaced_hotspots
    if not unplaced.empty:
        s.text(
            "未上图的热点（登记库中无该地点坐标）："
            + "、".join(
                f"{r['street']}{r['place']}（{int(r['tickets'])}件）"
                for r in unplaced.to_dict("records")
            )
            + "。",
            "note",
        )
    s.text(f"12345工单热点（{month}，工单最多的{content.HOTSPOTS_LISTED}处地点）", "subheading")
    s.table(
        ["地点", "区县", "街道(镇)", "工单（件）", "其中治安类（件）", "街道每万人工单（件）"],
        [
            [
                str(r["place"]),
                str(r["district"]),
                str(r["street"]),
                fmt.count(r["tickets"]),
                fmt.count(r["security_tickets"]),
                fmt.score(r["street_tickets_per_10k"]),
            ]
            for r in hot.head(content.HOTSPOTS_LISTED).to_dict("records")
        ],
        [48, 22, 26, 20, 26, 28],
    )


def _target(value: Any, target: Any) -> str:
    if fmt.missing(target):
        return fmt.pct(value)
    mark = (
        ""
        if fmt.missing(value)
        else ("（达标）" if float(value) >= float(target) else "（未达标）")
    )
    return f"{fmt.pct(value)}{mark}"


def render_bulletin(b: Bulletin) -> bytes:
    font = cjk_font()
    s = _Story(font)
    period = b.period
    pub = b.publication
    s.text(b.title, "title")
    s.text(
        f"{content.ISSUER}　　统计期间：{period.span}　　数据快照：{pub.get('version') or '未知'}",
        "subtitle",
    )
    s.items.append(Spacer(1, 5 * mm))

    # ---- 一、平安稳定指数
    s.text("一、平安稳定指数", "heading")
    s.text(content.index_summary(b))
    s.text(f"（一）区县排名（{fmt.month(period.last)}）", "subheading")
    header, rows, widths = _ranking_rows(b)
    s.table(header, rows, widths)
    if not b.sensitivity.empty and b.sensitivity["first_order_index"].notna().any():
        top = b.sensitivity.iloc[0]
        s.text(
            f"排名稳健性：对区县排名影响最大的构成选择是{top['choice_name']}"
            f"（一阶敏感度{float(top['first_order_index']):.2f}）。",
            "note",
        )
        s.table(
            ["影响排序", "构成选择", "一阶敏感度", "各选项下平均位次偏移（位）"],
            [
                [
                    _rank(r["choice_rank"]),
                    str(r["choice_name"]),
                    fmt.MISSING
                    if fmt.missing(r["first_order_index"])
                    else f"{float(r['first_order_index']):.2f}",
                    str(r["options"]),
                ]
                for r in b.sensitivity.to_dict("records")
            ],
            [18, 36, 22, 94],
        )
    if b.shapes:
        s.chart(
            charts.choropleth_spec(
                b.shapes,
                b.districts,
                value="safety_index",
                title=charts.chart_title("区县平安稳定指数分布", "分", fmt.month(period.last)),
                unit="分",
                percent=False,
                labels=True,
            ),
            height_px=330,
        )
        if b.unplaced:
            s.text(f"未上图的区县（无边界数据）：{'、'.join(b.unplaced)}。", "note")
    if b.map_note:
        s.text(b.map_note, "note")
    trend = b.trend
    tperiod = fmt.period(trend["month"].min(), trend["month"].max()) if not trend.empty else ""
    s.chart(
        charts.line_spec(
            trend,
            x="month",
            y="safety_index",
            color="region_name",
            color_title="区县",
            title="各区县平安稳定指数走势",
            unit="分",
            period=tperiod or period.span,
        ),
        height_px=300,
    )
    s.chart(
        charts.bar_spec(
            b.districts,
            x="region_name",
            y="safety_index",
            title="区县平安稳定指数",
            unit="分",
            period=fmt.month(period.last),
        )
    )
    s.text(f"（二）街道(镇)（{fmt.month(period.last)}）", "subheading")
    s.text(content.street_summary(b))
    s.table(
        [
            "排名",
            "区县",
            "街道(镇)",
            "指数（分）",
            "位次变化（较上月）",
            "排名区间（90%）",
            "最低归属率",
            "按缺失处理的指标",
        ],
        _street_rows(b),
        [10, 22, 22, 14, 45, 22, 16, 19],
    )
    if b.street_shapes:
        _street_map(s, b)

    # ---- 二、办结情况
    s.text("二、办结情况", "heading")
    s.text(content.completion_summary(b))
    s.table(
        ["事项", "应办结（件）", "已办结（件）", "办结率", "按期办结率", "满意率"],
        [
            [
                str(r["stream_label"]),
                fmt.count(r["items_due"]),
                fmt.count(r["items_closed"]),
                _target(r["completion_rate"], r["completion_rate_target"]),
                _target(r["on_time_rate"], r["on_time_rate_target"]),
                _target(r["satisfaction_rate"], r["satisfaction_rate_target"]),
            ]
            for r in b.completion.to_dict("records")
        ],
        [26, 24, 24, 32, 32, 32],
    )
    targets = "；".join(
        f"{r['stream_label']}"
        + "、".join(
            f"{name}{fmt.pct(r[f'{rate}_target'])}"
            for rate, name in content.RATE_NAMES.items()
            if not fmt.missing(r[f"{rate}_target"])
        )
        for r in b.completion.to_dict("records")
    )
    if targets:
        s.text(f"目标值：{targets}。", "note")
    s.chart(
        charts.bar_spec(
            b.completion_districts,
            x="unit",
            y="on_time_rate",
            title="12345工单按期办结率（区县）",
            unit="%",
            period=period.span,
            percent=True,
            sort_desc=False,
        )
    )

    # ---- 三、预警提示单
    s.text("三、预警提示单", "heading")
    s.text(content.notice_summary(b))
    s.table(
        ["区县", "下发", "已签收", "已反馈", "已销号", "退回重办", "逾期未反馈"],
        [
            [
                str(r["district"]),
                *(
                    str(int(r[c]))
                    for c in ("issued", "signed", "answered", "closed", "returned", "overdue")
                ),
            ]
            for r in b.notices.to_dict("records")
        ],
        [44, 21, 21, 21, 21, 21, 21],
    )

    # ---- 四、群租房线索
    s.text("四、群租房线索", "heading")
    s.text(content.lead_summary(b))
    leads = b.leads.merge(b.lead_checks, on="district", how="outer")
    s.table(
        [
            "区县",
            f"应下发核查（评分≥{b.dispatch_min_score:.0f}）",
            "待核查",
            "本期核查",
            "结论明确",
            "确认群租",
            "暂缓",
        ],
        [
            [
                str(r["district"]),
                *(
                    _int(r.get(c))
                    for c in (
                        "to_dispatch",
                        "open",
                        "checked",
                        "conclusive",
                        "confirmed",
                        "held_back",
                    )
                ),
            ]
            for r in leads.sort_values("district").to_dict("records")
        ],
        [40, 26, 18, 20, 20, 20, 20],
    )
    if not b.lead_backtest.empty:
        bt = b.lead_backtest
        s.text(
            "评分模型回测（用此前核查结论训练）：本期派发线索"
            f"{int(bt['leads_issued'].sum())}户，其后核查{int(bt['checked'].sum())}户，"
            f"确认群租{int(bt['confirmed'].sum())}户。",
            "note",
        )

    # ---- 五、数据质量
    s.text("五、数据质量", "heading")
    s.text(content.quality_summary(b))
    src = b.sources
    s.table(
        ["来源系统", "最近报送", "状态", "装载（行）", "拒收（行）", "拒收文件"],
        [
            [
                str(r["system_label"]),
                fmt.moment(r["last_delivery"]),
                "逾期"
                if int(r["late_entities"]) > 0
                else ("未检查" if int(r["unchecked_entities"]) > 0 else "正常"),
                fmt.count(r["rows_loaded"]),
                fmt.count(r["rows_rejected"]),
                str(int(r["files_rejected"])),
            ]
            for r in (src.to_dict("records") if not src.empty else [])
        ],
        [32, 40, 18, 28, 28, 24],
    )

    s.text("说明", "subheading")
    for note in b.notes:
        s.text(note, "note")
    s.items.append(Spacer(1, 6 * mm))
    s.text(content.ISSUER, "signature")
    s.text(fmt.moment(pub.get("published_at")) + "（数据快照发布时间）", "signature")

    buf = io.BytesIO()
    doc = cjk_document(
        buf,
        font,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=b.title,
    )

    def page_number(canvas: Any, doc_: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8.5)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"— {doc_.page} —")
        canvas.restoreState()

    doc.build(s.items, onFirstPage=page_number, onLaterPages=page_number)
    return buf.getvalue()


def _int(v: Any) -> str:
    return "0" if fmt.missing(v) else str(int(v))
