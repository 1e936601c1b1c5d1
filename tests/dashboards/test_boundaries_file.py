"""A real city's boundary file (PINGAN_BOUNDARIES) that is broken or hostile: an unusable
file is refused in one line naming it, an unusable feature is left out and counted (its
unit is then listed as without a polygon), a huge file is refused before it is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboards import boundaries
from dashboards.data import Scope

LEADER = Scope("leader")
SQUARE = [[[120.80, 32.00], [120.90, 32.00], [120.90, 32.10], [120.80, 32.10], [120.80, 32.00]]]
# a bow tie: the ring crosses itself, shapely's is_valid says no
BOW_TIE = [[[120.80, 32.00], [120.90, 32.10], [120.90, 32.00], [120.80, 32.10], [120.80, 32.00]]]
# metres of a Gauss-Krueger projection (CGCS2000), a common mistake for WGS84 lon/lat
PROJECTED = [[[500000, 3540000], [510000, 3540000], [510000, 3550000], [500000, 3540000]]]


def feature(key: str, coordinates, level: str = "district", **props) -> dict:
    return {
        "type": "Feature",
        "properties": {"region_level": level, "region_key": key, "name": key, **props},
        "geometry": {"type": "Polygon", "coordinates": coordinates},
    }


@pytest.fixture
def city_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def write(content: str | bytes, name: str = "own.geojson") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        monkeypatch.setenv(boundaries.ENV, str(path))
        return path

    return write


def refused(level: str = "district") -> str:
    with pytest.raises(boundaries.BoundariesUnreadable) as err:
        boundaries.features(LEADER, level)
    message = str(err.value)
    assert "\n" not in message and str(boundaries.path()) in message
    return message


def test_a_file_that_is_not_json_is_refused_in_one_line(city_file) -> None:
    city_file("<html>404 Not Found</html>\n<body>\n</body>")
    assert "JSON" in refused()


def test_a_file_that_is_not_utf8_is_refused_in_one_line(city_file) -> None:
    collection = {"type": "FeatureCollection", "features": [feature("崇川区", SQUARE)]}
    city_file(json.dumps(collection, ensure_ascii=False).encode("gb18030"))
    assert "UTF-8" in refused()


def test_json_that_is_not_a_feature_collection_is_refused(city_file) -> None:
    city_file(json.dumps([feature("崇川区", SQUARE)]))
    assert "FeatureCollection" in refused()
    city_file(json.dumps({"type": "FeatureCollection", "features": {"a": 1}}), "b.geojson")
    assert "FeatureCollection" in refused()


def test_features_without_the_required_properties_are_refused_naming_them(city_file) -> None:
    # a real city's export with its own property names
    wrong = [
        {"type": "Feature", "properties": {"level": "district", "code": "320602", "NAME": "崇川区"},
         "geometry": {"type": "Polygon", "coordinates": SQUARE}},
        {"type": "Feature", "properties": None, "geometry": None},
        "not a feature",
    ]  # fmt: skip
    city_file(json.dumps({"type": "FeatureCollection", "features": wrong}, ensure_ascii=False))
    message = refused()
    assert "3个要素均不可用" in message and "region_level" in message and "region_key" in message


def test_unusable_features_are_left_out_and_counted_the_rest_drawn(city_file) -> None:
    features = [
        feature("崇川区", SQUARE),
        feature("通州区", BOW_TIE),
        feature("海门区", PROJECTED),
        feature("如东县", "not coordinates"),
        {**feature("启东市", SQUARE), "geometry": {"type": "Point", "coordinates": [120.8, 32]}},
        feature("崇川区/和平桥街道", SQUARE, level="street"),
    ]
    city_file(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    drawn = boundaries.features(LEADER, "district")
    assert [f["properties"]["region_key"] for f in drawn] == ["崇川区"]
    shapes, note = boundaries.for_map(LEADER, "district")
    assert shapes == drawn and "\n" not in note
    assert note.startswith("边界文件中4个要素无法使用")
    for reason in ("几何无效", "WGS84", "坐标格式错误", "不是面"):
        assert reason in note


def test_a_huge_file_is_refused_before_it_is_read(city_file, tmp_path: Path) -> None:
    path = city_file("")
    with path.open("wb") as f:  # sparse: the size is what counts, nothing is written
        f.truncate(boundaries.MAX_BYTES + 1)
    assert "过大" in refused()


def test_an_officer_gets_the_polygons_of_their_district_by_region_key(city_file) -> None:
    # no district / street properties: the region key says where a street belongs
    features = [
        feature("崇川区/和平桥街道", SQUARE, level="street"),
        feature("通州区/金沙街道", SQUARE, level="street"),
    ]
    city_file(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    own = boundaries.features(Scope("district", "崇川区"), "street")
    assert [f["properties"]["region_key"] for f in own] == ["崇川区/和平桥街道"]


def test_the_samples_own_file_is_usable_whole() -> None:
    import polars as pl

    from simulator.boundaries import build

    centres = pl.DataFrame(
        {
            "district": ["崇川区", "崇川区", "通州区"],
            "street": ["和平桥街道", "城东街道", "金沙街道"],
            "lon": [120.85, 120.90, 121.00],
            "lat": [32.00, 32.02, 32.05],
        }
    )
    for f in build(centres)["features"]:
        assert boundaries._unusable(f) is None
