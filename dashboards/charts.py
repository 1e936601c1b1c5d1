"""The Altair (Vega-Lite) specs of Pingan's charts, without Streamlit.

The pages draw them through :mod:`dashboards.ui` (``st.altair_chart``); the documents
render the same specs to PNG offline with vl-convert (:func:`to_png`), so a bulletin's
chart is the chart a leader sees on the page. Each spec puts the title, unit and period
in the chart's title; a function returns None when there is nothing to draw.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from dashboards import fmt

# What a spec function returns: one chart, or layers (a line with its target rules).
Spec = alt.Chart | alt.LayerChart


def chart_title(title: str, unit: str, period: str) -> str:
    return f"{title}（单位：{unit}；{period}）"


def has_data(df: pd.DataFrame | None, y: str) -> bool:
    return df is not None and not df.empty and bool(df[y].notna().any())


def line_spec(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    unit: str,
    period: str,
    color: str | None = None,
    color_title: str = "",
    percent: bool = False,
    targets: pd.DataFrame | None = None,
) -> Spec | None:
    """A trend line per month (``x`` holds 'YYYY-MM'); ``percent`` for rates given as fractions."""
    if not has_data(df, y):
        return None
    plot = df.copy()
    plot["月份"] = plot[x].map(fmt.month)
    plot["显示值"] = plot[y].map(fmt.pct if percent else fmt.score)
    axis = alt.Axis(format=".1%" if percent else ".1f", title=unit)
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:O", title="月份", axis=alt.Axis(labelAngle=0)),
        "y": alt.Y(f"{y}:Q", axis=axis, scale=alt.Scale(zero=False)),
        "tooltip": ["月份", "显示值"] + ([color] if color else []),
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title)
    chart: Spec = (
        alt.Chart(plot, title=chart_title(title, unit, period)).mark_line(point=True).encode(**enc)
    )
    if targets is not None and not targets.empty:
        rule = (
            alt.Chart(targets)
            .mark_rule(strokeDash=[4, 4])
            .encode(y="target:Q", color=alt.Color(f"{color}:N") if color else alt.value("gray"))
        )
        chart = chart + rule
    return chart


def bar_spec(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    unit: str,
    period: str,
    percent: bool = False,
    integer: bool = False,
    color: str | None = None,
    sort_desc: bool = True,
) -> Spec | None:
    """Horizontal bars of one measure per category (rates as fractions when ``percent``,
    whole counts when ``integer``); one 24-pixel band per category."""
    if not has_data(df, y):
        return None
    plot = df.copy()
    shown = fmt.pct if percent else (fmt.count if integer else fmt.score)
    plot["显示值"] = plot[y].map(shown)
    if percent:
        axis = alt.Axis(format=".1%", title=unit)
    elif integer:
        axis = alt.Axis(format="d", tickMinStep=1, title=unit)
    else:
        axis = alt.Axis(format=".1f", title=unit)
    cat = alt.Y(
        f"{x}:N",
        sort="-x" if sort_desc else "x",
        title=None,
        axis=alt.Axis(labelOverlap=False, labelLimit=180),
    )
    enc: dict[str, Any] = {"y": cat, "x": alt.X(f"{y}:Q", axis=axis), "tooltip": [x, "显示值"]}
    if color:
        enc["color"] = alt.Color(f"{color}:N", legend=None, scale=None)
    return (
        alt.Chart(plot, title=chart_title(title, unit, period))
        .mark_bar()
        .encode(**enc)
        .properties(height=alt.Step(24))
    )


def choropleth_spec(
    shapes: list[dict[str, Any]],
    values: pd.DataFrame,
    *,
    value: str,
    title: str,
    unit: str,
    percent: bool,
    points: pd.DataFrame | None = None,
    labels: bool = False,
) -> Spec:
    """Polygons (GeoJSON features with ``region_key``) coloured by ``values[value]``
    joined on region_key (grey when no value), optional points (lon, lat, 名称, 显示值, and
    ``size`` to scale them) on top, optional names inside the polygons (a printed map has no tooltip); a Mercator
    projection, no tile server."""
    shown = values.set_index("region_key")
    features = []
    for f in shapes:
        key = f["properties"]["region_key"]
        raw = shown[value].get(key) if key in shown.index else None
        v = None if raw is None or fmt.missing(raw) else float(raw)
        features.append(
            {
                "type": "Feature",
                "geometry": f["geometry"],
                "properties": {
                    "名称": f["properties"].get("name") or key,
                    "value": v,
                    "显示值": fmt.pct(v) if percent else fmt.score(v),
                },
            }
        )
    domain = [0, 1] if percent else [0, 100]
    layer = (
        alt.Chart(alt.Data(values=features))
        .mark_geoshape(stroke="#555", strokeWidth=0.6)
        .encode(
            color=alt.condition(
                "isValid(datum.properties.value)",
                alt.Color(
                    "properties.value:Q",
                    title=unit,
                    scale=alt.Scale(scheme="redyellowgreen", domain=domain),
                ),
                alt.value("#dddddd"),
            ),
            tooltip=[
                alt.Tooltip("properties.名称:N", title="名称"),
                alt.Tooltip("properties.显示值:N", title=unit),
            ],
        )
    )
    chart: Spec = layer
    if points is not None and not points.empty:
        dots = alt.Chart(points).encode(
            longitude="lon:Q", latitude="lat:Q", tooltip=["名称", "显示值"]
        )
        if "size" in points.columns:  # e.g. tickets per hotspot: bigger where there are more
            dots = dots.mark_circle(color="#b2182b", opacity=0.7).encode(
                size=alt.Size("size:Q", title="工单数", scale=alt.Scale(range=[20, 400]))
            )
        else:
            dots = dots.mark_circle(size=30, color="#1f3b73", opacity=0.8)
        chart = chart + dots
    if labels and features:
        from shapely.geometry import shape

        # a point inside each polygon (a centroid can fall outside a concave one)
        inside = [shape(f["geometry"]).representative_point() for f in features]
        names = pd.DataFrame(
            {
                "lon": [p.x for p in inside],
                "lat": [p.y for p in inside],
                "名称": [f["properties"]["名称"] for f in features],
            }
        )
        text = (
            alt.Chart(names)
            .mark_text(fontSize=10, color="#222")
            .encode(longitude="lon:Q", latitude="lat:Q", text="名称:N")
        )
        chart = chart + text
    return chart.project(type="mercator").properties(title=title)


def to_png(chart: Spec, width: int, height: int | None = None, scale: float = 2) -> bytes:
    """Render a spec to PNG offline (vl-convert bundles the Vega runtime; text uses the
    system's fonts, so CJK labels need a CJK font installed, as for the PDF).

    ``width``/``height`` in pixels set the plot size a page would take from its column."""
    import vl_convert as vlc

    sized = chart.properties(width=width, **({"height": height} if height else {}))
    return bytes(vlc.vegalite_to_png(sized.to_json(), scale=scale))
