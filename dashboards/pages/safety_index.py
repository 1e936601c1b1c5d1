"""平安稳定指数: index per district and street, map, ranking, components, trend and movers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import boundaries, charts, data, fmt, ui

LEVEL_LABELS = {"district": "区县", "street": "街道(镇)"}
DIRECTIONS = {"positive": "正向（越高越好）", "negative": "负向（越低越好）"}
VALUE_STATUS = {
    "observed": "实测",
    "inherited": "沿用区县值",
    "carried_forward": "沿用上期",
    # too few of the unit's records could be placed in it: not an observed 0
    "unattributed": "无法归属到本单位（按缺失处理）",
    "missing": "缺失",
}

with ui.page("平安稳定指数", "按区县、街道(镇)的指数、构成与变化") as user:
    scope = user.scope
    months = data.index_months()
    c1, c2, c3 = st.columns(3)
    with c1:
        month = ui.month_select(months, key="index_month")
    with c2:
        level = st.radio(
            "层级",
            list(LEVEL_LABELS),
            format_func=LEVEL_LABELS.get,
            horizontal=True,
            index=1 if scope.restricted or st.query_params.get("level") == "street" else 0,
            key="index_level",
        )
    with c3:
        district = (
            ui.district_select(user, key="index_district")
            if level == "street"
            else (user.district if scope.restricted else None)
        )
    if month is None:
        st.info("暂无平安稳定指数数据。")
        ui.done()

    units = data.index_units(scope, month, level, district)
    if not units.empty:
        units = units.assign(
            rank_interval=[
                fmt.rank_interval(lo, hi)
                for lo, hi in zip(units["rank_p05"], units["rank_p95"], strict=True)
            ],
            rank_change_label=[
                fmt.rank_change(change, within)
                for change, within in zip(
                    units["rank_change_mom"], units["rank_change_within_interval"], strict=True
                )
            ],
        )
    label = LEVEL_LABELS[level]
    period = fmt.month(month)

    left, right = st.columns([3, 2])
    with left:
        shapes, problem = boundaries.for_map(scope, level)
        if district is not None:  # one district's streets: its polygons only
            shapes = [f for f in shapes if f["properties"]["region_key"].split("/")[0] == district]
        if problem:
            st.caption(fmt.plain(problem))
        if shapes and not units.empty:
            chart = charts.choropleth_spec(
                shapes,
                units,
                value="safety_index",
                title=charts.chart_title(f"{label}平安稳定指数分布", "分", period),
                unit="分",
                percent=False,
                labels=len(shapes) <= 40,
            )
            st.altair_chart(chart.properties(height=420), width="stretch")
            keys = {f["properties"]["region_key"] for f in shapes}
            unplaced = units[~units["region_key"].isin(keys)]
        else:  # no boundary file: the units' centroids as points
            ui.point_map(
                units,
                value="safety_index",
                label="region_name",
                title=f"{label}平安稳定指数分布",
                unit="分",
                period=period,
                size=900 if level == "district" else 250,
                labels=len(units) <= 40,
            )
            unplaced = (
                units[units["lon"].isna() | units["lat"].isna()] if not units.empty else units
            )
        if not unplaced.empty:  # listed beside the map, never dropped
            st.caption(
                f"未上图的{label}（无{'边界' if shapes else '位置'}数据）："
                + "、".join(
                    f"{fmt.plain(n)} {fmt.score(v)}分"
                    for n, v in zip(unplaced["region_name"], unplaced["safety_index"], strict=True)
                )
            )
    with right:
        st.markdown(f"**{label}排名（{fmt.plain(period)}）**")
        ui.table(
            units,
            {
                "rank": ("排名", ui.COUNT),
                "rank_interval": ("排名区间（90%）", ui.TEXT),
                "region_name": (label, ui.TEXT),
                **({"district": ("所属区县", ui.TEXT)} if level == "street" else {}),
                "safety_index": ("指数（分）", ui.SCORE),
                "grade": ("等级", ui.TEXT),
                "index_change_mom": ("环比（分）", ui.SIGNED),
                "rank_change_label": ("位次变化", ui.TEXT),
            },
            empty=f"{period}无{label}指数。",
            key="index_ranking",
            height=420,
        )
        st.caption(
            "排名区间：在指标权重、标准化方法、合成方法和调查值沿用方式的多种合理选择下"
            "（蒙特卡洛模拟），该单位排名的5%—95%范围；上月名次落在本月区间内的位次变化"
            f"标注为“{fmt.NOISE_LABEL}”。"
        )
        sens = data.index_sensitivity(month, level)
        if not sens.empty and sens["first_order_index"].notna().any():
            top = sens.iloc[0]
            st.caption(
                f"对排名影响最大的构成选择：{fmt.plain(top['choice_name'])}"
                f"（一阶敏感度 {float(top['first_order_index']):.2f}）。"
            )
            st.markdown(f"**排名敏感性（{fmt.plain(period)}，{label}）**")
            ui.table(
                sens,
                {
                    "choice_rank": ("影响排序", ui.COUNT),
                    "choice_name": ("构成选择", ui.TEXT),
                    "first_order_index": ("一阶敏感度", ui.NUM),
                    "options": ("各选项下平均位次偏移（位）", ui.TEXT),
                },
                key="index_sensitivity",
            )
            st.caption(
                "一阶敏感度：排名偏移的方差中由该项选择单独解释的比例（0—1），越大说明"
                "该项选择对排名影响越大；平均位次偏移为采用该选项的模拟中各单位名次与"
                "公布名次之差的平均绝对值。"
            )

    # ---- movers
    st.subheader(f"环比变化最大的{label}（{fmt.plain(period)}，与上月相比）")
    moved = units.dropna(subset=["index_change_mom"]) if not units.empty else units
    if moved.empty:
        st.info(f"{fmt.plain(period)}无上月可比数据。")
    else:
        up, down = st.columns(2)
        cols = {
            "region_name": (label, ui.TEXT),
            **({"district": ("所属区县", ui.TEXT)} if level == "street" else {}),
            "safety_index": ("指数（分）", ui.SCORE),
            "index_change_mom": ("环比（分）", ui.SIGNED),
            "rank_change_label": ("位次变化", ui.TEXT),
            "rank_interval": ("排名区间（90%）", ui.TEXT),
        }
        with up:
            st.markdown("**上升最多**")
            ui.table(moved.nlargest(5, "index_change_mom"), cols, key="movers_up")
        with down:
            st.markdown("**下降最多**")
            ui.table(moved.nsmallest(5, "index_change_mom"), cols, key="movers_down")

    # ---- one unit: components and trend
    st.subheader("单位构成分析")
    if units.empty:
        st.info(f"{fmt.plain(period)}无可分析的{label}。")
    else:
        keys = units["region_key"].tolist()
        names = dict(
            zip(units["region_key"], units["region_key"].str.replace("/", " · "), strict=True)
        )
        wanted = st.query_params.get("unit")
        unit_key = st.selectbox(
            f"选择{label}",
            keys,
            index=keys.index(wanted) if wanted in keys else 0,
            format_func=lambda k: names.get(k, k),
            key="index_unit",
        )
        unit_key = str(unit_key)
        comps = data.unit_components(scope, unit_key, month)
        trend = data.unit_trend(scope, unit_key)
        row = units[units["region_key"] == unit_key].iloc[0]
        st.markdown(
            f"**{fmt.plain(names[unit_key])}**：{fmt.score(row['safety_index'])}分"
            f"（{fmt.plain(row['grade'] or None)}），"
            f"第{int(row['rank']) if pd.notna(row['rank']) else '—'}名/"
            f"{int(row['units_ranked']) if pd.notna(row['units_ranked']) else '—'}"
            f"（排名区间 {row['rank_interval']}），"
            f"环比 {fmt.signed(row['index_change_mom'])} 分"
        )
        a, b = st.columns(2)
        with a:
            plot = comps.assign(方向=comps["gap"].map(lambda g: "#2e7d32" if g >= 0 else "#c62828"))
            ui.bar_chart(
                plot,
                x="indicator_name",
                y="gap",
                color="方向",
                title="各指标贡献与同级平均之差（正值拉高、负值拉低）",
                unit="分",
                period=period,
            )
        with b:
            tperiod = (
                fmt.period(trend["month"].min(), trend["month"].max()) if not trend.empty else ""
            )
            ui.line_chart(
                trend,
                x="month",
                y="safety_index",
                title=f"{names[unit_key]}指数走势",
                unit="分",
                period=tperiod or "近12个月",
            )
        comps = comps.assign(
            direction_label=comps["direction"].map(DIRECTIONS).fillna(comps["direction"]),
            status_label=comps["value_status"].map(VALUE_STATUS).fillna(comps["value_status"]),
        )
        ui.table(
            comps,
            {
                "indicator_name": ("指标", ui.TEXT),
                "raw_value": ("指标值", ui.NUM),
                "unit": ("单位", ui.TEXT),
                "attribution_coverage": ("归属率", ui.PCT),
                "direction_label": ("方向", ui.TEXT),
                "status_label": ("取值方式", ui.TEXT),
                "normalised_value": ("标准化得分", ui.SCORE),
                "effective_weight": ("有效权重", ui.NUM),
                "contribution": ("贡献（分）", ui.SCORE),
                "avg_contribution": ("同级平均贡献（分）", ui.SCORE),
                "gap": ("差值（分）", ui.SIGNED),
            },
            empty="该单位本月无指标构成数据。",
            key="index_components",
        )
        st.caption(
            "归属率：本月应属于该单位的记录中，能按地址、网格或所填区域落到该单位的比例"
            "（仅按记录统计的指标）。归属率过低的指标按缺失处理，其权重分配给其余指标，"
            "不当作“零发生”。"
        )
