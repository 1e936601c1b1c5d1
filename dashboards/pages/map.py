"""挂图作战: the safety index and completion rates as choropleths over district and street
boundaries, group-rental leads as points over them; no tile server (Vega-Lite geoshape).
Units without a polygon are listed beside the map, never dropped."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import boundaries, charts, data, fmt, ui

LEVEL_LABELS = {"district": "区县", "street": "街道(镇)"}
MEASURES = {"safety_index": "平安稳定指数", "completion_rate": "办结率"}


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
    shapes = boundaries.features(scope, level)
    show_leads = st.checkbox("叠加群租房线索（待核查）", value=False, key="map_leads")
    points = None
    if show_leads:
        leads = data.leads(scope, limit=500).dropna(subset=["lon", "lat"])
        points = leads.assign(名称=leads["address"], 显示值=leads["score"].map(fmt.score))

    left, right = st.columns([3, 1])
    with left:
        title = ui.chart_title(
            f"{label}{MEASURES[measure]}" + ("（12345工单）" if percent else ""),
            "%" if percent else "分",
            period,
        )
        if not shapes:
            st.info(f"无{label}边界数据（设置 {boundaries.ENV} 指向边界文件），以下按列表显示。")
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
