"""The dashboards on a snapshot made by the real pipeline (generator, ingest, dbt, publish).

The other dashboard tests read the seven-month snapshot of ``pingan run``'s job
(``tests/snapshots.py``); this one proves the pages work on what the session's shared
3-month ``pingan run`` (``pipeline_run`` in tests/conftest.py) publishes, for the city
leader and a district officer."""

from __future__ import annotations

import json
import os

import duckdb
import pandas as pd
import pyarrow as pa
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


def chart_points(proto) -> pd.DataFrame:
    """The rows of a chart's point layer (Streamlit sends a layer's data frame as Arrow)."""
    spec = json.loads(proto.spec)
    (name,) = [
        layer["data"]["name"]
        for layer in spec["layer"]
        if "circle" in json.dumps(layer.get("mark"))
    ]
    (data,) = [d.data.data for d in proto.datasets if d.name == name]
    return pa.ipc.open_stream(data).read_all().to_pandas()


def test_hotspots_are_points_over_the_boundaries_and_unplaced_ones_are_listed(
    real, published_warehouse, sample_root, monkeypatch
):
    monkeypatch.setenv("PINGAN_BOUNDARIES", str(sample_root / "boundaries.geojson"))
    for role, district in (("leader", None), ("chongchuan", "崇川区")):
        at = open_page(start(role), "map")
        at.radio(key="map_overlay").set_value("hotspots").run()
        assert not at.exception and not at.error
        month = at.selectbox(key="map_month").value
        points = chart_points(next(iter(at.get("vega_lite_chart"))).proto)
        # independently: the month's places with the most tickets that have a position
        con = duckdb.connect(str(published_warehouse.published_warehouse), read_only=True)
        try:
            expected = con.execute(
                "select street || place, tickets, lon is null from marts.mart_hotline_hotspots "
                "where month = ? and (? is null or district = ?) "
                "order by tickets desc, region_key, place limit ?",
                [month, district, district, data.HOTSPOTS_SHOWN],
            ).fetchall()
        finally:
            con.close()
        assert expected
        drawn = sorted(zip(points["名称"], points["size"], strict=True))
        assert drawn == sorted((name, n) for name, n, unplaced in expected if not unplaced)
        unplaced = [name for name, _, no_position in expected if no_position]
        listed = [df.value for df in at.dataframe if "where" in df.value.columns]  # beside the map
        assert (listed[0]["where"].tolist() if listed else []) == unplaced
