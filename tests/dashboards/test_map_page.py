"""The map page (地图): choropleths over the boundary file, units without a polygon listed
beside the map; AppTest on the pipeline's snapshot with the simulator's own boundary
file, less one street's polygon."""

from __future__ import annotations

import json

import pytest

from tests.dashboards.dashboards_testlib import ALL_DISTRICTS
from tests.dashboards.test_pages import open_page, start
from tests.snapshots import boundaries_without


@pytest.fixture
def left_out(regions) -> str:
    """A street whose polygon the boundary file lacks (海门区's first, by key)."""
    return regions["海门区"][0]


@pytest.fixture
def boundary_file(dash_settings, snapshot_settings, left_out, tmp_path, monkeypatch):
    # a real city's own file, named by PINGAN_BOUNDARIES
    path = boundaries_without(snapshot_settings, tmp_path / "own_city", (f"海门区/{left_out}",))
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


def test_index_choropleth_draws_every_street_with_a_polygon_and_lists_the_rest(
    boundary_file, regions, left_out
):
    at = start("leader")
    at.switch_page("pages/map.py")
    at.run()
    at.radio(key="map_level").set_value("street").run()
    assert not at.exception and not at.error
    names = {f["properties"]["名称"] for f in geoshape_values(at)}
    streets = {s for ss in regions.values() for s in ss}
    assert names == streets - {left_out}
    listed = next(df for df in at.dataframe if "region_name" in df.value.columns).value
    assert listed["region_name"].tolist() == [left_out]


def test_completion_choropleth_in_percent_and_officer_sees_only_own_district(
    boundary_file, regions
):
    at = open_page(start("chongchuan"), "map")
    at.radio(key="map_measure").set_value("completion_rate").run()
    assert not at.exception and not at.error
    features = geoshape_values(at)
    assert {f["properties"]["名称"] for f in features} == set(regions["崇川区"])
    # in percent where the street had items due that month, "—" where it had none
    from dashboards import data

    rates = data.completion_breakdown(
        data.Scope("district", "崇川区"), data.completion_months()[-1:], "hotline", "street"
    )
    with_items = set(rates.loc[rates["completion_rate"].notna(), "unit"])
    shown = {f["properties"]["名称"]: f["properties"]["显示值"] for f in features}
    assert with_items and {n for n, v in shown.items() if v.endswith("%")} == with_items
    assert {v for n, v in shown.items() if n not in with_items} <= {"—"}


def test_without_a_boundary_file_the_page_says_so_and_lists_every_unit(
    dash_settings, tmp_path, monkeypatch
):
    monkeypatch.setenv("PINGAN_BOUNDARIES", str(tmp_path / "none.geojson"))
    at = open_page(start("leader"), "map")
    assert any("无区县边界数据" in i.value for i in at.info)
    listed = next(df for df in at.dataframe if "region_name" in df.value.columns).value
    assert set(listed["region_name"]) == set(ALL_DISTRICTS)


def test_a_broken_boundary_file_is_one_error_line_and_every_unit_is_listed(
    dash_settings, tmp_path, monkeypatch
):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    monkeypatch.setenv("PINGAN_BOUNDARIES", str(broken))
    at = open_page(start("leader"), "map")
    assert not at.exception
    errors = [e.value.replace("\\", "") for e in at.error]  # markdown escapes removed
    assert len(errors) == 1 and "不是可读的 UTF-8 JSON" in errors[0] and "\n" not in errors[0]
    listed = next(df for df in at.dataframe if "region_name" in df.value.columns).value
    assert set(listed["region_name"]) == set(ALL_DISTRICTS)


def test_group_rental_leads_are_drawn_over_the_street_outlines(boundary_file, regions, left_out):
    at = open_page(start("chongchuan"), "group_rental")
    assert not at.exception and not at.error
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    lead_map = next(c for c in charts if "群租房线索分布" in json.dumps(c, ensure_ascii=False))
    layers = lead_map["layer"]
    outline = layers[0]
    assert "geoshape" in json.dumps(outline["mark"])
    data = outline["data"]
    drawn = data["values"] if "values" in data else lead_map["datasets"][data["name"]]
    # the officer's own district's streets, less the one the file lacks
    expected = len(regions["崇川区"]) - (1 if left_out in regions["崇川区"] else 0)
    assert len(drawn) == expected and "circle" in json.dumps(layers[1]["mark"])
