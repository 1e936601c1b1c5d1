"""Addresses as each source system writes them, vectorised with polars.

A place is a compound (road and number) plus optionally a building and a room.
The same dwelling is written differently by different systems and call takers:
with or without the province/city prefix, ``3幢201室`` or ``3-201`` or
``3 栋 201``, with the street or compound name, with full-width digits, with a
typo in the road name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from simulator import vocab

FULLWIDTH = {str(i): chr(0xFF10 + i) for i in range(10)}

# Style weights per source system (index = style number in ``_dwelling_styles``).
SYSTEM_STYLES: dict[str, tuple[float, ...]] = {
    "rental": (0.55, 0.30, 0.02, 0.00, 0.03, 0.10, 0.00),
    "police": (0.10, 0.15, 0.15, 0.05, 0.05, 0.40, 0.10),
    "hotline": (0.10, 0.15, 0.25, 0.15, 0.15, 0.05, 0.15),
    "grid": (0.05, 0.10, 0.35, 0.05, 0.30, 0.05, 0.10),
}


def _dwelling_styles(p: dict[str, pl.Expr]) -> list[pl.Expr]:
    d, road, no, b, r, st, cmp = p["d"], p["road"], p["no"], p["b"], p["r"], p["st"], p["cmp"]
    return [
        pl.concat_str(
            pl.lit(vocab.PROVINCE + vocab.CITY),
            d,
            road,
            no,
            pl.lit("号"),
            b,
            pl.lit("幢"),
            r,
            pl.lit("室"),
        ),
        pl.concat_str(
            pl.lit(vocab.CITY), d, road, no, pl.lit("号"), b, pl.lit("幢"), r, pl.lit("室")
        ),
        pl.concat_str(d, road, no, pl.lit("号"), b, pl.lit("-"), r),
        pl.concat_str(
            pl.lit(vocab.CITY),
            d,
            pl.lit(" "),
            road,
            pl.lit(" "),
            no,
            pl.lit(" 号 "),
            b,
            pl.lit(" 栋 "),
            r,
        ),
        pl.concat_str(road, no, pl.lit("号"), b, pl.lit("幢"), r, pl.lit("室")),
        pl.concat_str(d, st, road, no, pl.lit("号"), cmp, b, pl.lit("栋"), r, pl.lit("室")),
        pl.concat_str(d, road, no, pl.lit("号"), b, pl.lit("栋"), r),
    ]


def render(
    places: pl.DataFrame,
    compounds: pl.DataFrame,
    grids: pl.DataFrame,
    system: str,
    rng: np.random.Generator,
    *,
    fullwidth_rate: float = 0.03,
    typo_rate: float = 0.02,
) -> pl.Series:
    """Address text for ``places`` (columns ``comp_idx``, ``building``, ``room``; building 0
    means a road-level address such as a shop or a street corner)."""
    n = places.height
    if n == 0:
        return pl.Series("address", [], dtype=pl.String)
    ctx = (
        places.select("comp_idx", "building", "room")
        .with_row_index("_i")
        .join(
            compounds.select(
                "comp_idx", "grid_idx", "road", "road_typo", "number", "compound_name"
            ),
            on="comp_idx",
            how="left",
        )
        .join(grids.select("grid_idx", "district", "street"), on="grid_idx", how="left")
        .sort("_i")
    )
    weights = np.array(SYSTEM_STYLES[system])
    style = rng.choice(len(weights), n, p=weights / weights.sum())
    road_level_style = rng.integers(0, 3, n)
    typo = rng.random(n) < typo_rate
    full = rng.random(n) < fullwidth_rate
    ctx = ctx.with_columns(
        _style=pl.Series(style),
        _rstyle=pl.Series(road_level_style),
        _typo=pl.Series(typo),
        _full=pl.Series(full),
    )
    p = {
        "d": pl.col("district"),
        "road": pl.when(pl.col("_typo")).then(pl.col("road_typo")).otherwise(pl.col("road")),
        "no": pl.col("number").cast(pl.String),
        "b": pl.col("building").cast(pl.String),
        "r": pl.col("room").cast(pl.String),
        "st": pl.col("street"),
        "cmp": pl.col("compound_name"),
    }
    styles = _dwelling_styles(p)
    expr: Any = pl.when(pl.col("_style") == 0).then(styles[0])
    for i, s in enumerate(styles[1:], start=1):
        expr = expr.when(pl.col("_style") == i).then(s)
    road_level = (
        pl.when(pl.col("_rstyle") == 0)
        .then(pl.concat_str(p["d"], p["road"], p["no"], pl.lit("号")))
        .when(pl.col("_rstyle") == 1)
        .then(pl.concat_str(pl.lit(vocab.CITY), p["d"], p["road"], p["no"], pl.lit("号"), p["cmp"]))
        .otherwise(pl.concat_str(p["road"], p["no"], pl.lit("号附近")))
    )
    addr = pl.when(pl.col("building") > 0).then(expr.otherwise(styles[0])).otherwise(road_level)
    out = ctx.select(
        pl.when(pl.col("_full"))
        .then(addr.str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values())))
        .otherwise(addr)
        .alias("address")
    )
    return out["address"]


def render_canonical(
    places: pl.DataFrame, compounds: pl.DataFrame, grids: pl.DataFrame
) -> pl.Series:
    """The standard registry form ``南通市崇川区工农路88号3幢201室`` (no noise)."""
    ctx = (
        places.select("comp_idx", "building", "room")
        .with_row_index("_i")
        .join(compounds.select("comp_idx", "grid_idx", "road", "number"), on="comp_idx")
        .join(grids.select("grid_idx", "district"), on="grid_idx")
        .sort("_i")
    )
    return ctx.select(
        pl.concat_str(
            pl.lit(vocab.CITY),
            "district",
            "road",
            pl.col("number").cast(pl.String),
            pl.lit("号"),
            pl.col("building").cast(pl.String),
            pl.lit("幢"),
            pl.col("room").cast(pl.String),
            pl.lit("室"),
        ).alias("address")
    )["address"]
