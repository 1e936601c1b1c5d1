"""District and street boundaries of the synthetic city, as GeoJSON.

The simulator places compounds around a centre per street (``city.build``); the
boundaries are drawn from those centres so that maps and data agree: a Voronoi
tessellation of the street centres (each street gets the area closer to its centre than
to any other), clipped to the city's extent, and dissolved per district. Every street
and district of the city has exactly one feature; the streets tile the city without
overlaps and each district is the union of its streets.

A real city sets ``PINGAN_BOUNDARIES`` to its own GeoJSON FeatureCollection (WGS84
longitude/latitude); each feature's ``properties`` must carry:

* ``region_level``: ``district`` or ``street``;
* ``region_key``: the warehouse's region key, ``<district>`` or ``<district>/<street>``
  (as in ``marts.dim_region``);
* ``district`` and ``street`` (``street`` null for a district), and ``name``.

A unit without a feature is listed beside the map, never dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import shapely
from shapely.geometry import MultiPoint, mapping
from shapely.ops import unary_union

FILE_NAME = "boundaries.geojson"
# Margin around the outermost compounds (degrees, about 3 km): the city's extent.
EXTENT_MARGIN = 0.03
COORD_DECIMALS = 5  # about 1 m: enough for a map, keeps the file small


def street_centres(
    streets: pl.DataFrame, compounds: pl.DataFrame, grids: pl.DataFrame
) -> pl.DataFrame:
    """Mean position of each street's compounds: district, street, lon, lat."""
    placed = compounds.select("grid_idx", "lon", "lat").join(
        grids.select("grid_idx", "street_idx"), on="grid_idx"
    )
    centres = placed.group_by("street_idx").agg(pl.col("lon").mean(), pl.col("lat").mean())
    return (
        streets.select("street_idx", "district", "street")
        .join(centres, on="street_idx", how="left")
        .sort("street_idx")
    )


def _feature(geometry: Any, level: str, district: str, street: str | None) -> dict[str, Any]:
    geometry = shapely.set_precision(geometry, 10**-COORD_DECIMALS)
    key = district if street is None else f"{district}/{street}"
    return {
        "type": "Feature",
        "properties": {
            "region_level": level,
            "region_key": key,
            "district": district,
            "street": street,
            "name": street or district,
        },
        "geometry": mapping(geometry),
    }


def build(centres: pl.DataFrame, points: pl.DataFrame | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the streets (Voronoi cells of ``centres``: district,
    street, lon, lat) and the districts (their streets dissolved). ``points`` (lon, lat)
    widen the extent so that every compound lies inside the city."""
    located = centres.drop_nulls(["lon", "lat"])
    if located.height == 0:
        return {"type": "FeatureCollection", "features": []}
    xy = located.select("lon", "lat").to_numpy()
    every = xy if points is None else pl.concat([located.select("lon", "lat"), points]).to_numpy()
    extent = shapely.box(*every.min(axis=0), *every.max(axis=0)).buffer(
        EXTENT_MARGIN, join_style="mitre"
    )
    # shapely (GEOS) computes the tessellation; ``ordered`` keeps one cell per input point
    cells = shapely.voronoi_polygons(MultiPoint(xy), extend_to=extent, ordered=True)
    streets = []
    for row, cell in zip(located.iter_rows(named=True), cells.geoms, strict=True):
        streets.append((row["district"], row["street"], cell.intersection(extent)))
    features = [_feature(geom, "street", d, s) for d, s, geom in streets]
    for district in dict.fromkeys(d for d, _, _ in streets):
        union = unary_union([g for d, _, g in streets if d == district])
        features.append(_feature(union, "district", district, None))
    return {"type": "FeatureCollection", "features": features}


def write(collection: dict[str, Any], out_dir: Path) -> Path:
    """Write the collection as ``out_dir/boundaries.geojson`` (UTF-8, Chinese names as is)."""
    path = out_dir / FILE_NAME
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path
