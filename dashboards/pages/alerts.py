"""预警提示单: the alerts of the month, filterable, with what moved and by how much."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data, fmt, ui

LEVELS = {"全部": None, "区县": "district", "街道(镇)": "street"}

with ui.page("预警提示单", "指标环比异常波动或超出控制限的区县、街道") as user:
    scope = user.scope
    months_all = data.alert_months()
    if not months_all:
        st.info("暂无预警提示。")
        ui.done()
    c1, c2, c3 = st.columns(3)
    with c1:
        months = ui.month_range(months_all, key="alerts_months")
    with c2:
        severities = st.multiselect(
            "风险等级", list(data.SEVERITIES), default=["高", "中"], key="alerts_severity"
        )
    with c3:
        level_label = st.radio("层级", list(LEVELS), horizontal=True, key="alerts_level")
    c4, c5, c6 = st.columns(3)
    with c4:
        district = ui.district_select(user, key="alerts_district")
    with c5:
        indicator = st.selectbox(
            "指标", ["全部", *data.alert_indicators(scope)], key="alerts_indicator"
        )
    with c6:
        st.write("")
        worsening = st.checkbox("只看趋于恶化的", value=False, key="alerts_worsening")

    period = fmt.period(months[0], months[-1])
    found = data.alerts(
        scope,
        months,
        tuple(severities),
        district,
        LEVELS[level_label],
        worsening,
        None if indicator == "全部" else indicator,
    )
    n_high = int((found["severity"] == "高").sum()) if not found.empty else 0
    n_mid = int((found["severity"] == "中").sum()) if not found.empty else 0
    m1, m2, m3 = st.columns(3)
    m1.metric(f"预警提示（{fmt.plain(period)}）", fmt.count(len(found)))
    m2.metric("高风险", fmt.count(n_high))
    m3.metric("中风险", fmt.count(n_mid))

    if not found.empty:
        per_district = (
            found.groupby("district").size().rename("count").reset_index().astype({"count": float})
        )
        ui.bar_chart(
            per_district,
            x="district",
            y="count",
            title="各区县预警提示数量",
            unit="条",
            period=period,
            integer=True,
        )
    shown = found.copy()
    if not shown.empty:
        shown["what_moved"] = shown.apply(
            lambda r: (
                f"{fmt.score(r['previous_value'])} → {fmt.score(r['value'])} {r['unit'] or ''}"
                f"（{'+' if (r['change_abs'] or 0) >= 0 else ''}"
                f"{fmt.pct(r['change_pct']) if pd.notna(r['change_pct']) else '—'}）"
            ),
            axis=1,
        )
        shown["trend"] = shown["is_worsening"].map({True: "恶化", False: "好转"})
    ui.table(
        shown,
        {
            "month": ("月份", ui.MONTH),
            "severity": ("风险等级", ui.TEXT),
            "district": ("区县", ui.TEXT),
            "street": ("街道(镇)", ui.TEXT),
            "indicator_name": ("指标", ui.TEXT),
            "what_moved": ("变化（上月→本月）", ui.TEXT),
            "change_abs": ("变化量", ui.SIGNED),
            "rule": ("触发规则", ui.TEXT),
            "trend": ("趋势", ui.TEXT),
            "message": ("提示内容", ui.TEXT),
            "evidence": ("研判依据", ui.TEXT),
        },
        empty=f"{period}没有符合条件的预警提示。",
        key="alerts_table",
    )
