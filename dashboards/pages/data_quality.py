"""数据质量: per source the last delivery and freshness, the load ledger, rejected rows and
the Great Expectations results. City leaders and analysts only."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from contracts.entities import FILE_STATUS_LABELS
from dashboards import data, fmt, reasons, ui
from ingest.freshness import tolerance_text

STATUS = FILE_STATUS_LABELS
KINDS = {"gx": "数据校验", "freshness": "时效检查"}


def freshness_state(late: int, unchecked: int, entities: int) -> str:
    """What the latest run's freshness checks said of a source system's entities."""
    if late:
        return f"{late}类数据逾期" + (f"、{unchecked}类未检查" if unchecked else "")
    if unchecked == entities:
        return "未检查"
    return f"按时（{unchecked}类未检查）" if unchecked else "按时"


def with_reasons_in_chinese(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame.assign(reason=frame["reason"].map(reasons.display))


with ui.page(
    "数据质量",
    "各来源的最近交付、时效、入库台账、拒收记录与数据校验结果",
    roles=("leader", "analyst"),
) as user:
    scope = user.scope
    now = data.now_local()

    fresh = data.source_freshness()
    checked = fresh["checked_at"].max() if not fresh.empty else None
    st.subheader(
        f"各来源数据时效（检查于 {fmt.moment(checked)}）"
        if checked is not None and not pd.isna(checked)
        else "各来源数据时效（未检查）"
    )
    if not fresh.empty:
        fresh = fresh.assign(
            age=((now - pd.to_datetime(fresh["last_delivery"])).dt.total_seconds() / 3600).map(
                fmt.age
            ),
            state=[
                freshness_state(int(late), int(unchecked), int(n))
                for late, unchecked, n in zip(
                    fresh["late_entities"],
                    fresh["unchecked_entities"],
                    fresh["entities"],
                    strict=True,
                )
            ],
        )
    ui.table(
        fresh,
        {
            "system_label": ("来源系统", ui.TEXT),
            "last_delivery": ("最近交付", ui.TIME),
            "age": ("距今", ui.TEXT),
            "state": ("时效", ui.TEXT),
            "checked_at": ("检查于", ui.TIME),
            "files": ("文件数", ui.COUNT),
            "files_rejected": ("整体拒收文件", ui.COUNT),
            "rows_loaded": ("入库行数", ui.COUNT),
            "rows_rejected": ("拒收行数", ui.COUNT),
        },
        empty="尚无入库记录。",
        key="dq_fresh",
    )
    st.caption(
        "时效为调度平台最近一次运行记录的时效检查结果，"
        f"按各类数据约定的交付周期判断：{tolerance_text()}；"
        "“未检查”表示该次运行没有这类数据的检查结果。"
    )

    st.subheader("入库台账（最近500个文件）")
    status_label = st.selectbox("状态", ["全部", *STATUS.values()], key="dq_status")
    status = next((k for k, v in STATUS.items() if v == status_label), None)
    ledger = data.load_ledger(scope, status)
    if not ledger.empty:
        ledger = with_reasons_in_chinese(ledger).assign(
            status_label=ledger["status"].map(STATUS).fillna(ledger["status"])
        )
    ui.table(
        ledger,
        {
            "delivery_seq": ("批次", ui.TEXT),
            "ingested_at": ("入库时间", ui.TIME),
            "file_name": ("文件", ui.TEXT),
            "entity": ("数据类别", ui.TEXT),
            "status_label": ("状态", ui.TEXT),
            "rows_read": ("读取行数", ui.COUNT),
            "rows_loaded": ("入库行数", ui.COUNT),
            "rows_rejected": ("拒收行数", ui.COUNT),
            "rows_warned": ("告警行数", ui.COUNT),
            "reason": ("原因", ui.TEXT),
        },
        empty="没有符合条件的文件。",
        key="dq_ledger",
    )

    st.subheader("拒收记录")
    a, b = st.columns([1, 2])
    with a:
        st.markdown("**拒收原因汇总**")
        ui.table(
            with_reasons_in_chinese(data.rejection_reasons(scope)),
            {
                "entity": ("数据类别", ui.TEXT),
                "reason": ("原因", ui.TEXT),
                "rows": ("行数", ui.COUNT),
            },
            empty="没有拒收的记录。",
            key="dq_reasons",
        )
    with b:
        st.markdown("**拒收明细（最多500行，个人信息已脱敏）**")
        ui.table(
            with_reasons_in_chinese(data.rejected_rows(scope)),
            {
                "file_name": ("文件", ui.TEXT),
                "entity": ("数据类别", ui.TEXT),
                "row_number": ("行号", ui.COUNT),
                "reason": ("原因", ui.TEXT),
                "row_json": ("原始内容", ui.TEXT),
            },
            empty="没有拒收的记录。",
            key="dq_rejected",
        )
    st.markdown("**字段告警（值无法解析，已置空入库）**")
    ui.table(
        with_reasons_in_chinese(data.row_warnings(scope)),
        {
            "entity": ("数据类别", ui.TEXT),
            "column_name": ("字段", ui.TEXT),
            "reason": ("原因", ui.TEXT),
            "rows": ("行数", ui.COUNT),
            "example": ("示例值", ui.TEXT),
        },
        empty="没有字段告警。",
        key="dq_warnings",
    )

    st.subheader("数据校验结果（Great Expectations 与时效检查，最近一次运行）")
    summary = data.check_summary(scope)
    if not summary.empty:
        total, passed = int(summary["checks"].sum()), int(summary["passed"].sum())
        critical = int(summary["failed_critical"].sum())
        k1, k2, k3 = st.columns(3)
        k1.metric("校验项", fmt.count(total))
        k2.metric("通过率", fmt.pct(passed / total if total else None))
        k3.metric("严重失败", fmt.count(critical))
        st.caption(
            f"运行 {fmt.plain(summary['run_id'].iloc[0])}，"
            f"校验时间 {fmt.moment(summary['checked_at'].max())}。"
        )
        summary = summary.assign(kind_label=summary["kind"].map(KINDS).fillna(summary["kind"]))
    ui.table(
        summary,
        {
            "kind_label": ("类型", ui.TEXT),
            "entity": ("数据类别", ui.TEXT),
            "checks": ("校验项", ui.COUNT),
            "passed": ("通过", ui.COUNT),
            "failed_critical": ("严重失败", ui.COUNT),
            "failed_warning": ("警告", ui.COUNT),
        },
        empty="数据快照中没有校验结果。",
        key="dq_checks",
    )
    failures = data.check_failures(scope)
    if not summary.empty:
        st.markdown("**未通过的校验**")
        ui.table(
            failures,
            {
                "severity": ("级别", ui.TEXT),
                "entity": ("数据类别", ui.TEXT),
                "relation": ("表", ui.TEXT),
                "check_name": ("校验", ui.TEXT),
                "column_name": ("字段", ui.TEXT),
                "observed_value": ("观测值", ui.TEXT),
                "unexpected_count": ("不符合行数", ui.COUNT),
                "element_count": ("总行数", ui.COUNT),
            },
            empty="最近一次运行的校验全部通过。",
            key="dq_failures",
        )
    with st.expander("全部校验明细（最近一次运行）"):
        details = data.check_details(scope)
        if not details.empty:
            details = details.assign(
                kind_label=details["kind"].map(KINDS).fillna(details["kind"]),
                result=details["passed"].map({True: "通过", False: "未通过"}),
            )
        ui.table(
            details,
            {
                "kind_label": ("类型", ui.TEXT),
                "entity": ("数据类别", ui.TEXT),
                "check_name": ("校验", ui.TEXT),
                "column_name": ("字段", ui.TEXT),
                "severity": ("级别", ui.TEXT),
                "result": ("结果", ui.TEXT),
                "observed_value": ("观测值", ui.TEXT),
                "unexpected_count": ("不符合行数", ui.COUNT),
                "element_count": ("总行数", ui.COUNT),
            },
            empty="数据快照中没有校验结果。",
            key="dq_details",
        )
    exceptions = data.rental_check_exceptions(scope)
    st.subheader(f"无法用于线索模型学习的核查记录（{fmt.count(len(exceptions))}条）")
    ui.table(
        exceptions,
        {
            "check_id": ("核查编号", ui.TEXT),
            "lead_id": ("线索编号", ui.TEXT),
            "checked_at": ("核查时间", ui.TIME),
            "unit": ("核查单位", ui.TEXT),
            "verdict": ("核查结论", ui.TEXT),
            "address": ("核查地址", ui.TEXT),
            "problem": ("问题", ui.TEXT),
        },
        empty="所有核查记录都对应已登记房屋和已发布线索。",
        key="dq_check_exceptions",
    )
    for name in [t for t in data.quality_tables(scope) if t != "check_results"]:
        st.markdown(f"**quality.{fmt.plain(name)}**")
        ui.table(
            data.quality_results(scope, name),
            {c: (c, ui.TEXT) for c in data.quality_results(scope, name).columns},
            key=f"dq_other_{name}",
        )
