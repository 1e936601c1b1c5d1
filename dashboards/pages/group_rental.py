"""群租房预警: ranked group-rental leads, map, filters, detail and export for dispatch."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import boundaries, data, export, fmt, ui

with ui.page("群租房预警", "按评分排序的群租房线索，可筛选、查看详情、导出派发") as user:
    scope = user.scope
    cfg = data.config().get("leads", {})
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        district = ui.district_select(user, key="leads_district")
    with c2:
        street = ui.street_select(user, district, key="leads_street")
    with c3:
        min_score = st.slider(
            "最低评分", 0, 100, int(cfg.get("default_min_score", 50)), key="leads_min_score"
        )
    with c4:
        statuses = st.multiselect(
            "状态", list(data.LEAD_STATUSES), default=["待核查"], key="leads_status"
        )
    limit = st.radio(
        "显示前",
        [100, 300, 1000],
        index=1,
        horizontal=True,
        key="leads_limit",
        format_func=lambda n: f"{n}条",
    )
    leads = data.leads(scope, district, street, float(min_score), tuple(statuses), limit)
    summary = data.lead_summary(scope, float(cfg.get("dispatch_min_score", 60)))
    as_of = leads["as_of_date"].max() if "as_of_date" in leads and not leads.empty else None

    m1, m2, m3, m4 = st.columns(4)
    matching = data.lead_count(scope, district, street, float(min_score), tuple(statuses))
    m1.metric(
        "符合筛选条件的线索",
        fmt.count(matching),
        f"列出评分最高的 {len(leads)} 条" if matching > len(leads) else None,
        delta_color="off",
    )
    m2.metric(
        f"待核查（评分≥{float(cfg.get('dispatch_min_score', 60)):.0f}）",
        fmt.count(summary["open_over_threshold"]),
    )
    m3.metric("已确认群租", fmt.count(summary["confirmed"]))
    m4.metric("暂缓（近期核查为否）", fmt.count(summary["held_back"]))

    model = data.lead_model()
    if not model.empty:
        head = model.iloc[0]
        if head["model_kind"] == "prior_only":
            st.info(
                f"当前仅用先验规则评分（{fmt.plain(head['prior_only_reason'])}）；"
                "有了两类核查结论后，模型将按本市核查结果学习各因素权重。"
            )
        else:
            st.caption(
                f"评分模型 {fmt.plain(head['model_version'])}：用 {int(head['verdicts_used'])} 条核查结论学习"
                f"（确认群租 {int(head['positives'])} 条），以现行因素规则为先验。"
            )
        default_capacity = int(head["monthly_capacity"])
    else:
        default_capacity = 50
    capacity = st.number_input(
        "本月核查能力（户）",
        min_value=1,
        max_value=5000,
        value=default_capacity,
        step=10,
        key="leads_capacity",
    )
    expectation = data.expected_confirmations(scope, int(capacity))
    st.metric(
        f"核查前 {fmt.count(expectation['leads'])} 户待核查线索，预计确认群租",
        f"{expectation['expected']:.1f} 户",
    )

    left, right = st.columns([2, 3])
    with left:
        ui.point_map(
            leads,
            value="score",
            label="address",
            title="群租房线索分布",
            unit="评分（分）",
            period="当前数据快照",
            size=60,
            high_is_good=False,
            # the streets' outlines under the leads (none when there is no usable file;
            # every lead is in the list beside the map either way)
            background=boundaries.for_map(scope, "street")[0],
        )
    with right:
        st.markdown(f"**线索列表（评分≥{min_score}，按评分列出{fmt.count(len(leads))}条）**")
        ui.table(
            leads,
            {
                "lead_id": ("线索编号", ui.TEXT),
                "rank": ("排名", ui.COUNT),
                "score": ("评分", ui.SCORE),
                "probability": ("预计核实为群租的概率", ui.PCT),
                "prior_score": ("先验评分", ui.SCORE),
                "dispatch_type": ("派发类型", ui.TEXT),
                "status": ("状态", ui.TEXT),
                "district": ("区县", ui.TEXT),
                "street": ("街道(镇)", ui.TEXT),
                "address": ("地址", ui.TEXT),
                "reasons": ("主要依据", ui.TEXT),
            },
            empty="没有符合条件的线索。",
            key="leads_table",
            height=420,
        )

    st.subheader("模型回测（按月：用此前的核查结论训练，检验此后的核查结论）")
    backtest = data.lead_backtest()
    if backtest.empty:
        st.caption("核查结论不足两个月，暂无回测。")
    else:
        names = {
            "learned": "学习模型",
            "prior_only": "仅先验规则",
            "learned_with_exploration": "学习模型（含探索性线索）",
            "learned_exploit_only": "学习模型（不含评分以外的核查结论）",
        }
        ui.table(
            backtest.assign(model=backtest["model"].map(names).fillna(backtest["model"])),
            {
                "month": ("月份", ui.TEXT),
                "model": ("模型", ui.TEXT),
                "train_verdicts": ("训练用核查结论", ui.COUNT),
                "leads_issued": ("派发线索", ui.COUNT),
                "checked": ("已核查", ui.COUNT),
                "confirmed": ("确认群租", ui.COUNT),
                "hit_rate": ("命中率", ui.PCT),
                "ranked_precision": ("后续核查排序准确率", ui.PCT),
            },
            empty="暂无回测。",
            key="leads_backtest",
        )
    if not model.empty:
        head = model.iloc[0]
        cost = head["exploration_cost_expected_hits"]
        gain = head.get("exploration_precision_gain")
        taught = (
            "回测中尚无法衡量其作用"
            if gain is None or pd.isna(gain)
            else f"回测中，评分以外的核查结论使排序准确率变化 {float(gain):+.1%}"
        )
        st.caption(
            f"探索性线索：每月派发名单的 {float(head['exploration_share']):.0%} 给模型把握最小的线索，"
            f"本月预计因此少确认 {0.0 if pd.isna(cost) else float(cost):.1f} 户；{taught}。"
        )

    if not leads.empty:
        ids = leads["lead_id"].tolist()
        label = {
            r.lead_id: f"{r.lead_id} · {r.street or r.district} · {fmt.score(r.score)}分"
            for r in leads.itertuples()
        }
        st.subheader("线索详情")
        d1, d2 = st.columns([3, 1])
        with d1:
            chosen = st.selectbox(
                "选择线索", ids, format_func=lambda i: label.get(i, i), key="leads_detail_pick"
            )
        with d2:
            st.write("")
            # A link, not a button: one script run (the detail page) instead of two.
            st.page_link(
                "pages/lead_detail.py",
                label="查看详情",
                icon=":material/search:",
                query_params={"lead": str(chosen)},
            )

        st.subheader("导出派发")
        export_all = st.checkbox(
            f"导出全部筛选结果（{len(ids)}条）", value=False, key="leads_export_all"
        )
        picked = (
            ids
            if export_all
            else st.multiselect(
                "选择要导出的线索",
                ids,
                format_func=lambda i: label.get(i, i),
                key="leads_export_pick",
            )
        )
        if picked:
            # The rows are read now (cached); the file is built on the click, and logged.
            sheet = export.dispatch_sheet(data.leads_for_export(scope, picked))
            exported = ",".join(sheet[export.EXPORT_COLUMNS["lead_id"]].astype(str))
            e1, e2 = st.columns(2)
            with e1:
                ui.export_button(
                    user,
                    f"导出所选 {len(sheet)} 条线索（Excel）",
                    action="export_leads",
                    target=exported,
                    build=lambda: export.to_excel(sheet),
                    file_name=f"群租线索_{len(sheet)}条.xlsx",
                    mime=export.XLSX_MIME,
                    key="leads_export_button",
                )
            with e2:
                ui.export_button(
                    user,
                    f"导出所选 {len(sheet)} 条线索（CSV）",
                    action="export_leads_csv",
                    target=exported,
                    build=lambda: export.to_csv(sheet),
                    file_name=f"群租线索_{len(sheet)}条.csv",
                    mime=export.CSV_MIME,
                    key="leads_export_csv_button",
                )
            st.caption(
                "导出表第一列为线索编号，核查后请在“核查结论（回填）”列填写结论，以便回流匹配。"
            )
        else:
            st.caption("请选择要导出的线索。")
    if as_of is not None:
        st.caption(f"线索数据截至 {fmt.day(pd.Timestamp(as_of))}。")
