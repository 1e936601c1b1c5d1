"""District and street polygons for the map page, read from a GeoJSON file.

The file is ``PINGAN_BOUNDARIES`` when set (a real city's own boundaries), else
``<data dir>/boundaries.geojson`` (what ``pingan sample`` writes). Each feature must
carry ``region_level`` (district | street) and ``region_key`` (``<district>`` or
``<district>/<street>``, as in ``marts.dim_region``) and a Polygon or MultiPolygon in
WGS84 longitude/latitude; ``name`` is the label (else the key). The simulator also writes
``district`` and ``street`` (``simulator/boundaries.py``). A feature that fails these is
left out and counted (:func:`skipped_note`), so its unit is listed as without a polygon;
a file that is not JSON, not a FeatureCollection, too large, or has no usable feature
raises :class:`BoundariesUnreadable` with one line. Reading is cached per file version
(path, mtime, size); a district officer gets only the features of their own district
(the district part of ``region_key``).

The file is not part of the published snapshot: boundaries are reference data a city
keeps apart from the warehouse. A snapshot copied to another machine needs the file
beside it (``<data dir>/boundaries.geojson``) or ``PINGAN_BOUNDARIES``; without one the
maps say so and list every unit, and the bulletin is made without its maps.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import streamlit as st

from dashboards import data

ENV = "PINGAN_BOUNDARIES"
FILE_NAME = "boundaries.geojson"
LEVELS = ("district", "street")


class BoundariesUnreadable(Exception):
    """The boundaries file exists but is not a usable GeoJSON FeatureCollection."""


def path() -> Path:
    configured = os.environ.get(ENV, "").strip()
    return Path(configured) if configured else data.settings().data_dir / FILE_NAME


# A district/street boundary file of a city is a few MB; far larger is a file of building
# footprints or an unsimplified survey export, which would stall every map page.
MAX_BYTES = 64 * 1024 * 1024
REQUIRED = "region_level (district | street), region_key"
POLYGONS = ("Polygon", "MultiPolygon")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unusable(feature: Any) -> str | None:
    """Why a feature cannot be drawn for a unit (None when it can): the reasons a page
    counts, in Chinese as it shows them."""
    from shapely.geometry import shape

    props = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(props, dict):
        return "缺少属性"
    if props.get("region_level") not in LEVELS or not isinstance(props.get("region_key"), str):
        return "缺少 region_level / region_key 属性"
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGONS:
        return "几何不是面（Polygon / MultiPolygon）"
    try:
        geom = shape(geometry)
    except Exception:  # shapely raises several types for malformed coordinates
        return "几何坐标格式错误"
    if geom.is_empty or not geom.is_valid:
        return "几何无效（自相交或未闭合）"
    lon0, lat0, lon1, lat1 = geom.bounds
    if not (-180 <= lon0 <= lon1 <= 180 and -90 <= lat0 <= lat1 <= 90):
        return "坐标不是WGS84经纬度"
    return None


@st.cache_data(show_spinner=False, max_entries=4)
def _load(key: tuple[str, int, int]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The usable features of the file and, per reason, how many were left out. A file
    that is not a FeatureCollection, or holds no usable feature, raises
    :class:`BoundariesUnreadable` with a one-line message naming the file."""
    name, size = key[0], key[2]
    if size > MAX_BYTES:
        raise BoundariesUnreadable(
            f"边界文件 {name} 过大（{size / 2**20:.0f} MB，上限 {MAX_BYTES // 2**20} MB），"
            "请简化边界后再用"
        )
    try:
        collection = json.loads(Path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError included
        raise BoundariesUnreadable(
            f"边界文件 {name} 不是可读的 UTF-8 JSON：{_one_line(exc)}"
        ) from exc
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list):
        raise BoundariesUnreadable(
            f"边界文件 {name} 不是 GeoJSON FeatureCollection（缺少 features 列表）"
        )
    usable: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    for feature in features:
        reason = _unusable(feature)
        if reason is None:
            usable.append(feature)
        else:
            skipped[reason] = skipped.get(reason, 0) + 1
    if features and not usable:
        reasons = "；".join(f"{r} {n}个" for r, n in skipped.items())
        raise BoundariesUnreadable(
            f"边界文件 {name} 的{len(features)}个要素均不可用（{reasons}）；"
            f"每个要素须带属性 {REQUIRED}，几何为WGS84经纬度的面"
        )
    return usable, skipped


def _read() -> tuple[list[dict[str, Any]], dict[str, int]]:
    file = path()
    if not file.is_file():
        return [], {}
    stat = file.stat()
    return _load((str(file), stat.st_mtime_ns, stat.st_size))


def skipped_note() -> str:
    """One line saying how many features of the file were left out and why ("" when none
    was, or there is no file); the units they were meant for are listed as unplaced."""
    skipped = _read()[1]
    if not skipped:
        return ""
    reasons = "；".join(f"{r} {n}个" for r, n in skipped.items())
    return f"边界文件中{sum(skipped.values())}个要素无法使用，已忽略（{reasons}）。"


def features(scope: data.Scope, level: str) -> list[dict[str, Any]]:
    """The features of ``level`` the reader may see ([] when there is no file; raises
    :class:`BoundariesUnreadable` when the file is unusable)."""
    rows = _read()[0]
    return [
        f
        for f in rows
        if f["properties"]["region_level"] == level
        and (not scope.restricted or f["properties"]["region_key"].split("/")[0] == scope.district)
    ]


def for_map(scope: data.Scope, level: str) -> tuple[list[dict[str, Any]], str]:
    """The features of ``level`` and one line a map shows beside them: why there are none
    (the file is unusable) or which features were left out ("" when all is well)."""
    try:
        shapes = features(scope, level)
    except BoundariesUnreadable as exc:
        return [], str(exc)
    return shapes, skipped_note()
