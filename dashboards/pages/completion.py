"""办结率: completion, on-time and satisfaction rates, drill-down to the overdue items."""

from __future__ import annotations

import streamlit as st

from dashboards import data, fmt, ui

RATE_COLUMNS = {
    "items_due": ("应办结（件）", ui.COUNT),
    "items_closed": ("已办结（件）", ui.COUNT),
    "completion_rate": ("办结率", ui.PCT),
    "on_time_rate": ("按期办结率", ui.PCT),
    "satisfaction_rate": ("满意率", ui.PCT),
}
MIN_ITEMS_FOR_WORST = 10  # a unit with fewer items is not ranked among the worst

with ui.page("办结率", "办结率、按期办结率、满意率：按事项、区县、街道、部门、类别") as user:
    scope = user.scope
    months_all = data.completion_months()
    c1, c2 = st.columns([2, 1])
    with c1:
        months = ui.month_range(months_all, key="completion_months")
    with c2:
        wanted = st.query_params.get("stream")
        streams = list(data.STREAMS)
        stream = st.radio(
            "事项",
            streams,
            format_func=data.STREAMS.get,
            horizontal=True,
            index=streams.index(wanted) if wanted in streams else 0,
            key="completion_stream",
        )
    if not months:
        st.info("暂无办结统计数据。")
        ui.done()
    period = fmt.period(months[0], months[-1])
    label = data.STREAMS[stream]
    st.caption(f"口径：按办理时限所在月份统计；统计期间 {fmt.plain(period)}。")

    # ---- by stream, the whole area
    totals = data.completion_period_by_stream(scope, months)
    if not totals.empty:
        totals["stream_label"] = totals["stream"].map(data.STREAMS)
    st.subheader(f"各类事项（{fmt.plain(period)}）")
    ui.table(
        totals,
        {"stream_label": ("事项", ui.TEXT), **RATE_COLUMNS},
        empty=f"{period}无数据。",
        key="completion_streams",
    )

    # ---- drill-down: district -> street -> overdue items
    d1, d2 = st.columns(2)
    with d1:
        district = ui.district_select(user, key="completion_district")
    with d2:
        street = ui.street_select(user, district, key="completion_street")

    by = "street" if district else "district"
    units = data.completion_breakdown(scope, months, stream, by, district=district)
    unit_label = "街道(镇)" if by == "street" else "区县"
    where = district or ("全市" if not scope.restricted else user.district)
    st.subheader(f"{label}：{fmt.plain(where)}各{unit_label}（{fmt.plain(period)}）")
    left, right = st.columns(2)
    with left:
        ui.bar_chart(
            units,
            x="unit",
            y="on_time_rate",
            title=f"{label}按期办结率（{unit_label}）",
            unit="%",
            period=period,
            percent=True,
            sort_desc=False,
        )
    with right:
        ui.table(units, {"unit": (unit_label, ui.TEXT), **RATE_COLUMNS}, key="completion_units")

    # ---- departments and categories of the selected area
    area = street or district or ("全市" if not scope.restricted else user.district)
    dep = data.completion_breakdown(scope, months, stream, "department", district, street)
    cat = data.completion_breakdown(scope, months, stream, "category", district, street)
    a, b = st.columns(2)
    with a:
        st.markdown(f"**{fmt.plain(area)}：按承办部门（{fmt.plain(period)}）**")
        ui.table(dep, {"unit": ("承办部门", ui.TEXT), **RATE_COLUMNS}, key="completion_dep")
    with b:
        st.markdown(f"**{fmt.plain(area)}：按事项类别（{fmt.plain(period)}）**")
        ui.table(cat, {"unit": ("类别", ui.TEXT), **RATE_COLUMNS}, key="completion_cat")

    # ---- worst performers
    st.subheader(f"按期办结率最低（{fmt.plain(period)}，应办结≥{MIN_ITEMS_FOR_WORST}件）")
    w1, w2 = st.columns(2)
    for col, df, name in ((w1, units, unit_label), (w2, dep, "承办部门")):
        with col:
            ranked = df[df["items_due"] >= MIN_ITEMS_FOR_WORST] if not df.empty else df
            ui.table(
                ranked.nsmallest(5, "on_time_rate") if not ranked.empty else ranked,
                {"unit": (name, ui.TEXT), **RATE_COLUMNS},
                empty="无足量样本的单位。",
                key=f"worst_{name}",
            )

    # ---- the individual overdue items
    st.subheader(f"逾期事项明细：{fmt.plain(area)}（{label}，{fmt.plain(period)}）")
    items = data.overdue_items(scope, stream, months, district, street)
    st.caption(
        f"逾期：超过办理时限仍未办结，或办结晚于时限；截至数据快照发布时间"
        f"{fmt.moment(data.as_of())}。最多显示500条，按逾期时长排序。个人信息不显示。"
    )
    ui.table(
        items,
        {
            "item_id": ("编号", ui.TEXT),
            "started_at": ("受理/上报时间", ui.TIME),
            "due_at": ("办理时限", ui.TIME),
            "closed_at": ("办结时间", ui.TIME),
            "hours_overdue": ("逾期（小时）", ui.COUNT),
            "status": ("状态", ui.TEXT),
            "district": ("区县", ui.TEXT),
            "street": ("街道(镇)", ui.TEXT),
            "category": ("类别", ui.TEXT),
            "department": ("承办部门", ui.TEXT),
            "address": ("地址/房屋编号", ui.TEXT),
        },
        empty=f"{area}在{period}没有逾期事项。",
        key="completion_overdue",
    )
