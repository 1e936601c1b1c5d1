"""The map page (地图): choropleths over the boundary file, units without a polygon listed
beside the map; AppTest on the synthetic snapshot with boundaries drawn by the
simulator's own boundary builder."""

from __future__ import annotations

import json

import pytest

from dashboards.synthetic import DISTRICTS, write_boundaries
from tests.dashboards.test_pages import open_page, start

LEFT_OUT = "海门区/临江镇"  # a street whose polygon the file lacks


@pytest.fixture
def boundary_file(dash_settings, tmp_path, monkeypatch):
    # a real city's own file, named by PINGAN_BOUNDARIES
    path = write_boundaries(tmp_path / "own_city", leave_out=(LEFT_OUT,))
    monkeypatch.setenv("PINGAN_BOUNDARIES", str(path))
    return path


def geoshape_values(at) -> list[dict]:
    charts = list(at.get("vega_lite_chart"))
    assert charts, "no chart on the page"
    spec = json.loads(charts[0].proto.spec)
    layers = spec.get("layer", [spec])
    shape = next(layer for layer in layers if "geoshape" in json.dumps(layer.get("mark")))
    data = shape.get("data", {})
    if "values" in data:
        return data["values"]
    return spec["datasets"][data["name"]]


def test_index_choropleth_draws_every_street_with_a_polygon_and_lists_the_rest(boundary_file):
    at = start("leader")
    at.switch_page("pages/map.py")
    at.run()
    at.radio(key="map_level").set_value("street").run()
    assert not at.exception and not at.error
    names = {f["properties"]["名称"] for f in geoshape_values(at)}
    streets = {s for _, _, ss in DISTRICTS.values() for s in ss}
    assert names == streets - {"临江镇"}
    listed = next(df for df in at.dataframe if "region_name" in df.value.columns).value
    assert listed["region_name"].tolist() == ["临江镇"]


def test_completion_choropleth_in_percent_and_officer_sees_only_own_district(boundary_file):
    at = open_page(start("chongchuan"), "map")
    at.radio(key="map_measure").set_value("completion_rate").run()
    assert not at.exception and not at.error
    features = geoshape_values(at)
    assert {f["properties"]["名称"] for f in features} == set(DISTRICTS["崇川区"][2])
    assert all(f["properties"]["显示值"].endswith("%") for f in features)


def test_without_a_boundary_file_the_page_says_so_and_lists_every_unit(
    dash_settings, tmp_path, monkeypatch
):
    monkeypatch.setenv("PINGAN_BOUNDARIES", str(tmp_path / "none.geojson"))
    at = open_page(start("leader"), "map")
    assert any("无区县边界数据" in i.value for i in at.info)
    listed = next(df for df in at.dataframe if "region_name" in df.value.columns).value
    assert set(listed["region_name"]) == set(DISTRICTS)
