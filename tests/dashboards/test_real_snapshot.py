"""The dashboards on a snapshot made by the real pipeline (generator, ingest, dbt, publish).

The other dashboard tests read the seven-month snapshot of ``pingan run``'s job
(``tests/snapshots.py``); this one proves the pages work on what the session's shared
3-month ``pingan run`` (``pipeline_run`` in tests/conftest.py) publishes, for the city
leader and a district officer."""

from __future__ import annotations

import os

import duckdb
import pytest

from dashboards import data
from tests.dashboards.test_pages import PAGES, footer_loaded, open_page, rendered, start

pytestmark = pytest.mark.slow


@pytest.fixture
def real(published_warehouse, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.symlink(published_warehouse.published_dir, data_dir / "published")
    monkeypatch.setenv("PINGAN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PINGAN_DASHBOARD_USERS", raising=False)
    con = duckdb.connect(str(published_warehouse.published_warehouse), read_only=True)
    try:
        districts = [
            r[0]
            for r in con.execute(
                "select district from marts.dim_region where region_level = 'district'"
            ).fetchall()
        ]
    finally:
        con.close()
    return districts


@pytest.mark.parametrize("role", ["leader", "chongchuan"])
def test_every_page_renders_on_the_pipelines_snapshot(real, role):
    assert "崇川区" in real
    at = start(role)
    for page, title in PAGES.items():
        if page == "data_quality" and role == "chongchuan":
            continue
        open_page(at, page)
        assert not at.error, (page, [e.value for e in at.error])
        assert footer_loaded(at, title)
        if role == "chongchuan":
            shown = rendered(at)
            leaked = [d for d in real if d != "崇川区" and d.encode() in shown]
            assert leaked == [], page


def test_a_real_leads_detail_shows_its_linked_records(real):
    leads = data.leads(data.Scope("district", "崇川区"), min_score=0, limit=50)
    assert not leads.empty
    lead = leads.iloc[0]
    at = open_page(start("chongchuan"), "lead_detail", lead=lead["lead_id"])
    assert not at.error
    assert at.subheader[0].value.startswith(lead["lead_id"])
    assert len(at.dataframe) >= 1


def test_the_data_quality_page_gives_the_pipelines_reasons_in_chinese(real):
    at = open_page(start("analyst"), "data_quality")
    assert not at.error
    shown = [
        str(v)
        for table in at.dataframe
        if "reason" in table.value.columns or "原因" in table.value.columns
        for v in table.value.get("原因", table.value.get("reason", []))
        if isinstance(v, str) and v != "—"  # "—": a loaded file has no reason
    ]
    assert shown, "the sample's quirks leave rejected rows and warnings with reasons"
    # every reason starts in Chinese, the English original after it in brackets
    assert all("\u4e00" <= s[0] <= "\u9fff" for s in shown), shown[:5]
    assert all("（" in s and s.endswith("）") for s in shown), shown[:5]
