"""The notices on the 预警提示单 page (AppTest on the pipeline's snapshot)."""

from __future__ import annotations

from dashboards import data
from dashboards.data import notices as data_notices
from tests.dashboards.dashboards_testlib import OFFICER_DISTRICT
from tests.dashboards.test_pages import open_page, start


def _notice_table(at):
    (table,) = [d.value for d in at.dataframe if "notice_id" in d.value.columns]
    return table


def test_notices_are_listed_with_status_and_offered_as_docx_and_pdf(dash_settings):
    at = open_page(start("leader"), "alerts")
    assert "提示单" in [s.value for s in at.subheader]
    months = data.alert_months()[-1:]
    expected = data_notices.notices(data.Scope("leader"), months)
    listed = _notice_table(at)
    assert sorted(listed["notice_id"]) == sorted(expected["notice_id"])
    assert set(listed["status"]) <= {"已下发", "已签收", "已反馈", "已销号", "退回重办"}
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["下载 Word（.docx）", "下载 PDF"]
    assert any("无法匹配的反馈" in e.proto.label for e in at.expander)


def test_a_district_officer_sees_only_their_districts_notices(dash_settings):
    # 通州区: the district the snapshot alerts in its last month (tests/snapshots.py)
    at = open_page(start("tongzhou"), "alerts")
    listed = _notice_table(at)
    district = OFFICER_DISTRICT["tongzhou"]
    assert not listed.empty and listed["unit_name"].str.startswith(district).all()
    assert not any("无法匹配的反馈" in e.proto.label for e in at.expander)
