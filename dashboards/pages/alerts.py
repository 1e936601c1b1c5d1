"""预警提示单: the alerts of the month, filterable, with what moved and by how much;
the notices issued (status, overdue, days in each status), their .docx/.pdf documents
(built on click, logged), whether they worked, and OA feedback that matches no notice."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from contracts.entities import NOTICE_STATUSES
from dashboards import access_log, data, documents, fmt, ui
from dashboards.data import notices as data_notices
from dashboards.documents import pdf_notice

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

    # ------------------------------------------------------------ notices (提示单)
    st.subheader("提示单")
    if not data_notices.available():
        st.info("当前数据快照尚无提示单（请重新运行 `pingan run`）。")
        ui.done()
    statuses = st.multiselect(
        "办理状态", list(NOTICE_STATUSES), default=list(NOTICE_STATUSES), key="notices_status"
    )
    overdue_only = st.checkbox("只看逾期未反馈的", value=False, key="notices_overdue")
    issued = data_notices.notices(scope, months, district, tuple(statuses), overdue_only)
    n1, n2, n3, n4 = st.columns(4)
    n1.metric(f"下发提示单（{period}）", fmt.count(len(issued)))
    n2.metric(
        "已销号",
        fmt.count(int((issued["status"] == data_notices.CLOSED).sum()) if len(issued) else 0),
    )
    n3.metric("逾期未反馈", fmt.count(int(issued["is_overdue"].sum()) if len(issued) else 0))
    n4.metric(
        "退回重办",
        fmt.count(int((issued["status"] == data_notices.RETURNED).sum()) if len(issued) else 0),
    )
    shown_notices = issued.copy()
    if not shown_notices.empty:
        shown_notices["unit_name"] = shown_notices.apply(
            lambda r: (
                f"{r['district']}{r['region_name']}"
                if r["region_level"] == "street"
                else r["region_name"]
            ),
            axis=1,
        )
        shown_notices["overdue"] = shown_notices["is_overdue"].map({True: "逾期", False: ""})
    ui.table(
        shown_notices,
        {
            "notice_id": ("提示单编号", ui.TEXT),
            "month": ("月份", ui.MONTH),
            "unit_name": ("接收单位", ui.TEXT),
            "indicator_names": ("预警指标", ui.TEXT),
            "issued_at": ("下发时间", ui.TIME),
            "due_at": ("反馈期限", ui.TIME),
            "status": ("办理状态", ui.TEXT),
            "overdue": ("逾期", ui.TEXT),
            "days_issued": ("待签收(天)", ui.SCORE),
            "days_signed": ("已签收(天)", ui.SCORE),
            "days_reported": ("已反馈待销号(天)", ui.SCORE),
            "days_open": ("办理总时长(天)", ui.SCORE),
            "has_feedback_before_issue": ("反馈早于下发", ui.FLAG),
        },
        empty=f"{period}没有符合条件的提示单。",
        key="notices_table",
    )

    if not issued.empty:
        ids = issued["notice_id"].tolist()
        units = dict(zip(ids, shown_notices["unit_name"], strict=True))
        chosen = st.selectbox(
            "下载提示单", ids, format_func=lambda i: f"{i} {units.get(i, '')}", key="notices_pick"
        )

        def _document(render, notice_id: str = chosen):
            # Built on click (not on every rerun): the notice is read and rendered then.
            def build() -> bytes:
                found = documents.load_notices(
                    str(issued.loc[issued["notice_id"] == notice_id, "month"].iloc[0]),
                    scope,
                    [notice_id],
                )
                return render(found[0]) if found else b""

            return build

        def _log_download(kind: str, notice_id: str = chosen) -> None:
            access_log.record(
                data.settings(),
                user=user.username,
                role=user.role,
                district=user.district,
                action=f"download_notice_{kind}",
                target=notice_id,
                allowed=True,
            )

        stem = f"{chosen}_{units.get(chosen, '')}"
        d1, d2 = st.columns(2)
        d1.download_button(
            "下载 Word（.docx）",
            data=_document(documents.render_docx),
            file_name=f"{stem}.docx",
            mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            on_click=_log_download,
            args=("docx",),
            key="notices_docx",
        )
        if not pdf_notice.font_available():
            d2.caption("PDF 需要中文字体 fonts-wqy-zenhei（`make documents`），暂只提供 Word 版。")
        else:
            d2.download_button(
                "下载 PDF",
                data=_document(documents.render_pdf),
                file_name=f"{stem}.pdf",
                mime="application/pdf",
                on_click=_log_download,
                args=("pdf",),
                key="notices_pdf",
            )

    st.subheader("提示单成效")
    st.caption("提示后1个月、2个月，触发提示的指标是否回到预期范围内（未再出现恶化预警）。")
    rates = data_notices.notice_effect_rates(scope)
    ui.table(
        rates,
        {
            "district": ("区县", ui.TEXT),
            "indicator_name": ("指标", ui.TEXT),
            "notified": ("提示指标数", ui.COUNT),
            "judged_1m": ("1个月后可评估", ui.COUNT),
            "back_rate_1m": ("1个月后回归率", ui.PCT),
            "judged_2m": ("2个月后可评估", ui.COUNT),
            "back_rate_2m": ("2个月后回归率", ui.PCT),
        },
        empty="暂无可评估的提示单。",
        key="notices_effect",
    )

    if not scope.restricted:
        unmatched = data_notices.unmatched_feedback(scope)
        with st.expander(f"无法匹配的反馈：{fmt.count(len(unmatched))}条（提示单编号不存在）"):
            ui.table(
                unmatched,
                {
                    "feedback_id": ("反馈编号", ui.TEXT),
                    "quoted_notice_id": ("填报的提示单编号", ui.TEXT),
                    "unit": ("接收单位", ui.TEXT),
                    "status": ("办理状态", ui.TEXT),
                    "updated_at": ("更新时间", ui.TIME),
                    "reason": ("原因", ui.TEXT),
                },
                empty="没有无法匹配的反馈。",
                key="notices_unmatched",
            )
