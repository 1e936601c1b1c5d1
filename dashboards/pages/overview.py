"""总览: where the city (or the officer's district) stands this month, in one screen."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data, fmt, ui

TREND_MONTHS = 12

with ui.page("总览", "本月平安稳定指数、办结率、预警、群租线索与数据时效") as user:
    scope = user.scope
    area = user.district if scope.restricted else "全市"
    months = data.index_months()
    month = ui.month_select(months, key="overview_month")
    cfg = data.config()
    targets = cfg.get("targets", {})
    dispatch_min = float(cfg.get("leads", {}).get("dispatch_min_score", 60))

    # ---- headline figures
    head = data.headline_index(scope, months=TREND_MONTHS)
    cur = head[head["month"] == month] if month else head.iloc[0:0]
    prev = head[head["month"] < month].tail(1) if month else head.iloc[0:0]
    index_value = cur["safety_index"].iloc[0] if not cur.empty else None
    index_delta = (
        index_value - prev["safety_index"].iloc[0]
        if index_value is not None and not prev.empty
        else None
    )
    comp_months = data.completion_months()
    comp_month = month if month in comp_months else (comp_months[-1] if comp_months else None)
    comp = data.completion_by_stream(scope, comp_months[-TREND_MONTHS:])
    comp_now = comp[comp["month"] == comp_month].set_index("stream") if comp_month else comp
    alerts_now = data.alerts(scope, [month]) if month else pd.DataFrame()
    leads = data.lead_summary(scope, dispatch_min)
    fresh = data.source_freshness()

    st.subheader(f"{fmt.plain(area)} · {fmt.plain(fmt.month(month))}")
    c1, c2, c3, c4, c5, c6 = st.columns(6)
    c1.metric(
        "平安稳定指数（分）",
        fmt.score(index_value),
        f"{fmt.signed(index_delta)}（环比）" if index_delta is not None else None,
        help="0–100分，越高越平安；全市为各区县指数按常住人口加权平均。",
    )

    def rate_metric(col, stream: str, measure: str, label: str) -> None:
        value = comp_now[measure].get(stream) if stream in comp_now.index else None
        target = targets.get(stream, {}).get(measure)
        delta = None
        if value is not None and not pd.isna(value) and target is not None:
            gap = float(value) - float(target)
            delta = f"{fmt.pct_points(gap)}（目标{fmt.pct(target)}）"
        col.metric(
            label, fmt.pct(value), delta, help=f"统计月份：{fmt.plain(fmt.month(comp_month))}"
        )

    rate_metric(c2, "hotline", "completion_rate", "12345办结率")
    rate_metric(c3, "grid", "completion_rate", "网格事件办结率")
    high = int((alerts_now["severity"] == "高").sum()) if not alerts_now.empty else 0
    c4.metric(
        "预警提示（条）",
        fmt.count(len(alerts_now)),
        f"高风险 {high} 条" if high else None,
        delta_color="inverse",
    )
    c5.metric(
        "待核查群租线索（条）",
        fmt.count(leads["open_over_threshold"]),
        help=f"评分≥{dispatch_min:.0f}分、尚未核查的线索（全部待核查 {fmt.count(leads['open'])} 条）",
    )
    if fresh.empty:
        c6.metric("数据时效", "无入库记录")
    else:
        # as the latest run's freshness checks recorded them; an unchecked source is not on time
        late = int((fresh["late_entities"] > 0).sum())
        unchecked = int(((fresh["late_entities"] == 0) & (fresh["unchecked_entities"] > 0)).sum())
        c6.metric(
            "按时交付的数据来源",
            f"{len(fresh) - late - unchecked}/{len(fresh)}",
            "、".join(
                ([f"{late}个来源逾期"] if late else [])
                + ([f"{unchecked}个来源未检查"] if unchecked else [])
            )
            or "全部按时",
            delta_color="inverse" if late else "off",
            help=f"最近一次入库：{fmt.moment(fresh['last_delivery'].max())}；"
            "逾期来源见“数据质量”页面。",
        )

    # ---- completion against targets
    st.subheader(f"各类事项办结情况与目标（{fmt.plain(fmt.month(comp_month))}）")
    rows = []
    for stream, label in data.STREAMS.items():
        if stream not in comp_now.index:
            continue
        r = comp_now.loc[stream]
        t = targets.get(stream, {})
        rows.append(
            {
                "stream": label,
                "items_due": r["items_due"],
                "completion_rate": r["completion_rate"],
                "completion_target": t.get("completion_rate"),
                "on_time_rate": r["on_time_rate"],
                "on_time_target": t.get("on_time_rate"),
                "satisfaction_rate": r["satisfaction_rate"],
                "met": all(
                    pd.notna(r[m]) and r[m] >= v
                    for m, v in t.items()
                    if m in ("completion_rate", "on_time_rate", "satisfaction_rate")
                ),
            }
        )
    ui.table(
        pd.DataFrame(rows),
        {
            "stream": ("事项", ui.TEXT),
            "items_due": ("应办结件数", ui.COUNT),
            "completion_rate": ("办结率", ui.PCT),
            "completion_target": ("办结率目标", ui.PCT),
            "on_time_rate": ("按期办结率", ui.PCT),
            "on_time_target": ("按期目标", ui.PCT),
            "satisfaction_rate": ("满意率", ui.PCT),
            "met": ("全部达标", ui.FLAG),
        },
        empty=f"{fmt.month(comp_month)}无办结统计数据。",
        key="overview_targets",
    )

    # ---- trends
    left, right = st.columns(2)
    with left:
        period = (
            fmt.period(head["month"].min(), head["month"].max()) if not head.empty else "近12个月"
        )
        ui.line_chart(
            head,
            x="month",
            y="safety_index",
            title=f"{area}平安稳定指数走势",
            unit="分",
            period=period,
        )
    with right:
        trend = comp.assign(事项=comp["stream"].map(data.STREAMS))
        period = (
            fmt.period(comp["month"].min(), comp["month"].max()) if not comp.empty else "近12个月"
        )
        ui.line_chart(
            trend,
            x="month",
            y="completion_rate",
            color="事项",
            title=f"{area}办结率走势",
            unit="%",
            period=period,
            percent=True,
        )

    # ---- district ranking
    st.subheader(f"区县平安稳定指数排名（{fmt.plain(fmt.month(month))}）")
    ranking = data.index_units(scope, month, "district") if month else pd.DataFrame()
    if scope.restricted and not ranking.empty:
        st.caption("区县工作人员仅可查看本区县的排名位次。")
    ui.table(
        ranking,
        {
            "rank": ("排名", ui.COUNT),
            "region_name": ("区县", ui.TEXT),
            "safety_index": ("指数（分）", ui.SCORE),
            "grade": ("等级", ui.TEXT),
            "index_change_mom": ("环比变化（分）", ui.SIGNED),
            "rank_change_mom": ("位次变化", ui.COUNT),
            "units_ranked": ("参与排名区县数", ui.COUNT),
        },
        empty=f"{fmt.month(month)}无区县指数。",
        key="overview_ranking",
    )
