"""线索详情: one group-rental lead with the linked records of all four systems.

Every view is written to the access log, refused ones too (a district officer
asking for another district's lead, e.g. with a crafted ``?lead=`` parameter)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import access_log, data, fmt, ui
from dashboards.fmt import plain

COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "tickets": {
        "ticket_id": ("工单编号", ui.TEXT),
        "received_at": ("来电时间", ui.TIME),
        "category_path": ("诉求分类", ui.TEXT),
        "request_type": ("诉求类型", ui.TEXT),
        "status": ("状态", ui.TEXT),
        "department": ("承办单位", ui.TEXT),
        "satisfaction": ("满意度", ui.TEXT),
        "address": ("事发地址", ui.TEXT),
        "link_method": ("关联方式", ui.TEXT),
    },
    "events": {
        "event_id": ("事件编号", ui.TEXT),
        "reported_at": ("上报时间", ui.TIME),
        "category": ("事件大类", ui.TEXT),
        "subcategory": ("事件小类", ui.TEXT),
        "status": ("状态", ui.TEXT),
        "department": ("处置部门", ui.TEXT),
        "address": ("事发地址", ui.TEXT),
        "link_method": ("关联方式", ui.TEXT),
    },
    "registrations": {
        "registration_id": ("登记编号", ui.TEXT),
        "registered_at": ("登记时间", ui.TIME),
        "deregistered_at": ("注销时间", ui.TIME),
        "is_active": ("在住", ui.FLAG),
        "person_code": ("人员代号（化名）", ui.TEXT),
        "sex": ("性别", ui.TEXT),
        "reason": ("居住事由", ui.TEXT),
        "hukou_place": ("户籍地", ui.TEXT),
        "address": ("居住地址", ui.TEXT),
        "link_method": ("关联方式", ui.TEXT),
    },
    "incidents": {
        "incident_id": ("警情编号", ui.TEXT),
        "reported_at": ("接警时间", ui.TIME),
        "category": ("警情类别", ui.TEXT),
        "subcategory": ("警情细类", ui.TEXT),
        "station": ("管辖派出所", ui.TEXT),
        "outcome": ("处警结果", ui.TEXT),
        "address": ("发生地址", ui.TEXT),
        "link_method": ("关联方式", ui.TEXT),
    },
    "hazards": {
        "hazard_id": ("隐患编号", ui.TEXT),
        "found_at": ("发现时间", ui.TIME),
        "hazard_type": ("隐患类型", ui.TEXT),
        "found_by": ("发现来源", ui.TEXT),
        "due_at": ("整改期限", ui.TIME),
        "status": ("整改状态", ui.TEXT),
        "fixed_at": ("整改完成时间", ui.TIME),
    },
    "checks": {
        "check_id": ("核查编号", ui.TEXT),
        "lead_id": ("线索编号", ui.TEXT),
        "checked_at": ("核查时间", ui.TIME),
        "unit": ("核查单位", ui.TEXT),
        "verdict": ("核查结论", ui.TEXT),
        "occupants_found": ("实住人数", ui.COUNT),
        "hazards_found": ("发现隐患数", ui.COUNT),
        "address": ("核查地址", ui.TEXT),
    },
}
LINK_METHODS = {
    "house_id": "房屋编号",
    "exact": "地址精确匹配",
    "fuzzy": "地址模糊匹配",
    "none": "未关联",
}
SYSTEM_OF = {
    "tickets": "12345热线",
    "events": "网格化管理",
    "registrations": "公安",
    "incidents": "公安",
    "hazards": "出租房屋",
    "checks": "公安",
}

with ui.page("线索详情", "群租房线索及四个系统的关联记录") as user:
    scope = user.scope
    lead_id = (st.query_params.get("lead") or "").strip()
    if not lead_id:
        st.info("请从“群租房预警”页面选择一条线索。")
        st.page_link("pages/group_rental.py", label="返回群租房预警", icon=":material/home_work:")
        ui.done()
    found = data.lead(scope, lead_id)
    access_log.record(
        data.settings(),
        user=user.username,
        role=user.role,
        district=user.district,
        action="view_lead",
        target=lead_id,
        allowed=not found.empty,
    )
    if found.empty:
        st.error(f"线索 {plain(lead_id)} 不存在或不在您的权限范围内。")
        st.page_link("pages/group_rental.py", label="返回群租房预警", icon=":material/home_work:")
        ui.done()
    lead = found.iloc[0]

    st.subheader(f"{plain(lead['lead_id'])} · {plain(lead['address'])}")
    m1, m2, m3, m4, m5 = st.columns(5)
    m1.metric("评分", fmt.score(lead["score"]))
    m2.metric("排名", "—" if pd.isna(lead["rank"]) else f"第{int(lead['rank'])}名")
    m3.metric("状态", plain(lead["status"]))
    m4.metric("估计居住人数", fmt.count(lead.get("occupants_estimate")))
    area = lead.get("area_per_person_m2")
    m5.metric("人均建筑面积", "—" if area is None or pd.isna(area) else f"{area:.1f}㎡")
    st.markdown(f"**主要依据**：{plain(lead['reasons'] or None)}")
    p1, p2, p3 = st.columns(3)
    p1.metric("预计核实为群租的概率", fmt.pct(lead.get("probability")))
    p2.metric("先验评分（现行因素规则）", fmt.score(lead.get("prior_score")))
    p3.metric("派发类型", plain(lead.get("dispatch_type") or "未列入本月派发"))
    st.markdown("**各因素贡献**（学习模型：对数几率；先验：分）")
    ui.table(
        data.lead_contributions(scope, lead_id),
        {
            "factor_name": ("因素", ui.TEXT),
            "shown_value": ("数值", ui.NUM),
            "contribution": ("学习模型贡献", ui.SIGNED),
            "prior_contribution": ("先验贡献", ui.SCORE),
            "reason": ("说明", ui.TEXT),
        },
        empty="各因素均无贡献。",
        key="lead_contributions",
    )
    st.markdown(
        f"**房屋**：{plain(lead['district'])} {plain(lead['street'] or '')} · "
        f"房屋编号 {plain(lead['house_id'])} · "
        f"建筑面积 {fmt.score(lead.get('floor_area_m2'))}㎡ · 房间 {fmt.count(lead.get('rooms'))} 间 · "
        f"登记承租 {fmt.count(lead.get('registered_tenants'))} 人 · "
        f"最近核查 {fmt.moment(lead.get('last_check_at'))}"
        f"（{plain(lead.get('last_verdict') or '未核查')}）"
    )
    records = {
        kind: df.assign(link_method=df["link_method"].map(LINK_METHODS).fillna(df["link_method"]))
        if "link_method" in df
        else df
        for kind, df in data.lead_records(scope, lead["house_id"]).items()
    }
    st.caption("个人信息不显示明文：人员以化名代号（密钥化假名的前8位）区分，同一代号即同一人。")
    for kind, (label, _tbl, _cols) in data.LINKED.items():
        df = records[kind]
        st.markdown(f"**{label}**（{SYSTEM_OF[kind]}，{fmt.count(len(df))}条）")
        ui.table(df, COLUMNS[kind], empty=f"无关联的{label}。", key=f"lead_{kind}")
    st.page_link("pages/group_rental.py", label="返回群租房预警", icon=":material/home_work:")
