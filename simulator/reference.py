"""Reference data: yearly population, quarterly safety survey, monthly department indicators."""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator import vocab
from simulator.activity import Period
from simulator.city import City


def population(city: City, period: Period, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """One table per year touched by the period: the previous year's statistics."""
    out = {}
    years = sorted({int(m[:4]) for m in period.months})
    for y in years:
        growth = 1 + rng.normal(0.002, 0.004, city.streets.height) * (y - years[0])
        out[str(y)] = city.streets.select(
            pl.lit(y - 1).alias("year"),
            "district",
            "street",
            (pl.col("population") * pl.Series(growth)).round(0).cast(pl.Int64).alias("population"),
        )
    return out


def survey(city: City, period: Period, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """One table per quarter completed within the period (per district)."""
    out = {}
    months = period.months
    districts = [d[0] for d in vocab.DISTRICTS]
    base = rng.uniform(96.5, 99.2, len(districts))
    for i, month in enumerate(months):
        y, m = int(month[:4]), int(month[5:])
        if m % 3:
            continue
        q = m // 3
        pct = base + rng.normal(0, 0.3, len(districts))
        for d, m0, m1 in period.deteriorations:
            if m0 <= i and m1 >= i - 2:
                pct[d] -= rng.uniform(1.5, 3.0)
        out[f"{y}Q{q}"] = pl.DataFrame(
            {
                "year": [y] * len(districts),
                "quarter": [q] * len(districts),
                "district": districts,
                "sample_size": rng.integers(600, 1200, len(districts)),
                "safety_pct": np.round(np.clip(pct, 80, 99.9), 2),
            }
        )
    return out


def indicators(city: City, period: Period, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """One long table per month, reported at the start of the following month."""
    out = {}
    st = city.streets
    dist_pop = st.group_by("district", maintain_order=True).agg(pl.col("population").sum())
    for mi, month in enumerate(period.months):
        rows = []
        for code, name, unit, unit_by, street_level, rate in vocab.INDICATORS:
            frame = (
                st.select("district", "street", "district_idx", "population")
                if street_level
                else dist_pop.with_columns(
                    street=pl.lit(None, pl.String), district_idx=pl.int_range(pl.len())
                )
            )
            k = frame.height
            d_idx = frame["district_idx"].to_numpy()
            bad = np.zeros(k, dtype=bool)
            for d, m0, m1 in period.deteriorations:
                bad |= (d_idx == d) & (m0 <= mi <= m1)
            if unit == "%":
                val = np.round(np.clip(rng.normal(97.5, 1.0, k) - 4 * bad, 80, 100), 1)
            else:
                lam = rate * frame["population"].to_numpy() / 100_000 * (1 + 0.5 * bad)
                val = rng.poisson(lam).astype(float)
            dname = frame["district"].to_numpy().astype(str)
            rows.append(
                pl.DataFrame(
                    {
                        "month": [month] * k,
                        "indicator_code": [code] * k,
                        "indicator_name": [name] * k,
                        "district": dname,
                        "street": frame["street"],
                        "value": val,
                        "unit": [unit] * k,
                        "reporting_unit": np.char.add(dname, unit_by),
                    }
                )
            )
        out[month] = pl.concat(rows)
    return out
