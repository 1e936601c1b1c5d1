"""挂图作战: the safety index and completion rates as choropleths over district and street
boundaries, group-rental leads or the 12345 hotspots (tickets by place) as points over
them; no tile server (Vega-Lite geoshape).
Units without a polygon are listed beside the map, never dropped."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import boundaries, charts, data, fmt, ui

LEVEL_LABELS = {"district": "区县", "street": "街道(镇)"}
MEASURES = {"safety_index": "平安稳定指数", "completion_rate": "办结率"}
OVERLAYS = {"none": "不叠加", "leads": "叠加群租房线索（待核查）", "hotspots": "叠加12345工单热点"}


def choropleth(shapes: list[dict[str, Any]], values: pd.DataFrame, **spec: Any) -> None:
    """Polygons coloured by a value (:func:`dashboards.charts.choropleth_spec`, the
    bulletin's map too)."""
    chart = charts.choropleth_spec(shapes, values, **spec)
    st.altair_chart(chart.properties(height=480), width="stretch")


def unplaced(values: pd.DataFrame, shapes: list[dict[str, Any]], label: str) -> None:
    """Units that have data but no polygon: listed, never dropped."""
    keys = {f["properties"]["region_key"] for f in shapes}
    missing = values[~values["region_key"].isin(keys)]
    if missing.empty:
        st.caption(f"所有{label}均已上图。")
        return
    st.markdown(f"**未上图的{label}（无边界数据）**")
    ui.table(missing, {"region_name": (label, ui.TEXT), "shown": ("数值", ui.TEXT)}, key="unplaced")


def unplaced_hotspots(hot: pd.DataFrame, period: str) -> None:
    """Hotspots the registry cannot place (no dwelling registered there): listed, never dropped."""
    if hot.empty:
        st.caption(f"{period}无可上图的12345工单热点。")
        return
    missing = hot[hot["lon"].isna() | hot["lat"].isna()]
    st.caption(f"热点：工单最多的{len(hot)}处地点，点越大工单越多；位置取自出租房屋登记。")
    if missing.empty:
        return
    st.markdown("**未上图的热点（登记库中无该地点坐标）**")
    ui.table(
        missing.assign(where=missing["street"] + missing["place"]),
        {"where": ("地点", ui.TEXT), "tickets": ("工单数", ui.COUNT)},
        key="unplaced_hotspots",
    )


with ui.page("地图", "挂图作战：指数、办结率与群租线索的区域分布") as user:
    scope = user.scope
    c1, c2, c3 = st.columns(3)
    with c1:
        measure = st.radio(
            "指标", list(MEASURES), format_func=MEASURES.get, horizontal=True, key="map_measure"
        )
    with c2:
        level = st.radio(
            "层级",
            list(LEVEL_LABELS),
            format_func=LEVEL_LABELS.get,
            horizontal=True,
            index=1 if scope.restricted else 0,
            key="map_level",
        )
    months = data.index_months() if measure == "safety_index" else data.completion_months()
    with c3:
        month = ui.month_select(months, key="map_month")
    if month is None:
        st.info("暂无可上图的数据。")
        ui.done()
    label = LEVEL_LABELS[level]
    period = fmt.month(month)
    percent = measure == "completion_rate"
    if measure == "safety_index":
        values = data.index_units(scope, month, level)[
            ["region_key", "region_name", "safety_index"]
        ]
    else:
        rates = data.completion_breakdown(scope, [month], "hotline", level)
        values = rates.assign(region_name=rates["unit"])[
            ["region_key", "region_name", "completion_rate"]
        ]
    values = values.assign(shown=values[measure].map(fmt.pct if percent else fmt.score))
    shapes, problem = boundaries.for_map(scope, level)
    overlay = st.radio(
        "点位", list(OVERLAYS), format_func=OVERLAYS.get, horizontal=True, key="map_overlay"
    )
    points = None
    hot = pd.DataFrame()
    if overlay == "leads":
        leads = data.leads(scope, limit=500).dropna(subset=["lon", "lat"])
        points = leads.assign(名称=leads["address"], 显示值=leads["score"].map(fmt.score))
    elif overlay == "hotspots":
        # the hotline's own month (received), which the index and cohort months share
        hot = data.hotspots(scope, month)
        placed = hot.dropna(subset=["lon", "lat"])
        points = placed.assign(
            名称=placed["street"] + placed["place"],
            显示值=placed["tickets"].map(lambda n: f"{int(n)}件")
            + "（街道每万人"
            + placed["street_tickets_per_10k"].map(fmt.score)
            + "件）",
            size=placed["tickets"],
        )[["lon", "lat", "名称", "显示值", "size"]]

    left, right = st.columns([3, 1])
    with left:
        title = ui.chart_title(
            f"{label}{MEASURES[measure]}" + ("（12345工单）" if percent else ""),
            "%" if percent else "分",
            period,
        )
        if problem:
            (st.warning if shapes else st.error)(fmt.plain(problem))
        if not shapes:
            if not problem:
                st.info(
                    f"无{label}边界数据（设置 {boundaries.ENV} 指向边界文件），以下按列表显示。"
                )
        else:
            choropleth(
                shapes,
                values,
                value=measure,
                title=title,
                unit="%" if percent else "分",
                percent=percent,
                points=points,
            )
    with right:
        unplaced(values, shapes, label)
        if overlay == "hotspots":
            unplaced_hotspots(hot, period)
