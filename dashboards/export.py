"""Export of selected group-rental leads to Excel, for dispatch to the police stations.

The lead id is the first column: verification results (``police_rental_checks``)
quote it, so the outcomes match back to the lead. A blank verdict column is
included for the field officers to fill in.
"""

from __future__ import annotations

import io

import pandas as pd

SHEET = "群租线索"
VERDICT_COLUMN = "核查结论（回填）"
EXPORT_COLUMNS = {
    "lead_id": "线索编号",
    "rank": "排名",
    "score": "评分",
    "status": "状态",
    "district": "区县",
    "street": "街道(镇)",
    "address": "房屋地址",
    "reasons": "主要依据",
    "rule_flags": "触发规则",
    "occupants_estimate": "估计居住人数",
    "floor_area_m2": "建筑面积(㎡)",
    "rooms": "房间数",
    "registered_tenants": "登记承租人数",
    "complaints_180d": "近180天投诉(件)",
    "police_incidents_180d": "近180天警情(起)",
    "open_hazards": "未整改隐患(处)",
    "last_check_at": "最近核查时间",
    "last_verdict": "最近核查结论",
    "house_id": "房屋编号",
    "lon": "经度",
    "lat": "纬度",
    "as_of_date": "数据截至",
}


def to_excel(df: pd.DataFrame) -> bytes:
    """The dispatch sheet: lead id first, Chinese headers, plus a column for the verdict."""
    out = df.rename(columns=EXPORT_COLUMNS)
    out[VERDICT_COLUMN] = ""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as writer:
        out.to_excel(writer, sheet_name=SHEET, index=False)
        sheet = writer.sheets[SHEET]
        sheet.freeze_panes(1, 1)
        sheet.set_column(0, len(out.columns) - 1, 14)
    return buf.getvalue()
