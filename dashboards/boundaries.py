"""District and street polygons for the map page, read from a GeoJSON file.

The file is ``PINGAN_BOUNDARIES`` when set (a real city's own boundaries), else
``<data dir>/boundaries.geojson`` (what ``pingan sample`` writes). Its features carry
``region_level``, ``region_key``, ``district``, ``street`` and ``name`` (see
``simulator/boundaries.py``). Reading is cached per file version (path, mtime,
size); a district officer gets only the features of their own district.
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


@st.cache_data(show_spinner=False, max_entries=4)
def _load(key: tuple[str, int, int]) -> list[dict[str, Any]]:
    try:
        collection = json.loads(Path(key[0]).read_text(encoding="utf-8"))
        features = collection["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BoundariesUnreadable(f"{key[0]}: {exc}") from exc
    usable = []
    for feature in features:
        props = feature.get("properties") or {}
        if (
            props.get("region_level") in LEVELS
            and props.get("region_key")
            and feature.get("geometry")
        ):
            usable.append(feature)
    return usable


def features(scope: data.Scope, level: str) -> list[dict[str, Any]]:
    """The features of ``level`` the reader may see ([] when there is no file)."""
    file = path()
    if not file.is_file():
        return []
    stat = file.stat()
    rows = _load((str(file), stat.st_mtime_ns, stat.st_size))
    return [
        f
        for f in rows
        if f["properties"]["region_level"] == level
        and (not scope.restricted or f["properties"].get("district") == scope.district)
    ]
