"""The synthetic city's district and street polygons agree with its regions."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
import shapely
from shapely.geometry import shape

from simulator import boundaries, city
from simulator.world import World


@pytest.fixture(scope="module", params=[1, 7])
def built(request: pytest.FixtureRequest) -> tuple[city.City, dict]:
    c = city.build(
        np.random.default_rng(request.param),
        30_000,
        np.datetime64("2025-12-01"),
        np.datetime64("2026-11-30"),
        world=World(request.param),
    )
    collection = boundaries.build(
        boundaries.street_centres(c.streets, c.compounds, c.grids),
        c.compounds.select("lon", "lat"),
    )
    return c, collection


def geometries(collection: dict, level: str) -> dict[str, shapely.Geometry]:
    return {
        f["properties"]["region_key"]: shape(f["geometry"])
        for f in collection["features"]
        if f["properties"]["region_level"] == level
    }


def test_every_district_and_street_has_exactly_one_valid_polygon(built) -> None:
    c, collection = built
    keys = [f["properties"]["region_key"] for f in collection["features"]]
    assert len(keys) == len(set(keys))
    streets = geometries(collection, "street")
    districts = geometries(collection, "district")
    assert set(streets) == {f"{d}/{s}" for d, s in c.streets.select("district", "street").rows()}
    assert set(districts) == set(c.streets["district"])
    assert all(g.is_valid and not g.is_empty and g.area > 0 for g in streets.values())
    assert all(g.is_valid and g.area > 0 for g in districts.values())


def test_streets_tile_the_city_and_dissolve_into_their_districts(built) -> None:
    _, collection = built
    streets = geometries(collection, "street")
    districts = geometries(collection, "district")
    whole = shapely.union_all(list(streets.values()))
    # no overlaps: the areas add up to the area of the union
    assert sum(g.area for g in streets.values()) == pytest.approx(whole.area, rel=1e-6)
    for district, polygon in districts.items():
        own = shapely.union_all([g for k, g in streets.items() if k.startswith(f"{district}/")])
        assert own.symmetric_difference(polygon).area < 1e-6 * polygon.area


def test_compounds_lie_in_their_own_street_and_district(built) -> None:
    c, collection = built
    streets = geometries(collection, "street")
    districts = geometries(collection, "district")
    placed = c.compounds.join(c.grids.select("grid_idx", "street_idx"), on="grid_idx").join(
        c.streets.select("street_idx", "district", "street"), on="street_idx"
    )
    points = shapely.points(placed["lon"].to_numpy(), placed["lat"].to_numpy())
    keys = placed.select("district", "street").rows()
    in_street = np.mean(
        [streets[f"{d}/{s}"].covers(p) for (d, s), p in zip(keys, points, strict=True)]
    )
    in_district = np.mean([districts[d].covers(p) for (d, _), p in zip(keys, points, strict=True)])
    # streets of the simulator overlap a little (compounds scatter around a centre)
    assert in_street >= 0.8 and in_district >= 0.95
    assert all(shapely.union_all(list(districts.values())).covers(p) for p in points)


def test_written_file_is_geojson_with_the_documented_properties(built, tmp_path) -> None:
    _, collection = built
    path = boundaries.write(collection, tmp_path)
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded["type"] == "FeatureCollection"
    for feature in loaded["features"]:
        props = feature["properties"]
        assert set(props) == {"region_level", "region_key", "district", "street", "name"}
        assert (props["street"] is None) == (props["region_level"] == "district")
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_a_street_without_compounds_gets_no_polygon_rather_than_a_wrong_one() -> None:
    centres = pl.DataFrame(
        {
            "district": ["甲区", "甲区", "乙区"],
            "street": ["一街道", "二街道", "三街道"],
            "lon": [120.0, 120.1, None],
            "lat": [32.0, 32.1, None],
        }
    )
    collection = boundaries.build(centres)
    keys = {f["properties"]["region_key"] for f in collection["features"]}
    assert keys == {"甲区/一街道", "甲区/二街道", "甲区"}
