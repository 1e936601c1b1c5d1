"""What the monthly bulletin (月度通报) and its quarterly edition (季度通报) say.

:func:`load_bulletin` reads the published snapshot through the data-access layer
(:mod:`dashboards.data`, :mod:`dashboards.data.bulletin`) into a :class:`Bulletin`:
tables and figures the PDF renderer (:mod:`dashboards.documents.pdf_bulletin`) lays
out and the tests check against the marts. Ranks, rank intervals and the "within
noise" flag are the marts' (mart_safety_index, mart_safety_index_uncertainty); nothing
here ranks or re-scores a unit.

The quarterly edition covers the three months of a quarter: the ranking is the one of
the quarter's last month (the mart's), with each month's rank beside it and the
quarter's mean index; counts and rates are summed over the three months.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dashboards import boundaries, data, fmt
from dashboards.data import bulletin as data_bulletin
from dashboards.data.notices import FULL_SCOPE

ISSUER = "南通市社会治理现代化指挥中心"
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
QUARTER_NAMES = "一二三四"
TREND_MONTHS = 12
STREET_TAIL = 10  # the streets at the bottom of the ranking the bulletin names
HOTSPOTS = 30  # the month's places with the most 12345 tickets drawn on the street map
HOTSPOTS_LISTED = 10  # and named in its table
RATE_NAMES = {
    "completion_rate": "办结率",
    "on_time_rate": "按期办结率",
    "satisfaction_rate": "满意率",
}


class BulletinError(ValueError):
    """A bulletin that cannot be made from the snapshot (one line, actionable)."""


@dataclass(frozen=True)
class Period:
    """The months a bulletin covers: one month, or the three of a quarter."""

    kind: str  # month | quarter
    code: str  # 2026-10 | 2026-Q3
    months: tuple[str, ...]

    @classmethod
    def parse(cls, month: str | None = None, quarter: str | None = None) -> Period:
        if bool(month) == bool(quarter):
            raise BulletinError("give either a month (YYYY-MM) or a quarter (YYYY-Qn)")
        if month:
            if not MONTH.match(month):
                raise BulletinError(f"bad month {month!r}: expected YYYY-MM, e.g. 2026-10")
            return cls("month", month, (month,))
        m = QUARTER.match(str(quarter).upper())
        if not m:
            raise BulletinError(f"bad quarter {quarter!r}: expected YYYY-Qn, e.g. 2026-Q3")
        year, q = int(m.group(1)), int(m.group(2))
        months = tuple(f"{year:04d}-{3 * (q - 1) + i:02d}" for i in (1, 2, 3))
        return cls("quarter", f"{year:04d}-Q{q}", months)

    @property
    def last(self) -> str:
        return self.months[-1]

    @property
    def title(self) -> str:
        """``2026年10月`` or ``2026年第三季度``."""
        if self.kind == "month":
            return fmt.month(self.last)
        year, q = self.code.split("-Q")
        return f"{year}年第{QUARTER_NAMES[int(q) - 1]}季度"

    @property
    def edition(self) -> str:
        return "月度通报" if self.kind == "month" else "季度通报"

    @property
    def span(self) -> str:
        return fmt.period(self.months[0], self.last)


@dataclass
class Bulletin:
    """The content of one bulletin; every table is a DataFrame with the marts' columns."""

    period: Period
    publication: dict[str, Any]
    districts: pd.DataFrame  # the ranking of the period's last month
    district_months: pd.DataFrame  # index and rank per district and month (quarter)
    streets: pd.DataFrame  # the street ranking of the last month
    trend: pd.DataFrame  # district index per month, up to the period's last month
    city_trend: pd.DataFrame  # the city's population-weighted index per month
    completion: pd.DataFrame  # per stream: items, rates and their targets
    completion_districts: pd.DataFrame  # 12345 rates per district
    notices: pd.DataFrame  # per district
    lead_checks: pd.DataFrame  # per district
    leads: pd.DataFrame  # per district, as at the snapshot
    lead_backtest: pd.DataFrame
    dispatch_min_score: float
    sources: pd.DataFrame  # per source system: last delivery, rows; late as the run checked
    checks: pd.DataFrame  # latest quality run, per kind and entity
    hotspots: pd.DataFrame = field(default_factory=pd.DataFrame)  # the last month's top places
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)  # choices that move ranks
    shapes: list[dict[str, Any]] = field(default_factory=list)  # district polygons
    street_shapes: list[dict[str, Any]] = field(default_factory=list)
    map_note: str = ""  # why there is no map, or which polygons were left out
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def _unplaced(units: pd.DataFrame, shapes: list[dict[str, Any]]) -> list[str]:
        keys = {f["properties"]["region_key"] for f in shapes}
        return [
            str(r["region_name"]) for r in units.to_dict("records") if r["region_key"] not in keys
        ]

    @property
    def unplaced(self) -> list[str]:
        """Districts with an index but no polygon: listed beside the map, never dropped."""
        return self._unplaced(self.districts, self.shapes)

    @property
    def unplaced_streets(self) -> list[str]:
        """Streets with an index but no polygon (``district`` + street name)."""
        keys = {f["properties"]["region_key"] for f in self.street_shapes}
        return [
            f"{r['district']}{r['region_name']}"
            for r in self.streets.to_dict("records")
            if r["region_key"] not in keys
        ]

    @property
    def unplaced_hotspots(self) -> pd.DataFrame:
        """Hotspots without a position (no dwelling registered at the place)."""
        h = self.hotspots
        return h[h["lon"].isna() | h["lat"].isna()] if not h.empty else h

    @property
    def title(self) -> str:
        return f"全市平安建设{self.period.edition}（{self.period.title}）"

    @property
    def ranking(self) -> list[str]:
        """District names in rank order (the mart's rank), unranked last."""
        return self.districts["region_name"].tolist()


def available_months() -> list[str]:
    return data.index_months()


def _check_months(period: Period, months: list[str]) -> None:
    missing = [m for m in period.months if m not in months]
    if not missing:
        return
    have = f"{months[0]} to {months[-1]}" if months else "no month"
    if period.kind == "month":
        raise BulletinError(
            f"no safety index for {period.code} in the published snapshot (it has {have}); "
            "choose a month it covers or publish a newer snapshot (`pingan run`)"
        )
    raise BulletinError(
        f"{period.code} needs its three months {', '.join(period.months)} but the published "
        f"snapshot has no safety index for {', '.join(missing)} (it has {have})"
    )


def _ranking(month: str, level: str) -> pd.DataFrame:
    units = data.index_units(FULL_SCOPE, month, level)
    cover = data_bulletin.unit_coverage(month, level)
    units = units.merge(cover, on="region_key", how="left")
    units["rank_interval"] = [
        fmt.rank_interval(lo, hi)
        for lo, hi in zip(units["rank_p05"], units["rank_p95"], strict=True)
    ]
    units["rank_change_label"] = [
        fmt.rank_change(c, w)
        for c, w in zip(units["rank_change_mom"], units["rank_change_within_interval"], strict=True)
    ]
    return units.reset_index(drop=True)


def _targets() -> dict[str, dict[str, float]]:
    return data.config().get("targets", {})


def _completion(months: list[str]) -> pd.DataFrame:
    totals = data_bulletin.completion_totals(months)
    targets = _targets()
    totals["stream_label"] = totals["stream"].map(data.STREAMS).fillna(totals["stream"])
    for rate in RATE_NAMES:
        totals[f"{rate}_target"] = [targets.get(s, {}).get(rate) for s in totals["stream"]]
    order = {s: i for i, s in enumerate(data.STREAMS)}
    return totals.sort_values("stream", key=lambda s: s.map(order)).reset_index(drop=True)


def _city_trend(last_month: str) -> pd.DataFrame:
    city = data.headline_index(FULL_SCOPE, months=120)
    city = city[city["month"] <= last_month]
    return city.tail(TREND_MONTHS).reset_index(drop=True)


def load_bulletin(period: Period) -> Bulletin:
    """The bulletin of ``period`` from the published snapshot (raises
    :class:`BulletinError` when the snapshot has no index for one of its months)."""
    months = available_months()
    _check_months(period, months)
    ms = list(period.months)
    last = period.last
    leads_cfg = data.config().get("leads", {})
    min_score = float(leads_cfg.get("dispatch_min_score", 0))
    has_quality = data.table("quality.check_results") is not None
    bulletin = Bulletin(
        period=period,
        publication=data.publication(),
        districts=_ranking(last, "district"),
        district_months=data_bulletin.district_index_months(ms),
        streets=_ranking(last, "street"),
        trend=data_bulletin.district_index_trend(last, TREND_MONTHS),
        city_trend=_city_trend(last),
        completion=_completion(ms),
        completion_districts=data.completion_breakdown(FULL_SCOPE, ms, "hotline", "district"),
        notices=data_bulletin.notice_counts(ms),
        lead_checks=data_bulletin.lead_checks(ms),
        leads=data_bulletin.leads_by_district(min_score),
        lead_backtest=data_bulletin.backtest_issued(ms),
        dispatch_min_score=min_score,
        sources=data.source_freshness(),
        checks=data.check_summary(FULL_SCOPE) if has_quality else pd.DataFrame(),
        hotspots=_hotspots(last),
        sensitivity=data.index_sensitivity(last, "district"),
    )
    bulletin.shapes, bulletin.map_note = _shapes("district")
    if bulletin.shapes:
        bulletin.street_shapes, _ = _shapes("street")
    bulletin.notes = _notes(bulletin)
    return bulletin


def _hotspots(month: str) -> pd.DataFrame:
    if data.table("marts.mart_hotline_hotspots") is None:
        return pd.DataFrame()
    return data.hotspots(FULL_SCOPE, month, limit=HOTSPOTS)


def _shapes(level: str) -> tuple[list[dict[str, Any]], str]:
    """The polygons of a level (the map page's), and the line printed with the map: why
    there are none, or which features of the file were left out. A missing or broken
    boundaries file leaves the bulletin without its maps, not unmade."""
    shapes, problem = boundaries.for_map(FULL_SCOPE, level)
    if not shapes and problem:
        return [], f"边界文件无法使用（{boundaries.path().name}），本期未绘制地图。"
    if not shapes:
        return [], f"无边界数据（设置 {boundaries.ENV} 指向边界文件），本期未绘制地图。"
    return shapes, problem


def _notes(b: Bulletin) -> list[str]:
    """Caveats printed with the figures: what the intervals and the coverage mean."""
    notes = [
        "排名区间：在指标权重、标准化方法、合成方法和调查值沿用方式的多种合理选择下"
        "（蒙特卡洛模拟），该单位排名的5%—95%范围；上月名次落在本月区间内的位次变化"
        f"标注为“{fmt.NOISE_LABEL}”，不宜作为进退步的依据。",
        "归属率：应属于该单位的记录中，能按地址、网格或所填区域落到该单位的比例；"
        "归属率过低的指标按缺失处理（其权重分配给其余指标），不当作“零发生”。",
    ]
    if b.period.kind == "quarter":
        notes.append(
            f"季度排名为{fmt.month(b.period.last)}的月度排名，各月排名及季均指数列于其后；"
            "办结、提示单、线索核查等数量为三个月合计。"
        )
    return notes


# ---------------------------------------------------------------- sentences


def index_summary(b: Bulletin) -> str:
    """The opening paragraph of the index section."""
    d = b.districts
    ranked = d.dropna(subset=["rank"])
    parts = []
    city = b.city_trend[b.city_trend["month"] == b.period.last]
    if not city.empty:
        value = float(city["safety_index"].iloc[0])
        prev = b.city_trend[b.city_trend["month"] < b.period.last]
        text = f"{fmt.month(b.period.last)}全市平安稳定指数{fmt.score(value)}分"
        if not prev.empty:
            text += f"（环比{fmt.signed(value - float(prev['safety_index'].iloc[-1]))}分）"
        parts.append(text)
    if not ranked.empty:
        parts.append(
            f"{len(ranked)}个区县中{ranked['region_name'].iloc[0]}位列第一，"
            f"{ranked['region_name'].iloc[-1]}位列末位"
        )
    moved = d[d["rank_change_mom"].fillna(0) != 0]
    if not moved.empty:
        noise = moved["rank_change_within_interval"].fillna(False).astype(bool).sum()
        parts.append(f"{len(moved)}个区县位次发生变化，其中{int(noise)}个变化在误差范围内")
    low = d[d["unattributed_indicators"].fillna(0) > 0]
    if not low.empty:
        parts.append(f"{len(low)}个区县有指标因归属率不足按缺失处理")
    return "；".join(parts) + "。" if parts else "本期无平安稳定指数。"


def street_summary(b: Bulletin) -> str:
    s = b.streets
    if s.empty:
        return "本期无街道(镇)指数。"
    low = s[s["unattributed_indicators"].fillna(0) > 0]
    text = f"全市{int(s['rank'].notna().sum())}个街道(镇)参与排名"
    if not low.empty:
        text += (
            f"；{len(low)}个街道(镇)共{int(low['unattributed_indicators'].sum())}项指标"
            "因归属率不足按缺失处理"
        )
    return text + f"。排名末{min(STREET_TAIL, len(s))}位如下。"


def completion_summary(b: Bulletin) -> str:
    parts = []
    for row in b.completion.to_dict("records"):
        below = [
            name
            for rate, name in RATE_NAMES.items()
            if not fmt.missing(row.get(f"{rate}_target"))
            and not fmt.missing(row[rate])
            and float(row[rate]) < float(row[f"{rate}_target"])
        ]
        text = (
            f"{row['stream_label']}应办结{fmt.count(row['items_due'])}件，"
            f"办结率{fmt.pct(row['completion_rate'])}，按期办结率{fmt.pct(row['on_time_rate'])}"
        )
        if not fmt.missing(row["satisfaction_rate"]):
            text += f"，满意率{fmt.pct(row['satisfaction_rate'])}"
        text += f"，{'、'.join(below)}未达目标" if below else "，均达到目标"
        parts.append(text)
    return "；".join(parts) + "。" if parts else "本期无办结统计数据。"


def notice_summary(b: Bulletin) -> str:
    n = b.notices
    if n.empty:
        return "本期未下发预警提示单。"
    t = n[["issued", "signed", "answered", "closed", "returned", "overdue"]].sum()
    return (
        f"本期共下发预警提示单{int(t['issued'])}份，已签收{int(t['signed'])}份，"
        f"已反馈{int(t['answered'])}份，已销号{int(t['closed'])}份，退回重办{int(t['returned'])}份，"
        f"逾期未反馈{int(t['overdue'])}份。"
    )


def lead_summary(b: Bulletin) -> str:
    c, leads = b.lead_checks, b.leads
    checked = int(c["checked"].sum()) if not c.empty else 0
    confirmed = int(c["confirmed"].sum()) if not c.empty else 0
    text = f"本期公安核查群租房线索{checked}户，确认群租{confirmed}户"
    if not leads.empty:
        text += (
            f"；截至数据快照，待核查线索{int(leads['open'].sum())}户，"
            f"其中评分≥{b.dispatch_min_score:.0f}分应下发核查{int(leads['to_dispatch'].sum())}户"
        )
    return text + "。"


def quality_summary(b: Bulletin) -> str:
    s = b.sources
    if s.empty:
        return "数据快照未附装载台账，数据质量状态未知。"
    # lateness as the run's freshness checks recorded it (data.source_freshness)
    late = s[s["late_entities"] > 0]
    unchecked = s[(s["late_entities"] == 0) & (s["unchecked_entities"] > 0)]
    checked = s["checked_at"].max()
    rejected = int(s["rows_rejected"].fillna(0).sum())
    text = (
        (
            f"{len(s)}个数据来源系统中{len(late)}个在时效检查（{fmt.moment(checked)}）时"
            "有数据逾期未报送"
            if not pd.isna(checked)
            else f"{len(s)}个数据来源系统均未经时效检查"
        )
        + (f"（{'、'.join(late['system_label'])}）" if not late.empty else "")
        + (
            f"，{len(unchecked)}个有数据未经检查（{'、'.join(unchecked['system_label'])}）"
            if not unchecked.empty and not pd.isna(checked)
            else ""
        )
        + f"；累计装载{fmt.count(s['rows_loaded'].fillna(0).sum())}行，拒收{fmt.count(rejected)}行"
    )
    if not b.checks.empty:
        crit = int(b.checks["failed_critical"].sum())
        warn = int(b.checks["failed_warning"].sum())
        total = int(b.checks["checks"].sum())
        text += f"；最近一次质量检查{total}项，严重不通过{crit}项，警告{warn}项"
    return text + "。"
